"""`vigil case ...`: the whole life of a deployment case from the command line.

Every command acts as a real account, proved by an API token (``VIGIL_TOKEN=... vigil case
open ...``) or by a username and its password (``vigil case --user NAME open ...``, password at
a prompt); role, rank and borough are the account's own (see ``vigil.commands._context``). Every
command goes through ``vigil.cases.service.CaseService``: the same rules and audit as the web
app. The operator's scheduler work (expiry sweeps) is ``vigil admin sweep``, not here.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.cases.policy import Action
from vigil.cases.service import CaseService, CaseView
from vigil.cases.statements import Consultation, Debrief
from vigil.commands._context import (
    case_service,
    require_step_up,
    session_factory,
    signed_in_actor,
)
from vigil.errors import VigilError
from vigil.roles import Actor

app = typer.Typer(
    help="Deployment cases: open, consult, authorise, extend, debrief, close.", no_args_is_help=True
)
console = Console()


@app.callback()
def _group(
    ctx: typer.Context,
    user: str = typer.Option(
        None,
        "--user",
        help="sign in as this account with its password (prompted); default: VIGIL_TOKEN",
    ),
) -> None:
    """Deployment cases: open, consult, authorise, extend, debrief, close. Acts as the account
    of VIGIL_TOKEN (an API token) or of --user NAME (password prompted)."""
    ctx.obj = {"user": user}


def _actor(ctx: typer.Context) -> Actor:
    """The signed-in account (verified once per command)."""
    o = ctx.ensure_object(dict)
    if "actor" not in o:
        o["actor"] = signed_in_actor(_sf(ctx), o.get("user"))
    actor: Actor = o["actor"]
    return actor


def _decider(ctx: typer.Context, action: str, override_reason: str | None = None) -> Actor:
    """The signed-in account, if it may make ``action`` (and an override) now: these decisions
    need a recent authentication, i.e. ``--user`` and the password, not a token (step-up)."""
    actor = _actor(ctx)
    # who may decide at all comes first (the permission table), then how fresh the proof is
    _svc(ctx).policy.check(actor, Action(action))
    require_step_up(actor, action)
    if override_reason:
        require_step_up(actor, "override")
    return actor


def _when(text: str | None, field: str) -> datetime | None:
    """An ISO time from the command line; one without an offset is London wall-clock time."""
    from vigil.localtime import from_london, iso_datetime

    if text is None:
        return None
    return from_london(iso_datetime(text, f"--{field}"))


def _print(v: CaseView) -> None:
    console.print(f"case {v.id}: [bold]{v.status.value}[/]", highlight=False)


def _sf(ctx: typer.Context) -> Any:
    """One session factory per command run (the account check and the case service share it)."""
    o = ctx.ensure_object(dict)
    if "sf" not in o:
        o["sf"] = session_factory()
    return o["sf"]


def _svc(ctx: typer.Context) -> CaseService:
    return case_service(_sf(ctx))


# Commands that take only the case: (command, CaseService method, help), declared once.
_CASE_ONLY = (
    ("submit", "submit", "Submit for consultation; freezes the evidence."),
    (
        "request",
        "request_authorisation",
        "Consultation done: put the case before an authorising officer.",
    ),
    ("activate", "activate", "Officers deployed: the window is running."),
)


def _case_only(name: str, method: str, doc: str) -> None:
    def command(ctx: typer.Context, case_id: int) -> None:
        _print(getattr(_svc(ctx), method)(_actor(ctx), case_id))

    command.__doc__ = doc
    app.command(name)(command)


for _name, _method, _doc in _CASE_ONLY:
    _case_only(_name, _method, _doc)


@app.command("open")
def open_cmd(
    ctx: typer.Context,
    trigger: str = typer.Option(..., help="proactive | reactive"),
    start: str = typer.Option(..., help="requested start, ISO date-time (UTC)"),
    hours: float = typer.Option(..., help="requested length in hours"),
    resources: str = typer.Option(...),
    objectives: str = typer.Option(...),
    measure: list[str] = typer.Option(..., "--measure", help="success measure (repeatable)"),
    area_wkt: str = typer.Option(None, help="area polygon, WKT in EPSG:27700"),
    area_file: Path = typer.Option(None, help="file holding the area WKT"),
    cell: list[str] = typer.Option(None, "--cell", help="evidence surface area id (repeatable)"),
    borough: str = typer.Option(None, help="lead borough"),
    evidence: Path = typer.Option(None, help="RiskSurface JSON (RiskSurface.to_dict())"),
    confirm_no_personal_data: bool = typer.Option(False, "--confirm-no-personal-data"),
) -> None:
    """Open a draft case over an area and a requested window."""
    from vigil.forecast.surface import RiskSurface

    wkt = area_wkt or (area_file.read_text().strip() if area_file else None)
    surface = None
    if evidence is not None:
        if not evidence.is_file():
            raise VigilError(f"--evidence: file {evidence} does not exist")
        try:
            surface = RiskSurface.from_dict(json.loads(evidence.read_text()))
        except (KeyError, ValueError) as exc:
            raise VigilError(f"--evidence {evidence}: not a RiskSurface JSON ({exc})") from None
    s = _when(start, "start")
    assert s is not None
    v = _svc(ctx).open_case(
        _actor(ctx),
        trigger=trigger,
        window=(s, s + timedelta(hours=hours)),
        resources=resources,
        objectives=objectives,
        success_measures=measure,
        area_wkt=wkt,
        cells=cell or None,
        borough=borough,
        evidence=surface,
        confirm_no_personal_data=confirm_no_personal_data,
    )
    _print(v)


@app.command("show")
def show_cmd(ctx: typer.Context, case_id: int) -> None:
    """The case as JSON (an audited read): the same fields as ``GET /api/cases/{id}``."""
    from vigil.app.views import case_detail

    console.print_json(case_detail(_svc(ctx).get_case(_actor(ctx), case_id)).model_dump_json())


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option(None, help="effective status filter"),
    borough: str = typer.Option(None),
) -> None:
    """Cases, newest first (an audited read)."""
    views = _svc(ctx).list_cases(_actor(ctx), status=status, borough=borough)
    table = Table("id", "status", "trigger", "borough", "window")
    for v in views:
        r = v.record
        w = (r.start, r.end) if r.start else (r.requested_start, r.requested_end)
        table.add_row(
            str(v.id),
            v.status.value,
            r.trigger,
            r.borough or "-",
            f"{w[0]:%Y-%m-%d %H:%M} - {w[1]:%Y-%m-%d %H:%M}",
        )
    console.print(table)


@app.command("consult")
def consult_cmd(
    ctx: typer.Context,
    case_id: int,
    consultee: str = typer.Option(..., help="local_commander | community"),
    position: str = typer.Option(..., help="concur | object | abstain"),
    reasons: str = typer.Option(...),
    confirm_no_personal_data: bool = typer.Option(False, "--confirm-no-personal-data"),
) -> None:
    """Record a consultee's position, with reasons."""
    _print(
        _svc(ctx).record_consultation(
            _actor(ctx),
            case_id,
            Consultation(consultee, position, reasons),
            confirm_no_personal_data=confirm_no_personal_data,
        )
    )


@app.command("assess")
def assess_cmd(
    ctx: typer.Context,
    case_id: int,
    file: Path = typer.Option(..., help="CommunityImpactAssessment JSON"),
) -> None:
    """Attach a new version of the community impact assessment."""
    if not file.is_file():
        raise VigilError(f"--file: {file} does not exist")
    try:
        content = json.loads(file.read_text())
    except json.JSONDecodeError as exc:
        raise VigilError(f"{file}: not JSON ({exc})") from None
    v = _svc(ctx).attach_impact_assessment(_actor(ctx), case_id, content)
    a = v.assessments[-1]
    console.print(
        f"case {v.id}: assessment v{a.version} {a.status}"
        + (f"; missing: {', '.join(a.missing)}" if a.missing else "")
    )


@app.command("review")
def review_cmd(ctx: typer.Context, case_id: int, notes: str = typer.Option(...)) -> None:
    """Review the latest impact assessment as sufficient."""
    _print(_svc(ctx).review_impact_assessment(_actor(ctx), case_id, notes))


@app.command("authorise")
def authorise_cmd(
    ctx: typer.Context,
    case_id: int,
    conditions: str = typer.Option(...),
    start: str = typer.Option(None, help="window start (default: the requested window)"),
    hours: float = typer.Option(None, help="window length"),
    urgent: bool = typer.Option(False, help="urgent authorisation of a reactive case"),
    override_reason: str = typer.Option(None, help="override breached guardrails"),
) -> None:
    """Authorise the window (urgent: to be ratified in time)."""
    window = None
    if start is not None or hours is not None:
        if start is None or hours is None:
            raise VigilError("give both --start and --hours, or neither")
        s = _when(start, "start")
        assert s is not None
        window = (s, s + timedelta(hours=hours))
    actor = _decider(ctx, "authorise_urgent" if urgent else "authorise", override_reason)
    _print(
        _svc(ctx).authorise(
            actor,
            case_id,
            conditions=conditions,
            window=window,
            override_reason=override_reason,
            urgent=urgent,
        )
    )


@app.command("ratify")
def ratify_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option(...)) -> None:
    """Ratify an urgent authorisation."""
    _print(_svc(ctx).ratify_urgent(_decider(ctx, "ratify"), case_id, reasons))


@app.command("notify")
def notify_cmd(ctx: typer.Context, case_id: int, message: str = typer.Option(...)) -> None:
    """Notify oversight of the authorisation (required before activation)."""
    _print(_svc(ctx).notify_oversight(_actor(ctx), case_id, message))


@app.command("extend")
def extend_cmd(
    ctx: typer.Context,
    case_id: int,
    hours: float = typer.Option(...),
    reasons: str = typer.Option(...),
    override_reason: str = typer.Option(None),
) -> None:
    """Extend the live window (re-authorised, on a freshly reviewed assessment)."""
    actor = _decider(ctx, "extend", override_reason)
    _print(_svc(ctx).extend(actor, case_id, hours, reasons, override_reason))


@app.command("cancel")
def cancel_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option(...)) -> None:
    """End the deployment early."""
    _print(_svc(ctx).cancel(_actor(ctx), case_id, reasons))


@app.command("withdraw")
def withdraw_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option("")) -> None:
    """Withdraw a case before a decision."""
    _print(_svc(ctx).withdraw(_actor(ctx), case_id, reasons))


@app.command("refuse")
def refuse_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option(...)) -> None:
    """Refuse the request."""
    _print(_svc(ctx).refuse(_actor(ctx), case_id, reasons))


@app.command("debrief")
def debrief_cmd(
    ctx: typer.Context,
    case_id: int,
    what_happened: str = typer.Option(...),
    incidents: int = typer.Option(...),
    complaints: int = typer.Option(...),
    community_feedback: str = typer.Option(""),
    confirm_no_personal_data: bool = typer.Option(False, "--confirm-no-personal-data"),
) -> None:
    """Record the debrief of an ended deployment."""
    _print(
        _svc(ctx).record_debrief(
            _actor(ctx),
            case_id,
            Debrief(what_happened, incidents, complaints, community_feedback),
            confirm_no_personal_data=confirm_no_personal_data,
        )
    )


@app.command("close")
def close_cmd(ctx: typer.Context, case_id: int, notes: str = typer.Option("")) -> None:
    """Close a debriefed case."""
    _print(_svc(ctx).close(_actor(ctx), case_id, notes))


@app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    case_id: int,
    outcome: str | None = typer.Option(None, help="the outcome measured"),
    comparison: str | None = typer.Option(None, help="what it is compared with"),
    window: str | None = typer.Option(None, help="the periods compared"),
    analysis: str | None = typer.Option(None, help="the test that decides the verdict"),
    justification: str = typer.Option(
        "", help="why (required once the deployment window has started; audited)"
    ),
) -> None:
    """Change the case's evaluation plan: a new, audited version (issue 17). Who may is the
    permission table's `change_plan` row; the figure frozen at opening stays."""
    from vigil.app.evaluation_plan import change_plan

    given = {"outcome": outcome, "comparison": comparison, "window": window, "analysis": analysis}
    changes = {k: v for k, v in given.items() if v is not None}
    plan = change_plan(_svc(ctx), _actor(ctx), case_id, changes, justification)
    late = " (after the window started: justified and flagged)" if plan.changed_after_start else ""
    console.print(f"case {case_id}: evaluation plan version {plan.version}{late}", highlight=False)
