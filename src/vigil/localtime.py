"""Europe/London for people, UTC for storage: the one place that turns one into the other.

People read and type wall-clock London time; the database, the audit log and the API keep UTC.
A London wall-clock time is not always one instant: in the March gap (01:00-02:00 on the last
Sunday) it names no instant, and in the October overlap (01:00-02:00 on the last Sunday) it names
two. :func:`from_london` refuses both with a message that says what to type instead, rather than
silently picking one, because an authorised window that is an hour out is a real harm.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from vigil.errors import VigilError

LONDON = ZoneInfo("Europe/London")


class AmbiguousTime(VigilError):
    """A London wall-clock time that names no instant (spring gap) or two (autumn overlap)."""


def to_london(when: datetime) -> datetime:
    """An aware London time for ``when`` (naive values are read as UTC, as storage keeps them)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(LONDON)


def from_london(local: datetime) -> datetime:
    """The UTC instant of a naive London wall-clock time; refuses one in a gap or an overlap."""
    if local.tzinfo is not None:
        return local.astimezone(UTC)
    early = local.replace(tzinfo=LONDON, fold=0)
    late = local.replace(tzinfo=LONDON, fold=1)
    shown = local.strftime("%H:%M on %d %B %Y")
    if early.utcoffset() != late.utcoffset():
        first, second = early.astimezone(UTC), late.astimezone(UTC)
        if first.astimezone(LONDON).replace(tzinfo=None) != local:
            # fold=0 and fold=1 map a gap time to different instants, neither of which reads back
            raise AmbiguousTime(
                f"{shown} does not exist in London: the clocks go forward an hour at 01:00. "
                f"Enter a time before 01:00 or from 02:00"
            )
        raise AmbiguousTime(
            f"{shown} happens twice in London (the clocks go back at 02:00): "
            f"{first:%H:%M} or {second:%H:%M} UTC. Enter a time before 01:00 or from 02:00, "
            f"or split the window"
        )
    return early.astimezone(UTC)


def offset_label(when: datetime) -> str:
    """'BST (UTC+1)' or 'GMT (UTC+0)': the zone a London time is in, and its offset."""
    local = to_london(when)
    hours = int((local.utcoffset() or timedelta()).total_seconds() // 3600)
    return f"{local.tzname()} (UTC{hours:+d})"


def london(when: datetime | str | None, with_zone: bool = True, weekday: bool = True) -> str:
    """'Sat 25 Mar 2023, 18:00 GMT': how a time is shown to a person ('' for none). Without
    the weekday ('25 Mar 2023, 18:00 GMT') for text a person sends on, where 'Sat Mar' would
    read as a name to the personal-data check."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    local = to_london(when)
    text = local.strftime("%a %-d %b %Y, %H:%M" if weekday else "%-d %b %Y, %H:%M")
    return f"{text} {local.tzname()}" if with_zone else text


def london_and_utc(when: datetime | str) -> str:
    """'1 Jul 2022, 23:00 BST (22:00 UTC)': a time in a message a person reads (a refusal, a
    guardrail breach) that is also kept in the audit log, whose times are UTC: the London time
    people act on, labelled, and the UTC instant the log and the API show. No weekday, so the
    personal-data check does not read 'Sat Mar' as a name when the text is sent on."""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    utc = to_london(when).astimezone(UTC)
    return f"{london(when, weekday=False)} ({utc:%H:%M} UTC)"


def london_date(when: datetime | str | None) -> str:
    """'25 Mar 2023' in London ('' for none)."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return to_london(when).strftime("%-d %b %Y")


def london_input(when: datetime | str | None) -> str:
    """A time as the value of a ``datetime-local`` input: London wall clock, to the minute."""
    if when is None or when == "":
        return ""
    if isinstance(when, str):
        when = datetime.fromisoformat(when)
    return to_london(when).strftime("%Y-%m-%dT%H:%M")


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


def iso_datetime(text: str, where: str) -> datetime:
    """A date or date-time written the ISO way (2022-01-12, 2022-01-12T18:00[+01:00]), as written
    (naive unless it carries an offset). Anything else is refused with an example, naming
    ``where`` (a CLI option, a field): 12/01/2022 is 12 January in London and 1 December in
    pandas, so it is never guessed."""
    raw = text.strip()
    if _ISO.match(raw):
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError as exc:
            raise VigilError(f"{where}: '{text}' is not a valid date ({exc})") from None
    hint = ""
    m = re.match(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$", raw)
    if m:
        a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
        if a <= 12 and b <= 12 and a != b:
            hint = (
                f" It is ambiguous: {y}-{b:02d}-{a:02d} (day first, as in the UK) or "
                f"{y}-{a:02d}-{b:02d} (month first)."
            )
        elif b <= 12:
            hint = f" Did you mean {y}-{b:02d}-{a:02d}?"
    raise VigilError(
        f"{where}: '{text}' is not an ISO date.{hint} Write the year first, for example "
        f"2022-01-12 or 2022-01-12T18:00"
    )
