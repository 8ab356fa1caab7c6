"""Uploading incident files (police.uk CSVs or any CSV through a shipped column mapping)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.http.deps import Principal, RequirePolicy, get_ctx
from vigil.web.layout import render

router = APIRouter(include_in_schema=False)


@router.get("/incidents/upload")
def upload_page(
    request: Request,
    principal: Principal = RequirePolicy(Action.UPLOAD_INCIDENTS),
    ctx: AppContext = Depends(get_ctx),
) -> Response:
    from vigil.data.mapping import shipped_mappings

    return render(request, "upload.html", principal, mappings=shipped_mappings())
