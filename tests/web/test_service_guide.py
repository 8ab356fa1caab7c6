"""The screenshots of docs/service-guide.md, taken by Chromium over a seeded season.

Each role's pages, as that role signs in, over a past season of cases in every state
(vigil.season, the demo's seed), the ended deployments evaluated. Each page is checked to show the
season before it is photographed, so an empty page fails here rather than reaching the guide.
Images go to test-artifacts/web/guide/; `scripts/service-guide-screenshots.sh` sets
VIGIL_GUIDE_IMG=docs/img to refresh the guide's own (1000 px wide, palette PNG, optimised)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from tests.api import _fixtures
from tests.api.conftest import build_app
from tests.ops._live import serve
from tests.web._browser import Person

pytestmark = pytest.mark.browser

WIDTH = 1000
#: the season starts early enough that its ended deployments can be evaluated by August
SEASON_START = datetime(2022, 5, 2, 8, tzinfo=UTC)
EVALUATED_AT = datetime(2022, 8, 2, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def guide_server(tmp_path_factory):
    """(base_url, clock, season, app) over the seeded season, the clock at the season's end."""
    from vigil.season import seed_season

    app, clock, _ = build_app(
        tmp_path_factory.mktemp("guide"), _fixtures.surface(), enable_test_clock=False
    )
    ctx = app.state.ctx
    users = {u.username: u for u in ctx.identity.list_users()}
    actors = {role: users[name].actor() for role, name in _fixtures.USER_OF.items()}
    clock.set(SEASON_START)
    season = seed_season(ctx.cases, _fixtures.surface(), actors, SEASON_START, _fixtures.SHARED)
    with serve(app) as (host, port):
        yield f"http://{host}:{port}", clock, season, app


def _save(
    person: Person, name: str, focus: str | None = None, height: int = 1000, doc: bool = True
) -> Path:
    """A screenshot ``WIDTH`` px wide: from the top of the page, or from ``focus`` (a selector)
    when the page is long, ``height`` px high; palette PNG, optimised, into the artifacts and
    (``doc``, when VIGIL_GUIDE_IMG is set) the guide's image folder."""
    p = person.page
    top = 0.0
    if focus:
        box = p.locator(focus).first.bounding_box()
        assert box is not None, f"{name}: {focus} is not on the page"
        top = max(0.0, box["y"] + p.evaluate("() => window.scrollY") - 25)
    full = p.evaluate("() => document.documentElement.scrollHeight")
    clip = {"x": 0, "y": top, "width": WIDTH, "height": min(height, full - top)}
    out = person.artifacts / "guide" / f"guide-{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    p.screenshot(path=str(out), full_page=True, clip=clip)
    img = Image.open(out).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    img.save(out, optimize=True)
    if doc and os.environ.get("VIGIL_GUIDE_IMG"):
        dest = Path(os.environ["VIGIL_GUIDE_IMG"]) / out.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        img.save(dest, optimize=True)
    return out


def _rows(person: Person, selector: str) -> int:
    return person.page.locator(selector).count()


def test_service_guide_screenshots(guide_server, browser, artifacts):
    base, clock, season, app = guide_server
    by = season.by_state

    def person(who: str | None) -> Person:
        return Person(browser, base, artifacts, who, width=WIDTH)

    # intelligence analyst: the map, the cases, the request form, what waits for them
    analyst = person("analyst")
    p = analyst.go("/")
    assert _rows(analyst, "#hotspots tbody tr") >= 5
    p.wait_for_selector("body[data-surface='loaded'][data-boroughs='loaded']")
    _save(analyst, "analyst-map", focus="#map")
    analyst.go("/cases")
    assert _rows(analyst, "#case-list tbody tr") >= sum(len(v) for v in by.values())
    _save(analyst, "analyst-cases")
    analyst.go("/cases/new")
    _save(analyst, "analyst-new-case")
    analyst.go("/inbox")
    assert _rows(analyst, "#inbox tbody tr[data-case]") >= 1
    _save(analyst, "analyst-inbox", height=700, doc=False)
    analyst.close()

    # borough commander: consultation on a submitted case, an active deployment to debrief
    commander = person("commander")
    commander.go("/inbox")
    assert _rows(commander, "#inbox tbody tr[data-case]") >= 1
    _save(commander, "commander-inbox", height=700)
    p = commander.go(f"/cases/{by['active'][0]}")
    assert "active" in commander.status()
    _save(commander, "commander-active-case")
    commander.close()

    # community engagement lead: the impact assessment of a case in consultation
    lead = person("lead")
    p = lead.go(f"/cases/{by['consultation'][0]}")
    with p.expect_navigation(timeout=180_000):  # the first draft reads the census tables
        p.click("#form-cia-draft button")
    assert p.locator("#form-cia").count() == 1
    _save(lead, "lead-impact-assessment", focus="#cia", height=1100)
    lead.close()

    # authorising officer: the case with its guardrail check, then check-your-answers
    ao = person("ao")
    case_id = by["awaiting_authorisation"][0]
    p = ao.go(f"/cases/{case_id}")
    assert p.locator("#guardrail-check").count() == 1
    _save(ao, "ao-guardrail-check", focus="#authorisation")
    p.fill("#authorise-conditions", "Foot patrols in the marked area only; body-worn video on.")
    if p.locator("#authorise-override_reason").count():
        p.fill("#authorise-override_reason", "Two stabbings in the area this fortnight.")
    with p.expect_navigation():
        p.click("#authorise-continue")
    assert "Check your answers" in p.inner_text("main")
    _save(ao, "ao-check-your-answers")
    ao.close()

    # the season's ended deployments, evaluated once the month after each is published
    from vigil.outcomes.record import evaluate_cases

    clock.set(EVALUATED_AT)
    ctx = app.state.ctx
    oversight_actor = next(
        u.actor() for u in ctx.identity.list_users() if u.username == "oversight"
    )
    ended = by["closed"] + by["debriefed"]
    with ctx.session_factory() as s, s.begin():
        for cid in ended:
            evaluate_cases(
                s,
                [cid],
                _fixtures.violence(),
                oversight_actor,
                EVALUATED_AT,
                surface=_fixtures.surface(),
            )

    # oversight (MOPAC): the dashboard, an evaluated case, the notifications
    oversight = person("oversight")
    p = oversight.go("/oversight")
    assert _rows(oversight, "#recent tbody tr") >= 1
    _save(oversight, "oversight-dashboard", height=1200)
    p = oversight.go(f"/cases/{by['closed'][0]}")
    assert "Not evaluated yet" not in p.inner_text("#evaluation-summary")
    _save(oversight, "oversight-evaluation", focus="#evaluation", height=700)
    oversight.go("/notifications")
    _save(oversight, "oversight-notifications", height=800, doc=False)
    oversight.go("/audit")
    assert _rows(oversight, "#audit-entries tbody tr") >= 10
    _save(oversight, "oversight-audit-log", height=900)
    oversight.close()

    # administrator: accounts
    admin = person("admin")
    admin.go("/admin/users")
    assert _rows(admin, "#users tbody tr") >= len(_fixtures.ACCOUNTS)
    _save(admin, "admin-accounts", height=900)
    admin.close()

    # the public, signed out
    public = person(None)
    p = public.go("/public")
    assert "/login" not in p.url
    _save(public, "public-index", height=900)
    p = public.go("/public/2022Q2")
    assert int(p.inner_text("#deployments")) > 0
    _save(public, "public-report", height=1200)
    public.close()
