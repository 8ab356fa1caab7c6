"""Server-rendered pages, one module per resource (as FastAPI's "bigger applications" lay out
routers): sign-in, the map, the case list, a case and its forms, the inbox, oversight, accounts,
uploads and the public transparency site. ``router`` gathers them for ``vigil.server``.

Pages are thin: each checks the permission table through the same dependency as the API
(``RequirePolicy``), calls the application layer and renders a template. Form posts carry the
session's CSRF token."""

from __future__ import annotations

from fastapi import APIRouter

from vigil.web.pages import (
    accounts,
    audit,
    case,
    case_actions,
    cases,
    command_line,
    inbox,
    oversight,
    public,
    risk_map,
    signin,
    uploads,
)

router = APIRouter(include_in_schema=False)
# /cases/new before /cases/{case_id}
for module in (
    signin,
    risk_map,
    inbox,
    cases,
    case,
    case_actions,
    oversight,
    audit,
    accounts,
    command_line,
    uploads,
    public,
):
    router.include_router(module.router)
