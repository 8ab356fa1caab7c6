"""Which forecast the map shows, how good its model is, and whether it is out of date (issue 12:
no forecast selector, no accuracy shown, and a December 2022 forecast frozen as evidence for a
2026 deployment with no warning).

Real data only: the current forecast is tests/api/_fixtures' (police.uk London 2022, naive, 500 m,
1-8 July 2022); a second stored forecast is the same model fitted to 1 December 2022 for
December; the stored backtest is benchmarks/results/accuracy-london.json as `bench_accuracy`
wrote it (10 monthly origins, 250 m cells, London 2022)."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.api import _fixtures
from tests.api.conftest import bearer, browser_login, build_app
from vigil.app.area_names import describe_area
from vigil.app.surfaces import save_surface
from vigil.forecast.registry import make_model

HTML = {"Accept": "text/html"}
STORED_BACKTEST = Path(__file__).resolve().parents[2] / "benchmarks/results/accuracy-london.json"


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_surface):
    tmp = tmp_path_factory.mktemp("forecasts")
    app, clock, tokens = build_app(tmp, real_surface)
    until = pd.Timestamp("2022-12-01")
    december = (
        make_model("naive", window="6M")
        .fit(_fixtures.violence(), until, _fixtures.grid())
        .predict(until, pd.Timestamp("2023-01-01"))
    )
    save_surface(real_surface, tmp)
    key = save_surface(december, tmp).stem
    folder = tmp / "backtests" / "accuracy-london"
    folder.mkdir(parents=True)
    shutil.copy(STORED_BACKTEST, folder / "backtest.json")
    return app, clock, tokens, december, key, folder / "backtest.json"


def _page(app, path: str) -> str:
    r = browser_login(app, "analyst").get(path, headers=HTML)
    assert r.status_code == 200, r.text[:500]
    return r.text


def _text(html: str, element_id: str, tag: str = "div") -> str:
    """The text of the element with ``element_id`` up to the first ``</tag>`` (none nested)."""
    m = re.search(rf'id="{element_id}"[^>]*>(.*?)</{tag}>', html, re.S)
    assert m, f"no #{element_id} on the page"
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", m.group(1)))).strip()


def test_the_map_offers_every_stored_forecast_and_shows_the_one_picked(env):
    app, _, _, december, key, _ = env
    page = _page(app, "/")
    at = page.index('id="forecast-picker"')
    picker = page[page.rindex("<form", 0, at) : page.index("</form>", at)]
    assert 'method="get"' in picker and "onchange" not in picker and 'type="submit"' in picker
    options = re.findall(r'<option value="([^"]+)"[^>]*>([^<]+)</option>', picker)
    assert len(options) == 2, options
    assert options[0][1].startswith("naive, as of 1 Jul 2022, to 8 Jul 2022, 500 m cells (current)")
    assert (key, "naive, as of 1 Dec 2022, to 1 Jan 2023, 500 m cells") in options

    picked = _page(app, f"/?forecast={key}")
    assert "1 Dec 2022 to 1 Jan 2023" in _text(picked, "surface-info", "p")
    assert "not the current forecast" in _text(picked, "surface-info", "p")
    top = str(december.area_id[december.ranking()[0]])
    assert re.search(r'<tr class="govuk-table__row" data-area="([^"]+)"', picked).group(1) == top
    # cases are opened on the current forecast only
    assert "open-case" not in picked and 'id="area-open-case"' not in picked
    assert 'data-forecast="' + key + '"' in picked


def test_the_api_serves_the_picked_forecast(env):
    app, _, tokens, december, key, _ = env
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        h = bearer(tokens, "analyst")
        listed = client.get("/api/forecasts", headers=h).json()
        assert [f["current"] for f in listed] == [True, False] and listed[1]["key"] == key
        layer = client.get(f"/api/forecasts/{key}/geojson", headers=h).json()
        assert len(layer["features"]) == int(np.count_nonzero(december.risk > 0))
        assert layer["properties"]["start"].startswith("2022-12-01")
        top = str(december.area_id[december.ranking()[0]])
        area = client.get(f"/api/forecasts/{key}/areas/{top}", headers=h).json()
        assert area["label"] == describe_area(december, top, _fixtures.SHARED).label
        r = client.get("/api/forecasts/naive-2019/geojson", headers=h)
        assert r.status_code == 404 and key in r.text and "current" in r.text, r.text
        # a key is looked up among the stored files, never joined into a path
        r = client.get("/api/forecasts/..%2F..%2Fvigil/geojson", headers=h)
        assert r.status_code == 404


def test_the_model_s_stored_backtest_hit_rate_is_shown_in_words(env):
    app, _, _, _, key, stored = env
    summary = {r["model"]: r for r in json.loads(stored.read_text())["summary"]}
    hit = f"{100 * summary['naive']['hit_rate@0.01']:.1f}%"

    december = _page(app, f"/?forecast={key}")
    said = _text(december, "accuracy")
    assert f"held {hit} of the incidents that then happened" in said, said
    assert "10 windows of 1 month from 1 Mar 2022 to 1 Jan 2023, 250 m cells" in said
    assert "Picking 1% of the area at random would hold about 1%" in said
    # the December forecast is monthly like the backtest; only its cell size differs
    caveat = _text(december, "accuracy-caveat", "p")
    assert "250 m cells, where this forecast uses 500 m" in caveat and "windows of" not in caveat

    july = _text(_page(app, "/"), "accuracy-caveat", "p")
    assert "windows of 1 month, where this forecast covers 7 days" in july

    hidden = stored.with_suffix(".away")
    stored.rename(hidden)
    try:
        said = _text(_page(app, "/"), "accuracy")
        assert "No stored backtest has scored the naive model" in said and "%" not in said
    finally:
        hidden.rename(stored)


def test_an_out_of_date_forecast_is_flagged_on_the_map_and_the_new_case(env, real_surface):
    app, clock, _, _, key, _ = env
    before = clock.now()
    assert 'id="stale-warning"' not in _page(app, "/")  # 1 July 2022, in its window
    assert 'id="stale-warning"' not in _page(app, f"/?forecast={key}")  # December: ahead
    clock.set(datetime(2026, 12, 2, 12, 0, tzinfo=UTC))
    try:
        said = _text(_page(app, f"/?forecast={key}"), "stale-warning")
        assert "made as of 1 Dec 2022 for the 31 days to 1 Jan 2023" in said, said
        assert "today is 2 Dec 2026, 1431 days after that window ended" in said
        assert "older than its own window (31 days)" in said

        top = str(real_surface.area_id[real_surface.ranking()[0]])
        form = _page(app, f"/cases/new?area_id={top}")
        said = _text(form, "stale-warning")
        assert "made as of 1 Jul 2022 for the window to 8 Jul 2022" in said
        assert "today is 2 Dec 2026" in said
        name = describe_area(real_surface, top, _fixtures.SHARED).label
        assert name in _text(form, "area-name", "p")
    finally:
        clock.set(before)


def test_listing_reads_headers_and_keeps_few_surfaces_whole(tmp_path, real_surface):
    """Many stored forecasts: the picker lists them all, but only the last few picked are
    kept in memory (each London surface is megabytes)."""
    from vigil.app.forecast_store import KEEP_SURFACES, chosen_surface, stored_forecasts

    app, _, _ = build_app(tmp_path, real_surface)
    ctx = app.state.ctx
    keys = [save_surface(real_surface, tmp_path, name=f"copy-{i}").stem for i in range(6)]
    listed = stored_forecasts(ctx)
    assert sorted(f.key for f in listed) == sorted(keys)
    assert sum(f.current for f in listed) == len(keys)  # each file is the current surface
    assert not [k for k in ctx.cache if k.startswith("forecast:")]  # headers only
    for key in keys:
        assert chosen_surface(ctx, key)[0] == key
    kept = [k for k in ctx.cache if k.startswith("forecast:")]
    assert len(kept) == KEEP_SURFACES
    assert all(any(f"copy-{i}.json:" in k for k in kept) for i in range(2, 6)), kept
