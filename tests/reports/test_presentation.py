"""Issue 12's report presentation findings, each on a real report: empty quarters drew a chart
with a -0.04..0.04 axis, year axes read 2002.5, times were printed raw (UTC, seconds), the
public report gave changes with no word on small counts, and PDF tables left their header at a
page bottom with the rows on the next page (and did not repeat it)."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.impact.test_assessment import complete_cia
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.migrate import upgrade
from vigil.db.outcomes import OutcomeCalibration
from vigil.reports import charts
from vigil.reports.cia import render_html
from vigil.reports.oversight import build_oversight_report
from vigil.reports.stats import build_stats_report
from vigil.reports.transparency import build_transparency_report

#: after every published figure: the quarter has deployments' rows but no monthly series
LATE_QUARTER = "2026Q2"
LATE_NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def drawn(monkeypatch) -> list[dict[str, Any]]:
    """Every chart the reports draw: its title, y range, x tick labels and how much it plots."""
    seen: list[dict[str, Any]] = []
    original = charts.data_uri

    def capture(fig, dpi=130):
        fig.canvas.draw()
        for ax in fig.axes:
            seen.append(
                {
                    "title": ax.get_title(loc="left"),
                    "ylim": ax.get_ylim(),
                    "xticks": [t.get_text() for t in ax.get_xticklabels() if t.get_text()],
                    "points": sum(len(line.get_xdata()) for line in ax.lines)
                    + sum(len(c) for c in ax.containers),
                    "lines": [
                        (line.get_label(), line.get_color(), str(line.get_linestyle()))
                        for line in ax.lines
                    ],
                }
            )
        return original(fig, dpi)

    monkeypatch.setattr(charts, "data_uri", capture)
    return seen


@pytest.fixture
def empty_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def body(html: str) -> str:
    """The document's text without its stylesheet or inline images."""
    html = html.split("</style>", 1)[-1]
    return re.sub(r'src="data:[^"]*"', 'src=""', html)


def test_a_quarter_without_figures_draws_no_empty_chart(empty_db, drawn, shared_data):
    """Issue 12: an empty quarter drew a line chart of nothing, on a -0.04..0.04 axis."""
    with empty_db() as s:
        oversight = build_oversight_report(s, LATE_QUARTER, LATE_NOW, shared=shared_data)
        public = build_transparency_report(s, LATE_QUARTER, LATE_NOW, shared=shared_data)
    for c in drawn:
        assert c["points"] > 0, f"chart '{c['title']}' plots nothing"
        assert c["ylim"][1] - c["ylim"][0] > 0.2, c
    for r in (oversight, public):
        text = body(r.html)
        assert "No monthly serious violence figures are published for April to June 2026" in text
    assert "No deployment was authorised for this quarter." in oversight.html


def test_year_and_month_axes_read_as_years_and_months(drawn, shared_data):
    """Issue 12: the homicide victims chart's year axis read 2002.5, 2005.0, ...; the seasonal
    charts numbered the months 2, 4, 6."""
    build_stats_report(2022, LATE_NOW, shared=shared_data)
    years = [c for c in drawn if c["title"].startswith("Homicide victims per year")]
    assert len(years) == 1 and years[0]["xticks"]
    assert all(re.fullmatch(r"\d{4}", t) for t in years[0]["xticks"]), years[0]["xticks"]
    seasonal = [c for c in drawn if "the same month in other years" in c["title"]]
    assert len(seasonal) == 3
    months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
    for c in seasonal:
        assert c["xticks"] and set(c["xticks"]) <= months, c["xticks"]
        # the legend tells the years apart (they were four identical grey lines), the report's
        # year first, in the accent colour
        looks = [(colour, style) for _, colour, style in c["lines"]]
        assert len(set(looks)) == len(looks), c["lines"]
        assert c["lines"][0][0] == "2022" and c["lines"][0][1] == charts.ACCENT


def test_times_are_london_minutes(empty_db, shared_data):
    """Issue 12: raw timestamps (UTC, seconds and microseconds). A calibration run at 11:30:15
    UTC on 1 July 2022 reads 12:30 London time; the CIA's generation time likewise."""
    at = datetime(2022, 7, 1, 11, 30, 15, 123456, tzinfo=UTC)
    rates = {
        "n": 200,
        "false_alarm": 0.05,
        "coverage": {"20%": 0.9, "40%": 0.93},
        "power": {"20%": 0.3, "40%": 0.7},
        "displacement_false_alarm": 0.04,
    }
    with empty_db() as s, s.begin():
        s.add(
            OutcomeCalibration(
                run_at=at,
                actor_id="oversight-analyst",
                dataset="met-street-2022",
                year=2022,
                method="placebo in space",
                result_json=json.dumps({"season_size": 4, "singles": rates, "seasons": rates}),
            )
        )
    with empty_db() as s:
        r = build_oversight_report(s, "2022Q3", at, shared=shared_data)
    cia = render_html(complete_cia(), at)
    for html in (r.html, cia):
        text = body(html)
        assert "01 Jul 2022 12:30" in text
        assert not re.search(r"\d{2}:\d{2}:\d{2}", text), text
        assert "UTC" not in text


def test_public_report_says_small_counts_are_not_compared(empty_db, shared_data):
    """Issue 12: changes on small counts were given with no caveat. The public report shows
    London's changes: it must say, in words, that counts under 10 are not compared."""
    with empty_db() as s:
        r = build_transparency_report(s, "2022Q3", LATE_NOW, shared=shared_data)
    text = " ".join(re.sub(r"<[^>]+>", " ", body(r.html)).split())
    assert "fewer than 10" in text and "not shown" in text


def _pages(pdf: bytes, tmp: Path) -> list[list[str]]:
    src = tmp / "doc.pdf"
    src.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-layout", str(src), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = []
    for page in out.split("\f"):
        lines = [ln for ln in page.splitlines() if ln.strip()]
        pages.append([ln for ln in lines if not re.fullmatch(r"\s*page \d+ of \d+\s*", ln)])
    return pages  # a page of charts only has no lines


def test_pdf_tables_repeat_their_header_and_never_leave_it_alone(shared_data, tmp_path):
    """Issue 12: table headers orphaned at page bottoms. The stats report's long tables (London
    by year, each measure by borough) run over pages: every page holding a table's rows holds
    its header, and no page ends on a header."""
    from vigil.outcomes import force_stats

    r = build_stats_report(2022, LATE_NOW, shared=shared_data)
    pages = _pages(r.pdf(), tmp_path)
    boroughs = set(force_stats.yearly_by_borough(shared_data, "homicide").frame["borough"])
    boroughs.discard("London")
    names = "|".join(re.escape(b) for b in sorted(boroughs, key=len, reverse=True))
    tables = {
        "by borough": (
            re.compile(r"^\s*borough\s+2022\s+change on 2021"),
            re.compile(rf"^({names})\s+[\d,]+(\s|$)"),
        ),
        "London by year": (
            re.compile(r"^\s*measure\s+year\s+count\s+months"),
            re.compile(r"\s(19|20)\d\d\s+[\d,]+\s+\d{1,2}(\s|$)"),
        ),
    }
    holding = {name: 0 for name in tables}
    for n, lines in enumerate(pages, 1):
        if not lines:
            continue
        for name, (header, row) in tables.items():
            assert not header.search(lines[-1]), f"page {n} ends on the {name} header"
            if any(row.search(ln) for ln in lines):
                holding[name] += 1
                assert any(header.search(ln) for ln in lines), f"page {n}: {name} rows, no header"
    assert all(v >= 2 for v in holding.values()), holding  # each table does run over pages
