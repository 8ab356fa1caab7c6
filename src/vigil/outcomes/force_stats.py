"""Force-wide statistics: serious violence, knife crime and homicide by borough and month.

The argument about armed patrols is made with force-wide figures ("stabbings up 16 %", "murders
at a ten-year high"), so Vigil computes them from the published tables themselves rather than
quoting them, and its tests check them against the figures in the source READMEs.

Sources (``shared/data``):

* ``mps-recorded-crime/csv/borough_10_21.csv`` (months 2010-04 .. 2021-11) and
  ``borough_21_23.csv`` (2021-12 .. 2023-11): MPS recorded offences per borough, month and
  minor category. Joined end to end they give one series 2010-04 .. 2023-11.
* ``met-homicide-victims-2003-2023/met_homicide_victims_2003_2023.csv``: one row per homicide
  *victim*, year and borough only. Victim counts differ from recorded homicide *offences*
  (one offence can have several victims, and offences are recorded when classified), so both
  are reported and never mixed.

Definitions (one place, used by the reports):

* **serious violence** = Homicide + Violence with Injury + Robbery of Personal Property
  (victim-reported offences against the person; possession offences are police-generated and
  measure where police already look, see :mod:`vigil.data.taxonomy`);
* **knife crime** = Possession of Article with Blade or Point (the only knife series in the
  long tables; it is police-generated, so it is shown beside, not inside, serious violence);
* **homicide** = recorded Homicide offences; homicide *victims* come from the victims file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from vigil.errors import DataError

#: Measure name -> MPS minor categories (as spelt in the CSV tables) summed into it.
MEASURES: dict[str, tuple[str, ...]] = {
    "serious_violence": (
        "Homicide",
        "Violence with Injury",
        "Robbery of Personal Property",
    ),
    "knife_crime": ("Possession of Article with Blade or Point",),
    "homicide": ("Homicide",),
    "violence_with_injury": ("Violence with Injury",),
    "robbery_personal": ("Robbery of Personal Property",),
}

MEASURE_LABELS: dict[str, str] = {
    "serious_violence": "Serious violence (homicide, violence with injury, personal robbery)",
    "knife_crime": "Possession of article with blade or point",
    "homicide": "Homicide (recorded offences)",
    "violence_with_injury": "Violence with injury",
    "robbery_personal": "Robbery of personal property",
    "homicide_victims": "Homicide victims",
}

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


def monthly_by_borough(shared: Path, measure: str = "serious_violence") -> pd.DataFrame:
    """Monthly count of ``measure`` per borough: ``borough, month, count, yoy_change, yoy_pct``.

    Year-on-year change compares a month with the same month a year earlier (seasonality makes
    month-on-month change misleading); it is NaN where the earlier month is not in the tables.
    """
    minors = _minors(measure)
    long = load_borough_months(shared)
    sel = long[long["minor"].isin(minors)]
    table: pd.DataFrame = sel.groupby(["borough", "month"])["count"].sum().reset_index()
    table = table.sort_values(["borough", "month"]).reset_index(drop=True)
    prev = table.assign(month=table["month"] + pd.DateOffset(years=1)).rename(
        columns={"count": "prev"}
    )
    table = table.merge(prev, on=["borough", "month"], how="left")
    table["yoy_change"] = table["count"] - table["prev"]
    table["yoy_pct"] = 100.0 * table["yoy_change"] / table["prev"].where(table["prev"] > 0)
    return table.drop(columns="prev")


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


def yearly_by_borough(shared: Path, measure: str = "serious_violence") -> YearlyTable:
    """Calendar-year totals per borough and for London, with year-on-year change.

    A year not fully covered by the tables (2010 starts in April, 2023 ends in November) keeps
    its partial total but carries ``months < 12`` and no year-on-year change, so a partial year
    is never compared with a full one.
    """
    monthly = monthly_by_borough(shared, measure)
    monthly["year"] = monthly["month"].dt.year
    per = monthly.groupby(["year", "borough"], as_index=False).agg(
        count=("count", "sum"), months=("month", "nunique")
    )
    london = per.groupby("year", as_index=False).agg(
        count=("count", "sum"), months=("months", "max")
    )
    london["borough"] = "London"
    frame = pd.concat([per, london], ignore_index=True)
    return YearlyTable(measure, _with_yoy(frame))


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


def _minors(measure: str) -> tuple[str, ...]:
    try:
        return MEASURES[measure]
    except KeyError:
        known = ", ".join(sorted(MEASURES))
        raise DataError(f"unknown measure '{measure}'; expected one of: {known}") from None


def summary(shared: Path, year: int) -> pd.DataFrame:
    """One row per measure for London in ``year``: count, previous year and change (%).

    What the oversight and public reports print as "the force-wide picture".
    """
    rows = []
    for measure in ("serious_violence", "knife_crime", "homicide"):
        t = yearly_by_borough(shared, measure).london()
        rows.append(_summary_row(measure, t, year))
    rows.append(_summary_row("homicide_victims", homicide_victims_by_year(shared).london(), year))
    return pd.DataFrame(rows)


def _summary_row(measure: str, london: pd.DataFrame, year: int) -> dict[str, object]:
    this = london[london["year"] == year]
    prev = london[london["year"] == year - 1]
    return {
        "measure": measure,
        "label": MEASURE_LABELS[measure],
        "year": year,
        "count": int(this["count"].iloc[0]) if not this.empty else None,
        "previous": int(prev["count"].iloc[0]) if not prev.empty else None,
        "change_pct": None
        if this.empty or pd.isna(this["yoy_pct"].iloc[0])
        else round(float(this["yoy_pct"].iloc[0]), 1),
        "complete": bool(not this.empty and int(this["months"].iloc[0]) == 12),
    }


def window_summary(shared: Path, months: list[pd.Timestamp]) -> pd.DataFrame:
    """London totals over ``months`` and over the same months a year earlier, per measure.

    For a quarterly report: ``measure, label, count, previous, change_pct, available`` where
    ``available`` is False when the tables do not cover every month asked for (the count is then
    left out rather than shown as a partial total).
    """
    rows = []
    wanted = [pd.Timestamp(m) for m in months]
    earlier = [m - pd.DateOffset(years=1) for m in wanted]
    for measure in ("serious_violence", "knife_crime", "homicide"):
        m = monthly_by_borough(shared, measure)
        london = m.groupby("month")["count"].sum()
        have = set(london.index)
        ok = all(x in have for x in wanted)
        ok_prev = all(x in have for x in earlier)
        count = int(london.loc[wanted].sum()) if ok else None
        prev = int(london.loc[earlier].sum()) if ok_prev else None
        change = None if count is None or not prev else round(100.0 * (count - prev) / prev, 1)
        rows.append(
            {
                "measure": measure,
                "label": MEASURE_LABELS[measure],
                "count": count,
                "previous": prev,
                "change_pct": change,
                "available": ok,
            }
        )
    return pd.DataFrame(rows)


def borough_totals(
    shared: Path, months: list[pd.Timestamp], measure: str = "serious_violence"
) -> dict[str, int]:
    """Count of ``measure`` per borough over ``months`` (boroughs with none are left out)."""
    m = monthly_by_borough(shared, measure)
    sel = m[m["month"].isin([pd.Timestamp(x) for x in months])]
    per = sel.groupby("borough")["count"].sum()
    return {str(k): int(v) for k, v in per.items() if v > 0}


def london_monthly(shared: Path, measure: str = "serious_violence") -> pd.Series:
    """London total per month (index: month start)."""
    m = monthly_by_borough(shared, measure)
    return m.groupby("month")["count"].sum().sort_index()
