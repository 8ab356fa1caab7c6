"""Oversight, public transparency and case-file reports over a real 2022Q3 (see conftest)."""

from __future__ import annotations

import re

import pytest

from tests.reports._pdf import ink, pdf_pages, pdf_text
from tests.reports.conftest import NOW
from vigil.db.audit import AuditEntry
from vigil.reports.case_file import build_case_file
from vigil.reports.document import Quarter, ReportError
from vigil.reports.oversight import build_oversight_report
from vigil.reports.transparency import build_transparency_report
from vigil.roles import Actor, Rank, Role

OVERSIGHT = Actor("mopac-1", Role.OVERSIGHT, Rank.NONE, "Oversight board member")


@pytest.fixture(scope="module")
def oversight(quarter_db):
    with quarter_db["sf"]() as s:
        return build_oversight_report(s, "2022Q3", NOW)


@pytest.fixture(scope="module")
def public(quarter_db):
    with quarter_db["sf"]() as s:
        return build_transparency_report(s, "2022Q3", NOW, delay_days=28)


def test_oversight_numbers(oversight, quarter_db):
    f = oversight.facts
    # four ended 8-hour deployments, one live for 2 hours so far (18:00-20:00 BST);
    # the planned one has no hours
    assert f["deployments"] == 5
    assert f["authorised_not_deployed"] == 1
    assert f["hours"] == pytest.approx(4 * 8 + 2, abs=0.02)
    assert sum(f["hours_by_borough"].values()) == pytest.approx(f["hours"], abs=0.1)
    assert f["evaluated"] == 2
    assert f["overrides"] == 1
    assert sum(f["outcomes"].values()) == 5


def test_oversight_pdf_renders_and_holds_the_numbers(oversight, quarter_db, tmp_path):
    pdf = oversight.pdf()
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2
    assert all(ink(p) > 0.01 for p in pages)
    text = pdf_text(pdf, tmp_path)
    assert "Quarter 2022Q3" in text
    assert "In this quarter: 5 deployments, 34.0 hours on the ground, in 4 boroughs" in text
    assert "cooling_off" in text and "exceptional deployment accepted for evaluation" in text
    assert "assistant commissioner" in text
    for cid in quarter_db["ended"] + [quarter_db["live"], quarter_db["planned"]]:
        assert f"#{cid}" in text
    for b, h in oversight.facts["hours_by_borough"].items():
        assert b in text and f"{h:.1f}" in text
    # the fairness view (vigil.impact.fairness) over the same deployments: 34 hours attributed
    assert "Fairness view: who bears the deployments" in text and "IMD decile 1" in text
    assert "34.0 deployment hours" in text
    # force-wide context: London serious violence Jul-Sep 2022 from borough_21_23.csv
    assert "Serious violence (homicide" in text and "Knife crime" in text
    # each measure under its official name, from its source, each change tested (the HTML:
    # PDF table cells wrap and interleave in extracted text)
    html = oversight.html
    assert "Serious violence (homicide, violence with injury and robbery of personal" in html
    assert "Knife crime (knife or sharp instrument offences)" in html
    assert "Knife crime with injury" in html and "police-generated" in html
    assert "covers March 2022 to February 2026" in html
    # Jul-Sep 2022 has knife crime but not Jul-Sep 2021: no change is printed for it
    assert "within normal variation" in html or "a change beyond chance" in html


def test_public_report_aggregates_and_delays(public, quarter_db):
    f = public.facts
    # cutoff 28 days before 25 Sep: only the July and August deployments are published
    assert f["deployments"] == 2 and f["hours"] == 16
    assert f["cutoff"] == "2022-08-28" and not f["complete"]
    html = public.html.split("</style>", 1)[1]  # the body, not the stylesheet's colours
    assert not re.search(r"#\d", html)  # no case numbers
    assert not re.search(r"r\d+c\d+", html)  # no cells
    assert "POLYGON" not in html and "2022-09-2" not in html
    assert not re.search(r"\b\d{2}:\d{2}\b", html)  # no times of day
    assert "Sep 2022" not in html.replace("25 Sep 2022", "")  # no September window dates


def test_one_deployment_is_not_one_deployments(quarter_db):
    """Issue 12: reports said '1 deployments'. Before August's deployment is published the
    edition holds one, and says so in the singular."""
    from datetime import timedelta

    with quarter_db["sf"]() as s:
        r = build_transparency_report(s, "2022Q3", NOW - timedelta(days=25), delay_days=28)
    assert r.facts["deployments"] == 1
    body = r.html.split("</style>", 1)[1]
    assert "1 deployment," in body and "1 borough." in body
    assert not re.search(r"\b1 (deployments|boroughs)\b", body)


def test_public_pdf(public, tmp_path):
    pdf = public.pdf()
    pages = pdf_pages(pdf, tmp_path)
    assert pages and all(ink(p) > 0.01 for p in pages)
    text = pdf_text(pdf, tmp_path)
    assert "In this edition: 2 deployments, 16 hours, in 2 boroughs." in text
    assert "ended at least 28 days before publication" in text
    for b in public.facts["boroughs"]:
        assert b in text


def test_public_report_after_the_delay_is_complete(quarter_db):
    from datetime import timedelta

    later = NOW + timedelta(days=60)
    with quarter_db["sf"]() as s:
        r = build_transparency_report(s, "2022Q3", later)
    assert r.facts["complete"] and r.facts["deployments"] == 5


def test_case_file(quarter_db, tmp_path):
    cid = quarter_db["ended"][0]
    sf = quarter_db["sf"]
    with sf() as s:
        before = s.query(AuditEntry).count()
    with sf() as s, s.begin():
        r = build_case_file(s, cid, NOW, actor=OVERSIGHT)
    # the read's entry is chained when its transaction commits (audit.log's before_commit hook)
    with sf() as s:
        assert s.query(AuditEntry).count() == before + 1
    assert r.facts["status"] == "debriefed" and r.facts["chain_ok"]
    assert r.facts["verdict"] is not None
    pdf = r.pdf()
    pages = pdf_pages(pdf, tmp_path)
    assert len(pages) >= 2 and all(ink(p) > 0.005 for p in pages)
    text = pdf_text(pdf, tmp_path)
    assert f"Case file #{cid}" in text
    assert "verified intact" in text
    assert "case.authorise" in text and "outcome.evaluate" in text
    assert "Community impact assessment" in text and "loss of confidence" in text
    assert f"{r.facts['rate_ratio']:.2f}" in text
    # issue 17: what the evaluation can detect, from the forecast frozen before authorisation,
    # and the result set against it
    mdr = r.facts["minimum_detectable_reduction"]
    assert mdr is None or 0 < mdr < 100
    assert "What the evaluation can detect" in text
    if mdr is not None:
        assert "minimum detectable reduction" in text


def test_bad_requests(quarter_db):
    with pytest.raises(ReportError, match="quarter '2022Q5'"):
        Quarter.parse("2022Q5")
    with quarter_db["sf"]() as s, pytest.raises(ReportError, match="case 4242 does not exist"):
        build_case_file(s, 4242, NOW)


def test_empty_quarter_still_renders(quarter_db):
    with quarter_db["sf"]() as s:
        r = build_oversight_report(s, "2021Q1", NOW)
    assert r.facts["deployments"] == 0
    assert "No deployment was authorised for this quarter." in r.html


def test_oversight_carries_a_table_of_checked_claims(quarter_db, tmp_path):
    from vigil.outcomes.claims import Claim, load_claims

    path = tmp_path / "claims.yaml"
    path.write_text(
        "- {measure: homicide, period: '2019', against: '2018', stated: '+12%',"
        " highest_in_years: 10, quote: 'murders up 12 %, highest in a decade'}\n"
        "- {measure: knife-crime-with-injury, period: '2024', stated: '3855'}\n"
    )
    claims = load_claims(path)
    assert claims[1] == Claim("knife-crime-with-injury", "2024", stated="3855")
    with quarter_db["sf"]() as s:
        r = build_oversight_report(s, "2022Q3", NOW, claims=claims)
    assert "Published claims checked against the tables" in r.html
    assert "murders up 12 %, highest in a decade" in r.html
    assert "not reproduced" in r.html and "reproduced" in r.html and "+10.9%" in r.html
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {measure: homicide}\n")
    with pytest.raises(Exception, match="claim 1: a claim needs"):
        load_claims(bad)
