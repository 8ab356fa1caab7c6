"""Real-data pieces shared by the API and browser tests, built once per session.

The surface is a real forecast: police.uk street crime in London 2022
(/work/shared/data/met-street-2022, via vigil.data.datasets), victim-reported serious violence,
NaiveCounts over January-June on a 500 m grid clipped to the 33 boroughs
(/work/shared/data/london-geography/boundaries), predicting the first week of July 2022.
"""

from __future__ import annotations

from functools import lru_cache

import pandas as pd
import shapely

from vigil.data.datasets import load_london_2022
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.registry import make_model
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, with_xy
from vigil.roles import Role
from vigil.settings import _find_shared_data

SHARED = _find_shared_data()
UNTIL = pd.Timestamp("2022-07-01")
PASSWORD = "correct horse battery staple"

#: one account per role (username, role, rank, borough)
ACCOUNTS = [
    ("analyst", "analyst", "none", None),
    ("analyst2", "analyst", "none", None),
    ("commander", "local_commander", "superintendent", "Westminster"),
    ("lead", "community_lead", "none", None),
    ("ao", "authorising_officer", "assistant_commissioner", None),
    ("ao2", "authorising_officer", "assistant_commissioner", None),
    ("oversight", "oversight", "none", None),
    ("admin", "administrator", "none", None),
]
#: the first account of each role (reversed, so the first one listed wins)
USER_OF = {Role(role): username for username, role, _, _ in reversed(ACCOUNTS)}


@lru_cache(maxsize=1)
def violence() -> pd.DataFrame:
    df = load_london_2022(SHARED)
    df = df[df["category"].isin(SERIOUS_VIOLENCE)].reset_index(drop=True)
    df, _ = with_xy(df, BNG)
    return df


@lru_cache(maxsize=1)
def grid() -> Grid:
    import geopandas as gpd

    lad = gpd.read_file(SHARED / "london-geography" / "boundaries" / "london-2021-lad22-gen20.shp")
    boundary = shapely.union_all(lad.to_crs(BNG).geometry.to_numpy())
    return Grid.from_boundary(boundary, cell=500.0, crs=BNG)


@lru_cache(maxsize=1)
def surface() -> RiskSurface:
    model = make_model("naive", window="6M").fit(violence(), UNTIL, grid())
    return model.predict(UNTIL, UNTIL + pd.Timedelta(days=7))
