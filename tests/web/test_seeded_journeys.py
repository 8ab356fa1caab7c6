"""Journeys over the demo's seeded season (vigil.season: cases in every state).

The public, signed out, reaches the transparency site: the page, its PDF, CSV and JSON agree
with one another and no sign-in is asked for (issue 12: it was a 401 JSON error). Each role's
"Waiting for you" inbox lists the cases whose next step is theirs, with a count per kind of
step that adds up to what is listed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.web._browser import Person

pytestmark = pytest.mark.browser


def test_public_site_signed_out(seeded, browser, artifacts):
    base, _, _ = seeded
    public = Person(browser, base, artifacts)
    p = public.go("/public")
    assert "/login" not in p.url
    p.click("a[href='/public/2022Q2']")
    assert "/login" not in p.url and p.url.endswith("/public/2022Q2")
    shown = int(p.inner_text("#deployments"))
    rows = p.locator("#by-borough tbody tr")
    page_boroughs = {rows.nth(i).locator("td, th").first.inner_text() for i in range(rows.count())}
    public.shot("public-report-signed-out")

    files = {}
    for ext in ("pdf", "csv", "json"):
        link = p.locator(f"#downloads a[href='/public/2022Q2.{ext}']")
        assert link.count() == 1, ext  # offered on the page
        r = public.context.request.get(f"{base}/public/2022Q2.{ext}")  # no cookie: signed out
        assert r.status == 200, (ext, r.status)
        files[ext] = r
    assert files["pdf"].headers["content-type"] == "application/pdf"
    assert files["pdf"].body()[:5] == b"%PDF-"
    facts = json.loads(files["json"].text())
    table = list(csv.DictReader(io.StringIO(files["csv"].text())))
    assert facts["deployments"] == shown > 0
    assert sum(int(r["deployments"]) for r in table) == shown
    assert {r["borough"] for r in table} == set(facts["boroughs"]) == page_boroughs
    # the open data carries no case ids, times or names: boroughs and rounded hours only
    assert set(table[0]) == {"quarter", "borough", "deployments", "hours_rounded"}
    assert public.offsite == []
    public.close()


@pytest.mark.parametrize(
    ("who", "state", "step"),
    [
        ("analyst", "draft", "submit the draft"),
        ("commander", "submitted", "record the local commander consultation"),
        ("lead", "submitted", "record the community consultation"),
        ("ao", "awaiting_authorisation", "authorise or refuse"),
        ("oversight", "debriefed", "close the case"),
    ],
)
def test_waiting_for_you_per_role(seeded, browser, artifacts, who, state, step):
    base, _, season = seeded
    person = Person(browser, base, artifacts, who)
    p = person.go("/inbox")
    listed = p.locator("#inbox tbody tr[data-case]")
    n = listed.count()
    assert f"{n} case" in p.inner_text("#inbox-count")
    counts = {
        line.rsplit(":", 1)[0].strip().lower(): int(line.rsplit(":", 1)[1])
        for line in p.inner_text("#inbox-counts").splitlines()
        if ":" in line
    }
    # every listed case is counted under at least one step; no step counts more cases than listed
    assert counts and max(counts.values()) <= n <= sum(counts.values())
    assert counts.get(step, 0) >= 1, counts
    for case_id in season.by_state[state]:
        row = p.locator(f"#inbox tr[data-case='{case_id}']")
        assert row.count() == 1, (who, state, case_id)
        assert step in row.inner_text().lower()
    person.shot(f"inbox-{who}")
    # the inbox lists nothing this role cannot act on: a closed case is never there
    for case_id in season.by_state.get("closed", []):
        assert p.locator(f"#inbox tr[data-case='{case_id}']").count() == 0
    person.close()
