"""Window lengths in words, for the map's accuracy note (issue 12: "windows of 1M")."""

from __future__ import annotations

import pytest

from vigil.evaluate.windows import parse_step, step_words


@pytest.mark.parametrize(
    ("text", "words"),
    [("1M", "1 month"), ("7d", "7 days"), ("2w", "2 weeks"), ("24h", "24 hours"), ("1y", "1 year")],
)
def test_step_words(text: str, words: str) -> None:
    parse_step(text)  # every one is a window the backtests read
    assert step_words(text) == words


def test_text_it_does_not_read_is_left_as_it_is() -> None:
    assert step_words("fortnightly") == "fortnightly"
