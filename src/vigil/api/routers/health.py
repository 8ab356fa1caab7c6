"""Probes and metrics for whoever runs the server (a load balancer, Kubernetes, Prometheus).

- ``GET /healthz``: the process answers (liveness); touches nothing else.
- ``GET /readyz``: the process can serve (readiness): the database answers, its schema is at
  every migration head, and the audit signing key the settings name exists. 503 with the
  failing checks otherwise, so a balancer stops sending traffic until it recovers.
- ``GET /metrics``: Prometheus exposition (request counts and latencies by route template,
  audit appends, expiry lag); counts only, no case data.

None of them is in the OpenAPI schema or needs an account: they say nothing about any case.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from vigil.app.context import AppContext
from vigil.http.deps import get_ctx
from vigil.http.observability import metrics_body

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _signing_key_problems(ctx: AppContext) -> list[str]:
    """Each key file a setting names (``*signing_key*``/``*key_file*``) must exist."""
    problems = []
    for name in type(ctx.settings).model_fields:
        if "signing_key" not in name and "key_file" not in name:
            continue
        value = getattr(ctx.settings, name)
        if isinstance(value, Path) and not value.is_file():
            problems.append(f"{name}: {value} does not exist")
    return problems


def readiness(ctx: AppContext) -> dict[str, Any]:
    """Each check's result; ``ready`` is true when all pass."""
    from alembic.runtime.migration import MigrationContext

    from vigil.db.migrate import missing_heads

    checks: dict[str, str] = {}
    try:
        with ctx.session_factory() as s:
            s.execute(text("SELECT 1"))
            checks["database"] = "ok"
            current = MigrationContext.configure(s.connection()).get_current_heads()
        missing = missing_heads(current)
        checks["migrations"] = (
            "ok" if not missing else f"not at head: missing {', '.join(missing)} (vigil db upgrade)"
        )
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = f"unavailable: {type(exc).__name__}"
        checks["migrations"] = "unknown"
    key_problems = _signing_key_problems(ctx)
    checks["signing_key"] = "ok" if not key_problems else "; ".join(key_problems)
    return {"ready": all(v == "ok" for v in checks.values()), "checks": checks}


@router.get("/readyz")
def readyz(ctx: AppContext = Depends(get_ctx)) -> JSONResponse:
    result = readiness(ctx)
    if result["ready"]:
        return JSONResponse(result)
    return JSONResponse(result, status_code=503, headers={"Retry-After": "5"})


@router.get("/metrics")
def metrics() -> Response:
    body, media_type = metrics_body()
    return Response(body, media_type=media_type)
