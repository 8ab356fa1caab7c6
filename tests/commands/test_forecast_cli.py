"""`vigil forecast` and `vigil backtest` end to end on real slices.

Slices: every 8th row of London 2022 street crime (/work/shared/data/met-street-2022, month
precision) imported into a temporary store with the shipped mapping; Chicago aggravated
assaults (/work/shared/data/chicago-aggravated-assaults-2010-2016) as a bundled dataset.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.data.store import IncidentStore
from vigil.errors import DataError, ModelInputError
from vigil.forecast.surface import RiskSurface
from vigil.settings import get_settings

runner = CliRunner()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    df = pd.read_csv(
        shared_data / "met-street-2022" / "london_crimes_2022.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    base = tmp_path_factory.mktemp("forecast-cli")
    src = base / "london_slice.csv"
    df.iloc[::8].to_csv(src, index=False)
    data_dir = base / "vigil-data"
    IncidentStore(data_dir / "store").import_file(src, "met-street-2022")
    return data_dir


@pytest.fixture
def data_dir(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(store_dir))
    get_settings.cache_clear()
    yield store_dir
    get_settings.cache_clear()


def test_forecast_writes_csv_geojson_and_snapshot(data_dir: Path, tmp_path: Path):
    out = tmp_path / "f" / "london-kde"
    args = ["forecast", "--model", "kde", "--cell", "500", "--horizon", "1M"]
    args += ["--at", "2022-10-01", "--dataset", "met-street-2022", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "Greater London" in res.output and "the store" in res.output
    frame = pd.read_csv(out.with_suffix(".csv"))
    assert list(frame.columns) == ["area_id", "x", "y", "risk"]
    # 500 m cells clipped to London: about 1,572 km2 / 0.25 km2 plus the edge cells
    assert 6_000 < len(frame) < 7_500
    # a month of serious violence in a 1-in-8 slice: about 23k / 8 expected in London
    assert 1_500 < frame["risk"].sum() < 4_500
    geo = json.loads(out.with_suffix(".geojson").read_text())
    assert len(geo["features"]) == len(frame)
    assert geo["properties"]["start"].startswith("2022-10-01")
    # the evidence snapshot round-trips exactly (the case engineer freezes it)
    snap = json.loads(out.with_suffix(".json").read_text())
    surface = RiskSurface.from_dict(snap)
    assert surface.to_dict() == snap
    assert surface.data_version["last"] < "2022-10-01"  # nothing from the forecast month
    assert surface.end == pd.Timestamp("2022-11-01")


def test_forecast_without_model_uses_the_default(data_dir: Path, tmp_path: Path):
    from vigil.forecast.registry import DEFAULT_MODEL

    out = tmp_path / "f" / "london-default"
    args = ["forecast", "--cell", "1000", "--at", "2022-11-01", "--dataset", "met-street-2022"]
    res = runner.invoke(app, args + ["--out", str(out)])
    assert res.exit_code == 0, res.output
    surface = RiskSurface.from_dict(json.loads(out.with_suffix(".json").read_text()))
    assert surface.model == DEFAULT_MODEL == "recency"
    assert surface.end == pd.Timestamp("2022-12-01")
    # the month's total is forecast from the trend of the months before (about 23k / 8)
    assert 1_500 < surface.risk.sum() < 4_500


def test_forecast_clips_to_a_boundary_file(data_dir: Path, tmp_path: Path):
    """A boundary the code has never seen: a hand-drawn WGS84 square over central London."""
    square = [[-0.16, 51.49], [-0.10, 51.49], [-0.10, 51.52], [-0.16, 51.52], [-0.16, 51.49]]
    path = tmp_path / "centre.geojson"
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": {"type": "Polygon", "coordinates": [square]},
                    }
                ],
            }
        )
    )
    out = tmp_path / "f" / "centre"
    args = ["forecast", "--cell", "250", "--at", "2022-11-01", "--dataset", "met-street-2022"]
    res = runner.invoke(app, args + ["--boundary", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "boundary file centre.geojson" in res.output
    frame = pd.read_csv(out.with_suffix(".csv"))
    # about 4.2 km x 3.3 km of 250 m cells, plus the edge cells
    assert 200 < len(frame) < 320
    bad = runner.invoke(app, args + ["--boundary", str(tmp_path / "missing.geojson")])
    assert isinstance(bad.exception, DataError) and "missing.geojson" in str(bad.exception)


def test_forecast_refuses_weeks_of_month_only_data(data_dir: Path, tmp_path: Path):
    args = ["forecast", "--model", "naive", "--horizon", "7d", "--at", "2022-10-01"]
    res = runner.invoke(app, args + ["--dataset", "met-street-2022", "--out", str(tmp_path / "x")])
    assert isinstance(res.exception, ModelInputError)
    assert "first of a month" in str(res.exception)


def test_forecast_unknown_dataset_and_model(data_dir: Path, tmp_path: Path):
    res = runner.invoke(app, ["forecast", "--dataset", "nowhere", "--out", str(tmp_path / "x")])
    assert isinstance(res.exception, DataError)
    assert "met-street-2022" in str(res.exception)  # says what the store does hold
    res = runner.invoke(
        app, ["forecast", "--model", "oracle", "--dataset", "met-street-2022", "--at", "2022-10-01"]
    )
    assert isinstance(res.exception, ModelInputError) and "oracle" in str(res.exception)


def test_backtest_command_on_chicago(data_dir: Path, tmp_path: Path):
    out = tmp_path / "bt"
    args = ["backtest", "--models", "naive,kde", "--from", "2016-06-06", "--to", "2016-06-20"]
    args += ["--step", "7d", "--cell", "500", "--dataset", "chicago-aggravated-assaults"]
    args += ["--workers", "1", "--boot", "200", "--out", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "naive" in res.output and "hit 1%" in res.output
    data = json.loads((out / "backtest.json").read_text())
    assert data["config"]["study_area"].startswith("City of Chicago")
    assert data["config"]["origins"] == ["2016-06-06T00:00:00", "2016-06-13T00:00:00"]
    assert {r["model"] for r in data["summary"]} == {"naive", "kde"}
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_entry_point_turns_errors_into_one_line(data_dir: Path, tmp_path: Path):
    proc = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "backtest", "--models", "oracle"]
        + ["--from", "2022-03-01", "--to", "2022-05-01", "--out", str(tmp_path / "b")],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "VIGIL_DATA_DIR": str(data_dir)},
    )
    assert proc.returncode == 2
    assert "unknown model" in proc.stderr and "Traceback" not in proc.stderr


def test_forecast_default_output_is_where_the_map_looks(data_dir: Path):
    from vigil.app.surfaces import latest_surface_source

    args = ["forecast", "--model", "naive", "--cell", "1000", "--at", "2022-11-01"]
    res = runner.invoke(app, args + ["--dataset", "met-street-2022"])
    assert res.exit_code == 0, res.output
    stem = data_dir / "forecasts" / "naive-20221101-20221201"
    assert all(stem.with_suffix(s).is_file() for s in (".csv", ".geojson", ".json"))
    newest = latest_surface_source(data_dir)()
    assert newest is not None and newest.model == "naive"


def test_forecast_save_puts_the_surface_where_the_map_looks(data_dir: Path, tmp_path: Path):
    args = ["forecast", "--model", "naive", "--cell", "1000", "--at", "2022-11-01"]
    args += ["--dataset", "met-street-2022", "--save"]
    maps_file = data_dir / "forecasts" / "naive-20221101-20221201.json"

    # no --out: PREFIX.json is the map's file itself (written atomically: no .tmp left behind)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    # Rich wraps long paths anywhere: compare with the whitespace taken out
    assert f"savedforthemap:{maps_file}" in "".join(res.output.split())
    assert not list(maps_file.parent.glob("*.tmp"))

    # with --out elsewhere, --save also puts the same surface where the map looks
    maps_file.unlink()
    res = runner.invoke(app, args + ["--out", str(tmp_path / "mine")])
    assert res.exit_code == 0, res.output
    assert json.loads(maps_file.read_text()) == json.loads((tmp_path / "mine.json").read_text())


def test_backtest_command_on_a_dask_cluster(data_dir: Path, tmp_path: Path):
    from distributed import LocalCluster

    out = tmp_path / "bt-dask"
    args = ["backtest", "--models", "naive", "--from", "2016-06-06", "--to", "2016-06-20"]
    args += ["--step", "7d", "--cell", "1000", "--dataset", "chicago-aggravated-assaults"]
    args += ["--boot", "100", "--out", str(out)]
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        res = runner.invoke(app, args + ["--scheduler", cluster.scheduler_address])
    assert res.exit_code == 0, res.output
    data = json.loads((out / "backtest.json").read_text())
    assert data["config"]["parallel"] == "dask"
    assert len(data["results"]) == 2


def test_forecast_aggregated_to_wards(data_dir: Path, tmp_path: Path):
    out = tmp_path / "w" / "naive"
    args = ["forecast", "--model", "naive", "--cell", "500", "--at", "2022-11-01", "--areas"]
    args += ["ward", "--categories", "robbery", "--dataset", "met-street-2022"]
    res = runner.invoke(app, args + ["--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "incidents of robbery from the store" in res.output.replace("\n", " ")
    grid = pd.read_csv(out.with_suffix(".csv"))
    wards = pd.read_csv(out.with_name("naive-ward.csv"))
    assert len(wards) == 654 and wards["area_id"].str.startswith("E05").all()
    # sharing cells among wards keeps the expected total (up to cells outside every ward)
    assert wards["risk"].sum() == pytest.approx(grid["risk"].sum(), rel=0.01)
    snap = json.loads(out.with_name("naive-ward.json").read_text())
    assert RiskSurface.from_dict(snap).to_dict() == snap
    assert set(snap["data_version"]["categories"]) == {"robbery"}
