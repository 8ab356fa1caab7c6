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
        "knife_crime": 3268,
        "homicide": 153,
        "homicide_victims": 150,
    }
    pdf = r.pdf()
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2 and all(ink(p) > 0.005 for p in pages)
    text = pdf_text(pdf, tmp_path)
    for figure in ("114,703", "3,268", "3,440", "153", "138", "+10.9%", "-5.0%", "Lambeth"):
        assert figure in text, figure


def test_year_outside_the_tables(shared_data):
    with pytest.raises(ReportError, match="no figures for 2031"):
        build_stats_report(2031, NOW, shared=shared_data)
