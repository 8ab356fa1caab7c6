"""Route matching without re-walking every router on every request.

FastAPI (0.16x) keeps an included router's routes lazily and, to notice a route added later,
asks the router for a "routes version" on every match: a walk over every route of the router and
of each router included in it, for each router tried in turn. With the app's dozen routers that
walk was about a seventh of the server's CPU under load (issue 11: a profile of
``bench_load.py``). Here each router's version is memoised on what it can change by: its own
counter (bumped by FastAPI whenever a route is added through it) and the length of its route
list; its children's versions are asked of them, memoised the same way. The answer stays a
number that changes whenever any route below changes, which is all FastAPI compares it for.

Only installed when FastAPI's router has the private pieces this relies on; otherwise FastAPI's
own walk is left as it is.
"""

from __future__ import annotations

from typing import Any


def memoise_route_versions(router: Any) -> None:
    """Memoise ``router``'s routes version and those of the routers included in it."""
    try:
        from fastapi.routing import _IncludedRouter
    except ImportError:  # pragma: no cover - another FastAPI: keep its own walk
        return
    if not hasattr(router, "_routes_version") or not hasattr(router, "_get_routes_version"):
        return  # pragma: no cover
    if getattr(router, "_vigil_memoised", False):
        return
    state: dict[str, Any] = {"key": None, "children": []}

    def children() -> list[Any]:
        key = (router._routes_version, len(router.routes))
        if state["key"] != key:
            found = [r.original_router for r in router.routes if isinstance(r, _IncludedRouter)]
            for child in found:
                memoise_route_versions(child)
            state["key"], state["children"] = key, found
        kids: list[Any] = state["children"]
        return kids

    def routes_version(seen: set[int] | None = None) -> int:
        seen = set() if seen is None else seen
        if id(router) in seen:
            return int(router._routes_version)
        seen.add(id(router))
        version = int(router._routes_version)
        for child in children():
            version += child._get_routes_version(seen)
        return version

    router._get_routes_version = routes_version
    router._vigil_memoised = True
    children()
