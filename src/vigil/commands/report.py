"""`vigil report ...`: oversight, public and case reports, force-wide statistics, and outcome
evaluation of ended deployments. Thin shells over :mod:`vigil.reports` and :mod:`vigil.outcomes`.

``vigil report oversight --quarter 2022Q3 --pdf out.pdf`` writes the oversight report;
``vigil report evaluate CASE_ID [CASE_ID ...]`` evaluates ended cases against the incident store;
``vigil report calibrate --dataset D --year Y`` measures how often that evaluation raises a false
alarm on placebo deployments over the force's own data.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from vigil.cases.policy import Action
from vigil.clock import SystemClock
from vigil.errors import VigilError
from vigil.reports.document import Report
from vigil.roles import Actor

app = typer.Typer(
    help="Reports (oversight, public, case file, statistics) and outcome evaluation.",
    no_args_is_help=True,
)
console = Console()


@app.callback()
def _group() -> None:
    """Reports (oversight, public, case file, statistics) and outcome evaluation."""


def _now(at: str | None) -> datetime:
    """``--at`` as an instant: ISO only; without an offset it is London wall-clock time."""
    from vigil.localtime import from_london, iso_datetime

    if at is None:
        return SystemClock().now()
    return from_london(iso_datetime(at, "--at"))


def _write(report: Report, pdf: Path | None, html: Path | None) -> None:
    if pdf is None and html is None:
        raise VigilError("give --pdf FILE and/or --html FILE")
    if html is not None:
        report.write_html(html)
        console.print(f"wrote {html}")
    if pdf is not None:
        report.write_pdf(pdf)
        console.print(f"wrote {pdf}")
    for k, v in report.facts.items():
        if not isinstance(v, dict):
            console.print(f"  {k}: {v}")


PDF = typer.Option(None, "--pdf", help="write the PDF here")
HTML = typer.Option(None, "--html", help="write the HTML here")
AT = typer.Option(None, "--at", help="as at this time (ISO; default now)")
USER = typer.Option(
    None, "--user", help="sign in as this account (password prompted); default: VIGIL_TOKEN"
)


def _signed_in(sf: Any, user: str | None, action: Action) -> Actor:
    """The signed-in account (``vigil.commands._context``), if the permission table lets it do
    ``action``."""
    from vigil.cases.policy import load_policy
    from vigil.commands._context import signed_in_actor
    from vigil.settings import get_settings

    actor = signed_in_actor(sf, user)
    load_policy(get_settings().policy_file).check(actor, action)
    return actor


@app.command()
def oversight(
    quarter: str = typer.Option(..., "--quarter", help="e.g. 2022Q3"),
    pdf: Path | None = PDF,
    html: Path | None = HTML,
    at: str | None = AT,
    claims: Path | None = typer.Option(
        None, "--claims", help="YAML list of published claims to check in the report"
    ),
    user: str | None = USER,
) -> None:
    """The quarterly oversight report (not for publication; needs a signed-in account)."""
    from vigil.commands._context import session_factory
    from vigil.outcomes.claims import ClaimError, load_claims
    from vigil.reports.oversight import build_oversight_report

    try:
        checks = load_claims(claims) if claims is not None else []
    except ClaimError as exc:
        raise VigilError(str(exc)) from None
    sf = session_factory()
    _signed_in(sf, user, Action.READ_OVERSIGHT_REPORT)
    with sf() as s:
        _write(build_oversight_report(s, quarter, _now(at), claims=checks), pdf, html)


@app.command()
def public(
    quarter: str = typer.Option(..., "--quarter", help="e.g. 2022Q3"),
    pdf: Path | None = PDF,
    html: Path | None = HTML,
    at: str | None = AT,
    delay_days: int = typer.Option(28, "--delay-days", help="publish deployments ended this long"),
) -> None:
    """The public transparency report: aggregated, delayed, borough-level only."""
    from vigil.commands._context import session_factory
    from vigil.reports.transparency import build_transparency_report

    with session_factory()() as s:
        _write(build_transparency_report(s, quarter, _now(at), delay_days=delay_days), pdf, html)


@app.command()
def case(
    case_id: int = typer.Argument(..., help="case number"),
    pdf: Path | None = PDF,
    html: Path | None = HTML,
    user: str | None = USER,
    at: str | None = AT,
) -> None:
    """The case file (its production is written to the audit log)."""
    from vigil.commands._context import session_factory
    from vigil.reports.case_file import build_case_file

    sf = session_factory()
    actor = _signed_in(sf, user, Action.READ)
    with sf() as s, s.begin():
        _write(build_case_file(s, case_id, _now(at), actor=actor), pdf, html)


@app.command()
def stats(
    year: int = typer.Option(..., "--year", help="calendar year, e.g. 2019"),
    pdf: Path | None = PDF,
    html: Path | None = HTML,
) -> None:
    """Force-wide serious violence, knife crime and homicide by borough, with yearly change."""
    from vigil.reports.stats import build_stats_report

    _write(build_stats_report(year, SystemClock().now()), pdf, html)


@app.command()
def check(
    measure: str = typer.Option(..., "--measure", help="e.g. knife-crime-with-injury, homicide"),
    period: str = typer.Option(..., "--period", help="2023, 2023-04, 2023Q3 or 2023-01..2023-04"),
    against: str | None = typer.Option(None, "--against", help="comparison period"),
    area: str = typer.Option("London", "--area", help="London or a borough"),
    stated: str | None = typer.Option(None, "--stated", help="stated change (+23%) or count"),
    highest_in: int | None = typer.Option(
        None, "--highest-in", help="also check 'highest in N years'"
    ),
) -> None:
    """Check a published figure against the shipped tables: exact figures, the change with its
    95% interval and whether the stated figure is reproduced."""
    from vigil.outcomes.claims import Claim, ClaimError, check_claim
    from vigil.settings import shared_data_dir

    claim = Claim(measure, period, against, area, stated, highest_in)
    try:
        result = check_claim(claim, shared_data_dir(None))
    except ClaimError as exc:
        raise VigilError(str(exc)) from None
    console.print(f"[bold]{result.status}[/]")
    console.print(f"  measure: {result.measure} ({result.counts}, {result.origin})")
    console.print(f"  source: {result.source}")
    for sentence in result.sentences:
        console.print(f"  {sentence}", highlight=False)


@app.command()
def evaluate(
    case_ids: list[int] = typer.Argument(..., help="one case, or several to pool as a season"),
    dataset: str | None = typer.Option(None, "--dataset", help="incident dataset in the store"),
    user: str | None = USER,
    at: str | None = AT,
) -> None:
    """Evaluate ended deployments (difference-in-differences + displacement) and record it."""
    from vigil.cases.evidence import thaw
    from vigil.commands._context import session_factory
    from vigil.data.store import IncidentStore
    from vigil.data.taxonomy import SERIOUS_VIOLENCE
    from vigil.db.cases import Case
    from vigil.geo.projection import with_xy
    from vigil.outcomes.plan import frozen_plan
    from vigil.outcomes.record import evaluate_cases
    from vigil.settings import get_settings

    sf = session_factory()
    actor = _signed_in(sf, user, Action.EVALUATE)
    incidents = IncidentStore(get_settings().store_dir).query(
        dataset, categories=sorted(SERIOUS_VIOLENCE)
    )
    if incidents.empty:
        raise VigilError("no serious-violence incidents in the store: run `vigil data import`")
    with sf() as s, s.begin():
        first = s.get(Case, case_ids[0])
        if first is None or first.evidence_json is None:
            raise VigilError(f"case {case_ids[0]} not found or has no frozen forecast")
        surface = thaw(first.evidence_json, first.evidence_digest)
        incidents, _ = with_xy(incidents, surface.crs)
        ev = evaluate_cases(s, case_ids, incidents, actor, _now(at), surface=surface)
        # the minimum detectable reduction each case's plan froze when it was opened
        plans = {str(c): frozen_plan(s, c) for c in case_ids}
    for line in evaluation_lines(ev, {k: p.mdr_pct for k, p in plans.items() if p is not None}):
        console.print(line, highlight=False)


@app.command()
def calibrate(
    dataset: str = typer.Option(..., "--dataset", help="incident dataset (store or bundled)"),
    year: int = typer.Option(..., "--year", help="calendar year to place placebos in"),
    cell: float = typer.Option(250.0, "--cell", help="grid cell size in metres"),
    per_month: int = typer.Option(25, "--per-month", help="placebo deployments per month"),
    seasons: int = typer.Option(200, "--seasons", help="placebo seasons"),
    user: str | None = USER,
    at: str | None = AT,
) -> None:
    """Run placebo deployments on the force's own data and print the false-alarm rate,
    coverage and power of the evaluation in use; the run is stored for the oversight report."""
    from vigil.commands._context import session_factory
    from vigil.commands.forecast import load_incidents
    from vigil.evaluate.study_area import study_area, study_grid
    from vigil.outcomes.calibrate import calibrate_year
    from vigil.outcomes.did import OutcomeInputError
    from vigil.outcomes.record import store_calibration

    sf = session_factory()
    actor = _signed_in(sf, user, Action.EVALUATE)
    incidents = load_incidents(dataset, [])
    crs = str(incidents.attrs["crs"])
    boundary, _ = study_area(incidents, crs)
    grid = study_grid(incidents, boundary, cell, crs)
    try:
        cal = calibrate_year(
            incidents, grid, year, dataset=dataset, per_start=per_month, n_seasons=seasons
        )
    except OutcomeInputError as exc:
        raise VigilError(str(exc)) from None
    with sf() as s, s.begin():
        row = store_calibration(s, cal, actor, _now(at))
        run_id = row.id
    for line in cal.lines():
        console.print(line, highlight=False)
    console.print(f"stored as calibration {run_id}; the oversight report shows the latest")


def evaluation_lines(ev: Any, planned: dict[str, float | None] | None = None) -> list[str]:
    """What `vigil report evaluate` prints: the verdict once with its sentence (the primary,
    placebo-in-space method), the result against what each case's plan could detect
    (``planned``: case id to the minimum detectable reduction frozen when it was opened), which
    method decided it and why, the confirming model, per deployment and leave-one-out for a
    season, displacement with its permutation interval and the WDQ with its caveat, the flags
    (shocks, pre-trends), and the note on time resolution."""
    from vigil.outcomes.detectable import against_plan
    from vigil.outcomes.displacement import CAVEAT

    d = ev.did
    lines = [f"{ev.verdict}: {ev.message}"]
    for label, mdr in (planned or {}).items():
        u = ev.per_deployment.get(label, ev.primary if len(planned or {}) == 1 else None)
        if u is not None and u.rate_ratio is not None:
            vs = against_plan(mdr, u.rate_ratio, u.ci_low, u.ci_high)
        elif mdr is not None:
            vs = f"the plan could detect a reduction of {mdr:.0f}% or more; no estimate (too few)"
        else:
            vs = "the plan stated no detectable reduction; no estimate (too few)"
        lines.append(f"  against the plan (case {label}): {vs}")
    lines.append(f"  method: {ev.method}")
    if d.rate_ratio is not None and d.ci_low is not None and d.ci_high is not None:
        agree = "agrees" if (d.verdict == ev.verdict) else "disagrees"
        lines.append(
            f"  confirming model: rate ratio {d.rate_ratio:.2f} (95% interval {d.ci_low:.2f}-"
            f"{d.ci_high:.2f}); {agree} with the primary verdict"
        )
    else:
        lines.append(f"  confirming model: {d.message}")
    if len(ev.per_deployment) > 1:
        for label, u in ev.per_deployment.items():
            est = (
                "too few to tell"
                if u.rate_ratio is None
                else f"{u.rate_ratio:.2f} ({u.ci_low:.2f}-{u.ci_high:.2f}), {u.verdict}"
            )
            lines.append(f"  deployment {label}: {est}")
    disp = ev.displacement
    if disp is not None:
        ring = (
            ""
            if disp.rate_ratio is None
            else f" (surrounding area {disp.rate_ratio:.2f}, 95% interval "
            f"{disp.ci_low:.2f}-{disp.ci_high:.2f}, against placebo surroundings)"
        )
        lines.append(f"  displacement: {disp.verdict}{ring}")
    wdq = ev.wdq
    value = "" if wdq.wdq is None else f"{wdq.wdq:.2f}, "
    interval = (
        ""
        if ev.wdq_interval is None
        else f" (95% interval {ev.wdq_interval[0]:.2f} to {ev.wdq_interval[1]:.2f})"
    )
    lines += [f"  WDQ: {value}{wdq.interpretation}{interval}", f"  {CAVEAT}"]
    lines += [f"  flag: {f}" for f in ev.flags]
    lines.append(f"  {ev.note}")
    return lines
