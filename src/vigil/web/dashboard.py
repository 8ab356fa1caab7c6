"""What the oversight dashboard shows, assembled from the domain's own queries and the report
builders' pieces: live and recent deployments, hours by borough, guardrail overrides, overdue
debriefs and the force-wide serious-violence trend."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from vigil.app.context import AppContext
from vigil.cases.queries import overdue_debriefs
from vigil.cases.states import LIVE, PENDING, Status
from vigil.roles import Actor

#: how far back "recent" deployments and the hours table reach
RECENT_DAYS = 90
#: months of the force-wide trend chart
TREND_MONTHS = 36


def trend_chart(ctx: AppContext) -> tuple[str | None, str | None]:
    """(data-URI PNG, error) of London serious violence per month, built once per process."""
    from vigil.outcomes import force_stats
    from vigil.reports import charts

    def build() -> tuple[str | None, str | None]:
        try:
            series = force_stats.london_monthly(ctx.settings.shared_data, "serious_violence")
            knives = force_stats.london_monthly(ctx.settings.shared_data, "possession_blade")
        except Exception as exc:  # a missing table must not take the dashboard down
            return None, f"force-wide figures unavailable: {exc}"
        s = series.iloc[-TREND_MONTHS:]
        k = knives.reindex(s.index).fillna(0)
        chart = charts.line_chart(
            list(s.index),
            {
                "serious violence (recorded offences)": list(s.to_numpy()),
                "knife possession (police-generated)": list(k.to_numpy()),
            },
            title="London, per month",
            ylabel="offences",
        )
        return chart, None

    result: tuple[str | None, str | None] = ctx.cached("trend-chart", build)
    return result


def evaluations(ctx: AppContext, case_ids: list[int]) -> list[dict[str, Any]]:
    """The latest "did it help?" finding of each ended deployment (None where not yet run)."""
    from vigil.outcomes.record import latest_evaluation

    out = []
    with ctx.session_factory() as s:
        for case_id in case_ids:
            row = latest_evaluation(s, case_id)
            out.append(
                {
                    "case_id": case_id,
                    "verdict": None if row is None else row.verdict,
                    "rate_ratio": None if row is None else row.rate_ratio,
                    "message": "" if row is None else row.message,
                }
            )
    return out


def dashboard(ctx: AppContext, actor: Actor) -> dict[str, Any]:
    from vigil.reports import charts
    from vigil.reports.deployments import deployments_between, hours_by_borough

    now = ctx.clock.now()
    # the ids disclosed on this page are logged as one audited list read
    views = ctx.cases.list_cases(actor, purpose="oversight dashboard")
    with ctx.session_factory() as s:
        since = now - timedelta(days=RECENT_DAYS)
        rows = deployments_between(s, since, now + timedelta(days=30), now)
        overdue = overdue_debriefs(s, now, ctx.cases.policy)
        overdue_rows = [
            {"id": c.id, "borough": c.borough, "due": c.debrief_due, "status": c.status}
            for c in overdue
        ]
    live = {s.value for s in LIVE}
    active = [r for r in rows if r.status in live]
    recent = [r for r in rows if r.status not in live]
    hours = hours_by_borough([r for r in rows if r.activated])
    hours_chart = (
        charts.bar_chart(
            list(hours), list(hours.values()), title="Deployment hours by borough", xlabel="hours"
        )
        if hours
        else None
    )
    flags = [
        {"case_id": r.case_id, "borough": r.borough, "rules": rules, "reason": reason, "rank": rank}
        for r in rows
        for rules, reason, rank in r.overrides
    ]
    # awaiting a decision: pending, and no longer a requester's draft
    pending = [v for v in views if v.status in PENDING - {Status.DRAFT}]
    chart, chart_error = trend_chart(ctx)
    return {
        "evaluations": evaluations(ctx, [r.case_id for r in recent]),
        "now": now,
        "active": active,
        "recent": recent,
        "hours": hours,
        "total_hours": round(sum(hours.values()), 1),
        "hours_chart": hours_chart,
        "flags": flags,
        "overdue": overdue_rows,
        "pending": pending,
        "trend_chart": chart,
        "trend_error": chart_error,
        "recent_days": RECENT_DAYS,
        "quarter": f"{now.year}Q{(now.month - 1) // 3 + 1}",
    }
