"""Real-data fixtures for the outcome tests, built once per session.

London: shared/data/met-street-2022 (police.uk 2022, month-only) via vigil.data.datasets, serious
violence only, projected to British National Grid; the grid is 250 m cells clipped to the London
boroughs (shared/data/london-geography/boundaries/london-2021-lad22-gen20.shp). The forecast is
the naive model fitted on January and February 2022: the picture an analyst had in March.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from vigil.data.datasets import load_london_2022
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.registry import make_model
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, with_xy

SEASON_START = pd.Timestamp("2022-03-01")


@pytest.fixture(scope="session")
def london_sv(shared_data) -> pd.DataFrame:
    df = load_london_2022(shared_data)
    df = df[df["category"].isin(SERIOUS_VIOLENCE)].reset_index(drop=True)
    out, _ = with_xy(df, BNG)
    return out


@pytest.fixture(scope="session")
def london_grid(shared_data) -> Grid:
    lad = gpd.read_file(
        shared_data / "london-geography" / "boundaries" / "london-2021-lad22-gen20.shp"
    )
    boundary = shapely.union_all(lad.to_crs(BNG).geometry.to_numpy())
    return Grid.from_boundary(boundary, cell=250.0, crs=BNG)


@pytest.fixture(scope="session")
def march_surface(london_sv, london_grid) -> RiskSurface:
    model = make_model("naive", window="2M").fit(london_sv, SEASON_START, london_grid)
    return model.predict(SEASON_START, SEASON_START + pd.Timedelta(days=1))
