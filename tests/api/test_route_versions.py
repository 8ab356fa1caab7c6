"""Issue 11: route matching no longer walks every router's routes on every request
(vigil.http.routing), and a route added after the app was built is still found."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from vigil.http.routing import memoise_route_versions


def _app() -> tuple[FastAPI, APIRouter, APIRouter]:
    app = FastAPI()
    inner, outer = APIRouter(), APIRouter()
    inner.add_api_route("/a", lambda: {"route": "a"}, methods=["GET"])
    outer.include_router(inner, prefix="/inner")
    app.include_router(outer, prefix="/outer")
    return app, outer, inner


def test_routes_added_later_are_found_and_the_walk_is_not_repeated(monkeypatch) -> None:
    app, outer, inner = _app()
    memoise_route_versions(app.router)
    client = TestClient(app)
    assert client.get("/outer/inner/a").json() == {"route": "a"}

    walks = []

    class Counting(list):
        def __iter__(self):  # type: ignore[no-untyped-def]
            walks.append(1)
            return super().__iter__()

    inner.routes = Counting(inner.routes)
    for _ in range(5):
        assert client.get("/outer/inner/a").status_code == 200
    assert len(walks) <= 5, len(walks)  # FastAPI's own walk: 25 here, five per request

    # a route added to an included router afterwards (FastAPI bumps its counter), and one
    # appended to its list directly: both found
    inner.add_api_route("/b", lambda: {"route": "b"}, methods=["GET"])
    assert client.get("/outer/inner/b").json() == {"route": "b"}
    late = APIRouter()
    late.add_api_route("/c", lambda: {"route": "c"}, methods=["GET"])
    outer.include_router(late, prefix="/late")
    assert client.get("/outer/late/c").json() == {"route": "c"}


def test_the_real_app_answers_through_memoised_routers(client) -> None:
    assert getattr(client.app.router, "_vigil_memoised", False)
    assert client.get("/healthz").status_code == 200
