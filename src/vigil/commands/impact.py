"""`vigil impact ...` commands: the CIA's automatic indicators, the CIA document, fairness."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from vigil.errors import VigilError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from vigil.impact.models import AreaIndicators

app = typer.Typer(
    help="Community impact: indicators for an area, the CIA document, the fairness view.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Community impact: indicators for an area, the CIA document, the fairness view."""


def _fmt(value: float | None, digits: int = 1) -> str:
    from vigil.reports.document import fmt

    return fmt(value, digits)


@app.command("indicators")
def indicators(
    lsoa: str | None = typer.Option(None, help="LSOA-2011 code, e.g. E01003023"),
    ward: str | None = typer.Option(None, help="ward code (2014 scheme), e.g. E05000420"),
    polygon: str | None = typer.Option(None, help="polygon WKT in British National Grid"),
    as_of: str | None = typer.Option(
        None,
        help="last month (YYYY-MM) of the violence trend for an area; default: the data's last "
        "(a case's is the month before its requested window)",
    ),
    case: int | None = typer.Option(
        None, "--case", help="a case: its area, evidence forecast and the deployments on record"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the indicators as JSON"),
) -> None:
    """Print the automatic CIA indicators for one area, computed from the real London files."""
    from vigil.impact.area import select_area
    from vigil.impact.indicators import compute_indicators

    if sum(v is not None for v in (lsoa, ward, polygon, case)) != 1:
        raise VigilError("give exactly one of --lsoa, --ward, --polygon or --case")
    if case is not None:
        if as_of is not None:
            raise VigilError("--as-of is for an area: a case's month is the one before its window")
        ind = _case_indicators(case)
    else:
        area = select_area(lsoa=lsoa, ward=ward, polygon=polygon)
        ind = compute_indicators(area, as_of_month=as_of)
    if as_json:
        typer.echo(json.dumps(ind.model_dump(mode="json"), indent=2))
        return
    con = Console()
    p = ind.profile
    con.print(
        f"[bold]{ind.area_name or 'polygon'}[/] ({ind.area_kind} {ind.area_code or ''}), "
        f"{ind.area_km2:.2f} km², {len(ind.lsoas)} LSOA(s)"
    )
    con.print(
        f"residents {_fmt(p.population, 0)} ({p.population_source}); IMD 2019 score "
        f"{_fmt(p.imd_score)}, decile {_fmt(p.imd_decile)}"
    )
    con.print("ages: " + ", ".join(f"{k} {_fmt(v, 0)}" for k, v in p.age_bands.items()))
    con.print(
        "2011 census: " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in p.ethnicity_2011.items())
    )
    c = ind.city
    con.print(f"\n[bold]exceptional or always high?[/] {c.verdict}")
    con.print(
        f"  recent serious violence {_fmt(c.recent_per_km2)}/km² "
        f"(percentile {_fmt(c.recent_percentile)}); long-run {_fmt(c.long_run_per_km2)}/km² "
        f"(percentile {_fmt(c.long_run_percentile)}); relative to own usual share "
        f"{_fmt(c.relative_to_own_history, 2)}x"
    )
    t = ind.violence_trend
    con.print(f"\n[bold]serious violence by month[/] ({t.source})")
    con.print("  " + "  ".join(f"{m[2:]}:{n}" for m, n in t.monthly.items()))
    con.print(
        f"  last {len(t.recent_months)} months {_fmt(t.recent_monthly_mean)}/month vs "
        f"{_fmt(t.earlier_monthly_mean)} before (x{_fmt(t.change_ratio, 2)}; London "
        f"x{_fmt(t.london_change_ratio, 2)})"
    )
    for ss in (ind.stop_search_area, ind.stop_search_force):
        table = Table(title=f"stop and search, {ss.level}, {ss.months[0]}..{ss.months[-1]}")
        for col in ("group", "searches", "residents", "per 1,000", "ratio to White"):
            table.add_column(col, justify="left" if col == "group" else "right")
        for g in ss.groups:
            table.add_row(
                g.group,
                str(g.searches),
                _fmt(g.residents, 0),
                _fmt(g.rate_per_1000, 2),
                _fmt(g.ratio_to_white, 2),
            )
        con.print(table)
        con.print(f"  {ss.total} searches, {ss.not_stated} not stated. {ss.method}.")
    if ind.forecast is not None:
        f = ind.forecast
        con.print(f"\n[bold]on the case's forecast[/] ({f.model}): {f.verdict}")
        con.print(
            f"  percentile {_fmt(f.city_percentile)}, x{_fmt(f.ratio_to_own_history, 2)} "
            "its own long-run level"
        )
    if ind.deployments is not None:
        d = ind.deployments
        con.print(
            f"\n[bold]past deployments[/] within {d.neighbour_distance_m:g} m: "
            f"{_fmt(d.hours_28d)} h (28 days), {_fmt(d.hours_90d)} h (90), "
            f"{_fmt(d.hours_365d)} h (365); cases {', '.join(d.cases) or 'none'}"
        )
    for note in ind.notes:
        con.print(f"[dim]{note}[/]")


@contextmanager
def _session_scope() -> Iterator[Session]:
    """A session on the configured case database, closed and disposed after use."""
    from vigil.db.engine import make_engine, make_sessionmaker
    from vigil.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def _case_indicators(case_id: int) -> AreaIndicators:
    from vigil.cases.policy import load_policy
    from vigil.clock import SystemClock
    from vigil.impact.indicators import indicators_for_case
    from vigil.settings import get_settings

    policy = load_policy(get_settings().policy_file).guardrails
    with _session_scope() as session:
        return indicators_for_case(session, case_id, SystemClock().now(), policy=policy)


@app.command("fairness")
def fairness(
    since: str = typer.Option(..., help="first day (YYYY-MM-DD) of the cases to look over"),
    until: str = typer.Option(..., help="day after the last (YYYY-MM-DD)"),
    top: float = typer.Option(1.0, help="percent of forecast areas counted as flagged"),
    as_json: bool = typer.Option(False, "--json", help="print the view as JSON"),
    html: Path | None = typer.Option(None, help="also write the view as an HTML document"),
) -> None:
    """Who bears deployments and flagged areas, against where serious violence is reported."""
    from vigil.impact.fairness import fairness_from_cases
    from vigil.localtime import from_london, iso_datetime

    lo = from_london(iso_datetime(since, "--since"))
    hi = from_london(iso_datetime(until, "--until"))
    if hi <= lo:
        raise VigilError(f"--until {until} must be after --since {since}")
    if not 0 < top <= 100:
        raise VigilError(f"--top must be a percentage in (0, 100], got {top}")
    with _session_scope() as session:
        view = fairness_from_cases(session, lo, hi, top_fraction=top / 100)
    if html is not None:
        from vigil.reports.cia import render_fairness_html

        html.write_text(render_fairness_html(view))
    if as_json:
        typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))
        return
    con = Console()
    for title, rows in (
        ("IMD 2019 decile", view.by_imd_decile),
        ("largest 2011-census group", view.by_largest_group),
    ):
        table = Table(title=f"fairness by {title}")
        for col in (
            "group",
            "residents",
            "serious violence",
            "deployment hours",
            "ratio",
            "flagged areas",
            "ratio ",
        ):
            table.add_column(col, justify="left" if col == "group" else "right")
        for r in rows:
            table.add_row(
                r.group,
                f"{100 * r.residents_share:.1f}%",
                f"{100 * r.violence_share:.1f}%",
                f"{_fmt(r.deployment_hours)} ({100 * r.deployment_share:.1f}%)",
                _fmt(r.deployment_ratio, 2),
                f"{_fmt(r.flagged_areas, 0)} ({100 * r.flagged_share:.1f}%)",
                _fmt(r.flagged_ratio, 2),
            )
        con.print(table)
    for m in view.forecasts:
        style = "bold red" if m.mainly_police_generated else "dim"
        con.print(f"[{style}]{m.label} ({m.model}): {m.note}[/]")
    con.print(f"[dim]{view.method}[/]")


@app.command("render")
def render(
    case_id: int | None = typer.Argument(None, help="case whose latest CIA to render"),
    from_json: Path | None = typer.Option(None, "--from-json", help="a CIA saved as JSON"),
    html: Path | None = typer.Option(None, help="write the HTML document here"),
    pdf: Path | None = typer.Option(None, help="write the PDF document here"),
) -> None:
    """Render a community impact assessment as HTML and/or PDF for consultees."""
    from vigil.impact.assessment import CommunityImpactAssessment
    from vigil.reports.cia import render_html, render_pdf

    if (case_id is None) == (from_json is None):
        raise VigilError("give a CASE_ID or --from-json FILE (one of them)")
    if html is None and pdf is None:
        raise VigilError("give --html FILE and/or --pdf FILE")
    if from_json is not None:
        if not from_json.is_file():
            raise VigilError(f"CIA file {from_json} does not exist")
        try:
            cia = CommunityImpactAssessment.model_validate_json(from_json.read_text())
        except ValueError as exc:
            raise VigilError(f"CIA file {from_json}: {exc}") from None
    detectable = None
    if from_json is None:
        assert case_id is not None
        cia = _case_assessment(case_id)
        detectable = _case_detectable(case_id)
    if html is not None:
        html.write_text(render_html(cia, detectable=detectable))
        typer.echo(f"wrote {html}")
    if pdf is not None:
        pdf.write_bytes(render_pdf(cia, detectable=detectable))
        typer.echo(f"wrote {pdf}")


def _case_detectable(case_id: int) -> str | None:
    """What the case's evaluation can detect, frozen with its evaluation plan (issue 17)."""
    from vigil.app.evaluation_plan import plan_of

    with _session_scope() as session:
        plan = plan_of(session, case_id)
    return None if plan is None else plan.mdr_note


def _case_assessment(case_id: int):  # type: ignore[no-untyped-def]
    """The latest CIA version stored on a case."""
    from sqlalchemy import select

    from vigil.db.cases import ImpactAssessmentRecord
    from vigil.impact.assessment import CommunityImpactAssessment

    with _session_scope() as session:
        row = session.execute(
            select(ImpactAssessmentRecord)
            .where(ImpactAssessmentRecord.case_id == case_id)
            .order_by(ImpactAssessmentRecord.version.desc())
            .limit(1)
        ).scalar_one_or_none()
    if row is None:
        raise VigilError(f"case {case_id} has no community impact assessment")
    content = dict(row.content)
    content["case_id"] = str(case_id)  # attached to this case, whatever the draft said
    return CommunityImpactAssessment.model_validate(content)
