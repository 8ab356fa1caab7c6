"""Checking a published claim against the tables: "knife crime with injury up 23 % in 2023".

A claim is given in a small structured form (:class:`Claim`: measure, area, period, comparison
period, the stated change or count, "highest in N years") and :func:`check_claim` answers with
the exact figures from the source tables, the computed change with its 95 % interval and test
against chance (:mod:`vigil.outcomes.chance`), and whether the stated figure is reproduced.

Statuses, in words a report prints:

* ``reproduced``: the stated count equals the table's, or the stated change equals the computed
  one to the precision stated (``+23%`` is reproduced by anything from +22.5 % to +23.5 %);
* ``not reproduced``: the tables give a different figure;
* ``not like-for-like``: a period the source covers only in part (the knife crime dashboard
  starts in March 2022) is compared with a whole one. The months both cover are compared
  instead and shown; the stated figure is not called reproduced even if its arithmetic matches;
* ``not checkable``: the source does not publish the measure for the period asked.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from vigil.errors import DataError, VigilError
from vigil.outcomes import chance, force_stats
from vigil.outcomes.definitions import Measure
from vigil.outcomes.definitions import measure as lookup

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
NOT_LIKE_FOR_LIKE = "not like-for-like"
NOT_CHECKABLE = "not checkable"

_YEAR = re.compile(r"^\d{4}$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})\s*Q([1-4])$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2})\s*(?:\.\.|to)\s*(\d{4}-\d{2})$")
_PCT = re.compile(r"^([+-]?\d+(?:\.\d+)?)\s*%$")
_COUNT = re.compile(r"^\d{1,3}(?:,\d{3})*$|^\d+$")


class ClaimError(VigilError):
    """A claim is not in the structured form (names the field and what is wrong)."""


@dataclass(frozen=True)
class Period:
    """A calendar year, a month, a quarter or a run of months."""

    text: str
    months: tuple[pd.Timestamp, ...]
    year: int | None  # set for a whole calendar year

    @classmethod
    def parse(cls, text: str, field_name: str = "period") -> Period:
        t = str(text).strip()
        if _YEAR.match(t):
            y = int(t)
            return cls(t, tuple(pd.Timestamp(y, m, 1) for m in range(1, 13)), y)
        if m := _MONTH.match(t):
            y, mo = int(m.group(1)), int(m.group(2))
            if not 1 <= mo <= 12:
                raise ClaimError(f"{field_name} '{text}': month {mo} is not 01-12")
            return cls(t, (pd.Timestamp(y, mo, 1),), None)
        if m := _QUARTER.match(t):
            y, q = int(m.group(1)), int(m.group(2))
            return cls(t, tuple(pd.Timestamp(y, 3 * (q - 1) + i + 1, 1) for i in range(3)), None)
        if m := _RANGE.match(t):
            lo, hi = (pd.Timestamp(f"{g}-01") for g in m.groups())
            if hi < lo:
                raise ClaimError(f"{field_name} '{text}' ends before it starts")
            return cls(t, tuple(pd.date_range(lo, hi, freq="MS")), None)
        raise ClaimError(
            f"{field_name} '{text}' is not a year (2023), month (2023-04), quarter (2023Q3) "
            "or run of months (2023-01..2023-04)"
        )

    def shifted(self, years: int) -> Period:
        months = tuple(m - pd.DateOffset(years=years) for m in self.months)
        year = None if self.year is None else self.year - years
        text = str(year) if year is not None else f"{months[0]:%Y-%m}..{months[-1]:%Y-%m}"
        return Period(text, months, year)


@dataclass(frozen=True)
class Claim:
    """A claim in structured form. ``stated`` is a change ("+23%", "-5.0%") or a count ("3749",
    "1,299"); ``against`` defaults to the same months a year earlier when a change is stated;
    ``highest_in_years`` checks "the highest in a decade" (10)."""

    measure: str
    period: str
    against: str | None = None
    area: str = "London"
    stated: str | None = None
    highest_in_years: int | None = None
    quote: str = ""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Claim:
        unknown = set(d) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ClaimError(f"claim has unknown field(s) {sorted(unknown)}")
        if "measure" not in d or "period" not in d:
            raise ClaimError("a claim needs at least 'measure' and 'period'")
        highest = d.get("highest_in_years")
        return cls(
            measure=str(d["measure"]),
            period=str(d["period"]),
            against=None if d.get("against") is None else str(d["against"]),
            area=str(d.get("area", "London")),
            stated=None if d.get("stated") is None else str(d["stated"]),
            highest_in_years=None if highest is None else int(highest),
            quote=str(d.get("quote", "")),
        )


@dataclass
class CheckResult:
    claim: Claim
    measure: str
    counts: str
    origin: str
    source: str
    period: str
    count: int | None
    against: str | None
    against_count: int | None
    change: chance.Change | None
    status: str
    sentences: list[str] = field(default_factory=list)
    like_for_like: dict[str, Any] | None = None
    highest: bool | None = None

    @property
    def reproduced(self) -> bool:
        return self.status == REPRODUCED

    def text(self) -> str:
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["change"] = None if self.change is None else self.change.to_dict()
        d["reproduced"] = self.reproduced
        d["text"] = self.text()
        return d


def _series(shared: Path, m: Measure, area: str) -> tuple[pd.Series, str]:
    """Counts of ``m`` in ``area`` by month (or by year, indexed 1 January, for victims) and
    the resolution."""
    if m.resolution == "year":
        t = force_stats.homicide_victims_by_year(shared).frame
        t = t[(t["borough"] == area) & (t["months"] == 12)]
        if t.empty:
            raise ClaimError(f"area '{area}': no {m.name} recorded there")
        s = pd.Series(t["count"].to_numpy(), index=[pd.Timestamp(int(y), 1, 1) for y in t["year"]])
        return s.sort_index(), "year"
    t = force_stats.monthly_by_borough(shared, m.key)
    if area != "London":
        known = sorted(set(t["borough"]))
        if area not in known:
            raise ClaimError(f"area '{area}' is not a borough of the table; known: {known}")
        t = t[t["borough"] == area]
    return t.groupby("month")["count"].sum().sort_index(), "month"


def _total(s: pd.Series, res: str, p: Period) -> tuple[int | None, int]:
    """(count, months covered) of ``p`` in ``s``; count None when not every month is there."""
    if res == "year":
        if p.year is None:
            return None, 0
        key = pd.Timestamp(p.year, 1, 1)
        return (int(s.loc[key]), 12) if key in s.index else (None, 0)
    have = [m for m in p.months if m in s.index]
    count = int(s.loc[have].sum()) if len(have) == len(p.months) else None
    return count, len(have)


def _months_text(months: list[pd.Timestamp]) -> str:
    if not months:
        return "no month"
    if len(months) == 1:
        return f"{months[0]:%B %Y}"
    return f"{months[0]:%B %Y} to {months[-1]:%B %Y}"


def check_claim(claim: Claim, shared: Path) -> CheckResult:
    """Check ``claim`` against the shipped tables (see the module docstring for statuses)."""
    try:
        m = lookup(claim.measure)
    except KeyError as exc:
        raise ClaimError(str(exc.args[0])) from None
    period = Period.parse(claim.period)
    stated_pct: float | None = None
    stated_count: int | None = None
    decimals = 0
    if claim.stated is not None:
        st = str(claim.stated).strip()
        if mp := _PCT.match(st):
            stated_pct = float(mp.group(1))
            decimals = len(mp.group(1).split(".")[1]) if "." in mp.group(1) else 0
        elif _COUNT.match(st):
            stated_count = int(st.replace(",", ""))
        else:
            raise ClaimError(f"stated '{claim.stated}' is neither a change (+23%) nor a count")
    against = (
        Period.parse(claim.against, "against")
        if claim.against
        else (period.shifted(1) if stated_pct is not None else None)
    )
    try:
        s, res = _series(shared, m, claim.area)
    except DataError as exc:
        raise ClaimError(str(exc)) from None
    cov = force_stats.coverage_text(shared, m.key)
    count, covered = _total(s, res, period)
    res_ = CheckResult(
        claim,
        m.name,
        m.counts,
        m.origin,
        m.source,
        period.text,
        count,
        None if against is None else against.text,
        None,
        None,
        NOT_CHECKABLE,
    )
    where = "London" if claim.area == "London" else claim.area
    if count is None:
        res_.sentences.append(
            f"{m.name}, {where}, {period.text}: not published for the whole period "
            f"(the source covers {cov}); no figure is substituted."
        )
        return res_
    res_.sentences.append(f"{m.name}, {where}, {period.text}: {count:,} {m.counts}.")
    status = NOT_CHECKABLE
    if stated_count is not None:
        status = REPRODUCED if stated_count == count else NOT_REPRODUCED
        res_.sentences.append(
            f"Stated {stated_count:,}: {status}"
            + ("." if status == REPRODUCED else f" (the table gives {count:,}).")
        )
    if against is not None:
        a_count, a_covered = _total(s, res, against)
        if a_count is None and a_covered == 0:
            res_.sentences.append(
                f"{against.text}: not published (the source covers {cov}); no comparison."
            )
            res_.status = status if stated_pct is None else NOT_CHECKABLE
            return res_
        partial = a_count is None
        if partial:
            have = [x for x in against.months if x in s.index]
            a_count = int(s.loc[have].sum())
            res_.sentences.append(
                f"{against.text}: {a_count:,} {m.counts}, but the source covers only "
                f"{_months_text(have)} ({a_covered} of {len(against.months)} months)."
            )
        else:
            res_.sentences.append(f"{against.text}: {a_count:,} {m.counts}.")
        res_.against_count = a_count
        assert a_count is not None
        phi = _dispersion(s, res)
        if period.year is not None and against.year is not None and claim.area == "London":
            phi = force_stats.yearly_by_borough(shared, m.key).dispersion()
        # unequal periods are compared per month covered, and say so
        ch = chance.compare_counts(
            count,
            a_count,
            exposure_current=len(period.months),
            exposure_previous=a_covered if partial else len(period.months),
            dispersion=phi,
        )
        res_.change = ch
        per = "Per month covered, change" if partial else "Change"
        if ch.pct is not None:
            res_.sentences.append(
                f"{per} {ch.pct:+.1f}% (95% interval {chance._p(ch.ci_low_pct)} to "
                f"{chance._p(ch.ci_high_pct)}, {ch.method}): {ch.verdict}."
            )
        else:
            res_.sentences.append(ch.sentence)
        raw = 100.0 * (count / a_count - 1.0) if a_count else None
        if stated_pct is not None:
            tol = 0.5 * 10 ** (-decimals)
            arithmetic = raw is not None and abs(raw - stated_pct) <= tol + 1e-9
            if partial:
                status = NOT_LIKE_FOR_LIKE
                res_.sentences.append(
                    f"Stated {stated_pct:+g}%: "
                    + ("the arithmetic matches, but " if arithmetic else "")
                    + f"it compares {len(period.months)} months with {a_covered}: "
                    "not like-for-like."
                )
                common = [x for x in period.months if x - pd.DateOffset(years=1) in s.index]
                prev = [x - pd.DateOffset(years=1) for x in common]
                if common and all(x in s.index for x in common):
                    c1, c0 = int(s.loc[common].sum()), int(s.loc[prev].sum())
                    lf = chance.compare_counts(c1, c0, dispersion=phi)
                    label = f"{_months_text(common)} against {_months_text(prev)}"
                    res_.like_for_like = {"label": label, "change": lf.to_dict()}
                    res_.sentences.append(f"Like for like, {label}: {lf.sentence}")
            else:
                status = REPRODUCED if arithmetic else NOT_REPRODUCED
                res_.sentences.append(
                    f"Stated {stated_pct:+g}%: {status}"
                    + ("." if arithmetic or raw is None else f" (the tables give {raw:+.1f}%).")
                )
    if claim.highest_in_years:
        res_.highest, sentence = _highest(s, res, period, int(claim.highest_in_years), m)
        res_.sentences.append(sentence)
        if res_.highest is False and status == REPRODUCED:
            status = NOT_REPRODUCED
        if status == NOT_CHECKABLE:
            status = REPRODUCED if res_.highest else NOT_REPRODUCED
    res_.status = status
    return res_


def _dispersion(s: pd.Series, res: str) -> float:
    if res == "year":
        return chance.dispersion_from_history(s.to_numpy(dtype=float))
    return force_stats.monthly_dispersion(s)


def _highest(s: pd.Series, res: str, period: Period, n: int, m: Measure) -> tuple[bool | None, str]:
    """Is ``period`` (a calendar year) the highest of the ``n`` years ending with it?"""
    if period.year is None:
        return None, '"Highest in N years" is checked for calendar years only.'
    agg = s.groupby(pd.DatetimeIndex(s.index).year).agg(["sum", "count"])
    if res == "month":
        agg = agg[agg["count"] == 12]
    yearly: dict[int, int] = {
        int(str(k)): int(v) for k, v in zip(agg.index, agg["sum"].to_numpy(), strict=True)
    }
    y = period.year
    window = [k for k in range(y - n + 1, y) if k in yearly]
    this = yearly[y]
    higher = [k for k in window if yearly[k] >= this]
    since = [k for k in yearly if k < y and yearly[k] >= this]
    cover = (
        ""
        if len(window) == n - 1
        else (f" (the tables hold only {len(window)} complete earlier years of those {n - 1})")
    )
    if higher:
        worst = max(higher, key=lambda k: yearly[k])
        return False, (f"Highest in {n} years: not so, {worst} had {yearly[worst]:,}{cover}.")
    since_text = (
        f"; the last year as high was {max(since)} ({yearly[max(since)]:,})"
        if since
        else "; no earlier year in the tables was as high"
    )
    return True, (
        f"Highest in {n} years: yes, {this:,} {m.counts} is the highest of "
        f"{min(window) if window else y}-{y}{cover}{since_text}."
    )


def load_claims(path: Path) -> list[Claim]:
    """Claims from a YAML list of mappings (the oversight report's table of checks)."""
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ClaimError(f"{path}: {exc}") from None
    if not isinstance(raw, list):
        raise ClaimError(f"{path}: expected a list of claims")
    out = []
    for i, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ClaimError(f"{path}, claim {i}: expected a mapping")
        try:
            out.append(Claim.from_dict(item))
        except ClaimError as exc:
            raise ClaimError(f"{path}, claim {i}: {exc}") from None
    return out
