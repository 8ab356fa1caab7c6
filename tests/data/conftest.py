"""Real slices of ../shared/data, cut once per session."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def london_slice(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 3,000 data rows of met-street-2022/london_crimes_2022.csv.gz, as a plain CSV."""
    src = shared_data / "met-street-2022" / "london_crimes_2022.csv.gz"
    out = tmp_path_factory.mktemp("slices") / "london_slice.csv"
    with gzip.open(src, "rt", encoding="utf-8") as fh:
        lines = [next(fh) for _ in range(3001)]
    out.write_text("".join(lines), encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def city_street(shared_data: Path) -> Path:
    """The raw police.uk City of London folder (18 monthly street files, 10,118 rows)."""
    return shared_data / "city-of-london-2016-2017"
