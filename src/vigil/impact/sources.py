"""The London files the community impact indicators are computed from, read once per process.

Each loader takes the shared data folder and returns a plain table keyed the way the indicators
need it (LSOA-2011 code, census group, British National Grid metres); the file names and column
names of the published sources live here and nowhere else. Loaders are memoised because the
same files serve every area a lead looks at, and the slow ones (the spreadsheets, the
stop-and-search files, the street crimes) are parsed once per machine (:mod:`vigil.data.cache`):
a server worker's first assessment no longer spends a minute reading them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from vigil.data.cache import cached_table
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.errors import DataError
from vigil.geo.projection import BNG, to_metres

#: the census's five broad ethnic groups, in the order every table shows them
GROUPS: tuple[str, ...] = ("White", "Mixed", "Asian", "Black", "Other")

LSOA_SHP = Path("london-geography/boundaries/london-2011-lsoa-gen20.shp")
WARDS_ZIP = Path("london-boundaries-extra/london_wards.zip")
POPULATION_CSV = Path("london-geography/population/london-mid2020-pop.csv")
ATLAS_CSV = Path("london-demographics/lsoa-data_clean.csv")
IMD_XLSX = Path("london-boundaries-extra/london_lsoa_deprivation.xlsx")
STOP_SEARCH_DIR = Path("met-stop-search-2015-2016")
#: the only Met stop-and-search month published with locations: the source of area figures
AREA_STOP_SEARCH_FILE = "2016-06-metropolitan-stop-and-search.csv"
LONG_RUN_FILES = (
    Path("london-geography/crime_annual_lsoa/london-2011-2021-major-violence.csv"),
    Path("london-geography/crime_annual_lsoa/london-2011-2021-major-robbery.csv"),
)
AGE_BANDS = ("0-15", "16-29", "30-44", "45-64", "65+")
ATLAS_ETHNICITY = {
    "White": "Ethnic Group;White;2011",
    "Mixed": "Ethnic Group;Mixed/multiple ethnic groups;2011",
    "Asian": "Ethnic Group;Asian/Asian British;2011",
    "Black": "Ethnic Group;Black/African/Caribbean/Black British;2011",
    "Other": "Ethnic Group;Other ethnic group;2011",
}
IMD_SCORE = "Index of Multiple Deprivation (IMD) Score"
IMD_DECILE = "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
IMD_POP = "Total population: mid 2015 (excluding prisoners)"


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataError("dataset not found (set VIGIL_SHARED_DATA)", file=str(path))
    return path


@lru_cache(maxsize=2)
def lsoa_boundaries(shared: Path) -> gpd.GeoDataFrame:
    """London's LSOAs (2011): code, name, borough and geometry in BNG, indexed by code."""
    g = gpd.read_file(_need(shared / LSOA_SHP))[["LSOA11CD", "LSOA11NM", "LAD11NM", "geometry"]]
    return g.set_crs(BNG, allow_override=True).set_index("LSOA11CD", drop=False)


@lru_cache(maxsize=2)
def ward_boundaries(shared: Path) -> gpd.GeoDataFrame:
    """London's wards (2014 scheme): code, name, borough and geometry in BNG, indexed by code."""
    g = gpd.read_file(f"zip://{_need(shared / WARDS_ZIP)}")[
        ["GSS_CODE", "NAME", "BOROUGH", "geometry"]
    ]
    return g.to_crs(BNG).set_index("GSS_CODE", drop=False)


def _cached(name: str, sources: list[Path], build: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """``build()`` parsed once per machine, rebuilt when a source file or this code changes."""
    import vigil.data
    import vigil.geo.projection
    import vigil.impact.sources

    return cached_table(
        f"impact-{name}",
        sources,
        build,
        code=[vigil.impact.sources, vigil.data, vigil.geo.projection],
    )


@lru_cache(maxsize=2)
def residents(shared: Path) -> pd.DataFrame:
    """Per LSOA: mid-2020 persons by age band, 2011 census ethnic group counts, IMD 2019."""
    sources = [_need(shared / f) for f in (POPULATION_CSV, ATLAS_CSV, IMD_XLSX)]
    return _cached("residents", sources, lambda: _read_residents(shared))


def _read_residents(shared: Path) -> pd.DataFrame:
    pop = pd.read_csv(_need(shared / POPULATION_CSV)).set_index("LSOA11CD")
    out = pd.DataFrame(index=pop.index)
    out["population"] = pop["Persons_All-Ages"].astype(float)
    for band in AGE_BANDS:
        out[f"age_{band}"] = pop[f"Persons_{band}"].astype(float)
    atlas = pd.read_csv(_need(shared / ATLAS_CSV), encoding="latin-1").set_index(
        "Lower Super Output Area"
    )
    for group, col in ATLAS_ETHNICITY.items():
        out[f"eth_{group}"] = pd.to_numeric(atlas[col], errors="coerce").reindex(out.index)
    imd = pd.read_excel(_need(shared / IMD_XLSX), sheet_name="IMD 2019").set_index(
        "LSOA code (2011)"
    )
    imd_pop = pd.read_excel(shared / IMD_XLSX, sheet_name="Population figures").set_index(
        "LSOA code (2011)"
    )
    out["imd_score"] = imd[IMD_SCORE].reindex(out.index).astype(float)
    out["imd_decile"] = imd[IMD_DECILE].reindex(out.index).astype(float)
    out["imd_population"] = imd_pop[IMD_POP].reindex(out.index).astype(float)
    return out


@lru_cache(maxsize=2)
def long_run_violence(shared: Path) -> pd.Series:
    """Mean annual recorded violence + robbery per LSOA, 2011-2021 (0 where not listed)."""
    totals = []
    for rel in LONG_RUN_FILES:
        df = pd.read_csv(_need(shared / rel)).set_index("LSOA11CD")
        years = [c for c in df.columns if c.isdigit()]
        totals.append(df[years].astype(float).mean(axis=1))
    out = totals[0]
    for s in totals[1:]:
        out = out.add(s, fill_value=0.0)
    return out


@lru_cache(maxsize=2)
def street_serious_violence(shared: Path) -> pd.DataFrame:
    """Victim-reported serious violence in London's police.uk street crimes: month, LSOA, x, y
    (BNG), in the order of the file."""
    from vigil.data.datasets import LONDON_2022_FILE

    source = _need(shared / LONDON_2022_FILE)
    return _cached("street-serious-violence", [source], lambda: _read_street_sv(shared))


def _read_street_sv(shared: Path) -> pd.DataFrame:
    from vigil.data.datasets import load_london_2022

    df = load_london_2022(shared)
    df = df[df["category"].isin(sorted(SERIOUS_VIOLENCE))]
    x, y = to_metres(df["lon"].to_numpy(), df["lat"].to_numpy(), BNG)
    return pd.DataFrame(
        {
            "month": df["time"].dt.strftime("%Y-%m").to_numpy(),
            "lsoa": df["area_code"].astype(str).to_numpy(),
            "x": x,
            "y": y,
        }
    )


@lru_cache(maxsize=2)
def stop_searches(shared: Path) -> pd.DataFrame:
    """Met stop-and-search records: month, census group (None = not stated), x, y (BNG or NaN).

    Read through the data layer's police.uk stop-and-search reader, which maps self-defined
    ethnicity to the 2011 census's five groups (Chinese under Asian, as the census does).
    """
    paths = sorted(_need(shared / STOP_SEARCH_DIR).glob("*-metropolitan-stop-and-search.csv"))
    if not paths:
        raise DataError("no Met stop-and-search files", file=str(shared / STOP_SEARCH_DIR))
    return _cached("stop-searches", paths, lambda: _read_stop_searches(paths))


def _read_stop_searches(paths: list[Path]) -> pd.DataFrame:
    from vigil.data.stop_search import read_stop_search

    df = pd.concat([read_stop_search(p) for p in paths], ignore_index=True)
    x, y = to_metres(
        df["lon"].to_numpy(float, na_value=np.nan), df["lat"].to_numpy(float, na_value=np.nan), BNG
    )
    group = df["ethnicity_group"].astype(object)
    return pd.DataFrame(
        {
            "file": df["source_file"].map(lambda f: Path(str(f)).name).to_numpy(),
            "month": df["source_file"].map(lambda f: Path(str(f)).name[:7]).to_numpy(),
            "group": group.where(group != "Not stated", None).to_numpy(),
            "x": x,
            "y": y,
        }
    )
