"""Weighted displacement quotient (Bowers & Johnson 2003): worked numbers and every band."""

from __future__ import annotations

import pytest

from vigil.outcomes.did import OutcomeInputError
from vigil.outcomes.displacement import interpret, weighted_displacement_quotient


def test_worked_example_diffusion():
    # deployed 100 -> 60, buffer 80 -> 72, control 1000 -> 1000
    r = weighted_displacement_quotient(100, 60, 80, 72, 1000, 1000)
    assert r.success_measure == pytest.approx(0.06 - 0.10)
    assert r.buffer_measure == pytest.approx(0.072 - 0.080)
    assert r.wdq == pytest.approx(0.2)
    assert r.interpretation == "diffusion of benefit into the surrounding area"
    # 40 fewer in the deployed area, 8 fewer in the buffer than the control trend predicts
    assert r.total_net_effect == pytest.approx(48)


def test_displacement_scaled_by_control_trend():
    # control doubles, so the expected after counts are double the before counts
    r = weighted_displacement_quotient(100, 100, 50, 150, 500, 1000)
    assert r.success_measure == pytest.approx(-0.1)
    assert r.buffer_measure == pytest.approx(0.05)
    assert r.wdq == pytest.approx(-0.5)
    assert "some displacement" in r.interpretation
    assert r.total_net_effect == pytest.approx((200 - 100) + (100 - 150))


@pytest.mark.parametrize(
    ("wdq", "words"),
    [
        (1.5, "larger than the direct effect"),
        (0.5, "diffusion of benefit into"),
        (0.0, "no displacement and no diffusion"),
        (-0.5, "net gain"),
        (-2.0, "net loss"),
    ],
)
def test_bands(wdq, words):
    assert words in interpret(wdq)


def test_no_success_and_too_few():
    up = weighted_displacement_quotient(50, 80, 50, 50, 500, 500)
    assert up.wdq is None and "no success to displace" in up.interpretation
    few = weighted_displacement_quotient(3, 1, 50, 50, 500, 500)
    assert few.wdq is None and "too few incidents to tell" in few.interpretation
    assert "deployed area" in few.interpretation


def test_negative_count_is_named():
    with pytest.raises(OutcomeInputError, match="'buffer_after'"):
        weighted_displacement_quotient(10, 10, 10, -1, 10, 10)
