"""Moving the injected clock, for end-to-end tests and demos only.

Mounted only when ``Settings.enable_test_clock`` is true (never the default) and only works when
the app runs on a :class:`~vigil.clock.FixedClock`.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vigil.app.context import AppContext
from vigil.cases.policy import Action
from vigil.clock import FixedClock, as_utc
from vigil.errors import VigilError
from vigil.http.deps import Principal, RequirePolicy, get_ctx

router = APIRouter(prefix="/api/testing", tags=["testing"])


class ClockIn(BaseModel):
    advance_minutes: float | None = Field(default=None, ge=0, le=60 * 24 * 366)
    set_to: datetime | None = None


class ClockOut(BaseModel):
    now: datetime


@router.get("/clock", response_model=ClockOut)
def read_clock(
    _: Principal = RequirePolicy(Action.OPERATE), ctx: AppContext = Depends(get_ctx)
) -> ClockOut:
    return ClockOut(now=ctx.clock.now())


@router.post("/clock", response_model=ClockOut)
def move_clock(
    body: ClockIn, _: Principal = RequirePolicy(Action.OPERATE), ctx: AppContext = Depends(get_ctx)
) -> ClockOut:
    from datetime import timedelta

    if not isinstance(ctx.clock, FixedClock):
        raise VigilError("the app is running on the system clock, which cannot be moved")
    if body.set_to is not None:
        when = as_utc(body.set_to)
        if when < ctx.clock.now():
            raise VigilError("the clock only moves forwards")
        ctx.clock.set(when)
    if body.advance_minutes:
        ctx.clock.advance(timedelta(minutes=body.advance_minutes))
    return ClockOut(now=ctx.clock.now())
