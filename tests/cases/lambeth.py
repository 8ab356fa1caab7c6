"""Real incidents for the case and impact fixtures: police.uk street crime recorded in Lambeth
in January-June 2022 (shared/data/met-street-2022), on a 250 m British National Grid over them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from vigil.geo.grid import Grid
from vigil.geo.projection import BNG, to_metres


def lambeth_first_half_2022(
    shared_data: Path, types: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, Grid]:
    """The crimes of ``types``: their months ("2022-01" ...), x and y in BNG metres, and a 250 m
    grid over their extent."""
    frame = pd.read_csv(
        shared_data / "met-street-2022" / "london_crimes_2022.csv.gz",
        usecols=["month", "type", "longitude", "latitude", "borough_pip"],
    )
    frame = frame[
        (frame["borough_pip"] == "Lambeth")
        & frame["type"].isin(list(types))
        & (frame["month"] <= "2022-06")
    ]
    x, y = to_metres(frame["longitude"], frame["latitude"], BNG)
    grid = Grid.from_bounds(x.min(), y.min(), x.max(), y.max(), cell=250.0, crs=BNG)
    return frame["month"].to_numpy(), x, y, grid
