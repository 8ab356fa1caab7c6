"""The intelligence picture as the shells show it: the current surface, its top areas with their
drivers, one area in detail (with its recorded history) and the surface as compact GeoJSON.

A surface does not change once saved, so what is derived from it for the shells (the GeoJSON
layer, the ranks and percentiles, the top areas, an area's detail) is computed once per surface
and kept beside it (:func:`derived`), already serialised and compressed (:class:`Encoded`), with
an ETag so a client that has it gets a 304. A new surface gets a new cache; the old one goes
with the old surface object.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pydantic import BaseModel

from vigil.app.area_names import area_names, describe_area
from vigil.app.context import AppContext
from vigil.app.history import area_history
from vigil.app.map_classes import classify
from vigil.app.surfaces import percentile_ranks
from vigil.cases.evidence import thaw
from vigil.errors import NotFound
from vigil.forecast.surface import DRIVER_COLUMNS, RiskSurface
from vigil.geo.projection import to_lonlat
from vigil.roles import Actor

#: decimal places kept in map coordinates: ~1 m, plenty for 100 m+ cells, and a third the bytes
COORD_DP = 5


class SurfaceInfo(BaseModel):
    model: str
    start: str
    end: str
    n_areas: int
    total_risk: float
    max_risk: float
    params: dict[str, Any]
    data_version: dict[str, Any]


class AreaRisk(BaseModel):
    area_id: str
    #: what a person reads: "Coldharbour ward, Lambeth — 500 m cell 39/55" (vigil.app.area_names)
    label: str
    #: the ward and borough alone, None where no ward layer covers the area
    place: str | None
    rank: int
    risk: float
    percentile: float
    #: the area's share of the whole force's expected count
    share_of_city: float
    x: float
    y: float
    drivers: dict[str, float] | None = None


class AreaDetail(AreaRisk):
    model: str
    start: str
    end: str
    #: recorded incidents of the forecast's categories in the area, per month, before the window
    history: list[dict[str, Any]]


#: the media type of every map layer (forecast surfaces, evidence, boroughs, wards)
GEOJSON = "application/geo+json"


@dataclass(frozen=True)
class Encoded:
    """A response body serialised once: as is, gzip-compressed, and its validator."""

    body: bytes
    gzipped: bytes
    #: a weak validator (``W/"..."``): the same for both codings of the same content
    etag: str
    media_type: str

    @classmethod
    def of(cls, body: bytes, media_type: str) -> Encoded:
        digest = hashlib.sha256(body).hexdigest()[:32]
        # level 6: the layer is compressed once per surface, then served many times
        return cls(body, gzip.compress(body, 6, mtime=0), f'W/"{digest}"', media_type)

    @classmethod
    def geojson(cls, body: bytes) -> Encoded:
        return cls.of(body, GEOJSON)

    @classmethod
    def json(cls, value: Any) -> Encoded:
        return cls.of(json.dumps(value, separators=(",", ":")).encode(), "application/json")


class _Derived:
    """What the shells derive from one surface: ranks and percentiles, and serialised answers
    by key (a few fixed ones, plus at most ``MAX_AREAS`` area details, least recent dropped)."""

    MAX_AREAS = 4096

    def __init__(self, surface: RiskSurface) -> None:
        risk = np.asarray(surface.risk, float)
        self.order = surface.ranking()
        self.rank = np.empty(len(surface), int)
        self.rank[self.order] = np.arange(1, len(surface) + 1)
        self.percentile = percentile_ranks(risk)
        self.total = float(np.sum(risk))
        #: the map's colour band of each area and the legend's bands (vigil.app.map_classes)
        self.band, self.bands = classify(risk)
        self.index = {str(a): i for i, a in enumerate(np.asarray(surface.area_id))}
        self.drivers: dict[str, dict[str, float]] = {}
        if surface.drivers is not None:
            cols = [c for c in DRIVER_COLUMNS if c in surface.drivers.columns]
            for row in surface.drivers.to_dict("records"):
                self.drivers.setdefault(str(row["area_id"]), {c: float(row[c]) for c in cols})
        self.answers: OrderedDict[str, Encoded] = OrderedDict()
        self.lock = threading.Lock()

    def answer(self, key: str, build: Callable[[], Encoded]) -> Encoded:
        with self.lock:
            hit = self.answers.get(key)
            if hit is not None:
                self.answers.move_to_end(key)
                return hit
        value = build()  # outside the lock: two first requests may both build, same result
        with self.lock:
            self.answers[key] = value
            if len(self.answers) > self.MAX_AREAS:
                self.answers.popitem(last=False)
        return value


_DERIVED: weakref.WeakKeyDictionary[RiskSurface, _Derived] = weakref.WeakKeyDictionary()
_DERIVED_LOCK = threading.Lock()


def derived(surface: RiskSurface) -> _Derived:
    """The cache of what is derived from ``surface`` (built on first use, once)."""
    with _DERIVED_LOCK:
        d = _DERIVED.get(surface)
        if d is None:
            d = _DERIVED[surface] = _Derived(surface)
        return d


#: evidence layers by snapshot digest (a snapshot never changes; a few dozen cases are live)
_EVIDENCE: OrderedDict[str, Encoded] = OrderedDict()
_EVIDENCE_MAX = 32


def evidence_layer(ctx: AppContext, actor: Actor, case_id: int) -> Encoded:
    """A case's frozen evidence as a map layer: the read is logged and the stored snapshot
    checked against its digest every time, but it is decoded and turned into GeoJSON only the
    first time its digest is seen (issue 11: every case view decoded it again)."""
    text, digest = ctx.cases.evidence_snapshot(actor, case_id)
    with _DERIVED_LOCK:
        hit = _EVIDENCE.get(digest)
        if hit is not None:
            _EVIDENCE.move_to_end(digest)
            return hit
    layer = Encoded.geojson(surface_geojson(thaw(text, None)))
    with _DERIVED_LOCK:
        _EVIDENCE[digest] = layer
        while len(_EVIDENCE) > _EVIDENCE_MAX:
            _EVIDENCE.popitem(last=False)
    return layer


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _drivers(surface: RiskSurface, area_id: str) -> dict[str, float] | None:
    return derived(surface).drivers.get(area_id)


def surface_geojson(surface: RiskSurface) -> bytes:
    """Non-zero areas as WGS84 polygons with risk, rank, percentile and colour band, compactly
    encoded.

    Vectorised (one pyproj call for every vertex, GEOS writes the geometries): a 26,000-cell
    London grid takes a fraction of a second, where going through a GeoDataFrame takes seconds.
    """
    keep = np.flatnonzero(np.asarray(surface.risk, float) > 0)

    def project(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_lonlat(xy[:, 0], xy[:, 1], surface.crs)
        return np.round(np.column_stack([lon, lat]), COORD_DP)

    geoms = shapely.to_geojson(shapely.transform(surface.polygons()[keep], project))
    d = derived(surface)
    pct, rank, band = d.percentile, d.rank, d.band
    features = [
        '{"type":"Feature","geometry":'
        + geom
        + ',"properties":'
        + json.dumps(
            {
                "area_id": str(surface.area_id[i]),
                "risk": round(float(surface.risk[i]), 4),
                "rank": int(rank[i]),
                "percentile": round(float(pct[i]), 2),
                "band": int(band[i]),
            },
            separators=(",", ":"),
        )
        + "}"
        for geom, i in zip(geoms, keep, strict=True)
    ]
    props = json.dumps(
        {"model": surface.model, "start": surface.start.isoformat(), "end": surface.end.isoformat()}
    )
    body = '{"type":"FeatureCollection","properties":' + props
    return (body + ',"features":[' + ",".join(features) + "]}").encode()


def surface_layer(surface: RiskSurface) -> Encoded:
    """The map layer of ``surface``, serialised and compressed once."""
    return derived(surface).answer("geojson", lambda: Encoded.geojson(surface_geojson(surface)))


def top_areas_encoded(surface: RiskSurface, k: int, shared: Path | None = None) -> Encoded:
    """:func:`top_areas` as a JSON body, once per surface and ``k``."""
    return derived(surface).answer(
        f"top:{k}", lambda: Encoded.json([a.model_dump() for a in top_areas(surface, k, shared)])
    )


def area_detail_encoded(ctx: AppContext, surface: RiskSurface, area_id: str) -> Encoded:
    """:func:`area_detail` as a JSON body, once per surface and area (an unknown area raises
    NotFound every time and is not kept)."""
    return derived(surface).answer(
        f"area:{area_id}",
        lambda: Encoded.json(area_detail(ctx, surface, area_id).model_dump()),
    )


def _share(d: _Derived, risk: float) -> float:
    return risk / d.total if d.total > 0 else 0.0


def top_areas(s: RiskSurface, k: int, shared: Path | None = None) -> list[AreaRisk]:
    """The ``k`` highest areas, named from the ward layer under ``shared`` (the app's
    shared data folder; None: cell references only)."""
    d = derived(s)
    names = area_names(s, shared)
    out = []
    for n, i in enumerate(d.order[:k], start=1):
        aid = str(s.area_id[i])
        out.append(
            AreaRisk(
                area_id=aid,
                label=names[aid].label,
                place=names[aid].place,
                rank=n,
                risk=float(s.risk[i]),
                percentile=float(d.percentile[i]),
                share_of_city=_share(d, float(s.risk[i])),
                x=float(s.x[i]),
                y=float(s.y[i]),
                drivers=_drivers(s, aid),
            )
        )
    return out


def area_detail(ctx: AppContext, s: RiskSurface, area_id: str) -> AreaDetail:
    d = derived(s)
    i = d.index.get(area_id)
    if i is None:
        raise NotFound(f"area '{area_id}' is not in this forecast ({s.model})")
    history = area_history(ctx, s, i)
    name = describe_area(s, area_id, ctx.settings.shared_data)
    return AreaDetail(
        area_id=area_id,
        label=name.label,
        place=name.place,
        rank=int(d.rank[i]),
        risk=float(s.risk[i]),
        percentile=float(d.percentile[i]),
        x=float(s.x[i]),
        y=float(s.y[i]),
        drivers=_drivers(s, area_id),
        model=s.model,
        start=s.start.isoformat(),
        end=s.end.isoformat(),
        share_of_city=_share(d, float(s.risk[i])),
        history=history,
    )


def log_forecast_read(
    ctx: AppContext, actor: Actor, surface: RiskSurface, what: str, **detail: Any
) -> None:
    """Forecast reads are logged (DPA 2018 s.62: consultation): which surface, which part."""
    from vigil.app.audit import record_read

    record_read(
        ctx,
        actor,
        "forecast.read",
        detail={
            "what": what,
            "model": surface.model,
            "start": surface.start.isoformat(),
            **detail,
        },
    )
