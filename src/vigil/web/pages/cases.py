"""The case list (search, filters, sort, CSV) and the form that opens a case."""

from __future__ import annotations

import csv
import io

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.errors import VigilError
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.http.errors import status_for
from vigil.web import forms
from vigil.web.layout import check_in_words, render

router = APIRouter(include_in_schema=False)

#: the case list's sort orders: (label, key of a case summary, newest/largest first)
SORTS: dict[str, tuple[str, str, bool]] = {
    "newest": ("Newest first", "id", True),
    "oldest": ("Oldest first", "id", False),
    "start": ("Requested start", "requested_start", False),
    "status": ("Status", "status", False),
    "borough": ("Borough", "borough", False),
}


@router.get("/cases")
def cases_page(
    request: Request,
    status: str | None = None,
    borough: str | None = None,
    q: str = "",
    sort: str = "newest",
    format: str = "html",
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    """Every case this account may read, searched, filtered and sorted; also as CSV."""
    from vigil.app.views import case_summary
    from vigil.cases.states import Status

    statuses = [s.value for s in Status]
    wanted = status if status in statuses else None
    views = ctx.cases.list_cases(principal.actor, status=wanted, purpose="case list page")
    rows = [case_summary(v) for v in views]
    boroughs = sorted({r["borough"] for r in rows if r.get("borough")})
    if borough:
        rows = [r for r in rows if r.get("borough") == borough]
    if q.strip():
        needle = q.strip().lower()
        rows = [
            r
            for r in rows
            if needle
            in " ".join(
                str(x) for x in (r["id"], r.get("borough"), r["status"], r["trigger"])
            ).lower()
            or needle == f"#{r['id']}"
        ]
    _, key, reverse = SORTS.get(sort, SORTS["newest"])
    rows.sort(key=lambda r: (r.get(key) is None, str(r.get(key) or "").zfill(12)), reverse=reverse)
    if format == "csv":
        from vigil.localtime import london

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(
            [
                "case",
                "status",
                "trigger",
                "borough",
                "requested_start_utc",
                "requested_end_utc",
                "authorised_start_utc",
                "authorised_end_utc",
                "requested_start_london",
            ]
        )
        for r in rows:
            w.writerow(
                [
                    r["id"],
                    r["status"],
                    r["trigger"],
                    r.get("borough") or "",
                    r["requested_start"],
                    r["requested_end"],
                    r.get("start") or "",
                    r.get("end") or "",
                    london(r["requested_start"]),
                ]
            )
        return Response(
            buf.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="vigil-cases.csv"'},
        )
    return render(
        request,
        "cases.html",
        principal,
        cases=rows,
        statuses=statuses,
        status_filter=wanted or "",
        boroughs=boroughs,
        borough_filter=borough or "",
        q=q,
        sort=sort if sort in SORTS else "newest",
        sorts=[(k, v[0]) for k, v in SORTS.items()],
        query=request.url.query,
    )


@router.get("/cases/new")
def new_case_page(
    request: Request,
    area_id: str = "",
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    check_in_words(ctx.cases.policy, principal.actor, Action.OPEN)
    return _new_case_form(request, principal, ctx, area_id=area_id)


def _new_case_form(
    request: Request,
    principal: Principal,
    ctx: AppContext,
    *,
    area_id: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    from datetime import timedelta

    from vigil.app.area_names import area_names
    from vigil.app.forecast_store import staleness

    now = ctx.clock.now().replace(second=0, microsecond=0)
    start = now + timedelta(hours=1)
    end = start + timedelta(hours=min(12, ctx.cases.policy.window.initial_max_hours))
    surface = ctx.surface_source()
    named = area_names(surface, ctx.settings.shared_data) if surface is not None else {}
    return render(
        request,
        "case_new.html",
        principal,
        status,
        area_id=area_id,
        start=forms.local_input(start),
        end=forms.local_input(end),
        surface=surface,
        # the frozen evidence's age against today (the map's rule: older than its own window)
        stale=staleness(surface, now) if surface is not None else None,
        area_name=named[area_id].label if area_id in named else None,
        max_hours=ctx.cases.policy.window.initial_max_hours,
        errors=errors or {},
        values=values or {},
    )


@router.post("/cases/new")
async def create_case(
    request: Request,
    principal: Principal = RequirePolicy(Action.READ),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.app.cases import CaseIn, open_case

    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    try:
        if not forms.text(form, "trigger"):
            raise forms.FormError("Choose what triggers the request", "trigger")
        forms.text(form, "resources", required=True)
        forms.text(form, "objectives", required=True)
        body = forms.validated(
            CaseIn,
            form,
            "trigger",
            "borough",
            "resources",
            "objectives",
            "justification",
            cells=[c.strip() for c in forms.text(form, "cells").split(",") if c.strip()],
            area_wkt=None,
            start=forms.utc_time(form, "start"),
            end=forms.utc_time(form, "end"),
            success_measures=forms.lines(form, "success_measures"),
            use_current_forecast=True,
            confirm_no_personal_data=forms.flag(form, "confirm_no_personal_data"),
        )
        case = open_case(ctx, principal.actor, body)
    except VigilError as exc:
        field = getattr(exc, "field", "") or "new-case"
        message = str(exc)
        return _new_case_form(
            request,
            principal,
            ctx,
            errors={field: message[:1].upper() + message[1:]},
            values=values,
            status=status_for(exc),
        )
    return RedirectResponse(f"/cases/{case['id']}?flash=opened", status_code=303)
