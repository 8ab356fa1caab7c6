"""The server's background jobs, run in exactly one process at a time.

Every process of ``vigil serve --workers N`` runs the same loop, and an operator's cron may run
``vigil admin sweep`` too; a pass runs only in the process holding ``vigil.db.joblock.JobLock``,
the others skip it. Nothing is kept in memory between passes: each pass reads what is due from
the database (windows the clock has ended, debriefs gone overdue), so a restart, a crash or a
change of holder loses nothing; the next pass does what the last one did not.

A pass: measure the expiry lag (how long the oldest ended-but-unrecorded case has waited),
write the expiries, flag overdue debriefs, then the audit checkpoint when it is due.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select

from vigil.app.context import AppContext
from vigil.cases.service import CaseService
from vigil.cases.states import LIVE
from vigil.db.cases import Case
from vigil.db.joblock import JobLock
from vigil.http.observability import EXPIRY_LAG, SWEEPS

log = logging.getLogger(__name__)


@dataclass
class PassResult:
    """What one pass did; ``ran`` is False when another process held the lock."""

    ran: bool
    expired: list[int] = field(default_factory=list)
    flagged: list[int] = field(default_factory=list)
    expiry_lag_seconds: float = 0.0
    checkpoint: Any = None


def expiry_lag(cases: CaseService, now: datetime) -> float:
    """Seconds since the end of the oldest live case whose window has ended (0 if none)."""
    with cases.session_factory() as s:
        oldest = s.execute(
            select(func.min(Case.end)).where(
                Case.status.in_([st.value for st in LIVE]),
                or_(Case.end <= now, Case.ratify_by <= now),
            )
        ).scalar()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


def _checkpoint_job() -> Callable[..., Any] | None:
    """The audit log's ``write_checkpoint_from_settings(session_factory, settings, now)`` (sign
    a checkpoint when due and export it to the witness), once the audit package provides it."""
    try:
        module = importlib.import_module("vigil.audit.checkpoint")
    except ImportError:
        return None
    return getattr(module, "write_checkpoint_from_settings", None)


def run_pass(
    engine: Engine, cases: CaseService, settings: Any = None, now: datetime | None = None
) -> PassResult:
    """One pass of the background jobs, if this process gets the lock."""
    with JobLock(engine).held() as mine:
        if not mine:
            return PassResult(ran=False)
        now = now or cases.clock.now()
        result = PassResult(ran=True, expiry_lag_seconds=expiry_lag(cases, now))
        EXPIRY_LAG.set(result.expiry_lag_seconds)
        result.expired = cases.sweep_expired(now)
        SWEEPS.labels("expire").inc()
        result.flagged = cases.flag_overdue_debriefs(now)
        SWEEPS.labels("overdue_debriefs").inc()
        checkpoint = _checkpoint_job()
        if checkpoint is not None and settings is not None:
            result.checkpoint = checkpoint(cases.session_factory, settings, now)
            SWEEPS.labels("checkpoint").inc()
        if result.expired or result.flagged:
            log.info(
                "background pass",
                extra={"fields": {"expired": result.expired, "flagged": result.flagged}},
            )
        return result


def engine_of(ctx: AppContext) -> Engine:
    return ctx.session_factory.kw["bind"]  # type: ignore[no-any-return]


def sweeper(ctx: AppContext, every_seconds: float):  # type: ignore[no-untyped-def]
    """A lifespan running a pass every ``every_seconds`` while the server runs."""

    async def loop() -> None:
        while True:
            try:
                await asyncio.to_thread(run_pass, engine_of(ctx), ctx.cases, ctx.settings)
            except Exception:  # the database may be down: keep going, the next pass retries
                log.exception("background pass failed")
            await asyncio.sleep(every_seconds)

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()

    return lifespan
