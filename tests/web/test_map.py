"""The map in Chromium (issue 12): borough outlines draw above the colours whichever layer
arrives first, the selected area is outlined above both and named in its popup, and at phone
width the top areas' "Open a case" links are not cut off. axe-core WCAG 2.2 A/AA on each state;
screenshots in test-artifacts/web/ (map-*.png).

The surface is the real one of tests/api/_fixtures (police.uk London 2022, 500 m cells)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from tests.api import _fixtures
from tests.api.conftest import build_app
from tests.ops._live import serve
from tests.web._browser import WIDTHS, Person
from vigil.app.surfaces import save_surface
from vigil.forecast.registry import make_model

pytestmark = pytest.mark.browser

LAYERS = """() => {
  const z = n => Number(getComputedStyle(document.querySelector('.vigil-pane-' + n)).zIndex);
  return {
    surface: z('surface'), boroughs: z('boroughs'), selected: z('selected'),
    boroughPaths: document.querySelectorAll('.vigil-pane-boroughs path').length,
    surfaceCanvas: document.querySelectorAll('.vigil-pane-surface canvas').length,
    elsewhere: document.querySelectorAll(
      '.leaflet-overlay-pane path, .leaflet-overlay-pane canvas').length,
  };
}"""


@pytest.mark.parametrize("held", ["/api/forecasts/current/geojson", "/api/areas/boroughs"])
def test_boroughs_draw_above_the_colours_whichever_arrives_first(live, browser, artifacts, held):
    base, _ = live
    person = Person(browser, base, artifacts, "analyst")
    page = person.page
    waiting: list = []
    page.route(f"**{held}", lambda route: waiting.append(route))
    page.goto(f"{base}/")
    first = "surface" if "boroughs" in held else "boroughs"
    page.wait_for_selector(f"body[data-{first}='loaded']")
    assert len(waiting) == 1, waiting
    waiting[0].continue_()
    page.wait_for_selector("body[data-surface='loaded'][data-boroughs='loaded']")
    layers = page.evaluate(LAYERS)
    assert layers["boroughs"] > layers["surface"], layers
    assert layers["selected"] > layers["boroughs"], layers
    assert layers["boroughPaths"] == 33 and layers["surfaceCanvas"] == 1, layers
    assert layers["elsewhere"] == 0, layers  # nothing left in Leaflet's shared overlay pane
    person.close()


def test_selected_area_is_outlined_and_named(live, browser, artifacts):
    base, _ = live
    person = Person(browser, base, artifacts, "analyst")
    page = person.go("/")
    page.wait_for_selector("body[data-surface='loaded'][data-boroughs='loaded']")
    row = page.locator("#hotspots tbody tr").first
    area = row.get_attribute("data-area")
    label = row.locator(".area-link").inner_text().strip()
    assert "ward, " in label
    row.locator(".area-link").click()
    page.wait_for_selector(f"body[data-area-shown='{area}']")
    assert page.get_attribute("body", "data-selected") == area
    assert float(page.get_attribute("body", "data-zoom") or 0) >= 12  # zoomed to the area
    assert page.locator(".vigil-pane-selected path.vigil-selected").count() == 1
    assert page.inner_text("#area-id").strip() == label
    assert label in page.inner_text(".leaflet-popup-content")
    # zoomed in on the area: borough and ward outlines and names are on the map
    page.wait_for_function(
        "() => [...document.querySelectorAll('.vigil-borough-label')].some(e => !e.hidden)"
    )
    page.wait_for_selector("body[data-wards='loaded']")
    assert page.locator(".vigil-pane-boroughs path.vigil-ward").count() == 654
    ward = label.split(" ward, ")[0]
    named = page.evaluate(
        "w => [...document.querySelectorAll('.vigil-ward-label')]"
        ".filter(e => !e.hidden && e.textContent === w).length",
        ward,
    )
    assert named == 1, ward
    page.wait_for_load_state("networkidle")
    assert person.axe() == []
    person.shot("map-selected-desktop")
    person.close()


def test_phone_top_areas_are_not_cut_off(live, browser, artifacts):
    base, _ = live
    person = Person(browser, base, artifacts, "analyst", width=390)
    page = person.go("/")
    page.wait_for_selector("body[data-surface='loaded'][data-boroughs='loaded']")
    wrap = page.evaluate(
        "() => { const w = document.querySelector('#hotspots').closest('.vigil-table-wrap');"
        " return [w.scrollWidth, w.clientWidth]; }"
    )
    assert wrap[0] <= wrap[1], f"the top areas scroll sideways: {wrap}"
    boxes = page.evaluate(
        "() => [...document.querySelectorAll('#hotspots .open-case')].map(a => {"
        " const r = a.getBoundingClientRect(),"
        " w = a.closest('.vigil-table-wrap').getBoundingClientRect();"
        " return [r.left, r.right, w.left, w.right]; })"
    )
    assert len(boxes) == 15
    for left, right, wl, wr in boxes:
        assert wl <= left and right <= wr <= 390, (left, right, wl, wr)
    page.locator("#hotspots .area-link").first.click()
    page.wait_for_selector("body[data-area-shown]")
    assert float(page.get_attribute("body", "data-zoom") or 0) >= 12  # zoomed to the area
    page.wait_for_load_state("networkidle")
    assert person.axe() == []
    person.shot("map-selected-phone")
    assert person.overflow() == 0
    person.close()


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """(base, clock, key) of a server holding two stored forecasts (1-8 July 2022, current, and
    December 2022) and the stored London backtest (benchmarks/results/accuracy-london.json)."""
    tmp = tmp_path_factory.mktemp("stored")
    app, clock, _ = build_app(tmp, _fixtures.surface(), enable_test_clock=False)
    until = pd.Timestamp("2022-12-01")
    december = (
        make_model("naive", window="6M")
        .fit(_fixtures.violence(), until, _fixtures.grid())
        .predict(until, pd.Timestamp("2023-01-01"))
    )
    save_surface(_fixtures.surface(), tmp)
    key = save_surface(december, tmp).stem
    (tmp / "backtests" / "london").mkdir(parents=True)
    results = Path(__file__).resolve().parents[2] / "benchmarks/results/accuracy-london.json"
    shutil.copy(results, tmp / "backtests" / "london" / "backtest.json")
    with serve(app) as (host, port):
        yield f"http://{host}:{port}", clock, key


def test_picking_an_old_forecast_warns_and_stays_accessible(stored, browser, artifacts):
    """In 2026, the December 2022 forecast picked with the keyboard: the map redraws it, says
    its backtested hit rate and warns it is out of date; axe-clean at both widths."""
    base, clock, key = stored
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    for name, width in WIDTHS.items():
        person = Person(browser, base, artifacts, "analyst", width=width)
        page = person.go("/")
        page.wait_for_selector("body[data-surface='loaded']")
        person.tab_to("#forecast")
        page.select_option("#forecast", key)
        with page.expect_navigation():
            page.keyboard.press("Tab")
            page.keyboard.press("Enter")
        assert f"forecast={key}" in page.url
        page.wait_for_selector("body[data-surface='loaded'][data-boroughs='loaded']")
        assert "out of date" in page.inner_text("#stale-warning")
        assert "%" in page.inner_text("#hit-rate")
        page.wait_for_load_state("networkidle")
        assert person.axe() == [], name
        person.shot(f"map-old-forecast-{name}")
        if name == "phone":
            assert person.overflow() == 0
        person.close()
