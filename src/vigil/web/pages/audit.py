"""The force-wide audit view (oversight, and administrators without case text): the log
searched by case, action, account and a London date range, a page at a time, and the filtered
set as CSV. Every search and export is itself an audited read (vigil.app.audit)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from vigil.app.context import AppContext
from vigil.audit.query import AuditFilter
from vigil.cases.policy import Action
from vigil.errors import VigilError
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)

#: entries on one page of the audit view
PER_PAGE = 50
#: the CSV's columns: the UTC instant the log keeps and the London time people read
CSV_COLUMNS = (
    "seq",
    "at_utc",
    "at_london",
    "case",
    "action",
    "by",
    "actor_id",
    "actor_role",
    "justification",
    "detail",
    "hash",
)


@dataclass
class Asked:
    """The filter as typed (kept in the form) and as understood (``wanted``), with an error
    message per field that could not be understood."""

    typed: dict[str, str]
    wanted: AuditFilter = field(default_factory=AuditFilter)
    errors: dict[str, str] = field(default_factory=dict)


def _london_day(text: str, where: str, next_day: bool = False) -> datetime:
    """The UTC instant London's day ``text`` (2022-07-01) starts (or, ``next_day``, ends)."""
    from vigil.localtime import from_london, iso_datetime

    day = iso_datetime(text, where).date()
    return from_london(datetime.combine(day + timedelta(days=int(next_day)), time()))


def parse(case: str, action: str, actor: str, since: str, until: str) -> Asked:
    """The audit view's query, checked: each bad field named, in words."""
    typed = {"case": case, "action": action, "actor": actor, "from": since, "to": until}
    asked = Asked({k: v.strip() for k, v in typed.items()})
    t = asked.typed
    case_id: int | None = None
    if t["case"]:
        digits = t["case"].lstrip("#")
        if digits.isdigit() and int(digits) > 0:
            case_id = int(digits)
        else:
            asked.errors["case"] = "Case number must be a whole number, like 12"
    bounds: dict[str, datetime | None] = {"from": None, "to": None}
    for name, label in (("from", "From date"), ("to", "To date")):
        if t[name]:
            try:
                bounds[name] = _london_day(t[name], label, next_day=name == "to")
            except VigilError as exc:
                asked.errors[name] = str(exc)
    if bounds["from"] and bounds["to"] and bounds["to"] <= bounds["from"]:
        asked.errors["to"] = "To date must be the same as or after the from date"
    if not asked.errors:
        asked.wanted = AuditFilter(
            case_id=case_id,
            action=t["action"],
            actor_id=t["actor"],
            since=bounds["from"],
            until=bounds["to"],
        )
    return asked


@router.get("/audit")
def audit_page(
    request: Request,
    case: str = "",
    action: str = "",
    actor: str = "",
    since: str = Query("", alias="from"),
    until: str = Query("", alias="to"),
    page: int = 1,
    principal: Principal = RequirePolicy(Action.READ_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.audit import audit_actions, may_read_cases, search_audit

    asked = parse(case, action, actor, since, until)
    query = urlencode({k: v for k, v in asked.typed.items() if v})
    found = None
    if not asked.errors:
        found = search_audit(ctx, principal.actor, asked.wanted, max(1, page), PER_PAGE)
    return render(
        request,
        "audit.html",
        principal,
        status=400 if asked.errors else 200,
        typed=asked.typed,
        errors=asked.errors,
        found=found,
        action_choices=[(a, a) for a in audit_actions(ctx)],
        query=query,
        case_text=may_read_cases(ctx, principal.actor),
        may_verify=ctx.cases.policy.permits(principal.actor, Action.VERIFY_AUDIT),
    )


@router.get("/audit.csv")
def audit_csv(
    case: str = "",
    action: str = "",
    actor: str = "",
    since: str = Query("", alias="from"),
    until: str = Query("", alias="to"),
    principal: Principal = RequirePolicy(Action.READ_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The whole filtered set (not one page), oldest first, streamed."""
    from vigil.app.audit import export_audit

    asked = parse(case, action, actor, since, until)
    if asked.errors:
        return Response("; ".join(asked.errors.values()), status_code=400, media_type="text/plain")
    rows = export_audit(ctx, principal.actor, asked.wanted)

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(CSV_COLUMNS)
        for e in rows:
            w.writerow(
                [
                    e.seq,
                    e.at,
                    e.at_london,
                    "" if e.case_id is None else e.case_id,
                    e.action,
                    e.who,
                    e.actor_id,
                    e.actor_role,
                    e.justification,
                    e.detail,
                    e.hash,
                ]
            )
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
        yield buf.getvalue()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="vigil-audit.csv"'},
    )


@router.get("/audit/verify")
def audit_verify_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.VERIFY_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The verification of the whole log, in words: what holds, what does not (audited)."""
    from vigil.app.audit import verify_audit

    return render(
        request, "audit_verify.html", principal, report=verify_audit(ctx, principal.actor)
    )
