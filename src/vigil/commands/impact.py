"""`vigil impact ...` commands: the CIA's automatic indicators, the CIA document, fairness."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from vigil.errors import VigilError

app = typer.Typer(
    help="Community impact: indicators for an area, the CIA document, the fairness view.",
    no_args_is_help=True,
)


@app.callback()
def _group() -> None:
    """Community impact: indicators for an area, the CIA document, the fairness view."""


def _fmt(value: float | None, digits: int = 1) -> str:
    from vigil.impact.render import fmt

    return fmt(value, digits)


@app.command("indicators")
def indicators(
    lsoa: str | None = typer.Option(None, help="LSOA-2011 code, e.g. E01003023"),
    ward: str | None = typer.Option(None, help="ward code (2014 scheme), e.g. E05000420"),
    polygon: str | None = typer.Option(None, help="polygon WKT in British National Grid"),
    as_of: str = typer.Option("2022-12", help="last month (YYYY-MM) of the violence trend"),
    as_json: bool = typer.Option(False, "--json", help="print the indicators as JSON"),
) -> None:
    """Print the automatic CIA indicators for one area, computed from the real London files."""
    from vigil.impact.indicators import compute_indicators, select_area

    if sum(v is not None for v in (lsoa, ward, polygon)) != 1:
        raise VigilError("give exactly one of --lsoa, --ward or --polygon")
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
    for note in ind.notes:
        con.print(f"[dim]{note}[/]")


@app.command("render")
def render(
    case_id: int | None = typer.Argument(None, help="case whose latest CIA to render"),
    from_json: Path | None = typer.Option(None, "--from-json", help="a CIA saved as JSON"),
    html: Path | None = typer.Option(None, help="write the HTML document here"),
    pdf: Path | None = typer.Option(None, help="write the PDF document here"),
) -> None:
    """Render a community impact assessment as HTML and/or PDF for consultees."""
    from vigil.impact.assessment import CommunityImpactAssessment
    from vigil.impact.render import render_html, render_pdf

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
    else:
        assert case_id is not None
        cia = _case_assessment(case_id)
    if html is not None:
        html.write_text(render_html(cia))
        typer.echo(f"wrote {html}")
    if pdf is not None:
        pdf.write_bytes(render_pdf(cia))
        typer.echo(f"wrote {pdf}")


def _case_assessment(case_id: int):  # type: ignore[no-untyped-def]
    """The latest CIA version stored on a case."""
    from sqlalchemy import select

    from vigil.db.cases import ImpactAssessmentRecord
    from vigil.db.engine import make_engine, make_sessionmaker
    from vigil.impact.assessment import CommunityImpactAssessment
    from vigil.settings import get_settings

    engine = make_engine(get_settings().resolved_database_url)
    try:
        with make_sessionmaker(engine)() as session:
            row = session.execute(
                select(ImpactAssessmentRecord)
                .where(ImpactAssessmentRecord.case_id == case_id)
                .order_by(ImpactAssessmentRecord.version.desc())
                .limit(1)
            ).scalar_one_or_none()
    finally:
        engine.dispose()
    if row is None:
        raise VigilError(f"case {case_id} has no community impact assessment")
    content = dict(row.content)
    content["case_id"] = str(case_id)  # attached to this case, whatever the draft said
    return CommunityImpactAssessment.model_validate(content)
