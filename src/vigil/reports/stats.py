"""Force-wide statistics as a report: serious violence, knife crime and homicide, by year and
borough, with year-on-year change (from :mod:`vigil.outcomes.force_stats`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from vigil.clock import as_utc
from vigil.outcomes import force_stats
from vigil.reports import charts
from vigil.reports.document import Report, ReportError, render
from vigil.settings import shared_data_dir

MEASURES = ("serious_violence", "knife_crime", "homicide")


def build_stats_report(year: int, now: datetime, *, shared: Path | None = None) -> Report:
    """London's figures for ``year`` with the years around it, and each borough in ``year``."""
    shared = shared_data_dir(shared)
    tables = {m: force_stats.yearly_by_borough(shared, m) for m in MEASURES}
    victims = force_stats.homicide_victims_by_year(shared)
    years = sorted(set(tables["homicide"].london()["year"]))
    if year not in years:
        raise ReportError(f"no figures for {year}: the tables cover {years[0]}-{years[-1]}")
    london = []
    for m, t in tables.items():
        for rec in t.london().to_dict(orient="records"):
            london.append({"measure": m, "label": force_stats.MEASURE_LABELS[m], **rec})
    by_borough: dict[str, dict[str, Any]] = {}
    for m, t in tables.items():
        f = t.frame
        for rec in f[(f["year"] == year) & (f["borough"] != "London")].to_dict(orient="records"):
            by_borough.setdefault(str(rec["borough"]), {})[m] = (rec["count"], rec["yoy_pct"])
    v = victims.london()
    chart = charts.line_chart(
        list(v["year"]),
        {"homicide victims (Met)": list(v["count"])},
        title="Homicide victims per year, London (last year partial)",
        ylabel="victims",
    )
    summary = force_stats.summary(shared, year).to_dict(orient="records")
    facts = {r["measure"]: r["count"] for r in summary}
    html = render(
        "stats.html",
        title=f"Force-wide statistics {year}",
        year=year,
        now=as_utc(now),
        summary=summary,
        london=london,
        by_borough=dict(sorted(by_borough.items())),
        chart=chart,
        measures=MEASURES,
        labels=force_stats.MEASURE_LABELS,
    )
    return Report(f"Force-wide statistics {year}", html, facts)
