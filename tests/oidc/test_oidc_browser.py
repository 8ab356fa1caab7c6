"""Through Chromium (Playwright): a person of each mapped provider group clicks "Sign in with
your force account", signs in at the real provider process and lands in Vigil with that
group's role, rank and borough; removed from the group, the next sign-in is refused."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from tests.oidc.conftest import ROLES, Provider, oidc_app


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.browser
def test_sign_in_in_the_browser_and_lose_access_when_removed(
    tmp_path: Path, provider: Provider, browser
) -> None:
    import uvicorn

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    o = oidc_app(tmp_path, provider, oidc_redirect_uri=f"{base}/auth/callback")
    server = uvicorn.Server(
        uvicorn.Config(o.env.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    provider.set_user("duty-ao", ["vigil-authorisers-ac"], username="duty.ao")
    contexts = []  # closed at the end: the browser is the worker's (tests/conftest.py)
    try:
        contexts.append(browser.new_context())
        page = contexts[-1].new_page()
        page.goto(f"{base}/login")
        page.click("#signin-oidc")
        page.fill("input[name=sub][type=text]", "duty-ao")
        page.click("button:has-text('Authorize')")
        page.wait_for_url(f"{base}/**")
        me = page.request.get(f"{base}/api/me").json()
        assert (me["role"], me["rank"], me["username"]) == (
            "authorising_officer",
            "assistant_commissioner",
            "idp.duty.ao",
        )
        # every other mapped group, each in a fresh browser context (no shared cookies)
        for n, (group, (role, rank, borough)) in enumerate(ROLES.items()):
            sub = f"officer-{n}"
            provider.set_user(sub, ["staff", group], username=sub)
            contexts.append(browser.new_context())
            other = contexts[-1].new_page()
            other.goto(f"{base}/login")
            other.click("#signin-oidc")
            other.fill("input[name=sub][type=text]", sub)
            other.click("button:has-text('Authorize')")
            other.wait_for_url(f"{base}/**")
            who = other.request.get(f"{base}/api/me").json()
            assert (who["role"], who["rank"], who["borough"]) == (role, rank, borough), group
        # removed from the group at the provider: the next sign-in has no access
        provider.set_user("duty-ao", ["staff"], username="duty.ao")
        contexts.append(browser.new_context())
        fresh = contexts[-1].new_page()
        fresh.goto(f"{base}/login")
        fresh.click("#signin-oidc")
        fresh.fill("input[name=sub][type=text]", "duty-ao")
        fresh.click("button:has-text('Authorize')")
        fresh.wait_for_url(f"{base}/auth/callback**")
        assert "no Vigil role" in fresh.content()
        assert fresh.request.get(f"{base}/api/me").status == 401
    finally:
        for context in contexts:
            context.close()
        server.should_exit = True
        thread.join(10)
