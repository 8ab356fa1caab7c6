"""The public transparency site: no sign-in. The delayed, borough-level report as a page, as the
report's own HTML and PDF, and as open data (CSV and JSON), with the methodology.

What may be published is decided by ``reports.transparency`` (one place): these routes only
present what its builder returns, and never read a case themselves.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from vigil.app.context import AppContext
from vigil.errors import NotFound
from vigil.http.deps import get_ctx, optional_principal
from vigil.reports.document import Quarter, Report
from vigil.reports.transparency import PUBLICATION_DELAY_DAYS
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)

#: editions listed on the index
EDITIONS = 8


def _quarters(ctx: AppContext) -> list[Quarter]:
    """The latest quarters with anything publishable (newest first)."""
    latest = ctx.clock.now() - timedelta(days=PUBLICATION_DELAY_DAYS)
    q = Quarter(latest.year, (latest.month - 1) // 3 + 1)
    out = []
    for _ in range(EDITIONS):
        out.append(q)
        q = Quarter(q.year - 1, 4) if q.q == 1 else Quarter(q.year, q.q - 1)
    return out


def _report(ctx: AppContext, quarter: str) -> Report:
    from vigil.reports.transparency import build_transparency_report

    with ctx.session_factory() as s:
        return build_transparency_report(
            s, quarter, ctx.clock.now(), shared=ctx.settings.shared_data
        )


def _page(request: Request, template: str, **context: Any) -> HTMLResponse:
    return render(request, template, optional_principal(request), **context)


@router.get("/public")
def public_index(request: Request, ctx: AppContext = Depends(get_ctx)) -> Response:
    return _page(
        request,
        "public_index.html",
        quarters=_quarters(ctx),
        delay_days=PUBLICATION_DELAY_DAYS,
    )


@router.get("/public/methodology")
def public_methodology(request: Request) -> Response:
    return _page(request, "public_methodology.html", delay_days=PUBLICATION_DELAY_DAYS)


@router.get("/public/{quarter}")
def public_quarter(request: Request, quarter: str, ctx: AppContext = Depends(get_ctx)) -> Response:
    """One edition: ``2022Q3`` as a page; ``2022Q3.pdf``, ``.csv``, ``.json`` and ``.html`` (the
    report document) as files."""
    stem, _, ext = quarter.partition(".")
    report = _report(ctx, stem)
    facts = report.facts
    name = f"vigil-transparency-{facts['quarter']}"
    if ext == "pdf":
        return Response(
            report.pdf(),
            media_type="application/pdf",
            headers={"Content-Disposition": f'inline; filename="{name}.pdf"'},
        )
    if ext == "json":
        return Response(
            json.dumps(facts, indent=2, sort_keys=True),
            media_type="application/json",
            headers={"Content-Disposition": f'inline; filename="{name}.json"'},
        )
    if ext == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["quarter", "borough", "deployments", "hours_rounded"])
        for borough, row in sorted(facts["boroughs"].items()):
            w.writerow([facts["quarter"], borough, row["deployments"], row["hours"]])
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if ext == "html":
        return HTMLResponse(report.html)
    if ext:
        raise NotFound(f"no '{ext}' version of the report: choose pdf, csv, json or html")
    return _page(
        request,
        "public_report.html",
        facts=facts,
        q=Quarter.parse(stem),
        delay_days=PUBLICATION_DELAY_DAYS,
    )
