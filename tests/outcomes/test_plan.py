"""The pre-registered evaluation plan (issue 17): declared against the minimum detectable
reduction when a case is opened, every version kept, a change after the window started refused
without a justification and audited as such. A real SQLite database; the case is a simulated
season deployment in the top cell of the March 2022 London forecast (see conftest)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.impact.case_service import case_service
from vigil.outcomes.plan import (
    EvaluationPlan,
    PlanError,
    declare_default_plan,
    declare_plan,
    plan_history,
)
from vigil.outcomes.season import SeasonActors, authorise_planned
from vigil.outcomes.simulate import plan_season


@pytest.fixture(scope="module")
def month_surface(london_sv, london_grid):
    """The March 2022 forecast for the whole month (a month-only force's horizon)."""
    import pandas as pd

    from vigil.forecast.registry import make_model

    start = pd.Timestamp("2022-03-01")
    model = make_model("naive", window="2M").fit(london_sv, start, london_grid)
    return model.predict(start, pd.Timestamp("2022-04-01"))


@pytest.fixture
def opened(tmp_path, month_surface):
    march_surface = month_surface
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(datetime(2022, 3, 1, tzinfo=UTC))
    service = case_service(sf, clock, on_open=declare_default_plan)
    p = plan_season(march_surface, ["2022-06"])[0]
    cid = authorise_planned(service, p, march_surface)
    yield sf, cid, clock
    engine.dispose()


def test_opening_a_case_declares_the_plan_against_the_mdr(opened):
    sf, cid, _ = opened
    with sf() as s:
        (v1,) = plan_history(s, cid)
        assert v1.version == 1 and not v1.after_window_start
        assert "victim-reported" in v1.outcome and "placebo-in-space" in v1.analysis
        assert v1.mdr_pct is not None and 0 < v1.mdr_pct < 100
        actions = s.execute(
            select(AuditEntry.action).where(AuditEntry.case_id == cid)
        ).scalars().all()  # fmt: skip
        assert "outcome.plan.declare" in actions


def test_changing_the_plan_after_the_window_started_needs_a_reason_and_is_audited(opened):
    sf, cid, _ = opened
    actor = SeasonActors().analyst
    changed = EvaluationPlan(analysis="quasi-Poisson only")
    before_start = datetime(2022, 5, 1, tzinfo=UTC)
    after_start = datetime(2022, 7, 1, tzinfo=UTC)
    with sf() as s, s.begin():
        case = s.get(Case, cid)
        v2 = declare_plan(s, case, changed, actor, before_start)
        assert v2.version == 2 and not v2.after_window_start
    with sf() as s, s.begin():
        case = s.get(Case, cid)
        with pytest.raises(PlanError, match="needs a justification"):
            declare_plan(s, case, EvaluationPlan(), actor, after_start)
    with sf() as s, s.begin():
        case = s.get(Case, cid)
        v3 = declare_plan(s, case, EvaluationPlan(), actor, after_start, justification="typo")
        assert v3.version == 3 and v3.after_window_start
    with sf() as s:
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "outcome.plan.change_after_start")
        ).scalar_one()
        assert entry.case_id == cid and entry.justification == "typo"
        assert [p.version for p in plan_history(s, cid)] == [1, 2, 3]

    from vigil.reports.case_file import build_case_file

    with sf() as s, s.begin():
        r = build_case_file(s, cid, after_start)
    assert "Pre-registered evaluation plan (version 3" in r.html
    assert "minimum detectable reduction of" in r.html
    assert "was changed after the deployment window had started" in r.html and "typo" in r.html
    assert r.facts["plan_changed_after_start"] == 1
