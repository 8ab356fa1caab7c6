"""The quarterly oversight report: every deployment, its hours, overrides and outcome.

For the oversight body (MOPAC, a scrutiny panel): it holds operational detail (case numbers,
exact windows, area map) and so is not for publication; :mod:`vigil.reports.transparency` is
the public version. The proportionality view sets each borough's share of deployment hours
beside its share of London's serious violence in the same months, so a borough that carries far
more deployment than its share of harm stands out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from vigil.clock import as_utc
from vigil.outcomes import force_stats
from vigil.outcomes.claims import Claim, check_claim
from vigil.reports import charts, maps
from vigil.reports.deployments import (
    DeploymentRow,
    deployments_between,
    hours_by_borough,
    outcome_counts,
)
from vigil.reports.document import Quarter, Report, report
from vigil.settings import shared_data_dir


def force_context(shared: Path, quarter: Quarter) -> dict[str, Any]:
    """London serious violence, homicide, knife crime (and, apart, blade possession) in the
    quarter against the same months a year earlier, each change tested against chance, with
    each measure's official name, what it counts and its coverage; and a trend chart."""
    try:
        table = force_stats.window_summary(shared, quarter.months)
        series = force_stats.london_monthly(shared, "serious_violence")
    except (force_stats.DataError, OSError) as exc:
        return {"rows": [], "chart": None, "error": str(exc), "no_chart": None}
    lo = quarter.months[0] - pd.DateOffset(months=24)
    hi = quarter.months[-1] + pd.DateOffset(months=6)
    s = series[(series.index >= lo) & (series.index <= hi)]
    rows = table.to_dict(orient="records")
    if s.empty:  # a quarter far outside the published months: words, not an empty chart
        return {
            "rows": rows,
            "chart": None,
            "error": None,
            "no_chart": (
                f"No monthly serious violence figures are published for {quarter.title} or the "
                f"two years before it (the series covers {series.index[0]:%B %Y} to "
                f"{series.index[-1]:%B %Y})."
            ),
        }
    chart = charts.line_chart(
        list(s.index),
        {"London serious violence (recorded offences)": list(s.to_numpy())},
        title="Serious violence per month, London (quarter shaded)",
        ylabel="offences",
        highlight=(quarter.months[0], quarter.months[-1] + pd.DateOffset(months=1)),
    )
    return {"rows": rows, "chart": chart, "error": None, "no_chart": None}


def proportionality(
    shared: Path, quarter: Quarter, hours: dict[str, float]
) -> list[dict[str, Any]]:
    """Share of deployment hours against share of serious violence, per deployed borough."""
    try:
        sv = force_stats.borough_totals(shared, quarter.months)
    except (force_stats.DataError, OSError):
        sv = {}
    total_h = sum(hours.values())
    total_sv = sum(sv.values())
    rows = []
    for b, h in hours.items():
        hs = h / total_h if total_h else None
        vs = sv.get(b, 0) / total_sv if total_sv else None
        rows.append(
            {
                "borough": b,
                "hours": h,
                "hours_share": None if hs is None else 100 * hs,
                "sv": sv.get(b),
                "sv_share": None if vs is None else 100 * vs,
                "ratio": None if not vs or hs is None else hs / vs,
            }
        )
    return rows


def fairness(session: Session, shared: Path, quarter: Quarter, now: datetime) -> dict[str, Any]:
    """The fairness view of :mod:`vigil.impact.fairness` over the quarter (to ``now``)."""
    from vigil.errors import VigilError
    from vigil.impact.fairness import fairness_from_cases

    until = min(quarter.end, as_utc(now))
    if until <= quarter.start:
        return {"view": None, "error": "the quarter has not started"}
    try:
        view = fairness_from_cases(session, quarter.start, until, shared=shared)
    except (VigilError, OSError, ValueError, KeyError) as exc:
        return {"view": None, "error": f"{type(exc).__name__}: {exc}"}
    return {"view": view, "error": None}


@dataclass(frozen=True)
class Figures:
    """The report's pictures, as data URIs (None when there is nothing to draw)."""

    hours_chart: str | None
    area_map: str | None
    outcome_chart: str | None


def _figures(
    shared: Path,
    q: Quarter,
    hours: dict[str, float],
    deployed: list[DeploymentRow],
    evaluated: list[DeploymentRow],
) -> Figures:
    """Hours by borough, the deployment areas on a map, and the evaluated deployments' rate
    ratios with their intervals."""
    hours_chart = (
        charts.bar_chart(
            list(hours), list(hours.values()), title="Deployment hours by borough", xlabel="hours"
        )
        if hours
        else None
    )
    area_map = (
        maps.deployments_map(
            shared,
            [(f"#{r.case_id}", maps.parse_area(r.area_wkt)) for r in deployed],
            title=f"Deployment areas, {q.title}",
        )
        if deployed
        else None
    )
    outcome_chart = (
        charts.interval_chart(
            [f"case {r.case_id} ({r.borough})" for r in evaluated],
            [r.rate_ratio or 1.0 for r in evaluated],
            [r.ci_low or 1.0 for r in evaluated],
            [r.ci_high or 1.0 for r in evaluated],
            title="Serious violence against control areas, per deployment (95% intervals)",
        )
        if evaluated
        else None
    )
    return Figures(hours_chart, area_map, outcome_chart)


def build_oversight_report(
    session: Session,
    quarter: str | Quarter,
    now: datetime,
    *,
    shared: Path | None = None,
    claims: Sequence[Claim] = (),
) -> Report:
    """The oversight report for ``quarter`` (e.g. ``"2022Q3"``) as the clock stands at ``now``."""
    q = Quarter.parse(quarter)
    shared = shared_data_dir(shared)
    now = as_utc(now)
    rows = deployments_between(session, q.start, q.end, now)
    deployed = [r for r in rows if r.activated]
    hours = hours_by_borough(deployed)
    evaluated = [r for r in deployed if r.rate_ratio is not None]
    overrides = [(r, o) for r in rows for o in r.overrides]
    facts: dict[str, Any] = {
        "quarter": q.label,
        "deployments": len(deployed),
        "authorised_not_deployed": len(rows) - len(deployed),
        "hours": round(sum(hours.values()), 1),
        "boroughs": len(hours),
        "overrides": len(overrides),
        "urgent": sum(1 for r in deployed if r.urgent),
        "extensions": sum(r.extensions for r in deployed),
        "evaluated": len(evaluated),
        "outcomes": outcome_counts(deployed),
        "hours_by_borough": {b: round(h, 1) for b, h in hours.items()},
    }
    return report(
        "oversight.html",
        f"Oversight report {q.label}",
        now=now,
        facts=facts,
        q=q,
        rows=rows,
        hours=hours,
        overrides=overrides,
        evaluated=evaluated,
        figures=_figures(shared, q, hours, deployed, evaluated),
        proportion=proportionality(shared, q, hours),
        fair=fairness(session, shared, q, now),
        context=force_context(shared, q),
        checks=[check_claim(c, shared).to_dict() for c in claims],
        calibration=calibration_view(session),
    )


def calibration_view(session: Session) -> dict[str, Any] | None:
    """The latest `vigil report calibrate` run, for the report: read before the verdicts, it
    says whether they can be trusted (issue 17)."""
    import json

    from vigil.outcomes.record import latest_calibration

    row = latest_calibration(session)
    if row is None:
        return None
    result = json.loads(row.result_json)
    return {
        "run_at": row.run_at,
        "dataset": row.dataset,
        "year": row.year,
        "method": row.method,
        "season_size": result.get("season_size"),
        "singles": result["singles"],
        "seasons": result["seasons"],
    }
