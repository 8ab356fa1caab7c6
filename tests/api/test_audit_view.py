"""The case page's trail and the force-wide audit view (issue 12), over the real July 2022 London
forecast (see _fixtures).

Findings: the case page listed every audit entry, one more ``case.read`` per view (the page grew
with its views), in raw UTC ("2022-07-01 09:00:00"); there was no force-wide audit view, so
oversight could not search or export the log; automatic expiry was credited to "administrator".
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.conftest import bearer, browser_login
from tests.api.test_case_routes import urgent_case

HTML = {"Accept": "text/html"}


def _items(page: str) -> int:
    return page.count('class="moj-timeline__item"')


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="govuk-table__row" id="audit-(\d+)">', page)


def _total(page: str) -> int:
    return int(re.search(r'id="audit-count">(\d+) entr', page).group(1))


def _row_html(page: str) -> list[str]:
    """The audit view's entry rows, each as its HTML."""
    return re.findall(r'<tr class="govuk-table__row" id="audit-\d+">(.*?)</tr>', page, re.S)


@pytest.fixture(scope="module")
def expired_case(app_env, client, tokens):
    """A reactive case, consulted, urgently authorised, that lapsed unratified: the scheduler
    (not a person) wrote its end."""
    app, clock, _ = app_env
    cid = urgent_case(client, tokens, clock)["id"]
    clock.advance(timedelta(hours=3))
    assert cid in app.state.ctx.cases.sweep_expired()
    return cid


def test_the_case_page_summarises_reads_and_pages_its_decisions(
    app_env, client, tokens, expired_case, monkeypatch
):
    app, _, _ = app_env
    cid = expired_case
    readers = {u: browser_login(app, u) for u in ("analyst", "commander", "lead", "oversight")}
    first = readers["oversight"].get(f"/cases/{cid}", headers=HTML).text
    for c in readers.values():
        for _ in range(3):
            assert c.get(f"/cases/{cid}", headers=HTML).status_code == 200
    trail = client.get(f"/api/cases/{cid}/audit", headers=bearer(tokens, "oversight")).json()
    reads = [e for e in trail if e["action"].endswith(".read") or e["action"] == "case.list"]
    decisions = [e for e in trail if e not in reads]
    page = readers["oversight"].get(f"/cases/{cid}", headers=HTML).text

    # the page does not grow with its views: one item per decision, reads counted
    assert _items(page) == _items(first) == len(decisions) <= 20
    # +1: the trail read through the API just now
    assert f"Viewed {len(reads) + 1} times before this view" in page
    assert "last by oversight" in page
    # London time, with the UTC instant the log keeps; no raw "2022-07-01 09:00:00"
    assert re.search(r"Fri 1 Jul 2022, \d\d:\d\d BST", page)
    assert not re.search(r"2022-07-0\d \d\d:\d\d:\d\d", page)
    # automatic expiry credited to the service, not to an administrator
    expiry = page[page.index("Expire</h3>") :]
    expiry = expiry[: expiry.index("</div>")]
    assert "by vigil (automatic, by the clock)" in expiry and "administrator" not in expiry
    # oversight is linked to the audit view of this case; the analyst may not open it
    assert f'href="/audit?case={cid}"' in page
    analyst = readers["analyst"].get(f"/cases/{cid}", headers=HTML).text
    assert "/audit?case=" not in analyst

    # paged: two decisions a page, newest first, with links between pages
    monkeypatch.setattr("vigil.web.pages.case.TRAIL_PAGE", 2)
    one = readers["oversight"].get(f"/cases/{cid}", headers=HTML).text
    two = readers["oversight"].get(f"/cases/{cid}?trail=2", headers=HTML).text
    assert _items(one) == _items(two) == 2
    assert 'id="trail-pages"' in one and f'href="/cases/{cid}?trail=2#audit-trail"' in one
    newest = [int(s) for s in re.findall(r'id="entry-(\d+)"', one + two)]
    assert newest == sorted(newest, reverse=True)
    assert f"entry-{decisions[-1]['seq']}" in one


def test_the_audit_view_filters_pages_and_exports(app_env, client, tokens, expired_case):
    app, _, _ = app_env
    cid = expired_case
    oversight = browser_login(app, "oversight")
    home = oversight.get("/cases", headers=HTML).text
    assert 'href="/audit"' in home  # in the navigation of the roles that may read the log
    assert 'href="/audit"' not in browser_login(app, "analyst").get("/cases", headers=HTML).text
    # entries not about a case (the case list read above) say so in words, not "None"
    force_wide = oversight.get("/audit", headers=HTML).text
    assert "Not about a case" in force_wide and ">None<" not in force_wide

    # the case's own workflow (7 entries) and this reader's view of it, whichever tests ran first
    oversight.get(f"/cases/{cid}", headers=HTML)
    page = oversight.get(f"/audit?case={cid}", headers=HTML).text
    total = _total(page)
    shown = _rows(page)
    assert total >= 8 and len(shown) == min(total, 50)
    assert all(f'href="/cases/{cid}"' in row for row in _row_html(page))
    # London time with the UTC instant beside it
    assert re.search(
        r"Fri 1 Jul 2022, \d\d:\d\d BST</time><br><span[^>]*>2022-07-01 \d\d:\d\d UTC", page
    )
    # the scheduler's expiry: the service, not an administrator
    (expire,) = [row for row in _row_html(page) if "case.expire" in row]
    assert "Vigil (automatic, by the clock)" in expire and "Administrator" not in expire

    # by action and by account
    submits = oversight.get(f"/audit?case={cid}&action=case.submit", headers=HTML).text
    assert len(_rows(submits)) == 1 and "case.submit" in submits
    ao2 = client.get("/api/me", headers=bearer(tokens, "ao2")).json()["id"]
    by_ao2 = oversight.get(f"/audit?case={cid}&actor={ao2}", headers=HTML).text
    assert _rows(by_ao2) and all(ao2 in row for row in _row_html(by_ao2))
    # a London date range: the case's day, and the day after (nothing yet)
    everything = _total(oversight.get(f"/audit?case={cid}", headers=HTML).text)
    day = oversight.get(f"/audit?case={cid}&from=2022-07-01&to=2022-07-01", headers=HTML).text
    assert _total(day) == everything + 1  # the search before this one is logged on the case
    after = oversight.get(f"/audit?case={cid}&from=2022-07-02", headers=HTML).text
    assert "No entries match these filters" in after

    # bad input: named, in words, kept in the form
    bad = oversight.get("/audit?case=twelve&from=01/07/2022", headers=HTML)
    assert bad.status_code == 400
    assert 'href="#case"' in bad.text and "Case number must be a whole number" in bad.text
    assert 'href="#from"' in bad.text and "2022-07-01" in bad.text and 'value="twelve"' in bad.text

    # paged, newest first, the filters kept in the links
    import vigil.web.pages.audit as audit_page

    per_page = audit_page.PER_PAGE
    audit_page.PER_PAGE = 3
    try:
        p1 = oversight.get(f"/audit?case={cid}", headers=HTML).text
        p2 = oversight.get(f"/audit?case={cid}&page=2", headers=HTML).text
    finally:
        audit_page.PER_PAGE = per_page
    assert len(_rows(p1)) == len(_rows(p2)) == 3
    assert [int(s) for s in _rows(p1) + _rows(p2)] == sorted(
        (int(s) for s in _rows(p1) + _rows(p2)), reverse=True
    )
    assert f'href="/audit?case={cid}&amp;page=2"' in p1

    # the CSV holds the whole filtered set (not one page), UTC and London time
    r = oversight.get(f"/audit.csv?case={cid}")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert {row["case"] for row in rows} == {str(cid)}
    assert len(rows) >= total  # later searches of this case are reads of it too
    first = rows[0]
    at = datetime.fromisoformat(first["at_utc"])
    assert at.tzinfo is not None and at.utcoffset() == timedelta(0)
    assert first["at_london"].endswith("BST") and first["action"] == "case.open"
    assert [int(x["seq"]) for x in rows] == sorted(int(x["seq"]) for x in rows)

    # every search and export is itself an audited read of the case
    trail = client.get(f"/api/cases/{cid}/audit", headers=bearer(tokens, "oversight")).json()
    mine = [e for e in trail if e["action"] == "audit.read" and e["actor_role"] == "oversight"]
    assert len(mine) >= 8 and any('"format":"csv"' in e["detail"] for e in mine)


def test_case_text_is_withheld_from_roles_that_may_not_read_cases(
    app_env, client, tokens, expired_case
):
    """The administrator may search the log (verification, operations) but not read cases: the
    reasons and details written on case entries are withheld on the page and in the CSV."""
    app, _, _ = app_env
    cid = expired_case
    reason = "Urgent: stabbing an hour ago."
    oversight = browser_login(app, "oversight").get(f"/audit?case={cid}", headers=HTML).text
    assert (
        "Reactive to a serious assault." in oversight
        or reason in oversight
        or "Agreed." in oversight
    )
    admin = browser_login(app, "admin")
    page = admin.get(f"/audit?case={cid}", headers=HTML)
    assert page.status_code == 200 and 'id="case-text-withheld"' in page.text
    for text in ("Agreed.", reason, "Reactive to a serious assault."):
        assert text not in page.text
    assert f'href="/cases/{cid}"' not in page.text  # a page they could only be refused
    r = admin.get(f"/audit.csv?case={cid}")
    assert r.status_code == 200
    for text in ("Agreed.", reason, "Reactive to a serious assault.", "stabbing"):
        assert text not in r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows and all(row["detail"].startswith("(withheld") for row in rows)


@pytest.mark.parametrize("user", ["analyst", "commander", "lead", "ao"])
def test_the_audit_view_is_refused_to_roles_the_table_does_not_name(app_env, user):
    app, _, _ = app_env
    c = browser_login(app, user)
    assert c.get("/audit", headers=HTML).status_code == 403
    assert c.get("/audit.csv").status_code == 403
    assert c.get("/audit/verify", headers=HTML).status_code == 403


def test_the_audit_view_verifies_the_whole_log_in_words(app_env, client, tokens, expired_case):
    """Verification (the API's /api/audit/verify) from the audit view, for the roles the table
    lets verify: the chain, the checkpoints and the cases replayed, said in words, and logged."""
    app, _, _ = app_env
    for user in ("oversight", "admin"):
        c = browser_login(app, user)
        assert 'id="verify-link"' in c.get("/audit", headers=HTML).text
        page = c.get("/audit/verify", headers=HTML)
        assert page.status_code == 200 and "The audit log verifies" in page.text, page.text[:3000]
        api = client.get("/api/audit/verify", headers=bearer(tokens, "oversight")).json()
        assert api["ok"] and re.search(r"\d+ entries checked", page.text)
    logged = browser_login(app, "oversight").get("/audit?action=audit.verify", headers=HTML).text
    assert _total(logged) >= 4  # two pages and two API calls
    assert logged.count("<code>audit.verify</code>") >= 4


def test_london_dates_become_utc_instants_across_the_clock_change():
    """The dates typed are London days: 1 July starts at 23:00 UTC the day before (BST); 1
    December at midnight UTC (GMT); the 'to' day is included to its end."""
    from vigil.web.pages.audit import parse

    summer = parse("", "", "", "2022-07-01", "2022-07-01").wanted
    assert summer.since == datetime(2022, 6, 30, 23, tzinfo=UTC)
    assert summer.until == datetime(2022, 7, 1, 23, tzinfo=UTC)
    winter = parse("", "", "", "2022-12-01", "").wanted
    assert winter.since == datetime(2022, 12, 1, tzinfo=UTC) and winter.until is None
    backwards = parse("", "", "", "2022-07-02", "2022-07-01")
    assert "to" in backwards.errors


def test_the_case_page_trail_is_a_few_queries_however_often_the_case_was_read(
    app_env, expired_case
):
    """Issue 11: paging the trail cost five queries on every view of the case page (two counts,
    the page, the last read, the opening), a fixed cost the old whole-log page did not have.
    Now at most three, with the same answer as the whole log read entry by entry."""
    from sqlalchemy import event, select

    from vigil.audit.query import case_trail, is_read
    from vigil.db.audit import AuditEntry

    app, _, _ = app_env
    ctx = app.state.ctx
    cid = expired_case
    analyst = {u.username: u for u in ctx.identity.list_users()}["analyst"].actor()
    for _ in range(3):
        ctx.cases.get_case(analyst, cid, purpose="test")
    with ctx.session_factory() as s:
        every = list(
            s.execute(
                select(AuditEntry).where(AuditEntry.case_id == cid).order_by(AuditEntry.seq)
            ).scalars()
        )
        reads = [e for e in every if is_read(e.action)]
        decisions = [e for e in every if not is_read(e.action)][::-1]  # newest first
        (opening,) = [e for e in decisions if e.action == "case.open"]
        assert len(decisions) > 2 and len(reads) >= 3
        for page in (1, -(-len(decisions) // 2)):  # the opening off the page, then on it
            seen: list[str] = []

            def count(conn, cursor, statement, *rest, seen=seen):
                seen.append(statement)

            event.listen(s.get_bind(), "before_cursor_execute", count)
            try:
                trail = case_trail(s, cid, page=page, per_page=2)
            finally:
                event.remove(s.get_bind(), "before_cursor_execute", count)
            assert len(seen) <= 3, seen
            assert [e.seq for e in trail.decisions.entries] == [
                e.seq for e in decisions[(page - 1) * 2 : page * 2]
            ]
            assert trail.decisions.total == len(decisions)
            assert trail.reads.count == len(reads) and trail.reads.last.seq == reads[-1].seq
            assert trail.justification == (opening.justification or "")
