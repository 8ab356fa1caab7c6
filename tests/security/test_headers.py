"""Issue 10: no security headers at all; the one-button Activate form could be framed.

Every route of the app (enumerated from the app itself, so a new route is covered the moment it
exists), every method, as a caller it admits where one does, plus the static files, the PDF of
a case file and the answers the app gives before a route runs (401, 404, 413): each carries
the CSP (no inline script, no framing), X-Frame-Options, nosniff and Referrer-Policy, and
everything but the static files is ``no-store``. The templates hold no inline script.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api import _fixtures
from tests.api.conftest import bearer, build_app, open_case
from vigil.http.deps import api_routes

TEMPLATES = Path(__file__).resolve().parents[2] / "src" / "vigil" / "web" / "templates"
#: tokens tried in turn, so that each route is also seen answering a caller it admits
CALLERS = ["oversight", "ao", "analyst", "admin", "commander", "lead"]


def assert_secure_headers(r, *, cached: bool = False) -> None:
    where = f"{r.request.method} {r.request.url.path} ({r.status_code})"
    csp = r.headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    script_src = re.search(r"script-src ([^;]*)", csp)
    assert script_src and script_src.group(1).split() == ["'self'"], f"{where}: {csp}"
    assert "'unsafe-inline'" not in script_src.group(1)
    assert "default-src 'self'" in csp, where
    assert r.headers.get("x-frame-options") == "DENY", where
    assert r.headers.get("x-content-type-options") == "nosniff", where
    assert r.headers.get("referrer-policy") == "same-origin", where
    assert "strict-transport-security" not in r.headers, f"{where}: HSTS without TLS"
    if not cached:
        assert r.headers.get("cache-control") == "no-store", where


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    app, clock, tokens = build_app(tmp_path_factory.mktemp("headers"), _fixtures.surface())
    with TestClient(app) as client:
        case = open_case(client, tokens, clock)
        yield app, client, tokens, case["id"]


def _concrete(path: str, case_id: int) -> str:
    path = path.replace("{case_id}", str(case_id))
    path = path.replace("{quarter}", "2022Q3").replace("{year}", "2022")
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_every_method_carries_the_headers(env):
    app, client, tokens, case_id = env
    ok: list[str] = []
    checked = 0
    for route in api_routes(app):
        for method in sorted(route.methods - {"HEAD"}):
            path = _concrete(route.path, case_id)
            r = client.request(method, path, json={}, follow_redirects=False)
            assert_secure_headers(r)  # unauthenticated: 401 / redirect to sign-in
            if method != "GET":
                continue
            for user in CALLERS:
                r = client.get(path, headers=bearer(tokens, user), follow_redirects=False)
                assert_secure_headers(r)
                checked += 1
                if r.status_code == 200:
                    ok.append(path)
                    break
    assert checked >= 30
    # the case data pages and files were really served, not only refused
    for wanted in ("/", "/cases", f"/cases/{case_id}", f"/api/cases/{case_id}", "/oversight"):
        assert wanted in ok, f"{wanted} never answered 200: {sorted(ok)}"


def test_pdf_and_report_files_carry_the_headers(env):
    _, client, tokens, case_id = env
    r = client.get(f"/api/reports/cases/{case_id}?format=pdf", headers=bearer(tokens, "oversight"))
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    assert_secure_headers(r)
    r = client.get("/api/reports/oversight/2022Q3", headers=bearer(tokens, "oversight"))
    assert r.status_code == 200
    assert_secure_headers(r)


def test_static_files_and_errors_carry_the_headers(env):
    _, client, _, _ = env
    for path in ("/static/vigil.css", "/static/case.js", "/static/leaflet/leaflet.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert_secure_headers(r, cached=True)
    r = client.get("/no/such/page", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert_secure_headers(r)
    r = client.post("/api/cases", content=b"{}", headers={"Content-Length": str(10**9)})
    assert r.status_code == 413
    assert_secure_headers(r)


def test_hsts_only_when_cookies_are_secure(tmp_path):
    from tests.ops._live import small_app

    app = small_app(tmp_path, cookie_secure=True)
    with TestClient(app) as client:
        r = client.get("/login")
    hsts = r.headers.get("strict-transport-security", "")
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts


def test_templates_hold_no_inline_script():
    """The CSP allows no inline script, so none may be written: every <script> element loads a
    file (a JSON data block is data, not script) and no element has an on* handler or a
    javascript: URL."""
    problems = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        text = template.read_text()
        for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", text, re.S):
            attrs, body = m.group(1), m.group(2)
            if "src=" in attrs or 'type="application/json"' in attrs:
                continue
            if body.strip():
                problems.append(f"{template.name}: inline <script>")
        if re.search(r"\son[a-z]+\s*=", text):
            problems.append(f"{template.name}: inline event handler")
        if "javascript:" in text:
            problems.append(f"{template.name}: javascript: URL")
    assert not problems, problems
