"""What every report builder returns, and the template environment they share.

A :class:`Report` carries its HTML and makes its PDF on demand through
:func:`vigil.pdf.html_to_pdf`, so the web app can serve either from the same builder.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from vigil.clock import as_utc
from vigil.errors import VigilError
from vigil.outcomes.displacement import CAVEAT as WDQ_CAVEAT
from vigil.pdf import html_to_pdf
from vigil.roles import Rank


class ReportError(VigilError):
    """A report cannot be built as asked (bad quarter, unknown case, ...)."""


@dataclass
class Report:
    title: str
    html: str
    #: the headline numbers, for tests, the API and anyone checking the PDF
    facts: dict[str, Any] = field(default_factory=dict)

    def pdf(self) -> bytes:
        return html_to_pdf(self.html)

    def write_pdf(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.pdf())
        return path

    def write_html(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        return path


def fmt(value: float | int | None, digits: int = 0) -> str:
    """A number for people: thousands separated, fixed digits, a dash when unknown, ∞ when
    unbounded (a ratio over nothing). The one number format of every document and the CLI."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return f"{value:,.{digits}f}"


def pct(share: float | None, digits: int = 1) -> str:
    """A share (0-1) as a percentage, a dash when unknown."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "—"
    return f"{100 * share:.{digits}f}%"


def signed_pct(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return f"{value:+.{digits}f}%"


def rank_name(rank: int) -> str:
    return Rank(int(rank)).name.replace("_", " ").lower()


def _london(value: datetime | str, tz: str) -> pd.Timestamp:
    """A stored time (naive = UTC, as SQLite gives it back; or an ISO string, as JSON snapshots
    hold it) in the zone people read."""
    if isinstance(value, str):
        value = pd.Timestamp(value).to_pydatetime()
    return pd.Timestamp(as_utc(value)).tz_convert(tz)


def when(value: datetime | str | None, tz: str = "Europe/London") -> str:
    """A time for people: London time to the minute (no seconds, no offset digits, no UTC)."""
    if value is None:
        return "—"
    return _london(value, tz).strftime("%d %b %Y %H:%M")


def day(value: datetime | str | None, tz: str = "Europe/London") -> str:
    if value is None:
        return "—"
    return _london(value, tz).strftime("%d %b %Y")


def plural(n: float, one: str, many: str | None = None) -> str:
    """'1 deployment', '2 deployments', '1 borough': a count with its noun agreeing."""
    return f"{fmt(n) if isinstance(n, float) else n} {one if n == 1 else (many or one + 's')}"


@lru_cache(maxsize=1)
def env() -> Environment:
    """The one Jinja environment of the documents (reports, the CIA, the fairness view)."""
    e = Environment(
        loader=PackageLoader("vigil.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    e.globals.update(
        fmt=fmt,
        pct=pct,
        signed_pct=signed_pct,
        when=when,
        day=day,
        rank_name=rank_name,
        plural=plural,
        wdq_caveat=WDQ_CAVEAT,
    )
    return e


def report(
    template: str, title: str, *, now: datetime, facts: dict[str, Any], **context: Any
) -> Report:
    """The document ``title`` rendered from ``template``. Its title, the time it was made and
    its headline facts are given once, to the page and to the :class:`Report` both, so the PDF
    and what the API and tests read cannot disagree."""
    html = env().get_template(template).render(title=title, now=now, facts=facts, **context)
    return Report(title, html, facts)


_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*Q([1-4])\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """``text`` like "2022Q3" (or a Quarter, returned as it is)."""
        if isinstance(text, Quarter):
            return text
        m = _QUARTER.match(text or "")
        if not m:
            raise ReportError(f"quarter '{text}' is not like 2022Q3 (year, Q, 1-4)")
        year = int(m.group(1))
        # Reports cover recorded crime and deployments: a year before records began or too late
        # to have a following quarter (9999Q4 ends in year 10000) is a typing error, not a query.
        if not 1900 <= year <= 9998:
            raise ReportError(f"quarter '{text}': year {year} is outside 1900-9998")
        return cls(year, int(m.group(2)))

    @property
    def label(self) -> str:
        return f"{self.year}Q{self.q}"

    @property
    def first_month(self) -> int:
        return 3 * (self.q - 1) + 1

    @property
    def start(self) -> datetime:
        """Start of the quarter (UTC midnight: reports count hours in UTC)."""
        return datetime(self.year, self.first_month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        y, m = (self.year + 1, 1) if self.q == 4 else (self.year, self.first_month + 3)
        return datetime(y, m, 1, tzinfo=UTC)

    @property
    def months(self) -> list[pd.Timestamp]:
        return [pd.Timestamp(self.year, self.first_month + i, 1) for i in range(3)]

    @property
    def title(self) -> str:
        names = ["January to March", "April to June", "July to September", "October to December"]
        return f"{names[self.q - 1]} {self.year}"
