"""Real-data slices for the forecast tests, loaded once per session.

London: /work/shared/data/met-street-2022/london_crimes_2022.csv.gz (police.uk, month-only),
serious violence = "violent or sexual" + "robbery", points outside London (no LSOA) dropped.
Chicago: /work/shared/data/chicago-aggravated-assaults-2010-2016 (timestamped to the minute).
Until vigil.data.datasets lands, the canonical table is built here directly.
"""

from __future__ import annotations

from functools import lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from vigil.data.schema import INCIDENT_COLUMNS
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, with_xy
from vigil.settings import _find_shared_data

SHARED = _find_shared_data()


def _canonical(frame: pd.DataFrame, dataset: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "incident_id": [f"{dataset}-{i}" for i in range(len(frame))],
            "dataset": dataset,
            "category": frame["category"].to_numpy(),
            "raw_category": frame["raw"].to_numpy(),
            "time": frame["time"].to_numpy(),
            "precision": frame["precision"].to_numpy(),
            "lon": frame["lon"].to_numpy(),
            "lat": frame["lat"].to_numpy(),
            "area_code": pd.NA,
            "location_type": pd.NA,
            "source_file": dataset,
            "source_row": np.arange(1, len(frame) + 1),
        }
    )
    return out.astype(INCIDENT_COLUMNS)


@lru_cache(maxsize=1)
def london_violence() -> pd.DataFrame:
    raw = pd.read_csv(SHARED / "met-street-2022" / "london_crimes_2022.csv.gz")
    raw = raw[raw["lsoa11cd_pip"].notna()]
    raw = raw[raw["type"].isin(["violent or sexual", "robbery"])]
    frame = pd.DataFrame(
        {
            "category": raw["type"].map({"violent or sexual": "violence", "robbery": "robbery"}),
            "raw": raw["type"],
            "time": pd.to_datetime(raw["month"] + "-01"),
            "precision": "month",
            "lon": raw["longitude"],
            "lat": raw["latitude"],
        }
    )
    df, _ = with_xy(_canonical(frame, "met-street-2022"), BNG)
    return df


@lru_cache(maxsize=1)
def london_boundary() -> shapely.Geometry:
    lad = gpd.read_file(SHARED / "london-geography" / "boundaries" / "london-2021-lad22-gen20.shp")
    return shapely.union_all(lad.to_crs(BNG).geometry.to_numpy())


@lru_cache(maxsize=4)
def london_grid(cell: float = 250.0) -> Grid:
    return Grid.from_boundary(london_boundary(), cell=cell, crs=BNG)


@lru_cache(maxsize=1)
def chicago_assaults() -> pd.DataFrame:
    path = (
        SHARED
        / "chicago-aggravated-assaults-2010-2016"
        / "chicago_aggravated_assaults_2010_2016.csv.gz"
    )
    raw = pd.read_csv(path).dropna(subset=["longitude", "latitude"])
    frame = pd.DataFrame(
        {
            "category": "aggravated_assault",
            "raw": "aggravated assault",
            "time": pd.to_datetime(raw["date"]),
            "precision": "minute",
            "lon": raw["longitude"],
            "lat": raw["latitude"],
        }
    )
    df, _ = with_xy(_canonical(frame, "chicago"), "EPSG:32616")
    return df


def chicago_grid(df: pd.DataFrame, cell: float = 150.0) -> Grid:
    """Cells of the box around the points that hold any incident in the data given."""
    full = Grid.from_bounds(df.x.min(), df.y.min(), df.x.max(), df.y.max(), cell, "EPSG:32616")
    hull = shapely.convex_hull(shapely.multipoints(np.c_[df.x, df.y]))
    return Grid.from_boundary(hull, cell, full.crs)
