"""One person in a browser: a signed-in context, keyboard-only helpers, screenshots at the
widths people use, and axe-core (the copy shipped by axe-playwright-python) for WCAG 2.2 A/AA."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import pytest

from tests.api import _fixtures

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

WIDTHS = {"desktop": 1366, "phone": 390}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
#: run axe-core for the given tags; each violation's id, impact, help and first five targets
AXE_RUN = """tags => axe.run(document, {runOnly: {type: 'tag', values: tags},
                               resultTypes: ['violations']})
  .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                      nodes: v.nodes.slice(0, 5).map(n => n.target)})))"""
#: true once the page and what its scripts fetch at load are in: the case page's evidence
#: (case.js sets ``data-evidence``), the map's boroughs and forecast (map.js); no other script
#: of the pages fetches anything before a person acts
SETTLED = """() => {
  if (document.readyState !== 'complete') return false;
  const b = document.body.dataset;
  if (document.getElementById('evidence-map') && !b.evidence) return false;
  const map = document.getElementById('map-script');
  return !map || (b.boroughs === 'loaded' && (map.dataset.hasSurface !== 'yes'
                                               || b.surface === 'loaded'));
}"""


@contextmanager
def chromium() -> Iterator:  # type: ignore[type-arg]
    """Debian's headless Chromium driven by Playwright, closed when the block ends (the
    session-scoped ``browser`` fixture of tests/conftest.py: one per xdist worker)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/setup.sh --test (Debian chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@lru_cache(maxsize=1)
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


class Person:
    """A browser context per person (separate cookies), every off-server request refused: a
    force network has no internet, so a page that reaches out is a defect."""

    def __init__(
        self, browser, base: str, artifacts: Path, username: str | None = None, width: int = 1366
    ) -> None:
        self.base, self.username, self.artifacts = base, username, artifacts
        # axe is injected through the DevTools protocol: CSP stays on for the pages themselves
        self.context = browser.new_context(
            viewport={"width": width, "height": 900}, locale="en-GB", timezone_id="Europe/London"
        )
        self.offsite: list[str] = []
        self.context.route(
            re.compile(r"^(?!" + re.escape(base) + ").*"),
            lambda route: (self.offsite.append(route.request.url), route.abort()),
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)
        if username:
            self.sign_in()

    def sign_in(self) -> None:
        p = self.page
        p.goto(f"{self.base}/login")
        p.fill("input[name=username]", self.username or "")
        p.fill("input[name=password]", _fixtures.PASSWORD)
        # generous: the first page a worker serves compiles its templates and reads the
        # forecast; on a loaded 2-core machine that passed the default 20 s
        p.click("form[action='/login'] button[type=submit]", timeout=90_000)
        p.wait_for_load_state()
        assert "/login" not in p.url, f"{self.username} could not sign in"

    def go(self, path: str):
        self.page.goto(f"{self.base}{path}")
        if "/login" in self.page.url and self.username and not path.startswith("/login"):
            self.sign_in()  # idle past the session limit on the injected clock
            self.page.goto(f"{self.base}{path}")
        return self.page

    def api(self, method: str, path: str, body: dict | None = None) -> dict:
        """Call the JSON API as this signed-in person (session cookie and CSRF header): for
        setting up what a test is not about, never for the steps it is about."""
        if not self.page.url.startswith(self.base) or "/login" in self.page.url:
            self.go("/")
        csrf = self.page.locator("input[name=csrf_token]").first.input_value()
        r = self.context.request.fetch(
            f"{self.base}{path}", method=method, data=body, headers={"X-CSRF-Token": csrf}
        )
        assert r.ok, (path, r.status, r.text()[:500])
        return r.json()

    def settle(self) -> None:
        """Wait until the page has drawn what it fetches at load (``SETTLED``): what
        Playwright's ``networkidle`` waited for, without its fixed half second of quiet after
        every page (about 100 pages in test_accessibility)."""
        self.page.wait_for_load_state("load")
        self.page.wait_for_function(SETTLED)

    def status(self) -> str:
        return self.page.inner_text("#case-status").strip()

    # --- keyboard only ---------------------------------------------------------------
    def tab_to(self, selector: str, limit: int = 400) -> None:
        """Press Tab until ``selector`` has the focus: proves it is reachable by keyboard."""
        p = self.page
        for _ in range(limit):
            p.keyboard.press("Tab")
            if p.evaluate(
                "s => !!document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
        raise AssertionError(f"{selector} not reached with {limit} presses of Tab")

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.press("Control+a")
        self.page.keyboard.type(text)

    def press_on(self, selector: str, key: str = "Enter") -> None:
        self.tab_to(selector)
        # generous: drafting the first CIA reads the census and stop-search tables
        with self.page.expect_navigation(timeout=180_000):
            self.page.keyboard.press(key)

    def choose(self, selector: str, nth: int = 0) -> None:
        """A checkbox, or the ``nth`` radio of a group whose first is ``selector``, the way a
        keyboard does it: Tab reaches the group, the arrow keys move the choice, Space picks."""
        self.tab_to(selector)
        for _ in range(nth):
            self.page.keyboard.press("ArrowDown")
        self.page.keyboard.press("Space")

    # --- evidence --------------------------------------------------------------------
    def shot(self, name: str) -> Path:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def axe(self) -> list[dict]:
        """WCAG 2.2 A/AA violations on the page as it is (axe-core).

        Every rule runs on every element as before; ``resultTypes: ['violations']`` only spares
        axe listing (and building a selector for) every element that passes, and only the
        violations' summary comes back over the DevTools protocol, not the whole result
        (megabytes on the long case pages): about a third less time per page."""
        p = self.page
        if not p.evaluate("() => typeof window.axe !== 'undefined'"):
            p.evaluate(f"() => {{ {axe_source()}\n window.axe = axe; }}")
        return p.evaluate(AXE_RUN, WCAG)

    def overflow(self) -> int:
        """Pixels the page scrolls sideways (0 when it reflows)."""
        return int(
            self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
        )

    def close(self) -> None:
        self.context.close()
