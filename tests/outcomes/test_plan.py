"""The pre-registered evaluation plan (issue 17): declared against the minimum detectable
reduction when a case is opened (the placebo test's, measured on the area's history through the
application layer, frozen and audited), every version kept, a change after the window started
refused without a justification and audited as such. A real SQLite database; the case is a
simulated season deployment in the top cell of the September 2022 London forecast."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from vigil.app.evaluation_plan import detectable_note, plan_of, plan_on_open
from vigil.app.history import frame_incident_source
from vigil.audit.canonical import digest
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.impact.case_service import case_service
from vigil.outcomes.detectable import detectable_from_history
from vigil.outcomes.plan import (
    EvaluationPlan,
    PlanError,
    _as_dict,
    declare_plan,
    plan_history,
)
from vigil.outcomes.season import SeasonActors, authorise_planned
from vigil.outcomes.simulate import plan_season


@pytest.fixture(scope="module")
def month_surface(london_sv, london_grid):
    """The September 2022 forecast for the whole month (a month-only force's horizon)."""
    import pandas as pd

    from vigil.forecast.registry import make_model

    start = pd.Timestamp("2022-09-01")
    model = make_model("naive", window="2M").fit(london_sv, start, london_grid)
    return model.predict(start, pd.Timestamp("2022-10-01"))


@pytest.fixture
def opened(tmp_path, month_surface, london_sv):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(datetime(2022, 9, 1, tzinfo=UTC))
    hook = plan_on_open(frame_incident_source(london_sv))
    service = case_service(sf, clock, on_open=hook)
    p = plan_season(month_surface, ["2022-10"])[0]
    cid = authorise_planned(service, p, month_surface)
    yield sf, cid, clock, p
    engine.dispose()


def test_opening_a_case_declares_the_plan_against_the_mdr(opened, london_sv, month_surface):
    sf, cid, _, p = opened
    # the placebo test's figure on the area's history, as the library states it
    expected = detectable_from_history(london_sv, month_surface, [p.area_id], p.start, p.end)
    assert expected.mdr_pct is not None
    with sf() as s:
        (v1,) = plan_history(s, cid)
        assert v1.version == 1 and not v1.after_window_start
        assert "victim-reported" in v1.outcome and "placebo-in-space" in v1.analysis
        assert v1.mdr_pct == pytest.approx(expected.mdr_pct)
        # the case's own figure, then the season's (the first of its quarter: itself alone)
        assert v1.mdr_note.startswith(expected.sentence + " For the season it would join (")
        assert "starting in 2022Q4 so far and this one: 1 deployment(s))" in v1.mdr_note
        # frozen and audited with the plan: the entry's digest covers the figure and its note
        entry = s.execute(
            select(AuditEntry).where(
                AuditEntry.case_id == cid, AuditEntry.action == "outcome.plan.declare"
            )
        ).scalar_one()
        recorded = _as_dict(v1)
        assert recorded["mdr_pct"] == v1.mdr_pct and recorded["mdr_note"] == v1.mdr_note
        assert entry.after_digest == digest(recorded)
        # the view model the case page reads
        out = plan_of(s, cid)
        assert out is not None and out.mdr_pct == pytest.approx(expected.mdr_pct)
        note = v1.mdr_note
    assert detectable_note(sf, cid) == note


def test_the_plan_states_the_mdr_of_the_season_the_case_would_join(
    opened, month_surface, london_sv
):
    """Issue 17: "... and for the season it would join". A season is what the evaluation pools
    and the reports count: the force's deployments starting in the same quarter. A second and
    third case of the quarter state the season's figure, pooled over it, below their own."""
    sf, first, clock, _ = opened
    service = case_service(sf, clock, on_open=plan_on_open(frame_incident_source(london_sv)))
    ids = [first]
    for p in plan_season(month_surface, ["2022-10", "2022-10", "2022-11"])[1:]:
        ids.append(authorise_planned(service, p, month_surface))
    with sf() as s:
        notes = [plan_history(s, c)[0].mdr_note for c in ids]
        own = [plan_history(s, c)[0].mdr_pct for c in ids]
    assert "so far and this one: 2 deployment(s))" in notes[1]
    assert "so far and this one: 3 deployment(s))" in notes[2]
    season = float(notes[2].split("a reduction of ")[-1].split("%")[0])
    assert all(m is not None for m in own) and season < min(own) - 5


def test_without_history_the_plan_says_no_figure_was_stated(tmp_path, month_surface):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(datetime(2022, 9, 1, tzinfo=UTC))
    service = case_service(sf, clock, on_open=plan_on_open(None))
    cid = authorise_planned(service, plan_season(month_surface, ["2022-10"])[0], month_surface)
    with sf() as s:
        (v1,) = plan_history(s, cid)
        assert v1.mdr_pct is None and "no incident history" in v1.mdr_note
    engine.dispose()


def test_changing_the_plan_after_the_window_started_needs_a_reason_and_is_audited(opened):
    sf, cid, _, _ = opened
    actor = SeasonActors().analyst
    changed = EvaluationPlan(analysis="quasi-Poisson only")
    before_start = datetime(2022, 9, 5, tzinfo=UTC)
    after_start = datetime(2022, 11, 1, tzinfo=UTC)
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
        versions = plan_history(s, cid)
        assert [p.version for p in versions] == [1, 2, 3]
        # the figure stated before authorisation is kept by every later version
        assert {p.mdr_pct for p in versions} == {versions[0].mdr_pct}

    from vigil.reports.case_file import build_case_file

    with sf() as s, s.begin():
        r = build_case_file(s, cid, after_start)
    assert "Pre-registered evaluation plan (version 3" in r.html
    assert "minimum detectable reduction of" in r.html
    # the case file shows the figure measured before authorisation, with what it rests on
    assert "What the evaluation can detect (measured when the case was opened" in r.html
    assert "comparable undeployed areas" in r.html
    assert r.facts["minimum_detectable_reduction"] == versions[0].mdr_pct
    assert "was changed after the deployment window had started" in r.html and "typo" in r.html
    assert r.facts["plan_changed_after_start"] == 1


def test_the_case_file_reads_the_result_against_the_frozen_figure(opened):
    """Issue 17: "the evaluation report compares the result with it". An evaluation stored for
    the case (its row as `vigil report evaluate` writes it) is read against the figure frozen
    when the case was opened."""
    from vigil.db.outcomes import OutcomeEvaluation
    from vigil.reports.case_file import build_case_file

    sf, cid, _, _ = opened
    when = datetime(2022, 12, 1, tzinfo=UTC)
    with sf() as s, s.begin():
        s.add(
            OutcomeEvaluation(
                case_id=cid, evaluated_at=when, actor_id="u-oversight", actor_role="oversight",
                resolution="M", verdict="no detectable effect", rate_ratio=0.9, ci_low=0.6,
                ci_high=1.3, message="The estimate is -10% but the interval includes no change.",
                result_json="{}",
            )
        )  # fmt: skip
    with sf() as s, s.begin():
        (v1,) = plan_history(s, cid)
        r = build_case_file(s, cid, when)
    expected = (
        f"Result against the plan: the plan could detect a reduction of {v1.mdr_pct:.0f}% or "
        "more; the estimate is -10% [-40%, +30%]"
    )
    assert expected in r.html
    assert r.facts["result_against_plan"].startswith(
        expected.removeprefix("Result against the plan: ")
    )


def test_the_plan_is_changed_through_the_app_by_whoever_the_table_allows(opened):
    """Issue 17: changing the plan was only a domain function. `change_plan` (behind `vigil
    case plan`) lets the permission table's `change_plan` row decide who may, and after the window
    has started it needs a justification and is audited as a late change."""
    from vigil.app.evaluation_plan import change_plan
    from vigil.errors import PermissionDenied

    sf, cid, clock, _ = opened
    service = case_service(sf, clock)
    actors = SeasonActors()
    with pytest.raises(PermissionDenied):
        change_plan(service, actors.community, cid, {"analysis": "quasi-Poisson only"})
    with pytest.raises(PlanError, match="unknown: verdict"):
        change_plan(service, actors.analyst, cid, {"verdict": "reduction"})
    v2 = change_plan(service, actors.analyst, cid, {"analysis": "quasi-Poisson only"})
    assert v2.version == 2 and v2.analysis == "quasi-Poisson only" and not v2.changed_after_start
    clock.set(datetime(2022, 11, 1, tzinfo=UTC))
    with pytest.raises(PlanError, match="needs a justification"):
        change_plan(service, actors.analyst, cid, {"window": "the month after only"})
    v3 = change_plan(
        service, actors.analyst, cid, {"window": "the month after only"}, justification="typo"
    )
    assert v3.version == 3 and v3.changed_after_start and v3.analysis == "quasi-Poisson only"
    with sf() as s:
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "outcome.plan.change_after_start")
        ).scalar_one()
        assert entry.case_id == cid and entry.justification == "typo"
        assert {p.mdr_pct for p in plan_history(s, cid)} == {plan_history(s, cid)[0].mdr_pct}


def test_vigil_case_plan_changes_the_plan_as_the_signed_in_account(opened, monkeypatch):
    """`vigil case plan`: the command line's way to the same use case, signed in; the clock is
    the real one, long after this 2022 window started, so a justification is required."""
    from typer.testing import CliRunner

    import vigil.commands._context as context
    import vigil.commands.case as case_commands
    from vigil.cli import app
    from vigil.db.identity import IdentityStore

    sf, cid, _, _ = opened
    monkeypatch.setattr(context, "session_factory", lambda: sf)
    monkeypatch.setattr(case_commands, "session_factory", lambda: sf)
    store = IdentityStore(sf)
    runner = CliRunner()

    def as_user(name: str, role: str, *args: str):
        user = store.create_user(name, "correct horse battery staple", role)
        monkeypatch.setenv("VIGIL_TOKEN", store.issue_token(user, "plan test"))
        return runner.invoke(app, ["case", "plan", str(cid), *args])

    refused = as_user("lead-1", "community_lead", "--analysis", "quasi-Poisson only")
    assert refused.exit_code != 0 and "evaluation plan" in str(refused.exception or refused.output)
    late = as_user("analyst-1", "analyst", "--analysis", "quasi-Poisson only")
    assert late.exit_code != 0 and "needs a justification" in str(late.exception or late.output)
    user = store.get_by_username("analyst-1")
    assert user is not None
    monkeypatch.setenv("VIGIL_TOKEN", store.issue_token(user, "plan test"))
    ok = runner.invoke(
        app, ["case", "plan", str(cid), "--analysis", "quasi-Poisson only", "--justification", "x"]
    )
    assert ok.exit_code == 0, ok.output
    assert f"case {cid}: evaluation plan version 2 (after the window started" in ok.output
