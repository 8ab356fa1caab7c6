"""Session-scoped real-data fixtures for the forecast tests (see _data.py for the sources)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.forecast import _data
from vigil.geo.grid import Grid


@pytest.fixture(scope="session")
def london() -> pd.DataFrame:
    return _data.london_violence()


@pytest.fixture(scope="session")
def london_grid() -> Grid:
    return _data.london_grid(250.0)


@pytest.fixture(scope="session")
def chicago() -> pd.DataFrame:
    """Chicago aggravated assaults 2015-2016 (minute timestamps)."""
    df = _data.chicago_assaults()
    return df[(df.time >= "2015-01-01") & (df.time < "2017-01-01")].reset_index(drop=True)


@pytest.fixture(scope="session")
def chicago_grid(chicago: pd.DataFrame) -> Grid:
    return _data.chicago_grid(chicago, 150.0)
