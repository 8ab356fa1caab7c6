"""How sign-in failures slow down the next attempt: a growing delay, then a temporary lockout.

Two counters are kept for every attempt: one for the account (keyed by a digest of the
username, so unknown names behave like known ones and nothing typed is stored) and one for the
caller's address. After ``free`` consecutive failures each further attempt must wait
``base_delay * 2**(failures - free)`` seconds (capped at ``max_delay``); after ``lockout_after``
failures the key is locked for ``lockout``. An attempt that comes too early is refused without
checking the password, so guessing runs at the pace the rule allows whatever the attacker sends.
A success clears the account's counter; an address's counter only ages out (``quiet`` without a
failure), so signing in to one's own account cannot reset the count of a guessing address.

NCSC guidance on password systems recommends throttling or locking after about ten failures
rather than password complexity rules; the numbers below follow it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ThrottleRule:
    free: int
    base_delay: timedelta
    max_delay: timedelta
    lockout_after: int
    lockout: timedelta
    #: a counter with no failure for this long starts again from zero
    quiet: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> timedelta:
        """How long after the latest failure the next attempt must wait."""
        if failures < self.free:
            return timedelta(0)
        return min(self.max_delay, self.base_delay * 2 ** (failures - self.free))


ACCOUNT_RULE = ThrottleRule(
    free=3,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(seconds=60),
    lockout_after=10,
    lockout=timedelta(minutes=15),
)
ADDRESS_RULE = ThrottleRule(
    free=10,
    base_delay=timedelta(seconds=1),
    max_delay=timedelta(seconds=60),
    lockout_after=50,
    lockout=timedelta(minutes=15),
)


@dataclass(frozen=True)
class Counter:
    """The stored state of one key."""

    failures: int
    last_failure_at: datetime
    locked_until: datetime | None = None


def account_key(username: str) -> str:
    return "account:" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:40]


def address_key(address: str) -> str:
    return "address:" + address[:64]


def current(counter: Counter | None, rule: ThrottleRule, now: datetime) -> Counter | None:
    """The counter as it stands at ``now``: None once it has aged out."""
    if counter is None:
        return None
    if counter.locked_until is not None and now < counter.locked_until:
        return counter
    if now - counter.last_failure_at >= rule.quiet:
        return None
    return counter


def wait(counter: Counter | None, rule: ThrottleRule, now: datetime) -> timedelta:
    """How much longer an attempt must wait (zero: it may be checked now)."""
    counter = current(counter, rule, now)
    if counter is None:
        return timedelta(0)
    if counter.locked_until is not None and now < counter.locked_until:
        return counter.locked_until - now
    ready = counter.last_failure_at + rule.delay(counter.failures)
    return max(timedelta(0), ready - now)


def after_failure(counter: Counter | None, rule: ThrottleRule, now: datetime) -> Counter:
    """The counter after one more failure at ``now`` (locked once it reaches the limit)."""
    counter = current(counter, rule, now)
    failures = (counter.failures if counter else 0) + 1
    locked = now + rule.lockout if failures >= rule.lockout_after else None
    return Counter(failures=failures, last_failure_at=now, locked_until=locked)
