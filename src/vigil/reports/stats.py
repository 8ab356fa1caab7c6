"""Force-wide statistics as a report: each measure under its official name, with its source,
what it counts and the months it covers; year-on-year changes tested against chance; borough
tables with small counts suppressed; and long monthly trends with the same months of earlier
years beside them (from :mod:`vigil.outcomes.force_stats`)."""

from __future__ import annotations

import calendar
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from vigil.clock import as_utc
from vigil.outcomes import chance, force_stats
from vigil.outcomes.definitions import MEASURES as DEFINITIONS
from vigil.reports import charts
from vigil.reports.document import Report, ReportError, report
from vigil.settings import shared_data_dir

#: measures in the London-by-year and borough tables (yearly victims are in the summary)
MEASURES = (
    "serious_violence",
    "homicide",
    "knife_crime",
    "knife_crime_with_injury",
    "possession_blade",
)
#: monthly trend charts: (measure, title)
TRENDS = (
    ("serious_violence", "Serious violence per month, London (recorded offences)"),
    ("knife_crime", "Knife crime per month, London (knife or sharp instrument offences)"),
    ("knife_crime_with_injury", "Knife crime with injury per month, London"),
)


def facts_for(summary: list[dict[str, Any]]) -> dict[str, Any]:
    """The headline figure per measure: the count for a complete year, otherwise a phrase that
    says what is missing (a partial count is never printed bare)."""
    out: dict[str, Any] = {}
    for r in summary:
        if not r["available"]:
            out[r["measure"]] = r["status"]
        elif r["complete"]:
            out[r["measure"]] = int(r["count"])
        else:
            out[r["measure"]] = f"{int(r['count']):,} ({r['status']})"
    return out


def build_stats_report(year: int, now: datetime, *, shared: Path | None = None) -> Report:
    """London's figures for ``year`` with the years around it, and each borough in ``year``."""
    shared = shared_data_dir(shared)
    tables = {m: force_stats.yearly_by_borough(shared, m) for m in MEASURES}
    victims = force_stats.homicide_victims_by_year(shared)
    years = sorted(set(tables["homicide"].london()["year"]) | set(victims.london()["year"]))
    years = sorted(set(years) | set(tables["knife_crime"].london()["year"]))
    if year not in years:
        raise ReportError(f"no figures for {year}: the tables cover {years[0]}-{years[-1]}")
    summary = force_stats.summary(
        shared, year, tables={**tables, "homicide_victims": victims}
    ).to_dict(orient="records")
    definitions = [
        {
            "key": k,
            "name": m.name,
            "counts": m.counts,
            "origin": m.origin,
            "source": m.source,
            "coverage": force_stats.coverage_text(shared, k),
            "note": m.note,
        }
        for k, m in DEFINITIONS.items()
        if k in (*MEASURES, "homicide_victims")
    ]
    london = []
    for m, t in [*tables.items(), ("homicide_victims", victims)]:
        for rec in t.london().to_dict(orient="records"):
            change = t.change(int(rec["year"]))
            london.append(
                {
                    "measure": m,
                    "label": force_stats.MEASURE_LABELS[m],
                    **rec,
                    "change": None if change is None else change.short(),
                }
            )
    by_borough = _boroughs(tables, year)
    charts_ = _trend_charts(shared, year)
    v = victims.london()
    victims_chart = charts.line_chart(
        list(v["year"]),
        {"homicide victims (Met)": list(v["count"])},
        title="Homicide victims per year, London (last year partial)",
        ylabel="victims",
    )
    return report(
        "stats.html",
        f"Force-wide statistics {year}",
        now=as_utc(now),
        facts=facts_for([{str(k): v for k, v in r.items()} for r in summary]),
        year=year,
        summary=summary,
        definitions=definitions,
        london=london,
        by_borough=by_borough,
        trend_charts=charts_,
        chart=victims_chart,
        measures=[m for m in MEASURES if tables[m].months(year)],
        labels=force_stats.MEASURE_LABELS,
        small=chance.SMALL_COUNT,
    )


def _boroughs(tables: dict[str, force_stats.YearlyTable], year: int) -> dict[str, Any]:
    """Per borough and measure in ``year``: count, change against the year before (tested,
    small counts suppressed) and the change relative to the rest of London."""
    out: dict[str, dict[str, Any]] = {}
    for m, t in tables.items():
        f = t.frame
        if t.months(year) == 0:
            continue
        london_now = t.total(year)
        london_prev = t.total(year - 1) if t.months(year - 1) == 12 else None
        rows = f[(f["year"] == year) & (f["borough"] != "London")]
        for rec in rows.to_dict(orient="records"):
            b = str(rec["borough"])
            change = t.change(year, borough=b)
            vs = None
            if change is not None and london_prev is not None:
                prev = int(change.previous)
                vs = chance.compare_with_reference(
                    int(rec["count"]),
                    prev,
                    london_now - int(rec["count"]),
                    london_prev - prev,
                    dispersion=t.dispersion(b),
                )
            out.setdefault(b, {})[m] = {
                "count": int(rec["count"]),
                "change": None if change is None else change.short(),
                "vs_london": None if vs is None else vs.short(),
            }
    return dict(sorted(out.items()))


def _trend_charts(shared: Path, year: int) -> list[dict[str, Any]]:
    """For each trend measure: the whole monthly series (the report's year shaded) and the
    months of the last five years side by side (seasonal context)."""
    out = []
    for m, title in TRENDS:
        s = force_stats.london_monthly(shared, m)
        lo, hi = pd.Timestamp(year, 1, 1), pd.Timestamp(year + 1, 1, 1)
        long = charts.line_chart(
            list(s.index),
            {force_stats.MEASURE_LABELS[m]: list(s.to_numpy())},
            title=f"{title}, {s.index[0]:%b %Y} to {s.index[-1]:%b %Y}",
            ylabel=DEFINITIONS[m].counts,
            highlight=(lo, hi) if s.index[0] < hi and s.index[-1] >= lo else None,
        )
        view = force_stats.seasonal_view(shared, m, years=5)
        season = charts.line_chart(
            [calendar.month_abbr[int(month)] for month in view.index],
            # the report's year first (the accent line), then the others newest first
            {
                str(y): list(view[y].to_numpy())
                for y in sorted(view.columns, key=lambda c: (c != year, -int(c)))
            },
            title=f"{title}: the same month in other years",
            ylabel=DEFINITIONS[m].counts,
        )
        out.append(
            {
                "measure": m,
                "label": force_stats.MEASURE_LABELS[m],
                "coverage": force_stats.coverage_text(shared, m),
                "long": long,
                "seasonal": season,
                "table": view,
            }
        )
    return out
