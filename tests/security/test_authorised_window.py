"""Attack: the authorising officer approves a window that has nothing to do with the request
(2 h today requested, 15 h a year later authorised). The authorised window must lie within the
requested one: shortening or moving inside it is allowed, anything beyond is refused, on SQLite
and PostgreSQL, with the case left awaiting authorisation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from tests.cases.conftest import AUTHORISER, OVERSIGHT, window_of
from vigil.cases.service import CaseService
from vigil.cases.states import Status
from vigil.clock import FixedClock
from vigil.errors import PolicyViolation


def test_a_window_a_year_later_is_refused(
    service: CaseService, clock: FixedClock, ready_case: Callable[..., int]
) -> None:
    cid = ready_case(hours=2)
    start, end = window_of(service, cid)
    assert end - start == timedelta(hours=2)
    later = start + timedelta(days=365)
    with pytest.raises(PolicyViolation, match="not within the requested window"):
        service.authorise(
            AUTHORISER, cid, conditions="foot patrol", window=(later, later + timedelta(hours=15))
        )
    view = service.get_case(OVERSIGHT, cid)
    assert view.status is Status.AWAITING_AUTHORISATION and view.record.start is None


@pytest.mark.parametrize(
    ("shift_start", "shift_end"),
    [
        (timedelta(minutes=-1), timedelta(0)),  # starts before the request
        (timedelta(0), timedelta(minutes=1)),  # ends after it
        (timedelta(hours=3), timedelta(hours=3)),  # same length, moved later
    ],
)
def test_a_window_reaching_outside_the_request_is_refused(
    service: CaseService,
    clock: FixedClock,
    ready_case: Callable[..., int],
    shift_start: timedelta,
    shift_end: timedelta,
) -> None:
    cid = ready_case(hours=6)
    start, end = window_of(service, cid)
    clock.advance(timedelta(minutes=30))  # the window would not be in the past either way
    with pytest.raises(PolicyViolation, match="not within the requested window"):
        service.authorise(
            AUTHORISER, cid, conditions="x", window=(start + shift_start, end + shift_end)
        )


def test_shortening_or_moving_inside_the_request_is_allowed(
    service: CaseService, ready_case: Callable[..., int]
) -> None:
    cid = ready_case(hours=10)
    start, end = window_of(service, cid)
    inside = (start + timedelta(hours=2), end - timedelta(hours=3))
    view = service.authorise(AUTHORISER, cid, conditions="evening only", window=inside)
    assert view.status is Status.AUTHORISED
    assert (view.record.start, view.record.end) == inside
