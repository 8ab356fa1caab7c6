"""The RiskSurface: one expected count per area for one time window.

It is the unit the rest of Vigil passes around: the map shows it, a case freezes it as evidence,
the impact assessment compares an area against it, the evaluation scores it. It exports to CSV
(``area_id,x,y,risk`` with x/y the area centre in the working projection) and to GeoJSON in
WGS84 so analysts can open it in QGIS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from vigil.geo.grid import Grid
from vigil.geo.projection import WGS84

#: Driver columns a model may fill for its top areas; each is a share of the area's risk.
DRIVER_COLUMNS = ("long_run", "recent", "near_repeat")


@dataclass(eq=False)
class RiskSurface:
    area_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    risk: np.ndarray  # expected count of target incidents in [start, end)
    crs: str
    start: pd.Timestamp
    end: pd.Timestamp
    model: str
    params: dict[str, Any] = field(default_factory=dict)
    #: area_id + DRIVER_COLUMNS (expected counts from each source) for the top areas
    drivers: pd.DataFrame | None = None
    #: the grid the areas come from (None for polygon areas)
    grid: Grid | None = None
    #: area polygons in ``crs`` when areas are not grid cells
    geometry: np.ndarray | None = None
    #: land area of each area in m^2 (clipped to the boundary) for area-normalised metrics
    area_m2: np.ndarray | None = None
    #: free-form facts about the data the model used (categories, police-generated share, ...)
    data_version: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.area_id)
        for name in ("x", "y", "risk"):
            if len(getattr(self, name)) != n:
                raise ValueError(
                    f"RiskSurface.{name} has {len(getattr(self, name))} values, expected {n}"
                )
        if self.area_m2 is None and self.grid is not None:
            self.area_m2 = self.grid.clipped_area
        if self.area_m2 is None and self.geometry is not None:
            self.area_m2 = shapely.area(self.geometry)

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.area_id)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"area_id": self.area_id, "x": self.x, "y": self.y, "risk": self.risk})

    def ranking(self) -> np.ndarray:
        """Area indices from highest to lowest risk; ties broken by area order (stable)."""
        return np.argsort(-np.asarray(self.risk, float), kind="stable")

    def top(self, k: int) -> pd.DataFrame:
        frame = self.to_frame().iloc[self.ranking()[:k]].reset_index(drop=True)
        if self.drivers is not None:
            frame = frame.merge(self.drivers, on="area_id", how="left")
        return frame

    def polygons(self) -> np.ndarray:
        if self.geometry is not None:
            return self.geometry
        if self.grid is not None:
            return self.grid.polygons()
        raise ValueError("this RiskSurface has neither a grid nor area polygons")

    # ------------------------------------------------------------------ export
    def to_csv(self, path: str | Path) -> Path:
        path = Path(path)
        # full precision: Python writes the shortest text that reads back to the same double
        self.to_frame().to_csv(path, index=False)
        return path

    def to_geojson(self, path: str | Path | None = None) -> dict[str, Any]:
        """Areas as WGS84 polygons with ``area_id`` and ``risk``; written to ``path`` if given."""
        import geopandas as gpd

        frame = gpd.GeoDataFrame(
            self.to_frame()[["area_id", "risk"]], geometry=self.polygons(), crs=self.crs
        ).to_crs(WGS84)
        if self.drivers is not None:
            frame = frame.merge(self.drivers, on="area_id", how="left")
        data = json.loads(frame.to_json(drop_id=True))
        data["properties"] = {
            "model": self.model,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }
        if path is not None:
            Path(path).write_text(json.dumps(data))
        return data

    # ------------------------------------------------------------------ snapshot
    def to_json(self, path: str | Path) -> Path:
        """Write the snapshot (``to_dict``) to ``path`` through a temporary file and a rename,
        so a reader polling the folder (the web map) never sees half a file."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict()))
        tmp.replace(path)
        return path

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form, enough to rebuild the surface exactly (evidence snapshots)."""
        return {
            "area_id": [str(a) for a in self.area_id],
            "x": np.asarray(self.x, float).tolist(),
            "y": np.asarray(self.y, float).tolist(),
            "risk": np.asarray(self.risk, float).tolist(),
            "crs": self.crs,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "model": self.model,
            "params": self.params,
            "drivers": None if self.drivers is None else self.drivers.to_dict(orient="list"),
            "grid": None if self.grid is None else self.grid.to_dict(),
            "geometry": None
            if self.geometry is None
            else [shapely.to_wkt(g, rounding_precision=2) for g in self.geometry],
            "area_m2": None if self.area_m2 is None else np.asarray(self.area_m2).tolist(),
            "data_version": self.data_version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RiskSurface:
        return cls(
            area_id=np.asarray(d["area_id"], dtype=str),
            x=np.asarray(d["x"], float),
            y=np.asarray(d["y"], float),
            risk=np.asarray(d["risk"], float),
            crs=d["crs"],
            start=pd.Timestamp(d["start"]),
            end=pd.Timestamp(d["end"]),
            model=d["model"],
            params=dict(d.get("params") or {}),
            drivers=None if d.get("drivers") is None else pd.DataFrame(d["drivers"]),
            grid=None if d.get("grid") is None else Grid.from_dict(d["grid"]),
            geometry=None
            if d.get("geometry") is None
            else shapely.from_wkt(np.asarray(d["geometry"], dtype=object)),
            area_m2=None if d.get("area_m2") is None else np.asarray(d["area_m2"], float),
            data_version=dict(d.get("data_version") or {}),
        )
