"""Reports as HTML (or PDF): the oversight report, the public transparency report, force-wide
statistics and a case file. The report builders in ``vigil.reports`` do the work; the case file
is produced as an audited read."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from vigil.app.context import AppContext
from vigil.audit.log import Category, append
from vigil.cases.policy import Action
from vigil.http.deps import CaseId, Principal, RequirePolicy, get_ctx
from vigil.reports.document import Report

router = APIRouter(prefix="/api/reports", tags=["reports"])

Quarter = Path(pattern=r"^(199\d|2\d{3})Q[1-4]$", description="e.g. 2022Q3")


class Format(StrEnum):
    HTML = "html"
    PDF = "pdf"


def _send(report: Report, fmt: Format, name: str) -> Response:
    if fmt is Format.PDF:
        return Response(
            report.pdf(),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    return HTMLResponse(report.html)


def _log_report(
    session: Session, principal: Principal, ctx: AppContext, action: str, quarter: str, fmt: Format
) -> None:
    """A report built from the cases discloses their content: logged in the transaction that
    read them (DPA 2018 s.62), so the answer waits for the entry."""
    append(
        session,
        actor=principal.actor,
        action=action,
        category=Category.DISCLOSURE,
        at=ctx.clock.now(),
        detail={"quarter": quarter, "format": str(fmt)},
    )


RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {}, "application/pdf": {}}}
}


@router.get("/oversight/{quarter}", response_class=Response, responses=RESPONSES)
def oversight_report(
    quarter: str = Quarter,
    format: Format = Query(Format.HTML),
    principal: Principal = RequirePolicy(Action.READ_OVERSIGHT_REPORT),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Every deployment of the quarter with its hours, overrides and outcome (not public);
    producing it discloses case content, so it is logged (DPA 2018 s.62)."""
    from vigil.reports.oversight import build_oversight_report

    with ctx.session_factory() as s, s.begin():
        report = build_oversight_report(
            s, quarter, ctx.clock.now(), shared=ctx.settings.shared_data
        )
        _log_report(s, principal, ctx, "report.oversight", quarter, format)
    return _send(report, format, f"oversight-{quarter}")


@router.get("/transparency/{quarter}", response_class=Response, responses=RESPONSES)
def transparency_report(
    quarter: str = Quarter,
    format: Format = Query(Format.HTML),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The public, aggregated and delayed report for the quarter (built from the cases, so
    its production is logged)."""
    from vigil.reports.transparency import build_transparency_report

    with ctx.session_factory() as s, s.begin():
        report = build_transparency_report(
            s, quarter, ctx.clock.now(), shared=ctx.settings.shared_data
        )
        _log_report(s, principal, ctx, "report.transparency", quarter, format)
    return _send(report, format, f"transparency-{quarter}")


@router.get("/stats/{year}", response_class=Response, responses=RESPONSES)
def stats_report(
    year: int = Path(ge=2010, le=2100),
    format: Format = Query(Format.HTML),
    _: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """London's serious violence, knife crime and homicide for the year, by borough."""
    from vigil.reports.stats import build_stats_report

    report = build_stats_report(year, ctx.clock.now(), shared=ctx.settings.shared_data)
    return _send(report, format, f"stats-{year}")


@router.get("/cases/{case_id}", response_class=Response, responses=RESPONSES)
def case_file(
    case_id: CaseId,
    format: Format = Query(Format.HTML),
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """The whole case file; producing it is an audited read."""
    from vigil.reports.case_file import build_case_file

    with ctx.session_factory() as s, s.begin():
        report = build_case_file(
            s,
            case_id,
            ctx.clock.now(),
            actor=principal.actor,
            guardrails=ctx.cases.policy.guardrails,
        )
    return _send(report, format, f"case-{case_id}")
