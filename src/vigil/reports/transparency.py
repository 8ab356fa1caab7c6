"""The public transparency report: aggregated, delayed, and free of operational detail.

Publication must never tell anyone where armed officers are or will be. So the public report:

* includes only deployments that **ended at least** ``delay_days`` **before publication**
  (live, planned and recently ended deployments wait for a later edition);
* reports **boroughs only**: no case numbers, areas, cells, coordinates, or times of day;
* rounds hours to whole hours and gives outcomes as counts of findings.

The rule lives here, in one place: the web app's public page calls this builder.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from vigil.clock import as_utc
from vigil.outcomes import chance
from vigil.reports import maps
from vigil.reports.deployments import (
    DeploymentRow,
    deployments_between,
    hours_by_borough,
    outcome_counts,
)
from vigil.reports.document import Quarter, Report, report
from vigil.reports.oversight import force_context
from vigil.settings import shared_data_dir

#: A deployment is published only this long after it ended.
PUBLICATION_DELAY_DAYS = 28


def publishable(rows: list[DeploymentRow], now: datetime, delay_days: int) -> list[DeploymentRow]:
    """Deployments that were on the ground, have ended, and ended at least ``delay_days`` ago."""
    cutoff = as_utc(now) - timedelta(days=delay_days)
    return [r for r in rows if r.activated and r.ended and as_utc(r.end) <= cutoff]


def build_transparency_report(
    session: Session,
    quarter: str | Quarter,
    now: datetime,
    *,
    delay_days: int = PUBLICATION_DELAY_DAYS,
    shared: Path | None = None,
) -> Report:
    """The public report for ``quarter`` as publishable at ``now``."""
    q = Quarter.parse(quarter)
    shared = shared_data_dir(shared)
    now = as_utc(now)
    cutoff = now - timedelta(days=delay_days)
    rows = publishable(deployments_between(session, q.start, q.end, now), now, delay_days)
    hours = {b: float(round(h)) for b, h in hours_by_borough(rows).items()}
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.borough] = counts.get(r.borough, 0) + 1
    complete = q.end <= cutoff
    facts: dict[str, Any] = {
        "quarter": q.label,
        "deployments": len(rows),
        "hours": int(sum(hours.values())),
        "boroughs": {b: {"deployments": counts[b], "hours": int(hours[b])} for b in hours},
        "findings": outcome_counts(rows),
        "overrides": sum(1 for r in rows if r.overrides),
        "urgent": sum(1 for r in rows if r.urgent),
        "complete": complete,
        "cutoff": cutoff.date().isoformat(),
    }
    hours_map = (
        maps.borough_hours_map(shared, hours, title=f"Deployment hours by borough, {q.title}")
        if hours
        else None
    )
    return report(
        "transparency.html",
        f"Transparency report {q.label}",
        now=now,
        facts=facts,
        q=q,
        delay_days=delay_days,
        hours_map=hours_map,
        context=force_context(shared, q),
        small=chance.SMALL_COUNT,
    )
