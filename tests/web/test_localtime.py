"""London wall-clock time for people, UTC for storage, across both clock changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.errors import VigilError
from vigil.localtime import AmbiguousTime, from_london, iso_datetime, london, london_input


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2023, 3, 26, 0, 30), datetime(2023, 3, 26, 0, 30, tzinfo=UTC)),  # GMT
        (datetime(2023, 3, 26, 2, 30), datetime(2023, 3, 26, 1, 30, tzinfo=UTC)),  # BST
        (datetime(2023, 7, 1, 18, 0), datetime(2023, 7, 1, 17, 0, tzinfo=UTC)),
        (datetime(2023, 10, 29, 0, 59), datetime(2023, 10, 28, 23, 59, tzinfo=UTC)),
        (datetime(2023, 10, 29, 2, 0), datetime(2023, 10, 29, 2, 0, tzinfo=UTC)),
    ],
)
def test_from_london(local, utc):
    assert from_london(local) == utc
    assert london_input(utc) == local.strftime("%Y-%m-%dT%H:%M")  # and back, for the form


def test_the_spring_gap_and_the_autumn_overlap_are_refused_not_guessed():
    with pytest.raises(AmbiguousTime, match="does not exist in London"):
        from_london(datetime(2023, 3, 26, 1, 30))
    with pytest.raises(AmbiguousTime, match="happens twice") as err:
        from_london(datetime(2023, 10, 29, 1, 30))
    assert "00:30 or 01:30 UTC" in str(err.value)


def test_shown_with_the_zone():
    assert london(datetime(2023, 7, 1, 17, 0, tzinfo=UTC)) == "Sat 1 Jul 2023, 18:00 BST"
    assert london("2023-12-01T17:00:00+00:00") == "Fri 1 Dec 2023, 17:00 GMT"
    assert london(None) == ""


def test_iso_only():
    assert iso_datetime("2022-01-12", "--at") == datetime(2022, 1, 12)
    assert iso_datetime("2022-01-12T18:00Z", "--at") == datetime(2022, 1, 12, 18, tzinfo=UTC)
    for bad in ("12/01/2022", "12-01-2022", "Jan 12 2022", "20220112"):
        with pytest.raises(VigilError, match="is not an ISO date"):
            iso_datetime(bad, "--at")
    with pytest.raises(VigilError, match="not a valid date"):
        iso_datetime("2022-02-30", "--at")
