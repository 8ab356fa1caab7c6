"""A realistic past season of cases, for the demo (`vigil demo season`) and the browser tests:
a case left in every state (two closed), each moved through the real workflow (policy,
guardrails, audit) on a clock that steps through the season, so the dashboard, the inbox, the
reports and the audit log have something true to show at first sign-in.

Every step is a :class:`~vigil.cases.service.CaseService` call by the account whose job it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from vigil.cases.service import CaseService
from vigil.cases.statements import Consultation, Debrief
from vigil.clock import FixedClock
from vigil.forecast.surface import RiskSurface
from vigil.roles import Actor, Role

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session, sessionmaker

#: the demo's season: from Monday 4 July 2022 (London), on a forecast made for July 2022
SEASON_START = "2022-07-04T09:00"
#: the quarter the season falls in, for the reports the README shows
SEASON_QUARTER = "2022Q3"

TENSION = {
    "evidenced": "Two reported knife incidents near the station in the last fortnight.",
    "experienced": "Traders report residents avoiding the high street after dark.",
    "potential": "Visible armed patrols may raise fear among young people.",
    "rating": "medium",
}
BODIES = (
    "local_commander",
    "independent_advisory_group",
    "safer_neighbourhood_board",
    "community_leaders",
    "stop_search_monitoring_group",
)


@dataclass
class Season:
    """The ids of the seeded cases, by the state each was left in."""

    by_state: dict[str, list[int]] = field(default_factory=dict)

    def add(self, state: str, case_id: int) -> None:
        self.by_state.setdefault(state, []).append(case_id)


def _cia(
    service: CaseService, actor: Actor, case_id: int, reviewer: Actor, on: str, shared: Path
) -> None:
    """A complete CIA: the automatic indicators for the case's area, then the lead's text."""
    from vigil.impact.indicators import compute_indicators, select_area, start_assessment

    view = service.get_case(actor, case_id, purpose="seed impact assessment")
    area = select_area(polygon=view.record.area_wkt, name=f"case {case_id} area", shared=shared)
    with service.session_factory() as s:
        indicators = compute_indicators(
            area,
            policy=service.policy.guardrails,
            session=s,
            now=service.clock.now(),
            shared=shared,
        )
    cia: dict[str, Any] = start_assessment(indicators, case_id).model_dump(mode="json")
    cia["tension"] = dict(TENSION)
    cia["consultations"] = [
        {
            "body": b,
            "role": "chair",
            "on": on,
            "position": "objects" if b == "independent_advisory_group" else "supports",
            "summary": "Asked for daily briefings and a short window."
            if b != "independent_advisory_group"
            else "Objects: the last deployment was not explained to young people.",
        }
        for b in BODIES
    ]
    cia["risks"] = [
        {
            "id": "R1",
            "description": "Loss of confidence among young residents",
            "likelihood": 3,
            "impact": 4,
        },
    ]
    cia["mitigations"] = [
        {
            "description": "Daily briefing to the stop-search monitoring group",
            "addresses": ["R1"],
            "owner_role": "community lead",
        },
    ]
    cia["communication"] = {
        "before": "Safer Neighbourhood Board told the day before.",
        "after": "Debrief to the IAG within a week.",
    }
    cia["reviewer"] = {"user_id": reviewer.user_id, "role": reviewer.role.value}
    cia["review_date"] = on
    service.attach_impact_assessment(actor, case_id, cia)


def _authorise(service: CaseService, ao: Actor, case_id: int, urgent: bool = False) -> None:
    """Authorise; where a guardrail fails, as the officer would, with an override reason (which
    flags the case to oversight)."""
    from vigil.errors import PolicyViolation

    conditions = "Foot patrols in the marked area only; body-worn video on throughout."
    try:
        service.authorise(ao, case_id, conditions=conditions, urgent=urgent)
    except PolicyViolation:
        service.authorise(
            ao,
            case_id,
            conditions=conditions,
            urgent=urgent,
            override_reason="Two stabbings in the area this fortnight; the cap is exceeded by "
            "one earlier deployment nearby.",
        )


def seed_season(
    service: CaseService,
    surface: RiskSurface,
    actors: dict[Role, Actor],
    start: datetime,
    shared: Path,
    *,
    extra: Callable[[CaseService, int], Any] | None = None,
) -> Season:
    """Cases over the weeks from ``start`` on ``surface``'s top areas, in every state; the
    service's clock must be a :class:`FixedClock`, moved here and left at the season's end."""
    clock = service.clock
    if not isinstance(clock, FixedClock):
        raise TypeError("seed_season steps a FixedClock through the season")
    analyst, commander = actors[Role.ANALYST], actors[Role.LOCAL_COMMANDER]
    lead, ao = actors[Role.COMMUNITY_LEAD], actors[Role.AUTHORISING_OFFICER]
    import shapely

    from vigil.cases.area import boroughs_of

    # cells the local commander commands (a commander is consulted on their own borough only):
    # the areas' centres tested against the borough outlines, best first, spread apart
    home = commander.borough
    best = surface.top(400)
    centres = shapely.points(best["x"].to_numpy(), best["y"].to_numpy())
    top = [
        a
        for a, c in zip(best["area_id"], centres, strict=True)
        if home is None or home in boroughs_of(c.buffer(50))
    ][::5][:40]
    if not top:
        raise ValueError(f"no forecast area of {surface.model} lies in {home}")
    season = Season()
    clock.set(start)
    plan = [
        "closed",
        "closed",
        "debriefed",
        "expired",
        "cancelled",
        "refused",
        "withdrawn",
        "active",
        "urgent",
        "awaiting_authorisation",
        "consultation",
        "submitted",
        "draft",
    ]
    for n, state in enumerate(plan):
        now = clock.now()
        reactive = state == "urgent"
        view = service.open_case(
            analyst,
            trigger="reactive" if reactive else "proactive",
            window=(now + timedelta(hours=2), now + timedelta(hours=12)),
            resources="Two armed response vehicles; four officers on foot",
            objectives="Prevent serious violence in the late-night economy",
            success_measures=["No knife injuries in the area", "No complaint upheld"],
            cells=[top[n % len(top)]],
            evidence=surface,
            justification=(
                "Forecast in the top 1% of London and two stabbings in the area this fortnight; "
                "ordinary neighbourhood patrols have not reduced it."
            ),
        )
        cid = view.id
        if state == "draft":
            season.add(state, cid)
            clock.advance(timedelta(hours=1))
            continue
        service.submit(analyst, cid)
        if state == "submitted":
            season.add(state, cid)
            clock.advance(timedelta(hours=1))
            continue
        if reactive:
            _authorise(service, ao, cid, urgent=True)
            season.add("urgent", cid)
            continue
        service.record_consultation(
            commander, cid, Consultation("local_commander", "concur", "Local intelligence agrees.")
        )
        if state == "consultation":
            season.add(state, cid)
            clock.advance(timedelta(hours=1))
            continue
        position = "object" if state == "refused" else "concur"
        service.record_consultation(
            lead, cid, Consultation("community", position, "IAG and ward panel consulted.")
        )
        if state == "withdrawn":
            service.withdraw(analyst, cid, "Intelligence no longer supports it.")
            season.add(state, cid)
            continue
        _cia(service, lead, cid, ao, now.date().isoformat(), shared)
        service.request_authorisation(analyst, cid)
        service.review_impact_assessment(ao, cid, "Proportionate; mitigations adequate.")
        if state == "awaiting_authorisation":
            season.add(state, cid)
            continue
        if state == "refused":
            service.refuse(ao, cid, "Not exceptional enough: the IAG objection stands.")
            season.add(state, cid)
            continue
        _authorise(service, ao, cid)
        service.notify_oversight(ao, cid, f"Authorised deployment, case {cid}.")
        clock.advance(timedelta(hours=2, minutes=30))
        service.activate(commander, cid)
        if state == "active":
            season.add(state, cid)
            continue
        if state == "cancelled":
            clock.advance(timedelta(hours=3))
            service.cancel(ao, cid, "Suspects arrested; stood down early.")
        else:
            clock.advance(timedelta(hours=10))
            service.sweep_expired()
        if state in ("expired", "cancelled"):
            season.add(state, cid)
            clock.advance(timedelta(days=3))
            continue
        service.record_debrief(
            commander,
            cid,
            Debrief(
                what_happened="Patrols ran as planned; no injuries.",
                incidents=1,
                complaints=0,
                community_feedback="Traders reassured.",
            ),
        )
        if state == "closed":
            service.close(ao, cid, "Debrief accepted.")
        if extra is not None:
            extra(service, cid)
        season.add(state, cid)
        clock.advance(timedelta(days=9))
    return season


app = typer.Typer(
    name="demo",
    help="The demo's own steps: a past season of cases to look at.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """The demo's own steps (scripts/demo.sh runs them)."""


@app.command("season")
def season(
    forecast: Path = typer.Option(
        ..., "--forecast", help="a saved forecast (`vigil forecast`'s JSON): the cases' evidence"
    ),
    start: str = typer.Option(
        SEASON_START, "--start", help="when the season starts, London time (ISO)"
    ),
    dataset: str = typer.Option(
        "met-street-2022", "--dataset", help="incidents to evaluate on (store or bundled)"
    ),
    rounds: int = typer.Option(
        2, "--rounds", min=1, max=4, help="times the plan of cases runs, six weeks apart"
    ),
) -> None:
    """Seed a past season of cases through the real workflow, each step by the demo account
    whose job it is (`vigil users demo` makes them), and evaluate the ended deployments.
    Does nothing when the case database already holds cases."""
    from vigil.app.surfaces import load_surface
    from vigil.commands._context import session_factory
    from vigil.commands.forecast import load_incidents
    from vigil.localtime import from_london, iso_datetime

    when = iso_datetime(start, "--start")
    start_utc = when.astimezone(UTC) if when.tzinfo else from_london(when)
    sf = session_factory()
    seeded = seed_demo_season(
        sf,
        load_surface(forecast),
        start_utc,
        lambda: load_incidents(dataset, []),
        rounds=rounds,
    )
    if seeded is None:
        typer.echo("The case database already holds cases: no season seeded.")
        return
    _, evaluated = seeded
    # each case's status now (a later round's sweep ends an earlier round's live deployment)
    from sqlalchemy import select

    from vigil.db.cases import Case

    by_status: dict[str, list[int]] = {}
    with sf() as s:
        for cid, status in s.execute(select(Case.id, Case.status).order_by(Case.id)):
            by_status.setdefault(str(status), []).append(int(cid))
    for state, ids in by_status.items():
        typer.echo(f"{state:<24} {', '.join(f'#{i}' for i in ids)}")
    typer.echo(f"evaluated                {', '.join(f'#{i}' for i in evaluated) or 'none'}")
    typer.echo(
        f"Reports: vigil report oversight --quarter {SEASON_QUARTER} --pdf oversight.pdf "
        "(as the oversight account)"
    )


def demo_actors(sf: sessionmaker[Session]) -> dict[Role, Actor]:
    """The first demo account of each role, as the actor it signs in as."""
    from vigil.commands.users import DEMO_ACCOUNTS
    from vigil.db.identity import IdentityStore
    from vigil.errors import VigilError
    from vigil.roles import Role

    store = IdentityStore(sf)
    actors: dict[Role, Actor] = {}
    for username, role, *_ in DEMO_ACCOUNTS:
        user = store.get_by_username(username)
        if user is None:
            raise VigilError(f"demo account '{username}' does not exist: run `vigil users demo`")
        actors.setdefault(Role(role), user.actor())
    return actors


def seed_demo_season(
    sf: sessionmaker[Session],
    surface: RiskSurface,
    start: datetime,
    incidents: Callable[[], pd.DataFrame],
    shared: Path | None = None,
    *,
    rounds: int = 1,
) -> tuple[Season, list[int]] | None:
    """The season of :func:`seed_season` from ``start`` (UTC) on ``surface``, ``rounds`` times
    six weeks apart (several cases in every state), by the demo accounts; then the closed and
    debriefed deployments evaluated by the oversight account six weeks after the last round (the
    month after each is published by then). ``incidents`` gives the incident frame (loaded only
    when there is something to evaluate). None when the database already holds cases: running
    the demo twice seeds once."""
    from sqlalchemy import func, select

    from vigil.cases.area import known_boroughs
    from vigil.clock import FixedClock
    from vigil.commands._context import case_service
    from vigil.db.cases import Case
    from vigil.errors import VigilError
    from vigil.geo.projection import with_xy
    from vigil.outcomes.record import evaluate_cases
    from vigil.roles import Role
    from vigil.settings import shared_data_dir

    with sf() as s:
        if s.execute(select(func.count()).select_from(Case)).scalar_one():
            return None
    shared = shared_data_dir(shared)
    if not known_boroughs():  # the shared data are found from the working directory
        raise VigilError(
            f"no London borough boundaries under {shared}: run from the checkout (beside "
            "shared/data) or set VIGIL_SHARED_DATA"
        )
    actors = demo_actors(sf)
    clock = FixedClock(start)
    service = case_service(sf, clock)
    seeded = Season()
    for n in range(rounds):
        at = max(start + n * timedelta(weeks=6), clock.now() + timedelta(days=3))
        one = seed_season(service, surface, actors, at, shared)
        for state, ids in one.by_state.items():
            for cid in ids:
                seeded.add(state, cid)
    clock.advance(timedelta(days=42))
    ended = seeded.by_state.get("closed", []) + seeded.by_state.get("debriefed", [])
    if not ended:
        return seeded, []
    frame, _ = with_xy(incidents(), surface.crs)
    for cid in ended:
        with sf() as s, s.begin():
            evaluate_cases(s, [cid], frame, actors[Role.OVERSIGHT], clock.now(), surface=surface)
    return seeded, ended
