"""The simulated season through the case workflow, on real London 2022 serious violence.

Nine evening deployments (March-November 2022, one a month) in the top-risk 250 m cells of the
March forecast (see conftest: naive model on Jan-Feb 2022 police.uk data), each opened, consulted,
assessed, authorised, notified, activated, expired by the clock and debriefed through CaseService
on a real SQLite database. A known effect is then injected into the incidents (40 % of serious
violence removed in the deployed cells during and the month after each window) and the
evaluation must find it; with nothing injected it must find nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import select

from vigil.clock import FixedClock
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.db.outcomes import OutcomeEvaluation
from vigil.impact.case_service import case_service
from vigil.outcomes.did import Verdict
from vigil.outcomes.record import NotEvaluable, case_window, evaluate_cases, latest_evaluation
from vigil.outcomes.season import run_season
from vigil.outcomes.simulate import inject_effect, plan_season
from vigil.roles import Actor, Rank, Role

MONTHS = [f"2022-{m:02d}" for m in range(3, 12)]
EVALUATOR = Actor("oversight-analyst", Role.OVERSIGHT, Rank.NONE, "Oversight analyst")
AFTER_SEASON = datetime(2023, 1, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def season(tmp_path_factory, march_surface):
    url = f"sqlite:///{tmp_path_factory.mktemp('season') / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(datetime(2022, 3, 1, tzinfo=UTC))
    service = case_service(sf, clock)
    plan = plan_season(march_surface, MONTHS)
    ids = run_season(service, clock, plan, march_surface)
    clock.set(AFTER_SEASON)
    yield sf, ids, plan, clock
    engine.dispose()


def test_every_case_went_through_the_workflow(season):
    sf, ids, plan, _ = season
    with sf() as s:
        cases = s.execute(select(Case).where(Case.id.in_(ids))).scalars().all()
        assert {c.status for c in cases} == {"debriefed"}
        for c, p in zip(sorted(cases, key=lambda c: c.id), plan, strict=True):
            w = case_window(c)
            # the window read back from the workflow is the planned one, in London local time
            assert w.area_ids == (p.area_id,)
            assert w.start == p.start and w.end - w.start <= pd.Timedelta(hours=8)


def test_injected_effect_is_recovered_and_recorded(season, london_sv, march_surface):
    sf, ids, _, clock = season
    with sf() as s:
        windows = [case_window(s.get(Case, i)) for i in ids]
    inj = inject_effect(london_sv, march_surface, windows, 0.4, seed=3)
    with sf() as s, s.begin():
        ev = evaluate_cases(s, ids, inj.incidents, EVALUATOR, clock.now())
    assert ev.did.verdict is Verdict.REDUCTION
    assert ev.did.covers(0.6), ev.did
    with sf() as s:
        rows = [latest_evaluation(s, i) for i in ids]
        assert all(r is not None and r.verdict == "reduction" for r in rows)
        assert rows[0].ci_low <= 0.6 <= rows[0].ci_high
        assert rows[0].resolution == "M"


def test_no_effect_where_none_was_injected(season, london_sv):
    sf, ids, _, clock = season
    with sf() as s, s.begin():
        before = s.execute(select(OutcomeEvaluation)).scalars().all()
        ev = evaluate_cases(s, ids, london_sv, EVALUATOR, clock.now(), record=False)
        after = s.execute(select(OutcomeEvaluation)).scalars().all()
    assert len(before) == len(after)  # record=False stores nothing
    assert ev.did.verdict is Verdict.NO_DETECTABLE_EFFECT
    assert ev.did.covers(1.0), ev.did


def test_single_case_uses_its_own_frozen_forecast(season, london_sv):
    sf, ids, _, clock = season
    with sf() as s, s.begin():
        ev = evaluate_cases(s, ids[:1], london_sv, EVALUATOR, clock.now(), record=False)
    # one 250 m cell in one month: honest about what one deployment can show
    assert ev.did.verdict in (Verdict.NO_DETECTABLE_EFFECT, Verdict.TOO_FEW)
    assert len(ev.controls) == 5 and ev.treated == [ids and ev.treated[0]]


def test_live_case_is_not_evaluated(season, london_sv):
    sf, ids, _, _ = season
    during = datetime(2022, 3, 10, 19, 0, tzinfo=UTC)
    with sf() as s, pytest.raises(NotEvaluable, match="not yet ended"):
        evaluate_cases(s, ids[:1], london_sv, EVALUATOR, during)
    # ended at 02:00 on 11 March, but month-only data cannot be read until March is over
    mid_month = datetime(2022, 3, 20, 12, 0, tzinfo=UTC)
    with sf() as s, pytest.raises(NotEvaluable, match="once that month is over"):
        evaluate_cases(s, ids[:1], london_sv, EVALUATOR, mid_month)
    with sf() as s, pytest.raises(NotEvaluable, match="case 9999 not found"):
        evaluate_cases(s, [9999], london_sv, EVALUATOR, AFTER_SEASON)


def test_season_on_postgresql(pg_url, march_surface, london_sv):
    """The same workflow and evaluation on PostgreSQL (two deployments)."""
    engine = make_engine(pg_url)
    try:
        sf = make_sessionmaker(engine)
        clock = FixedClock(datetime(2022, 3, 1, tzinfo=UTC))
        plan = plan_season(march_surface, MONTHS[:2])
        ids = run_season(case_service(sf, clock), clock, plan, march_surface)
        with sf() as s, s.begin():
            ev = evaluate_cases(s, ids, london_sv, EVALUATOR, AFTER_SEASON)
        assert ev.did.n_treated_areas == 2
        with sf() as s:
            assert latest_evaluation(s, ids[1]) is not None
    finally:
        engine.dispose()
