"""Force-wide statistics: serious violence, knife crime and homicide by borough and month.

The argument about armed patrols is made with force-wide figures ("stabbings up 16 %", "murders
at a ten-year high"), so Vigil computes them from the published tables themselves rather than
quoting them, and its tests check them against the figures in the source READMEs.

What each measure is called, counts and comes from is defined once, in
:mod:`vigil.outcomes.definitions`; this module reads the tables:

* ``mps-recorded-crime/csv/borough_10_21.csv`` (months 2010-04 .. 2021-11) and
  ``borough_21_23.csv`` (2021-12 .. 2023-11): MPS recorded offences per borough, month and
  minor category. Joined end to end they give one series 2010-04 .. 2023-11.
* ``mps-recorded-crime/parquet/monthly-crime-dashboard.parquet``: the MPS Monthly Crime
  Dashboard's knife crime series (2022-03 ..), offences and positive outcomes, per borough and
  per Safer Neighbourhood Team.
* ``met-homicide-victims-2003-2023/met_homicide_victims_2003_2023.csv``: one row per homicide
  *victim*, year and borough only.

Every change printed comes with its test against chance (:mod:`vigil.outcomes.chance`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from vigil.errors import DataError
from vigil.outcomes import chance
from vigil.outcomes.definitions import MEASURES as DEFINITIONS
from vigil.outcomes.definitions import Measure, UnknownMeasure
from vigil.outcomes.definitions import measure as lookup

#: Measure key -> MPS minor categories (recorded-crime table) summed into it.
MEASURES: dict[str, tuple[str, ...]] = {
    k: m.categories for k, m in DEFINITIONS.items() if m.table == "recorded_crime"
}

#: Measure key -> official name (from :mod:`vigil.outcomes.definitions`).
MEASURE_LABELS: dict[str, str] = {k: m.name for k, m in DEFINITIONS.items()}

#: What the force-wide summaries show, in order: victim-reported first, possession last.
SUMMARY_MEASURES = (
    "serious_violence",
    "homicide",
    "homicide_victims",
    "knife_crime",
    "knife_crime_with_injury",
    "possession_blade",
)

DASHBOARD_FILE = "monthly-crime-dashboard.parquet"
OUTCOMES = {"offences": "Offences", "positive_outcomes": "Positive Outcomes"}
#: name given to dashboard rows with no borough
NOT_RECORDED = "Not recorded"

BOROUGH_FILES = ("borough_10_21.csv", "borough_21_23.csv")
VICTIMS_FILE = "met_homicide_victims_2003_2023.csv"
_KEY_COLUMNS = ("MajorText", "MinorText", "LookUp_BoroughName")


def _recorded_dir(shared: Path) -> Path:
    return Path(shared) / "mps-recorded-crime" / "csv"


def load_borough_months(shared: Path) -> pd.DataFrame:
    """Recorded offences in long form: ``borough, minor, month (Timestamp), count``.

    The two published files are joined end to end; a month present in both (there is none in
    the published snapshot) would be an error rather than silently double-counted. Memoised per
    folder (reports ask for several measures); each call returns a copy.
    """
    return _load_borough_months(Path(shared).resolve()).copy()


@lru_cache(maxsize=4)
def _load_borough_months(shared: Path) -> pd.DataFrame:
    frames = []
    seen_months: set[str] = set()
    for name in BOROUGH_FILES:
        path = _recorded_dir(shared) / name
        if not path.is_file():
            raise DataError("recorded-crime table not found", file=str(path))
        raw = pd.read_csv(path)
        missing = [c for c in _KEY_COLUMNS if c not in raw.columns]
        if missing:
            raise DataError(f"missing columns {missing}", file=str(path))
        months = [c for c in raw.columns if c.isdigit() and len(c) == 6]
        if not months:
            raise DataError("no YYYYMM month columns", file=str(path))
        overlap = seen_months.intersection(months)
        if overlap:
            raise DataError(f"months {sorted(overlap)} appear in two tables", file=str(path))
        seen_months.update(months)
        long = raw.melt(
            id_vars=list(_KEY_COLUMNS), value_vars=months, var_name="yyyymm", value_name="count"
        )
        bad = pd.to_numeric(long["count"], errors="coerce").isna() & long["count"].notna()
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0]) % len(raw) + 1
            raise DataError("non-numeric count", file=str(path), row=row, field="count")
        long["count"] = pd.to_numeric(long["count"]).fillna(0).astype("int64")
        frames.append(long)
    out = pd.concat(frames, ignore_index=True)
    out = out.rename(columns={"LookUp_BoroughName": "borough", "MinorText": "minor"})
    out["month"] = pd.to_datetime(out["yyyymm"], format="%Y%m")
    return out[["borough", "minor", "month", "count"]]


@lru_cache(maxsize=4)
def _load_dashboard(shared: Path) -> pd.DataFrame:
    path = Path(shared) / "mps-recorded-crime" / "parquet" / DASHBOARD_FILE
    if not path.is_file():
        raise DataError("knife crime dashboard table not found", file=str(path))
    raw = pd.read_parquet(path)
    need: tuple[str, ...] = ("month_year", "area_type", "borough_snt", "area_name")
    need += ("area_code", "crime_subtype", "measure", "count")
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise DataError(f"missing columns {missing}", file=str(path))
    counts = pd.to_numeric(raw["count"], errors="coerce")
    if counts.isna().any():
        row = int(counts.isna().to_numpy().nonzero()[0][0]) + 1
        raise DataError("non-numeric count", file=str(path), row=row, field="count")
    out = pd.DataFrame(
        {
            "area_type": raw["area_type"].astype(str),
            "area_name": raw["area_name"].fillna(NOT_RECORDED).astype(str).str.strip(),
            "borough_snt": raw["borough_snt"].fillna(NOT_RECORDED).astype(str).str.strip(),
            "area_code": raw["area_code"].fillna("").astype(str).str.strip(),
            "subtype": raw["crime_subtype"].astype(str),
            "outcome": raw["measure"].astype(str),
            "month": pd.to_datetime(raw["month_year"]).dt.to_period("M").dt.to_timestamp(),
            "count": counts.astype("int64"),
        }
    )
    return out


def load_dashboard(shared: Path) -> pd.DataFrame:
    """The knife crime dashboard in long form: ``area_type, area_name, borough_snt, area_code,
    subtype, outcome, month, count`` (memoised per folder; each call returns a copy)."""
    return _load_dashboard(Path(shared).resolve()).copy()


def _definition(measure: str) -> Measure:
    try:
        return lookup(measure)
    except UnknownMeasure as exc:
        raise DataError(str(exc.args[0])) from None


def _outcome(m: Measure, outcome: str) -> str:
    if outcome not in OUTCOMES:
        raise DataError(f"unknown outcome '{outcome}'; expected one of: {', '.join(OUTCOMES)}")
    if outcome != "offences" and not m.has_positive_outcomes:
        raise DataError(f"{m.name} has no published positive outcomes")
    return OUTCOMES[outcome]


def coverage(shared: Path, measure: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last month the source table publishes ``measure`` for (for homicide victims,
    1 January of the first and last year)."""
    m = _definition(measure)
    if m.table == "homicide_victims":
        years = homicide_victims_by_year(shared).london()["year"]
        return pd.Timestamp(f"{years.min()}-01-01"), pd.Timestamp(f"{years.max()}-01-01")
    months = _covered_months(shared, m)
    return months[0], months[-1]


def coverage_text(shared: Path, measure: str) -> str:
    """ "March 2022 to February 2026" (or "2003 to 2023 (2023 partial)" for victims)."""
    m = _definition(measure)
    lo, hi = coverage(shared, measure)
    if m.resolution == "year":
        return f"{lo.year} to {hi.year} ({hi.year} partial)"
    return f"{lo:%B %Y} to {hi:%B %Y}"


def _covered_months(shared: Path, m: Measure) -> list[pd.Timestamp]:
    if m.table == "dashboard":
        d = _load_dashboard(Path(shared).resolve())
        return sorted(pd.Timestamp(x) for x in d["month"].unique())
    long = _load_borough_months(Path(shared).resolve())
    return sorted(pd.Timestamp(x) for x in long["month"].unique())


def monthly_by_borough(
    shared: Path, measure: str = "serious_violence", outcome: str = "offences"
) -> pd.DataFrame:
    """Monthly count of ``measure`` per borough: ``borough, month, count, yoy_change, yoy_pct``.

    Every borough has a row for every month the source covers (0 where none was recorded).
    Year-on-year change compares a month with the same month a year earlier (seasonality makes
    month-on-month change misleading); it is NaN where the earlier month is not in the tables.
    ``outcome="positive_outcomes"`` gives the dashboard's positive outcomes instead of offences.
    """
    m = _definition(measure)
    if m.table == "homicide_victims":
        raise DataError(f"{m.name} are published by year only, not by month")
    kind = _outcome(m, outcome)
    if m.table == "dashboard":
        d = load_dashboard(shared)
        sel = d[(d["area_type"] == "Borough") & d["subtype"].isin(m.categories)]
        sel = sel[sel["outcome"] == kind].rename(columns={"area_name": "borough"})
    else:
        long = load_borough_months(shared)
        sel = long[long["minor"].isin(m.categories)]
    counts = sel.groupby(["borough", "month"])["count"].sum()
    months = _covered_months(shared, m)
    boroughs = sorted(set(sel["borough"]))
    full = pd.MultiIndex.from_product([boroughs, months], names=["borough", "month"])
    table = counts.reindex(full, fill_value=0).astype("int64").reset_index()
    prev = table.assign(month=table["month"] + pd.DateOffset(years=1)).rename(
        columns={"count": "prev"}
    )
    table = table.merge(prev, on=["borough", "month"], how="left")
    table["yoy_change"] = table["count"] - table["prev"]
    table["yoy_pct"] = 100.0 * table["yoy_change"] / table["prev"].where(table["prev"] > 0)
    return table.drop(columns="prev")


def snt_monthly(
    shared: Path, measure: str = "knife_crime", outcome: str = "offences"
) -> pd.DataFrame:
    """Monthly count per Safer Neighbourhood Team (dashboard measures only):
    ``borough, snt, area_code, month, count`` (rows only where the dashboard has one)."""
    m = _definition(measure)
    if m.table != "dashboard":
        raise DataError(f"{m.name} is not published per Safer Neighbourhood Team")
    kind = _outcome(m, outcome)
    d = load_dashboard(shared)
    sel = d[
        (d["area_type"] == "Safer Neighbourhood Teams")
        & d["subtype"].isin(m.categories)
        & (d["outcome"] == kind)
    ].copy()
    # borough_snt is "<borough> <snt name>"
    sel["borough"] = [
        bs[: -len(a)].strip() if a and bs.endswith(a) else bs
        for bs, a in zip(sel["borough_snt"], sel["area_name"], strict=True)
    ]
    sel = sel.rename(columns={"area_name": "snt"})
    grouped = sel.groupby(["borough", "snt", "area_code", "month"], as_index=False)
    out = pd.DataFrame(grouped["count"].sum())
    return out.sort_values(by=["borough", "snt", "month"]).reset_index(drop=True)


def area_indicators(
    shared: Path,
    months: list[pd.Timestamp],
    *,
    borough: str,
    snt: str | None = None,
) -> dict[str, object]:
    """Knife crime for one area over ``months``, for a case or its impact assessment.

    ``{"area", "level", "months", "covered", "measures": {key: {"name", "offences",
    "positive_outcomes", "previous", "change"}}}``: offences and positive outcomes of knife
    crime and knife crime with injury in the borough (or the Safer Neighbourhood Team ``snt``
    within it), the same months a year earlier and the change with its test against chance.
    Months outside the dashboard's coverage are listed in ``covered`` as False and no count is
    given rather than a partial one.
    """
    wanted = [pd.Timestamp(x) for x in months]
    if not wanted:
        raise DataError("area indicators need at least one month")
    earlier = [x - pd.DateOffset(years=1) for x in wanted]
    out: dict[str, dict[str, object]] = {}
    covered = True
    for key in ("knife_crime", "knife_crime_with_injury"):
        have = set(_covered_months(shared, _definition(key)))
        covered = all(x in have for x in wanted)
        prev_ok = all(x in have for x in earlier)
        vals: dict[str, int | None] = {}
        for outcome in OUTCOMES:
            if snt is None:
                t = monthly_by_borough(shared, key, outcome)
                t = t[t["borough"] == borough]
            else:
                t = snt_monthly(shared, key, outcome)
                t = t[(t["borough"] == borough) & (t["snt"] == snt)]
            by = t.groupby("month")["count"].sum()
            vals[outcome] = int(by.reindex(wanted, fill_value=0).sum()) if covered else None
            if outcome == "offences":
                vals["previous"] = int(by.reindex(earlier, fill_value=0).sum()) if prev_ok else None
        change = (
            chance.compare_counts(int(vals["offences"]), int(vals["previous"]))
            if vals["offences"] is not None and vals["previous"] is not None
            else None
        )
        out[key] = {
            "name": MEASURE_LABELS[key],
            **vals,
            "change": None if change is None else change.to_dict(),
        }
    return {
        "area": borough if snt is None else f"{snt} ({borough})",
        "level": "borough" if snt is None else "Safer Neighbourhood Team",
        "months": [f"{x:%Y-%m}" for x in wanted],
        "covered": covered,
        "source": DEFINITIONS["knife_crime"].source,
        "measures": out,
    }


@dataclass(frozen=True)
class YearlyTable:
    """Yearly totals with year-on-year change, and which years are incomplete."""

    measure: str
    #: ``year, borough, count, months, yoy_change, yoy_pct`` (borough "London" is the total)
    frame: pd.DataFrame

    def london(self) -> pd.DataFrame:
        return self.frame[self.frame["borough"] == "London"].reset_index(drop=True)

    def total(self, year: int, borough: str = "London") -> int:
        row = self.frame[(self.frame["year"] == year) & (self.frame["borough"] == borough)]
        if row.empty:
            raise KeyError(f"no {self.measure} figure for {borough} in {year}")
        return int(row["count"].iloc[0])

    def months(self, year: int) -> int:
        """Months of ``year`` the table covers (12 for a complete year)."""
        row = self.frame[(self.frame["year"] == year) & (self.frame["borough"] == "London")]
        return 0 if row.empty else int(row["months"].iloc[0])

    #: monthly counts per borough (``borough, month, count``) for the dispersion; None for
    #: a yearly measure (homicide victims)
    monthly: pd.DataFrame | None = None
    #: dispersion per borough, once computed: it depends on the whole table, not on the year,
    #: and a report asks it of every year's and every borough's change (258 fits a report)
    _dispersions: dict[str, float] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def dispersion(self, borough: str = "London") -> float:
        """Quasi-Poisson dispersion for a comparison of years of this measure in ``borough``.

        Monthly measures: months around their year and month-of-year effects
        (:func:`~vigil.outcomes.chance.dispersion_year_month`). Yearly measures: the usual
        change between consecutive complete years (:func:`~vigil.outcomes.chance.
        dispersion_from_history`).
        """
        if borough not in self._dispersions:
            self._dispersions[borough] = self._dispersion(borough)
        return self._dispersions[borough]

    def _dispersion(self, borough: str) -> float:
        if self.monthly is not None:
            m = self.monthly
            s = (
                m.groupby("month")["count"].sum()
                if borough == "London"
                else (m[m["borough"] == borough].set_index("month")["count"])
            )
            return chance.dispersion_year_month(list(s.index), s.to_numpy(dtype=float))
        f = self.frame[(self.frame["borough"] == borough) & (self.frame["months"] == 12)]
        counts: pd.Series = f.set_index("year")["count"].sort_index()
        if counts.empty:
            return 1.0
        full = counts.reindex(range(int(counts.index.min()), int(counts.index.max()) + 1))
        return chance.dispersion_from_history(full.to_numpy(dtype=float))

    def change(
        self, year: int, against: int | None = None, borough: str = "London"
    ) -> chance.Change | None:
        """``year`` against ``against`` (default the year before) with its test against
        chance; None when either year is missing or not complete (never partial vs full)."""
        against = year - 1 if against is None else against
        f = self.frame[self.frame["borough"] == borough].set_index("year")
        if year not in f.index or against not in f.index:
            return None
        months = f["months"].to_dict()
        counts = f["count"].to_dict()
        if months[year] != 12 or months[against] != 12:
            return None
        return chance.compare_counts(
            int(counts[year]),
            int(counts[against]),
            dispersion=self.dispersion(borough),
        )


def yearly_by_borough(
    shared: Path, measure: str = "serious_violence", outcome: str = "offences"
) -> YearlyTable:
    """Calendar-year totals per borough and for London, with year-on-year change.

    A year not fully covered by the tables (2010 starts in April, 2023 ends in November; the
    knife crime dashboard starts in March 2022) keeps its partial total but carries
    ``months < 12`` and no year-on-year change, so a partial year is never compared with a
    full one.
    """
    if _definition(measure).table == "homicide_victims":
        return homicide_victims_by_year(shared)
    monthly = monthly_by_borough(shared, measure, outcome)
    monthly["year"] = monthly["month"].dt.year
    per = monthly.groupby(["year", "borough"], as_index=False).agg(
        count=("count", "sum"), months=("month", "nunique")
    )
    london = per.groupby("year", as_index=False).agg(
        count=("count", "sum"), months=("months", "max")
    )
    london["borough"] = "London"
    frame = pd.concat([per, london], ignore_index=True)
    monthly = monthly[["borough", "month", "count"]]
    return YearlyTable(measure, _with_yoy(frame), monthly=monthly)


def homicide_victims_by_year(shared: Path) -> YearlyTable:
    """Homicide victims per year and borough from the Met victims file (year resolution)."""
    path = Path(shared) / "met-homicide-victims-2003-2023" / VICTIMS_FILE
    if not path.is_file():
        raise DataError("homicide victims table not found", file=str(path))
    raw = pd.read_csv(path)
    for col in ("Year", "Borough"):
        if col not in raw.columns:
            raise DataError("missing column", file=str(path), field=col)
    years = pd.to_numeric(raw["Year"], errors="coerce")
    if years.isna().any():
        row = int(years.isna().to_numpy().nonzero()[0][0]) + 1
        raise DataError("year is not a number", file=str(path), row=row, field="Year")
    raw["year"] = years.astype(int)
    per = raw.groupby(["year", "Borough"], as_index=False).size()
    per = per.rename(columns={"Borough": "borough", "size": "count"})
    london = raw.groupby("year", as_index=False).size().rename(columns={"size": "count"})
    london["borough"] = "London"
    frame = pd.concat([per, london], ignore_index=True)
    # The file ends early in 2023 (22 victims): mark the last year as partial.
    last = int(frame["year"].max())
    frame["months"] = 12
    frame.loc[frame["year"] == last, "months"] = 0
    return YearlyTable("homicide_victims", _with_yoy(frame))


def _with_yoy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.sort_values(["borough", "year"]).reset_index(drop=True)
    prev = frame[["borough", "year", "count", "months"]].copy()
    prev["year"] = prev["year"] + 1
    prev = prev.rename(columns={"count": "prev", "months": "prev_months"})
    frame = frame.merge(prev, on=["borough", "year"], how="left")
    comparable = (frame["months"] == 12) & (frame["prev_months"] == 12)
    frame["yoy_change"] = (frame["count"] - frame["prev"]).where(comparable)
    frame["yoy_pct"] = (100.0 * frame["yoy_change"] / frame["prev"].where(frame["prev"] > 0)).where(
        comparable
    )
    frame["count"] = frame["count"].astype("int64")
    return frame.drop(columns=["prev", "prev_months"])[
        ["year", "borough", "count", "months", "yoy_change", "yoy_pct"]
    ]


def summary(
    shared: Path,
    year: int,
    measures: tuple[str, ...] = SUMMARY_MEASURES,
    *,
    tables: Mapping[str, YearlyTable] | None = None,
) -> pd.DataFrame:
    """One row per measure for London in ``year``: count, previous year and the change tested
    against chance. ``tables``: yearly tables the caller already holds, by measure (the rest are
    built), so their dispersions are fitted once.

    ``measure, label, counts, origin, source, coverage, year, count, previous, months,
    change_pct, change (dict from :class:`~vigil.outcomes.chance.Change`), complete, available,
    status``. A measure the source does not publish for ``year`` has ``available`` False and no
    count (never another series in its place); a partial year is given with its months and no
    change.
    """
    rows = []
    for key in measures:
        m = _definition(key)
        t = tables[key] if tables and key in tables else yearly_by_borough(shared, key)
        rows.append(_summary_row(shared, m, t, year))
    return pd.DataFrame(rows)


def _summary_row(shared: Path, m: Measure, t: YearlyTable, year: int) -> dict[str, object]:
    london = t.london().set_index("year")["count"].to_dict()
    available = year in london
    months = t.months(year) if available else 0
    count = int(london[year]) if available else None
    prev = int(london[year - 1]) if (year - 1) in london else None
    change = t.change(year) if available else None
    cov = coverage_text(shared, m.key)
    like = None
    if available and change is None and m.resolution == "month":
        like = same_months_change(shared, m.key, year, year - 1)
    if not available:
        status = f"not published for {year} (the source covers {cov})"
    elif months < 12:
        status = f"partial year: {months} months" if months else "partial year"
    elif change is None:
        status = f"no complete {year - 1} to compare with"
    else:
        status = change.verdict
    return {
        "measure": m.key,
        "label": m.name,
        "counts": m.counts,
        "origin": m.origin,
        "source": m.source,
        "coverage": cov,
        "note": m.note,
        "year": year,
        "count": count,
        "previous": prev,
        "months": months,
        "change_pct": None if change is None or change.pct is None else round(change.pct, 1),
        "change": None if change is None else change.to_dict(),
        "complete": bool(available and months == 12),
        "available": available,
        "status": status,
        "like_for_like": None if like is None else like.to_dict(),
    }


@dataclass(frozen=True)
class SameMonths:
    """A comparison restricted to the months both years have (a partial year's honest form)."""

    months: tuple[int, ...]
    count: int
    previous: int
    change: chance.Change
    year: int
    against: int

    @property
    def label(self) -> str:
        names = [pd.Timestamp(2000, m, 1).strftime("%B") for m in self.months]
        span = names[0] if len(names) == 1 else f"{names[0]}-{names[-1]}"
        if len(self.months) == 12:
            span = "the whole year"
        return f"{span} {self.year} against {span} {self.against}"

    def to_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "months": list(self.months),
            "count": self.count,
            "previous": self.previous,
            "change": self.change.to_dict(),
        }


def same_months_change(
    shared: Path, measure: str, year: int, against: int, borough: str = "London"
) -> SameMonths | None:
    """``year`` against ``against`` over the months of the year both cover (e.g. March-December
    2023 against March-December 2022, when the series starts in March 2022); None when they
    share no month or the measure is yearly."""
    m = _definition(measure)
    if m.resolution != "month":
        return None
    t = monthly_by_borough(shared, measure)
    if borough != "London":
        t = t[t["borough"] == borough]
    s = t.groupby("month")["count"].sum()
    stamps = [pd.Timestamp(x) for x in s.index]
    a = {x.month: int(v) for x, v in zip(stamps, s.to_numpy(), strict=True) if x.year == year}
    b = {x.month: int(v) for x, v in zip(stamps, s.to_numpy(), strict=True) if x.year == against}
    common = tuple(sorted(set(a) & set(b)))
    if not common:
        return None
    ca, cb = sum(a[k] for k in common), sum(b[k] for k in common)
    phi = monthly_dispersion(s)
    return SameMonths(common, ca, cb, chance.compare_counts(ca, cb, dispersion=phi), year, against)


def window_summary(
    shared: Path,
    months: list[pd.Timestamp],
    measures: tuple[str, ...] = (
        "serious_violence",
        "homicide",
        "knife_crime",
        "knife_crime_with_injury",
        "possession_blade",
    ),
) -> pd.DataFrame:
    """London totals over ``months`` and over the same months a year earlier, per measure.

    For a quarterly report: ``measure, label, counts, origin, count, previous, change_pct,
    change, available, coverage`` where ``available`` is False when the tables do not cover
    every month asked for (the count is then left out rather than shown as a partial total).
    The change is tested against chance with the dispersion of the measure's monthly series
    (trend and month-of-year removed).
    """
    rows = []
    wanted = [pd.Timestamp(m) for m in months]
    earlier = [m - pd.DateOffset(years=1) for m in wanted]
    for key in measures:
        m = _definition(key)
        if m.resolution == "year":
            continue
        london = london_monthly(shared, key)
        have = set(london.index)
        ok = all(x in have for x in wanted)
        ok_prev = all(x in have for x in earlier)
        count = int(london.loc[wanted].sum()) if ok else None
        prev = int(london.loc[earlier].sum()) if ok_prev else None
        change = None
        if count is not None and prev is not None:
            change = chance.compare_counts(
                count, prev, dispersion=monthly_dispersion(london), what=""
            )
        rows.append(
            {
                "measure": key,
                "label": m.name,
                "counts": m.counts,
                "origin": m.origin,
                "coverage": coverage_text(shared, key),
                "count": count,
                "previous": prev,
                "change_pct": None
                if change is None or change.pct is None
                else round(change.pct, 1),
                "change": None if change is None else change.to_dict(),
                "available": ok,
            }
        )
    return pd.DataFrame(rows)


def monthly_dispersion(series: pd.Series) -> float:
    """Quasi-Poisson dispersion of a monthly series (year and month-of-year effects removed)."""
    s = series.sort_index()
    return chance.dispersion_year_month(list(s.index), s.to_numpy(dtype=float))


def borough_totals(
    shared: Path, months: list[pd.Timestamp], measure: str = "serious_violence"
) -> dict[str, int]:
    """Count of ``measure`` per borough over ``months`` (boroughs with none are left out)."""
    m = monthly_by_borough(shared, measure)
    sel = m[m["month"].isin([pd.Timestamp(x) for x in months])]
    per = sel.groupby("borough")["count"].sum()
    return {str(k): int(v) for k, v in per.items() if v > 0}


def london_monthly(
    shared: Path, measure: str = "serious_violence", outcome: str = "offences"
) -> pd.Series:
    """London total per month (index: month start)."""
    m = monthly_by_borough(shared, measure, outcome)
    return m.groupby("month")["count"].sum().sort_index()


def seasonal_view(shared: Path, measure: str, years: int = 5) -> pd.DataFrame:
    """The last ``years`` calendar years of a monthly measure, one column per year and one row
    per month of the year (1-12): the same month in previous years, for seasonal context.
    Months the source does not cover are NaN, not 0."""
    s = london_monthly(shared, measure)
    idx = pd.DatetimeIndex(s.index)
    last = int(idx.max().year)
    frame = pd.DataFrame({"year": idx.year, "month": idx.month, "count": s.to_numpy()})
    frame = frame[frame["year"] > last - years]
    return frame.pivot(index="month", columns="year", values="count").reindex(range(1, 13))
