"""The fairness view on real London data: deployments placed on real LSOAs, forecasts fitted on
the real 2022 street crimes (met-street-2022), checked against shares computed here by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
import pytest

from vigil.data.datasets import load_london_2022
from vigil.data.taxonomy import SERIOUS_VIOLENCE
from vigil.forecast.registry import make_model
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid
from vigil.geo.projection import with_xy
from vigil.impact.fairness import FairnessView, fairness_view

T = datetime(2022, 7, 1, 18, 0, tzinfo=UTC)
LAMBETH = "E01003023"  # Lambeth 021C, IMD decile 5
WESTMINSTER = "E01004736"


@pytest.fixture(scope="module")
def lsoas(shared_data: Path) -> gpd.GeoDataFrame:
    shp = shared_data / "london-geography/boundaries/london-2011-lsoa-gen20.shp"
    return gpd.read_file(shp).set_index("LSOA11CD", drop=False)


@pytest.fixture(scope="module")
def deciles(shared_data: Path) -> pd.Series:
    imd = pd.read_excel(
        shared_data / "london-boundaries-extra/london_lsoa_deprivation.xlsx", sheet_name="IMD 2019"
    )
    return imd.set_index("LSOA code (2011)")[
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"
    ]


@pytest.fixture(scope="module")
def forecasts(shared_data: Path) -> list[tuple[str, RiskSurface]]:
    """Naive 3-month forecasts for October 2022 on a 500 m grid over London: one trained on
    victim-reported serious violence, one on police-generated offences (weapons, drugs)."""
    df, _ = with_xy(load_london_2022(shared_data), "EPSG:27700")
    grid = Grid.from_bounds(503000, 155000, 562000, 201000, cell=500, crs="EPSG:27700")
    out = []
    for label, cats in (
        ("violence", SERIOUS_VIOLENCE),
        ("possession", {"weapons_possession", "drugs"}),
    ):
        model = make_model("naive", window="3M").fit(
            df[df["category"].isin(sorted(cats))], pd.Timestamp("2022-10-01"), grid
        )
        out.append((label, model.predict(pd.Timestamp("2022-10-01"), pd.Timestamp("2022-11-01"))))
    return out


@pytest.fixture(scope="module")
def view(
    lsoas: gpd.GeoDataFrame, forecasts: list[tuple[str, RiskSurface]], shared_data: Path
) -> FairnessView:
    def win(geom: object, hours: int, status: str = "expired") -> SimpleNamespace:
        end = T + pd.Timedelta(hours=hours)
        return SimpleNamespace(area_wkt=geom.wkt, start=T, end=end, status=status)  # type: ignore[attr-defined]

    windows = [
        win(lsoas.loc[LAMBETH, "geometry"].buffer(-20), 8),  # inside one LSOA
        win(lsoas.loc[WESTMINSTER, "geometry"], 4),
        win(lsoas.loc[WESTMINSTER, "geometry"], 100, status="refused"),  # never deployed
    ]
    return fairness_view(windows, forecasts, top_fraction=0.01, shared=shared_data)


def test_deployment_hours_go_to_the_lsoas_deciles(view: FairnessView, deciles: pd.Series) -> None:
    assert view.deployment_hours == pytest.approx(12.0)
    expect: dict[int, float] = {}
    for code, hours in ((LAMBETH, 8.0), (WESTMINSTER, 4.0)):
        expect[int(deciles[code])] = expect.get(int(deciles[code]), 0.0) + hours
    got = {int(r.group.split()[-1]): r.deployment_hours for r in view.by_imd_decile}
    for d in range(1, 11):
        assert got[d] == pytest.approx(expect.get(d, 0.0), abs=1e-6)


def test_violence_shares_by_decile_by_hand(
    view: FairnessView, deciles: pd.Series, shared_data: Path
) -> None:
    street = pd.read_csv(shared_data / "met-street-2022/london_crimes_2022.csv.gz")
    sv = street[
        street["type"].isin(["violent or sexual", "robbery"]) & street["lsoa11cd_pip"].notna()
    ]
    by_decile = sv["lsoa11cd_pip"].map(deciles).value_counts(normalize=True)
    assert view.violence_incidents == len(sv)
    for r in view.by_imd_decile:
        assert r.violence_share == pytest.approx(by_decile.get(int(r.group.split()[-1]), 0.0))
        if r.violence_share > 0:
            assert r.deployment_ratio == pytest.approx(r.deployment_share / r.violence_share)


def test_flagged_areas_by_hand(
    view: FairnessView,
    forecasts: list[tuple[str, RiskSurface]],
    lsoas: gpd.GeoDataFrame,
    deciles: pd.Series,
) -> None:
    counts: pd.Series = pd.Series(0.0, index=range(1, 11))
    for _, s in forecasts:
        top = s.top(round(0.01 * len(s)))
        pts = gpd.GeoDataFrame(top, geometry=gpd.points_from_xy(top.x, top.y), crs=27700)
        polys = lsoas[["LSOA11CD", "geometry"]].reset_index(drop=True)
        hit = gpd.sjoin(pts, polys, predicate="within")
        counts = counts.add(hit["LSOA11CD"].map(deciles).value_counts(), fill_value=0)
    got = {int(r.group.split()[-1]): r.flagged_areas for r in view.by_imd_decile}
    assert got == {d: counts.get(d, 0.0) for d in range(1, 11)}
    # the most deprived fifth bears more flagged areas than its share of serious violence
    low = [r for r in view.by_imd_decile if r.group in ("IMD decile 1", "IMD decile 2")]
    assert sum(r.flagged_share for r in low) > sum(r.violence_share for r in low)


def test_police_generated_forecast_is_marked(view: FairnessView) -> None:
    marks = {m.label: m for m in view.forecasts}
    assert not marks["violence"].mainly_police_generated
    assert marks["violence"].police_generated_share == 0.0
    assert marks["possession"].mainly_police_generated
    assert "police-generated" in marks["possession"].note


def test_exposure_by_ethnicity_by_hand(view: FairnessView, shared_data: Path) -> None:
    atlas = pd.read_csv(
        shared_data / "london-demographics/lsoa-data_clean.csv", encoding="latin-1"
    ).set_index("Lower Super Output Area")
    cols = {
        "White": "Ethnic Group;White;2011",
        "Black": "Ethnic Group;Black/African/Caribbean/Black British;2011",
    }
    total = atlas[[c for c in atlas.columns if c.startswith("Ethnic Group;") and "(%)" not in c
                   and "BAME" not in c]].sum(axis=1)  # fmt: skip
    black = atlas[cols["Black"]] / total
    rows = {r.group: r for r in view.exposure_by_ethnicity}
    # deployment-weighted: 8 h in Lambeth 021C, 4 h in the Westminster LSOA
    expect = (8 * black[LAMBETH] + 4 * black[WESTMINSTER]) / 12
    assert rows["Black"].deployment_weighted_share == pytest.approx(expect)
    street = pd.read_csv(shared_data / "met-street-2022/london_crimes_2022.csv.gz")
    sv = street[street["type"].isin(["violent or sexual", "robbery"])]
    counts = sv["lsoa11cd_pip"].value_counts()
    counts = counts[counts.index.isin(black.index)]
    assert rows["Black"].violence_weighted_share == pytest.approx(
        float((black[counts.index] * counts).sum() / counts.sum())
    )
    assert rows["Black"].deployment_ratio == pytest.approx(
        expect / rows["Black"].violence_weighted_share
    )
    assert sum(r.london_share for r in rows.values()) == pytest.approx(1.0)


def test_fairness_html(view: FairnessView) -> None:
    from vigil.reports.cia import render_fairness_html

    html = render_fairness_html(view)
    assert "IMD decile 5" in html and "Exposure by ethnic group" in html
    assert 'class="police"' in html and "possession (naive" in html
    assert 'class="num over"' in html  # decile 5 bears 8 of 12 deployment hours
