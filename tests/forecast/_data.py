"""Real-data slices for the forecast tests, loaded once per session.

London: /work/shared/data/met-street-2022 (police.uk 2022, month-only) through
vigil.data.datasets.load_london_2022, serious violence = taxonomy SERIOUS_VIOLENCE codes present
(violence, robbery), projected to British National Grid.
Chicago: /work/shared/data/chicago-aggravated-assaults-2010-2016 (timestamped to the minute)
through vigil.data.datasets.load_chicago, projected to UTM 16N.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import shapely

from vigil.data.datasets import load_chicago, load_london_2022
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.geo.areas import london_boundary
from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, with_xy

CHICAGO_CRS = "EPSG:32616"


@lru_cache(maxsize=1)
def london_violence() -> pd.DataFrame:
    df = load_london_2022()
    df = df[df["category"].isin(SERIOUS_VIOLENCE)].reset_index(drop=True)
    return with_xy(df, BNG)[0]


@lru_cache(maxsize=4)
def london_grid(cell: float = 250.0) -> Grid:
    return Grid.from_boundary(london_boundary(), cell=cell, crs=BNG)


@lru_cache(maxsize=1)
def chicago_assaults(first: int = 2013, last: int = 2016) -> pd.DataFrame:
    return with_xy(load_chicago(years=(first, last)), CHICAGO_CRS)[0]


def chicago_grid(df: pd.DataFrame, cell: float = 150.0) -> Grid:
    """Cells of the convex hull of the points given (Chicago has no bundled city boundary)."""
    hull = shapely.convex_hull(shapely.multipoints(np.c_[df.x, df.y]))
    return Grid.from_boundary(hull, cell, CHICAGO_CRS)
