"""The CIA document: HTML a consultee can read, and the same as a PDF (checked with pdftotext)."""

from __future__ import annotations

import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from tests.impact.test_assessment import complete_cia
from vigil.impact.area import select_area
from vigil.impact.assessment import CommunityImpactAssessment, Consultation, Position
from vigil.impact.indicators import compute_indicators, start_assessment
from vigil.reports.cia import render_html, render_pdf

WHEN = datetime(2022, 7, 1, 9, 0)


@pytest.fixture(scope="module")
def real_cia(shared_data: Path) -> CommunityImpactAssessment:
    """A complete CIA for LSOA E01003023 (Lambeth 021C) with its real automatic indicators."""
    ind = compute_indicators(select_area(lsoa="E01003023", shared=shared_data), shared=shared_data)
    draft = start_assessment(ind, case_id=7)
    assert draft.missing()[0] == "community tension: evidenced"  # profile and indicators filled
    filled = complete_cia().model_copy(
        update={"case_id": "7", "area_profile": draft.area_profile, "indicators": draft.indicators}
    )
    filled.consultations.append(
        Consultation(
            body="independent_advisory_group",
            role="vice-chair",
            on=WHEN.date(),
            position=Position.OBJECTS,
            summary="armed foot patrols near the estate <school> would raise fear",
        )
    )
    return filled


def test_html_shows_every_section_and_escapes_text(real_cia: CommunityImpactAssessment) -> None:
    html = render_html(real_cia, WHEN)
    assert "<strong>Complete</strong>" in html
    for heading in (
        "1. Area profile",
        "2. Automatic indicators",
        "3. Community tension",
        "4. Consultation",
        "5. Risks and mitigations",
        "6. Communication plan",
        "7. Review",
    ):
        assert heading in html
    assert "Lambeth 021C" in html and "2,665" in html  # residents mid-2020
    assert "Independent Advisory Group" in html and 'class="objects"' in html
    assert "&lt;school&gt;" in html and "<school>" not in html
    assert "force-wide (Metropolitan Police)" in html and "3.30" in html  # Black/White ratio
    assert "not exceptional" in html


def test_incomplete_cia_says_what_is_missing() -> None:
    html = render_html(CommunityImpactAssessment(case_id="9"), WHEN)
    assert "Incomplete:" in html and "consultation: Safer Neighbourhood Board" in html
    assert "Not yet computed." in html


def test_pdf_text_matches(real_cia: CommunityImpactAssessment, tmp_path: Path) -> None:
    pdf = render_pdf(real_cia, WHEN)
    assert pdf[:5] == b"%PDF-"
    out = tmp_path / "cia.pdf"
    out.write_bytes(pdf)
    # poppler-utils comes with scripts/setup.sh --test: a missing tool fails here, not skips.
    raw = subprocess.run(
        ["pdftotext", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    text = " ".join(raw.split())  # table cells wrap lines
    assert "Community impact assessment" in text
    assert "Lambeth 021C" in text and "Independent Advisory Group" in text
    assert "Stop and search — force-wide (Metropolitan Police)" in text


def test_one_number_format_for_documents_and_the_cli() -> None:
    """The CIA, the fairness view, the reports and `vigil impact indicators` print numbers with
    the one formatter: separators, fixed digits, a dash for unknown, ∞ for a ratio over nothing
    (the reports' copy printed "inf")."""
    from vigil.commands.impact import _fmt
    from vigil.reports.document import env, fmt, pct

    assert fmt(1234.5, 1) == "1,234.5" and fmt(None) == "—" and fmt(float("nan")) == "—"
    assert fmt(float("inf"), 2) == "∞" and pct(0.1234) == "12.3%" and pct(None) == "—"
    assert _fmt(float("inf")) == "∞" and _fmt(2.345, 2) == "2.35"
    assert env().globals["fmt"] is fmt and env().get_template("cia.html") is not None


def test_the_cia_shows_what_the_evaluation_can_detect(real_cia: CommunityImpactAssessment) -> None:
    """Issue 17: the CIA shows the minimum detectable reduction frozen with the case's plan."""
    note = "The evaluation can detect a reduction of 61% or more (80% power, 5% level)"
    html = render_html(real_cia, WHEN, detectable=note)
    assert "What the evaluation will be able to detect" in html and note in html
    assert "Not stated (no evaluation plan" in render_html(real_cia, WHEN)
