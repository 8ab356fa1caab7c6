"""`vigil case ...`: the whole life of a deployment case from the command line.

The acting account is given once, before the sub-command (or by environment):
``vigil case --as u-analyst-1 --role analyst --rank none open ...``
(VIGIL_USER, VIGIL_ROLE, VIGIL_RANK, VIGIL_BOROUGH). Every command goes through
``vigil.cases.service.CaseService``: the same rules and audit as the web app.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from vigil.cases.service import CaseService, CaseView
from vigil.commands._context import acting_actor, case_service
from vigil.errors import VigilError
from vigil.roles import Actor, Rank, Role

app = typer.Typer(
    help="Deployment cases: open, consult, authorise, extend, debrief, close.", no_args_is_help=True
)
console = Console()


@app.callback()
def _group(
    ctx: typer.Context,
    user: str = typer.Option("", "--as", envvar="VIGIL_USER", help="acting account id"),
    role: str = typer.Option(
        "", "--role", envvar="VIGIL_ROLE", help=f"one of: {', '.join(r.value for r in Role)}"
    ),
    rank: str = typer.Option("none", "--rank", envvar="VIGIL_RANK", help="police rank"),
    borough: str = typer.Option(
        None, "--borough", envvar="VIGIL_BOROUGH", help="a local commander's borough"
    ),
) -> None:
    """Deployment cases: open, consult, authorise, extend, debrief, close."""
    ctx.obj = {"user": user, "role": role, "rank": rank, "borough": borough}


def _actor(ctx: typer.Context) -> Actor:
    o = ctx.obj or {}
    if not o.get("user") or not o.get("role"):
        raise VigilError("give the acting account: vigil case --as ID --role ROLE [--rank R] ...")
    return acting_actor(o["user"], o["role"], o.get("rank") or "none", o.get("borough"))


def _when(text: str | None, field: str) -> datetime | None:
    """An ISO time from the command line; one without an offset is London wall-clock time."""
    from vigil.localtime import from_london, iso_datetime

    if text is None:
        return None
    return from_london(iso_datetime(text, f"--{field}"))


def _summary(v: CaseView) -> dict[str, Any]:
    r = v.record
    return {
        "id": v.id,
        "status": v.status.value,
        "stored_status": r.status,
        "lapsed": v.lapsed,
        "trigger": r.trigger,
        "boroughs": r.boroughs,
        "requested": [r.requested_start.isoformat(), r.requested_end.isoformat()],
        "window": None
        if r.start is None or r.end is None
        else [r.start.isoformat(), r.end.isoformat()],
        "urgent": r.urgent,
        "ratify_by": None if r.ratify_by is None else r.ratify_by.isoformat(),
        "success_measures": r.success_measures,
        "evidence_digest": r.evidence_digest,
        "consultations": [
            {"consultee": c.consultee, "position": c.position, "reasons": c.reasons}
            for c in r.consultations
        ],
        "assessments": [
            {"version": a.version, "status": a.status, "missing": a.missing} for a in r.assessments
        ],
        "authorisations": [
            {
                "kind": a.kind,
                "by": a.actor_id,
                "rank": Rank(a.actor_rank).name.lower(),
                "start": a.start.isoformat(),
                "end": a.end.isoformat(),
                "overridden": a.overridden_rules,
            }
            for a in r.authorisations
        ],
        "extensions": [{"number": e.number, "hours": e.hours} for e in r.extensions],
        "notifications": [{"kind": n.kind, "message": n.message} for n in r.notifications],
        "debrief_due": None if r.debrief_due is None else r.debrief_due.isoformat(),
        "area_wkt": r.area_wkt,
        "policy_version": r.policy_version,
    }


def _print(v: CaseView) -> None:
    console.print(f"case {v.id}: [bold]{v.status.value}[/]", highlight=False)


def _svc() -> CaseService:
    return case_service()


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
    v = _svc().open_case(
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
    """The case as JSON (an audited read)."""
    console.print_json(json.dumps(_summary(_svc().get_case(_actor(ctx), case_id))))


@app.command("list")
def list_cmd(
    ctx: typer.Context,
    status: str = typer.Option(None, help="effective status filter"),
    borough: str = typer.Option(None),
) -> None:
    """Cases, newest first (an audited read)."""
    views = _svc().list_cases(_actor(ctx), status=status, borough=borough)
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


@app.command("submit")
def submit_cmd(ctx: typer.Context, case_id: int) -> None:
    """Submit for consultation; freezes the evidence."""
    _print(_svc().submit(_actor(ctx), case_id))


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
        _svc().record_consultation(
            _actor(ctx), case_id, consultee, position, reasons, confirm_no_personal_data
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
    v = _svc().attach_impact_assessment(_actor(ctx), case_id, content)
    a = v.assessments[-1]
    console.print(
        f"case {v.id}: assessment v{a.version} {a.status}"
        + (f"; missing: {', '.join(a.missing)}" if a.missing else "")
    )


@app.command("review")
def review_cmd(ctx: typer.Context, case_id: int, notes: str = typer.Option(...)) -> None:
    """Review the latest impact assessment as sufficient."""
    _print(_svc().review_impact_assessment(_actor(ctx), case_id, notes))


@app.command("request")
def request_cmd(ctx: typer.Context, case_id: int) -> None:
    """Consultation done: put the case before an authorising officer."""
    _print(_svc().request_authorisation(_actor(ctx), case_id))


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
    _print(
        _svc().authorise(
            _actor(ctx),
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
    _print(_svc().ratify_urgent(_actor(ctx), case_id, reasons))


@app.command("notify")
def notify_cmd(ctx: typer.Context, case_id: int, message: str = typer.Option(...)) -> None:
    """Notify oversight of the authorisation (required before activation)."""
    _print(_svc().notify_oversight(_actor(ctx), case_id, message))


@app.command("activate")
def activate_cmd(ctx: typer.Context, case_id: int) -> None:
    """Officers deployed: the window is running."""
    _print(_svc().activate(_actor(ctx), case_id))


@app.command("extend")
def extend_cmd(
    ctx: typer.Context,
    case_id: int,
    hours: float = typer.Option(...),
    reasons: str = typer.Option(...),
    override_reason: str = typer.Option(None),
) -> None:
    """Extend the live window (re-authorised, on a freshly reviewed assessment)."""
    _print(_svc().extend(_actor(ctx), case_id, hours, reasons, override_reason))


@app.command("cancel")
def cancel_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option(...)) -> None:
    """End the deployment early."""
    _print(_svc().cancel(_actor(ctx), case_id, reasons))


@app.command("withdraw")
def withdraw_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option("")) -> None:
    """Withdraw a case before a decision."""
    _print(_svc().withdraw(_actor(ctx), case_id, reasons))


@app.command("refuse")
def refuse_cmd(ctx: typer.Context, case_id: int, reasons: str = typer.Option(...)) -> None:
    """Refuse the request."""
    _print(_svc().refuse(_actor(ctx), case_id, reasons))


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
        _svc().record_debrief(
            _actor(ctx),
            case_id,
            what_happened=what_happened,
            incidents=incidents,
            complaints=complaints,
            community_feedback=community_feedback,
            confirm_no_personal_data=confirm_no_personal_data,
        )
    )


@app.command("close")
def close_cmd(ctx: typer.Context, case_id: int, notes: str = typer.Option("")) -> None:
    """Close a debriefed case."""
    _print(_svc().close(_actor(ctx), case_id, notes))


@app.command("sweep")
def sweep_cmd() -> None:
    """The scheduler's job: write down expiries and flag overdue debriefs to oversight."""
    from vigil.audit.checkpoint import write_checkpoint_from_settings
    from vigil.settings import get_settings

    svc = _svc()
    expired = svc.sweep_expired()
    flagged = svc.flag_overdue_debriefs()
    console.print(f"expired: {expired or 'none'}; overdue debriefs flagged: {flagged or 'none'}")
    cp = write_checkpoint_from_settings(svc.session_factory, get_settings(), svc.clock.now())
    if cp is not None:
        console.print(f"audit checkpoint signed at entry {cp.seq} ({cp.hash[:16]}...)")
