"""Server-rendered pages answer as each role, and refuse or redirect as they should."""

from __future__ import annotations

from tests.api.conftest import bearer, browser_login, open_case, page_csrf

HTML = {"Accept": "text/html"}


def test_case_page_renders_for_every_reader_and_audits_the_read(app_env, client, tokens):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    for user in ("analyst", "commander", "lead", "ao", "oversight"):
        c = browser_login(app, user)
        r = c.get(f"/cases/{cid}", headers=HTML)
        assert r.status_code == 200, (user, r.text[:500])
        assert f"Case {cid} <span" in r.text and 'id="evidence-map"' in r.text
    trail = client.get(f"/api/cases/{cid}/audit", headers=bearer(tokens, "oversight")).json()
    readers = {e["actor_role"] for e in trail if e["action"] == "case.read"}
    assert {
        "analyst",
        "local_commander",
        "community_lead",
        "authorising_officer",
        "oversight",
    } <= readers


def test_forms_follow_the_policy(app_env, client, tokens):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    analyst = browser_login(app, "analyst").get(f"/cases/{cid}", headers=HTML).text
    assert 'id="form-submit"' in analyst and 'id="form-authorise"' not in analyst
    overseer = browser_login(app, "oversight").get(f"/cases/{cid}", headers=HTML).text
    assert '<form method="post" action="/cases/' not in overseer


def test_refused_action_shows_the_reason_on_the_case_page(app_env, client, tokens):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    c = browser_login(app, "analyst")
    page = c.get(f"/cases/{cid}", headers=HTML).text
    csrf = page_csrf(page)
    r = c.post(
        f"/cases/{cid}/actions/authorise",
        data={"csrf_token": csrf, "conditions": "self-authorised"},
        headers=HTML,
    )
    assert r.status_code == 403
    # said in words, next to the form, in the GOV.UK error summary: no internal role names
    assert "There is a problem" in r.text and 'href="#form-authorise"' in r.text
    assert "cannot authorise" in r.text and "only authorising officer can" in r.text


def test_unknown_case_is_a_clear_html_404(app_env):
    app, _, _ = app_env
    r = browser_login(app, "analyst").get("/cases/424242", headers=HTML)
    assert r.status_code == 404 and "Case 424242 does not exist" in r.text


def test_unknown_urls_get_an_html_page_or_json(app_env, client):
    app, _, _ = app_env
    c = browser_login(app, "analyst")
    r = c.get("/no/such/page", headers=HTML)
    assert r.status_code == 404 and ">Not found</h1>" in r.text
    r = client.get("/api/no/such/thing")
    assert r.status_code == 404 and r.json()["error"] == "HTTPError"


def test_pages_refuse_wrong_roles_with_a_clear_page(app_env):
    app, _, _ = app_env
    admin = browser_login(app, "admin")
    r = admin.get("/", headers=HTML)
    assert r.status_code == 403 and "Role &#39;administrator&#39; may not" in r.text
    r = browser_login(app, "lead").get("/admin/users", headers=HTML)
    assert r.status_code == 403
    r = browser_login(app, "oversight").get("/cases/new", headers=HTML)
    assert r.status_code == 403 and "cannot open a case" in r.text


def test_case_list_filters_by_effective_status(app_env, client, tokens):
    app, clock, _ = app_env
    cid = open_case(client, tokens, clock, hours=9)["id"]
    c = browser_login(app, "oversight")
    drafts = c.get("/cases?status=draft", headers=HTML).text
    assert f'href="/cases/{cid}"' in drafts
    active = c.get("/cases?status=active", headers=HTML).text
    assert f'href="/cases/{cid}"' not in active
    assert c.get("/cases?status=nonsense", headers=HTML).status_code == 200


def test_admin_adds_an_account_through_the_form(app_env):
    app, _, _ = app_env
    c = browser_login(app, "admin")
    page = c.get("/admin/users", headers=HTML).text
    csrf = page_csrf(page)
    r = c.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "newao",
            "password": "long enough password!",
            "role": "authorising_officer",
            "rank": "none",
        },
        headers=HTML,
    )
    assert r.status_code == 400 and "needs a police rank" in r.text
    r = c.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "newao",
            "password": "long enough password!",
            "role": "authorising_officer",
            "rank": "commander",
        },
        headers=HTML,
    )
    # a privileged account is a request until a second administrator approves it
    assert r.status_code == 200 and "Account newao requested" in r.text


def test_case_page_names_the_area_by_ward_and_borough(app_env, client, tokens):
    """The case page names the area after the ward it mostly lies in, with its borough (from
    the shipped 2014 London wards), not only by cell ids like r50c52 (issue 12)."""
    import geopandas as gpd
    import shapely

    from tests.api._fixtures import SHARED
    from vigil.geo.areas import LONDON_WARDS

    app, clock, _ = app_env
    case = open_case(client, tokens, clock, hours=9)
    wards = gpd.read_file(SHARED / LONDON_WARDS).to_crs("EPSG:27700")
    overlap = wards.geometry.intersection(shapely.from_wkt(case["area_wkt"])).area
    ward = wards.loc[overlap.idxmax()]
    page = browser_login(app, "analyst").get(f"/cases/{case['id']}", headers=HTML).text
    expected = f"{ward['NAME']} ward, {ward['BOROUGH']} (mostly); cells {case['cells'][0]}"
    assert expected.replace("'", "&#39;") in page
