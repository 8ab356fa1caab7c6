"""The states of a deployment case, and the state a case is in *now* according to the clock.

A deployment ends by itself: a case whose window has passed, or whose urgent authorisation was
not ratified in time, *is* expired whether or not anything ran at that moment.
:func:`effective_status` computes that from the clock on every read; the scheduler
(``CaseService.sweep_expired``) writes the transition down when it can.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from vigil.clock import as_utc
from vigil.errors import VigilError


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CONSULTATION = "consultation"
    AWAITING_AUTHORISATION = "awaiting_authorisation"
    AUTHORISED = "authorised"
    ACTIVE = "active"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    DEBRIEFED = "debriefed"
    CLOSED = "closed"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class CaseIntegrityError(VigilError):
    """A stored case breaks an invariant the workflow keeps (for example a live case with no
    authorised window): the row was changed outside the workflow. ``vigil audit verify``
    replays the log against the row and names the change."""


#: authorised and not yet ended: officers may be (or are about to be) deployed
LIVE = frozenset({Status.AUTHORISED, Status.ACTIVE})
#: the deployment is over and awaits (or has had) its debrief
ENDED = frozenset({Status.EXPIRED, Status.CANCELLED})
#: before any decision
PENDING = frozenset(
    {Status.DRAFT, Status.SUBMITTED, Status.CONSULTATION, Status.AWAITING_AUTHORISATION}
)
#: nothing more happens to the case
FINAL = frozenset({Status.CLOSED, Status.REFUSED, Status.WITHDRAWN})
#: states that never put officers on the ground: no deployment cap (area hours, concurrency,
#: cooling-off) or burden figure counts a case in them
NOT_DEPLOYED = frozenset(PENDING | {Status.REFUSED, Status.WITHDRAWN})


def lapse(case: Any, now: datetime) -> tuple[datetime, str] | None:
    """When and why a live case ended by itself by ``now``; None if it has not (or is not live).

    An unratified urgent authorisation lapses at its ratification deadline; any authorisation
    lapses at the end of its window.
    """
    if Status(case.status) not in LIVE:
        return None
    now = as_utc(now)
    candidates: list[tuple[datetime, str]] = []
    if case.urgent and case.ratified_at is None and case.ratify_by is not None:
        candidates.append(
            (as_utc(case.ratify_by), "urgent authorisation not ratified by its deadline")
        )
    if case.end is not None:
        candidates.append((as_utc(case.end), "authorised window ended"))
    due = [c for c in candidates if now >= c[0]]
    return min(due, key=lambda c: c[0]) if due else None


def effective_status(case: Any, now: datetime) -> Status:
    """The stored status, except that a live case past its end (or its ratification deadline)
    reads as expired."""
    return Status.EXPIRED if lapse(case, now) is not None else Status(case.status)


def authorised_window(case: Any) -> tuple[datetime, datetime]:
    """(start, end) of the window in force, UTC. Every case the workflow authorised has one;
    one without it was changed outside the workflow, which is refused, never assumed away."""
    if case.start is None or case.end is None:
        raise CaseIntegrityError(
            f"case {case.id} is {case.status} but has no authorised window (start "
            f"{case.start}, end {case.end}): it was changed outside the workflow; run "
            "`vigil audit verify` to find the change"
        )
    return as_utc(case.start), as_utc(case.end)
