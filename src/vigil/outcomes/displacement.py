"""Displacement or diffusion of benefit: the weighted displacement quotient (Bowers & Johnson 2003).

A patrol that pushes violence round the corner has not reduced it. The WDQ compares the buffer
around the deployed area with the deployed area itself, both relative to a control area:

    WDQ = (B_a / C_a - B_b / C_b) / (R_a / C_a - R_b / C_b)

with R the deployed (response) area, B the surrounding buffer, C the control areas, b before and
a after. The denominator is the *success measure*: it must be negative (the deployed area fell
relative to control) for the quotient to mean anything. Reading (Bowers & Johnson 2003, table 1):

* WDQ > 1: diffusion of benefit larger than the direct effect;
* 0 < WDQ <= 1: diffusion of benefit into the buffer;
* WDQ = 0: no displacement and no diffusion;
* -1 <= WDQ < 0: some displacement, smaller than the direct benefit (a net gain);
* WDQ < -1: displacement larger than the direct benefit (a net loss).

The *total net effect* (same paper) counts incidents: how many fewer in the deployed area and the
buffer together than if both had followed the control trend.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vigil.outcomes.did import OutcomeInputError

#: Printed beside every WDQ: it is a point estimate, and on real data the buffer's own drift
#: relative to the controls (with no displacement at all) can move it across bands.
CAVEAT = (
    "The WDQ is a point estimate without an interval: ordinary month-to-month change in the "
    "surrounding area can move it across bands even with no displacement, so read it beside the "
    "counts, not alone."
)

#: Fewest incidents in each of the deployed area, buffer and control (before) for a WDQ: with
#: fewer, one incident more or less swings the quotient across its bands.
MIN_PER_ZONE = 5


@dataclass(frozen=True)
class WDQResult:
    wdq: float | None
    success_measure: float | None
    buffer_measure: float | None
    total_net_effect: float | None
    interpretation: str
    counts: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def interpret(wdq: float) -> str:
    if wdq > 1:
        return "diffusion of benefit larger than the direct effect"
    if wdq > 0:
        return "diffusion of benefit into the surrounding area"
    if wdq == 0:
        return "no displacement and no diffusion of benefit"
    if wdq >= -1:
        return "some displacement, smaller than the direct benefit (net gain)"
    return "displacement larger than the direct benefit (net loss)"


def weighted_displacement_quotient(
    r_before: int,
    r_after: int,
    b_before: int,
    b_after: int,
    c_before: int,
    c_after: int,
    *,
    min_per_zone: int = MIN_PER_ZONE,
) -> WDQResult:
    """The WDQ and the total net effect from incident counts in the three zones and two phases.

    Periods must be of equal length across zones (they are: the same months for each zone);
    before and after may differ in length because every term is relative to the control.
    """
    counts = {
        "response_before": r_before,
        "response_after": r_after,
        "buffer_before": b_before,
        "buffer_after": b_after,
        "control_before": c_before,
        "control_after": c_after,
    }
    for name, v in counts.items():
        if v < 0 or int(v) != v:
            raise OutcomeInputError(f"WDQ count '{name}' must be a non-negative integer, got {v}")
    few = [
        n
        for n, v in (("deployed area", r_before), ("buffer", b_before), ("control", c_before))
        if v < min_per_zone
    ]
    if few or c_after == 0:
        zones = ", ".join(few) if few else "control (after)"
        return WDQResult(
            None,
            None,
            None,
            None,
            f"too few incidents to tell (fewer than {min_per_zone} before in: {zones})",
            counts,
        )
    success = r_after / c_after - r_before / c_before
    buffer = b_after / c_after - b_before / c_before
    ratio = c_after / c_before
    net = (r_before * ratio - r_after) + (b_before * ratio - b_after)
    if success >= 0:
        return WDQResult(
            None,
            float(success),
            float(buffer),
            float(net),
            "no success to displace: the deployed area did not fall relative to control, "
            "so the quotient is not meaningful",
            counts,
        )
    wdq = float(buffer / success)
    if not np.isfinite(wdq):  # pragma: no cover - success < 0 guards the division
        raise OutcomeInputError("WDQ is not finite")
    return WDQResult(wdq, float(success), float(buffer), float(net), interpret(wdq), counts)


def wdq_interval(
    result: WDQResult, rate_ratio: float, ring_low: float, ring_high: float
) -> tuple[float, float] | None:
    """A 95 % interval for the WDQ from the permutation interval of the surrounding area's rate
    ratio against placebo surroundings (:func:`vigil.outcomes.placebo.ring_result`).

    With the deployed area's rate ratio ``rr`` and the buffer's ``q`` (both against what
    comparable areas did), the success measure is ``R_b/C_b (rr - 1)`` and the buffer measure
    ``B_b/C_b (q - 1)``, so ``WDQ = B_b (q - 1) / (R_b (rr - 1))``; ``q`` over its interval gives
    the WDQ's. None when the deployed area did not fall (no success to displace) or a zone is
    empty. An interval containing 0 is "no evidence of displacement"."""
    r_b = result.counts["response_before"]
    b_b = result.counts["buffer_before"]
    if rate_ratio >= 1 or r_b <= 0 or b_b <= 0 or not np.isfinite(ring_high):
        return None
    ends = sorted(b_b * (q - 1) / (r_b * (rate_ratio - 1)) for q in (ring_low, ring_high))
    return float(ends[0]), float(ends[1])
