"""Indicators, fairness view and the CIA document over a real case database (SQLite and
PostgreSQL): past deployments come from the cases' own windows."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from tests.impact.conftest import AUTHORISER, EXCEPTIONAL, FAR, relaxed
from vigil.cli import app
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface
from vigil.impact.area import select_area
from vigil.impact.fairness import fairness_from_cases
from vigil.impact.guardrails import percentile_of
from vigil.impact.indicators import compute_indicators


@pytest.fixture
def two_deployments(make: Callable, clock: FixedClock) -> tuple[int, int]:  # type: ignore[type-arg]
    """Case A: 8 h over EXCEPTIONAL from 10:00 on 1 July 2022; case B: 6 h 3 km away, 20 days
    later. The clock is left 20 days after A (B not yet started)."""
    service, ready = make(relaxed())
    a = ready(EXCEPTIONAL, hours=8)
    service.authorise(AUTHORISER, a, conditions="x")
    clock.advance(timedelta(days=20))
    b = ready(FAR, hours=6)
    service.authorise(AUTHORISER, b, conditions="x")
    return a, b


def test_past_deployments_in_the_indicators(
    two_deployments: tuple[int, int],
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    surface: RiskSurface,
    shared_data: Path,
) -> None:
    a, _ = two_deployments
    cell = list(surface.area_id).index(EXCEPTIONAL)
    area = select_area(polygon=surface.polygons()[cell].buffer(-1), shared=shared_data)
    with session_factory() as s:
        ind = compute_indicators(
            area, session=s, now=clock.now(), surface=surface, shared=shared_data
        )
        later = compute_indicators(
            area, session=s, now=clock.now() + timedelta(days=10), shared=shared_data
        )
    d = ind.deployments
    assert d is not None
    assert (d.hours_28d, d.hours_90d, d.hours_365d) == (8.0, 8.0, 8.0)
    assert d.cases == [str(a)]  # case B is 3 km away: not a neighbour
    # the forecast standing: June's 12 incidents against a usual 47/6 a month, in that cell
    f = ind.forecast
    assert f is not None and f.verdict.startswith("exceptional")
    assert f.ratio_to_own_history == pytest.approx(12 / (47 / 6))
    assert f.city_percentile == pytest.approx(percentile_of(surface.risk, 12.0))
    assert later.deployments is not None
    assert (later.deployments.hours_28d, later.deployments.hours_90d) == (0.0, 8.0)


def test_fairness_over_cases(
    two_deployments: tuple[int, int],
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    shared_data: Path,
) -> None:
    a, b = two_deployments
    start = clock.now() - timedelta(days=30)
    with session_factory() as s:
        view = fairness_from_cases(s, start, clock.now() + timedelta(days=1), shared=shared_data)
    assert view.deployment_hours == pytest.approx(14.0)
    assert [m.label for m in view.forecasts] == [f"case {a} evidence", f"case {b} evidence"]
    assert all(not m.mainly_police_generated for m in view.forecasts)
    assert sum(r.deployment_hours for r in view.by_imd_decile) == pytest.approx(14.0)


def test_render_a_case_cia(cli_db: str, two_deployments: tuple[int, int], tmp_path: Path) -> None:
    a, _ = two_deployments
    out = tmp_path / "cia.html"
    result = CliRunner().invoke(app, ["impact", "render", str(a), "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert f"Case {a}" in html and "<strong>Complete</strong>" in html
    missing = CliRunner().invoke(app, ["impact", "render", "999", "--html", str(out)])
    assert missing.exit_code != 0 and "case 999 has no community impact assessment" in str(
        missing.exception
    )


def test_cli_indicators_for_a_case_and_fairness(
    cli_db: str, two_deployments: tuple[int, int]
) -> None:
    a, b = two_deployments
    result = CliRunner().invoke(app, ["impact", "indicators", "--case", str(a), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["area_kind"] == "polygon" and data["forecast"]["verdict"].startswith("exceptional")
    # the case's "now" is the last whole month before its window (1 July 2022), not the data's
    assert data["violence_trend"]["recent_months"] == ["2022-04", "2022-05", "2022-06"]
    month = CliRunner().invoke(
        app, ["impact", "indicators", "--case", str(a), "--as-of", "2022-12"]
    )
    assert month.exit_code != 0 and "--as-of is for an area" in str(month.exception)
    assert data["deployments"] is not None  # computed against the database (wall-clock now)
    result = CliRunner().invoke(
        app, ["impact", "fairness", "--since", "2022-06-01", "--until", "2022-08-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["deployment_hours"] == pytest.approx(14.0)
    assert [m["label"] for m in view["forecasts"]] == [f"case {a} evidence", f"case {b} evidence"]
    bad = CliRunner().invoke(
        app, ["impact", "fairness", "--since", "2022-08-01", "--until", "2022-06-01"]
    )
    assert bad.exit_code != 0 and "must be after" in str(bad.exception)
