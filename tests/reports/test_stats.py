"""The force-wide statistics report for 2019, against the published source figures
(shared/data/mps-recorded-crime/README.txt and met-homicide-victims-2003-2023/README.txt)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.reports._pdf import ink, pdf_pages, pdf_text
from vigil.reports.document import ReportError
from vigil.reports.stats import build_stats_report

NOW = datetime(2024, 1, 1, tzinfo=UTC)


def test_stats_pdf_holds_the_published_numbers(shared_data, tmp_path):
    r = build_stats_report(2019, NOW, shared=shared_data)
    assert r.facts == {
        "serious_violence": 153 + 77501 + 37049,
        "possession_blade": 3268,
        "homicide": 153,
        "homicide_victims": 150,
        "knife_crime": "not published for 2019 (the source covers March 2022 to February 2026)",
        "knife_crime_with_injury": (
            "not published for 2019 (the source covers March 2022 to February 2026)"
        ),
    }
    pdf = r.pdf()
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2 and all(ink(p) > 0.005 for p in pages)
    text = pdf_text(pdf, tmp_path)
    for figure in ("114,703", "3,268", "3,440", "153", "138", "+10.9%", "-5.0%", "Lambeth"):
        assert figure in text, figure
    # official names, what each counts, origin, source and coverage
    for phrase in (
        "Homicide offences",
        "Homicide victims",
        "Possession of article with blade or point",
        "Knife crime (knife or sharp instrument offences)",
        "police-generated",
        "monthly-crime-dashboard.parquet",
        "March 2022 to February 2026",
        "April 2010 to November 2023",
        "within normal variation",
        "same month in other years",
    ):
        assert phrase in " ".join(text.split()), phrase


def test_stats_2022_prints_the_real_knife_crime_series(shared_data, tmp_path):
    """`vigil report stats --year 2022` printed knife_crime: 2678 (blade possession)."""
    r = build_stats_report(2022, NOW, shared=shared_data)
    assert r.facts["possession_blade"] == 2678
    assert r.facts["knife_crime"] == "10,508 (partial year: 10 months)"
    assert r.facts["knife_crime_with_injury"] == "3,039 (partial year: 10 months)"
    html = r.html
    # borough tables test each change; the "+500 %" on tiny counts is gone
    assert "too few to tell" in html or "fewer than 10" in html
    assert "+500.0%" not in html
    assert "a change beyond chance" in html and "against the rest of London" in html


def test_year_outside_the_tables(shared_data):
    with pytest.raises(ReportError, match="no figures for 2031"):
        build_stats_report(2031, NOW, shared=shared_data)
