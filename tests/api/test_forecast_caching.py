"""The map layer, the top areas and an area's detail are serialised once per surface and served
with an ETag (304 when the client holds them) and gzip (issue 11: serialising large surfaces per
request cost most of a busy map)."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.api._fixtures import violence
from tests.api.conftest import bearer, build_app
from vigil.app import forecasts as app_forecasts
from vigil.forecast.surface import RiskSurface


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_surface):
    holder = {"surface": real_surface}
    app, _, tokens = build_app(tmp_path_factory.mktemp("caching"), real_surface)
    app.state.ctx.surface_source = lambda: holder["surface"]
    with TestClient(app) as client:
        yield client, tokens, holder


def _get(client: TestClient, tokens, url: str, **headers: str):
    return client.get(url, headers={**bearer(tokens, "analyst"), **headers})


def test_map_layer_is_gzipped_with_an_etag_and_304_when_unchanged(env, real_surface):
    client, tokens, _ = env
    first = _get(client, tokens, "/api/forecasts/current/geojson", **{"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip"
    assert first.headers["etag"].startswith('W/"')
    assert first.headers["cache-control"] == "no-store"  # intelligence stays out of caches
    layer = json.loads(first.content)  # httpx has decoded the gzip
    assert layer == json.loads(app_forecasts.surface_geojson(real_surface))
    assert len(layer["features"]) == int(np.count_nonzero(real_surface.risk > 0))

    plain = _get(
        client, tokens, "/api/forecasts/current/geojson", **{"Accept-Encoding": "identity"}
    )
    assert "content-encoding" not in plain.headers
    assert plain.content == app_forecasts.surface_geojson(real_surface)
    assert plain.headers["etag"] == first.headers["etag"]

    again = _get(
        client, tokens, "/api/forecasts/current/geojson", **{"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]

    stale = _get(client, tokens, "/api/forecasts/current/geojson", **{"If-None-Match": 'W/"old"'})
    assert stale.status_code == 200


def test_each_answer_is_serialised_once_per_surface(env, real_surface, monkeypatch):
    client, tokens, holder = env
    calls = {"geojson": 0, "top": 0}
    real_geojson, real_top = app_forecasts.surface_geojson, app_forecasts.top_areas

    def counting_geojson(s: RiskSurface) -> bytes:
        calls["geojson"] += 1
        return real_geojson(s)

    def counting_top(s: RiskSurface, k: int, shared=None):
        calls["top"] += 1
        return real_top(s, k, shared)

    monkeypatch.setattr(app_forecasts, "surface_geojson", counting_geojson)
    monkeypatch.setattr(app_forecasts, "top_areas", counting_top)
    # a surface no earlier test has served
    fresh = RiskSurface.from_dict(real_surface.to_dict())
    holder["surface"] = fresh
    try:
        for _ in range(3):
            assert _get(client, tokens, "/api/forecasts/current/geojson").status_code == 200
            assert _get(client, tokens, "/api/forecasts/current/top?k=7").status_code == 200
        assert calls == {"geojson": 1, "top": 1}
        # a new forecast is a new surface: served anew, with a new validator
        etag = _get(client, tokens, "/api/forecasts/current/geojson").headers["etag"]
        changed = RiskSurface.from_dict({**real_surface.to_dict()})
        changed.risk = np.asarray(changed.risk, float) * 2
        holder["surface"] = changed
        answer = _get(client, tokens, "/api/forecasts/current/geojson", **{"If-None-Match": etag})
        assert answer.status_code == 200
        assert answer.headers["etag"] != etag
        assert calls["geojson"] == 2
    finally:
        holder["surface"] = real_surface


def test_top_and_area_answers_match_the_surface(env, real_surface):
    client, tokens, _ = env
    top = _get(client, tokens, "/api/forecasts/current/top?k=5")
    assert top.status_code == 200
    rows = top.json()
    order = np.argsort(-np.asarray(real_surface.risk, float), kind="stable")[:5]
    assert [r["area_id"] for r in rows] == [str(real_surface.area_id[i]) for i in order]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0]["risk"] == pytest.approx(float(real_surface.risk[order[0]]))
    again = _get(
        client, tokens, "/api/forecasts/current/top?k=5", **{"If-None-Match": top.headers["etag"]}
    )
    assert again.status_code == 304

    area = rows[2]["area_id"]
    detail = _get(client, tokens, f"/api/forecasts/current/areas/{area}")
    assert detail.status_code == 200
    body = detail.json()
    assert body["rank"] == 3
    assert body["share_of_city"] == pytest.approx(
        float(real_surface.risk[order[2]]) / float(np.sum(real_surface.risk))
    )
    # history: the incidents of the area before the window, month by month
    cell = real_surface.grid.locate(violence()["x"].to_numpy(), violence()["y"].to_numpy())
    before = violence()["time"] < real_surface.start.tz_localize(None)
    assert sum(h["count"] for h in body["history"]) == int(((cell == order[2]) & before).sum())

    for _ in range(2):  # an unknown area is refused every time, never cached as an answer
        assert _get(client, tokens, "/api/forecasts/current/areas/nowhere").status_code == 404


def test_gzip_body_is_the_plain_body_compressed(real_surface):
    enc = app_forecasts.surface_layer(real_surface)
    assert gzip.decompress(enc.gzipped) == enc.body
    assert len(enc.gzipped) < len(enc.body) / 3


def _audit_actions(app, case_id: int) -> list[str]:
    from sqlalchemy import select

    from vigil.db.audit import AuditEntry

    with app.state.ctx.session_factory() as s:
        return list(s.scalars(select(AuditEntry.action).where(AuditEntry.case_id == case_id)).all())


def test_case_evidence_is_decoded_once_but_checked_and_logged_every_time(
    tmp_path, real_surface, monkeypatch
):
    """Every view of a case page fetched its evidence layer, and every fetch decoded the
    frozen snapshot and rebuilt its GeoJSON (issue 11)."""
    from sqlalchemy import update

    from tests.api.conftest import open_case
    from vigil.db.cases import Case

    app, clock, tokens = build_app(tmp_path, real_surface)
    calls = {"geojson": 0}
    real_geojson = app_forecasts.surface_geojson

    def counting_geojson(s: RiskSurface) -> bytes:
        calls["geojson"] += 1
        return real_geojson(s)

    monkeypatch.setattr(app_forecasts, "surface_geojson", counting_geojson)
    # the layer cache is process-wide and keyed by snapshot digest: another test on this worker
    # may have built this very snapshot's layer, so start cold to count the one decode
    monkeypatch.setattr(app_forecasts, "_EVIDENCE", type(app_forecasts._EVIDENCE)())
    with TestClient(app) as client:
        case = open_case(client, tokens, clock)
        url = f"/api/cases/{case['id']}/evidence"
        before = _audit_actions(app, case["id"]).count("case.evidence.read")
        first = _get(client, tokens, url)
        assert first.status_code == 200
        layer = json.loads(first.content)
        assert layer == json.loads(real_geojson(real_surface))  # the frozen surface, as frozen
        again = _get(client, tokens, url)
        assert again.content == first.content
        not_modified = _get(client, tokens, url, **{"If-None-Match": first.headers["etag"]})
        assert not_modified.status_code == 304
        assert calls["geojson"] == 1
        reads = _audit_actions(app, case["id"]).count("case.evidence.read") - before
        assert reads == 3  # one logged read per request, 304 included

        # a snapshot edited behind the application's back is refused, cached or not
        with app.state.ctx.session_factory() as s, s.begin():
            s.execute(
                update(Case)
                .where(Case.id == case["id"])
                .values(evidence_json=Case.evidence_json + " ")
            )
        tampered = _get(client, tokens, url)
        assert tampered.status_code >= 400
        assert "digest" in tampered.text
        after = _audit_actions(app, case["id"]).count("case.evidence.read") - before
        assert after == 3  # the refused read is not logged as a disclosure
