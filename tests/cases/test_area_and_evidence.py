"""The case area (validated BNG polygon or union of chosen cells, with boroughs) and the frozen
evidence snapshot (round-trips, digest verifies, tampering is refused). Real data: the Lambeth
surface of conftest and the ONS borough boundaries in /work/shared/data/london-geography."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import ANALYST, AUTHORISER, OVERSIGHT
from vigil.audit.canonical import sha256_hex
from vigil.cases.area import AreaError, build_area
from vigil.cases.evidence import EvidenceError
from vigil.cases.service import CaseService
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface


def raise_a_risk_in_the_stored_snapshot(sf: sessionmaker[Session], case_id: int) -> None:
    """Edit the frozen evidence behind the workflow's back, as a tamperer with SQL would."""
    with sf() as s, s.begin():
        s.execute(
            sa.text(
                "UPDATE cases SET evidence_json = replace(evidence_json, '\"risk\":[', "
                "'\"risk\":[9,') WHERE id = :i"
            ),
            {"i": case_id},
        )


def test_cells_become_their_union_in_the_right_borough(
    lambeth_surface: RiskSurface, hot_cells: list[str]
) -> None:
    area = build_area(None, hot_cells, lambeth_surface)
    geom = shapely.from_wkt(area.wkt)
    assert geom.area == pytest.approx(2 * 250.0**2)
    assert area.cells == tuple(hot_cells)
    assert area.borough == "Lambeth"


def test_area_crossing_a_boundary_lists_both_boroughs() -> None:
    # a box across the Thames at Vauxhall Bridge: Lambeth (south) and Westminster (north)
    wkt = "POLYGON((529800 178000,530400 178000,530400 178600,529800 178600,529800 178000))"
    area = build_area(wkt, None, None)
    assert {"Lambeth", "Westminster"} <= set(area.boroughs)
    forced = build_area(wkt, None, None, borough="Westminster")
    assert forced.borough == "Westminster"
    with pytest.raises(AreaError, match="'Hackney' does not overlap"):
        build_area(wkt, None, None, borough="Hackney")


@pytest.mark.parametrize(
    ("wkt", "message"),
    [
        ("POLYGON((0 0, 1 1", "not valid WKT"),
        ("POINT(530000 178000)", "expected a Polygon or MultiPolygon, got Point"),
        (
            "POLYGON((-0.12 51.5,-0.11 51.5,-0.11 51.51,-0.12 51.51,-0.12 51.5))",
            "outside British National Grid",
        ),
        (
            "POLYGON((530000 178000,530500 178500,530500 178000,530000 178500,530000 178000))",
            "invalid polygon (Self-intersection",
        ),
    ],
)
def test_bad_areas_are_refused_with_the_reason(wkt: str, message: str) -> None:
    with pytest.raises(AreaError, match="field 'area'") as err:
        build_area(wkt, None, None)
    assert message in str(err.value)


def test_unknown_cells_and_cells_without_evidence(lambeth_surface: RiskSurface) -> None:
    with pytest.raises(AreaError, match="'r9999c9999'.*not areas of the evidence surface"):
        build_area(None, ["r9999c9999"], lambeth_surface)
    with pytest.raises(AreaError, match="cells need an evidence surface"):
        build_area(None, ["r1c1"], None)
    with pytest.raises(AreaError, match="give a polygon"):
        build_area(None, None, None)


def test_evidence_snapshot_round_trips_and_its_digest_verifies(
    service: CaseService,
    open_case: Callable[..., int],
    lambeth_surface: RiskSurface,
    session_factory: sessionmaker[Session],
) -> None:
    case_id = open_case()
    v = service.submit(ANALYST, case_id)
    assert v.evidence_model == "test-long-run-counts"
    assert v.evidence_digest == sha256_hex(v.evidence_json)
    assert v.evidence_frozen_at == v.submitted_at
    surface = service.evidence(OVERSIGHT, case_id)
    np.testing.assert_array_equal(surface.area_id, lambeth_surface.area_id)
    np.testing.assert_allclose(surface.risk, lambeth_surface.risk)
    assert surface.params == lambeth_surface.params
    assert surface.data_version == lambeth_surface.data_version
    assert surface.grid is not None and surface.grid.cell == 250.0
    # the digest is in the audit entry of the submission
    with session_factory() as s:
        detail = s.execute(
            sa.text("SELECT detail FROM audit_log WHERE action = 'case.submit'")
        ).scalar_one()
    assert v.evidence_digest in detail

    raise_a_risk_in_the_stored_snapshot(session_factory, case_id)
    with pytest.raises(EvidenceError, match="digest mismatch"):
        service.evidence(OVERSIGHT, case_id)


def test_a_changed_snapshot_is_refused_by_every_reader_not_only_thaw(
    service: CaseService,
    ready_case: Callable[..., int],
    lambeth_surface: RiskSurface,
    session_factory: sessionmaker[Session],
    clock: FixedClock,
) -> None:
    """The guardrail check at authorisation, the CIA indicators of a case and the fairness view
    all read the evidence through the digest check: a snapshot edited after submission (here a
    risk value raised in the stored JSON) is refused, never decided on."""
    from vigil.impact.fairness import fairness_from_cases
    from vigil.impact.indicators import indicators_for_case

    case_id = ready_case()
    raise_a_risk_in_the_stored_snapshot(session_factory, case_id)
    with pytest.raises(EvidenceError, match="digest mismatch"):
        service.authorise(AUTHORISER, case_id, conditions="x")
    now = clock.now()
    with session_factory() as s:
        with pytest.raises(EvidenceError, match="digest mismatch"):
            indicators_for_case(s, case_id, now)
        with pytest.raises(EvidenceError, match="digest mismatch"):
            fairness_from_cases(s, now - timedelta(days=1), now + timedelta(days=1))
