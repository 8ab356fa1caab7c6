"""The one "exceptional" figure (issue 13): computed once with the forecast, frozen into the case
evidence, read by the guardrail's evidence test and shown in the case JSON.

Data: the synthetic city of tests/forecast/test_surge.py (30 x 30 cells of 100 m, a steady
hotspot at (800, 2200) over a uniform background, 200 days), with a cluster of 14 incidents
injected over the last 2 days around (2250, 750): what is unusual is known exactly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from tests.forecast.test_surge import AT, CRS, background, inject
from vigil.app.exceptional import FIGURE_KEY, attach_scan, freeze_figure
from vigil.app.snapshot_facts import snapshot_facts
from vigil.cases.evidence import freeze
from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.forecast.registry import make_model
from vigil.geo.grid import Grid
from vigil.impact.guardrails import evaluate, evidence_test

#: on one xdist worker with the other module that runs the surge scan (tests/app/test_exceptional,
#: tests/api/test_exceptional_shown): the scan's numba kernels compile once (about 6 s of CPU)
pytestmark = pytest.mark.xdist_group("surge-scan")
INJECTED = (2250.0, 750.0)
STEADY = (800.0, 2200.0)


@pytest.fixture(scope="module")
def surface():
    grid = Grid.from_bounds(0, 0, 2999, 2999, 100.0, CRS)
    df = inject(background(), n=14, days=2, x=INJECTED[0], y=INJECTED[1])
    fitted = make_model("recency", n_folds=2).fit(df, AT, grid)
    return attach_scan(fitted.predict(AT, AT + np.timedelta64(7, "D")), df, grid, n_replicas=99)


def _square(x: float, y: float, half: float = 150.0) -> str:
    return shapely.box(x - half, y - half, x + half, y + half).wkt


def _evidence_breaches(surface, wkt: str) -> list[str]:
    ev = evidence_test(surface, shapely.from_wkt(wkt))
    start = datetime(2021, 7, 20, 12, tzinfo=UTC)
    breaches = evaluate(
        case_id="1",
        area=shapely.from_wkt(wkt),
        start=start,
        end=start.replace(hour=18),
        windows=[],
        policy=GuardrailPolicy(min_city_percentile=0.0),
        evidence=ev,
    )
    return [b.message for b in breaches if b.rule == "evidence"]


def test_the_scan_is_kept_with_the_forecast(surface):
    scan = surface.params["surge"]
    assert scan["method"] == "poisson" and scan["n_replicas"] == 99
    top = scan["clusters"][0]
    assert np.hypot(top["x"] - INJECTED[0], top["y"] - INJECTED[1]) <= 300


def test_a_surging_area_gets_its_figure_frozen_and_passes_the_evidence_test(surface):
    wkt = _square(*INJECTED)
    evidence = freeze_figure(surface, None, wkt)
    fig = evidence.params[FIGURE_KEY]
    assert fig["found"] and fig["p_value"] == pytest.approx(0.01) and fig["ratio"] > 4
    assert fig["days"] <= 3 and fig["recurrence_days"] == pytest.approx(100.0)
    # frozen into the snapshot the digest covers, and read back for the case JSON
    text, digest = freeze(evidence)
    assert snapshot_facts(text, digest).figure == fig
    ev = evidence_test(evidence, shapely.from_wkt(wkt))
    assert ev.surge == fig and ev.ratio_to_history == pytest.approx(fig["ratio"])
    assert _evidence_breaches(evidence, wkt) == []


def test_an_always_high_area_without_a_surge_breaches_the_evidence_rule(surface):
    wkt = _square(*STEADY)
    evidence = freeze_figure(surface, None, wkt)
    fig = evidence.params[FIGURE_KEY]
    # a chance cluster among the scan's strongest may touch it, never a significant one
    assert fig["p_value"] > 0.05 and (fig["found"] or fig["ratio"] == 1.0)
    (message,) = _evidence_breaches(evidence, wkt)
    assert f"surge scan p = {fig['p_value']:.3g}" in message


def test_named_cells_select_the_figure_too(surface):
    top = surface.params["surge"]["clusters"][0]
    fig = freeze_figure(surface, [top["centre"]], None).params[FIGURE_KEY]
    assert fig["found"] and fig["centre"] == top["centre"]


def test_without_a_scan_the_evidence_is_unchanged(surface):
    bare = surface.__class__.from_dict(surface.to_dict())
    bare.params.pop("surge")
    assert freeze_figure(bare, None, _square(*INJECTED)) is bare
    assert snapshot_facts(None, None).figure is None
