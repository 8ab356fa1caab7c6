"""Backtests of many forces (vigil.evaluate.national) on real police.uk files: the City of London
Police's street crime of 2016-2017, imported as one national dataset."""

from __future__ import annotations

import pandas as pd
import pytest

from vigil.data.csvio import ImportLimits
from vigil.data.store import IncidentStore
from vigil.evaluate.national import backtest_forces, force_of, incidents_by_force
from vigil.settings import _find_shared_data

CITY = _find_shared_data() / "city-of-london-2016-2017"


def test_force_of_reads_the_police_uk_file_name():
    assert force_of("2019-01-avon-and-somerset-street.csv") == "avon-and-somerset"
    assert force_of("some/dir/2023-12-metropolitan-street.csv.gz") == "metropolitan"
    assert force_of("2016-01-city-of-london-stop-and-search.csv") is None
    assert force_of("incidents.csv") is None


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    store = IncidentStore(tmp_path_factory.mktemp("national") / "store")
    limits = ImportLimits(max_bytes=1 << 32, max_rows=10**7)
    store.import_file(CITY, format="police-uk", dataset="national", limits=limits)
    return store


def test_incidents_by_force_splits_one_dataset_by_the_file_s_force(store):
    frames = incidents_by_force(store, "national", ["violence"], "2016-07-01", "2017-07-01")
    assert list(frames) == ["city-of-london"]
    raw = pd.concat(
        pd.read_csv(p) for p in sorted(CITY.glob("*/*-street.csv")) if p.name[:7] >= "2016-07"
    )
    want = raw[
        (raw["Crime type"] == "Violence and sexual offences")
        & raw["Longitude"].notna()
        & (raw["Month"] < "2017-07")
    ]
    city = frames["city-of-london"]
    assert len(city) == len(want) > 100
    assert list(city.columns) == ["time", "precision", "category", "lon", "lat"]
    assert city["lon"].sum() == pytest.approx(want["Longitude"].sum())


def test_the_same_backtest_serially_and_on_a_dask_local_cluster(store):
    from distributed import Client, LocalCluster

    frames = incidents_by_force(store, "national", ["violence"], "2016-01-01", "2017-07-01")
    kw = {"start": "2017-01-01", "end": "2017-04-01", "cell": 250.0, "n_boot": 50}
    serial = backtest_forces(frames, ["naive", "kde"], workers=1, **kw)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        first = backtest_forces(frames, ["naive", "kde"], scheduler=client, **kw)
        # the same client again: its second run must not lose the first run's data
        again = backtest_forces(frames, ["naive", "kde"], scheduler=client, **kw)
    assert [r["force"] for r in serial] == ["city-of-london"]
    assert serial[0]["origins"] == 3
    for other in (first, again):
        assert other[0]["models"].keys() == serial[0]["models"].keys()
        for model, metrics in serial[0]["models"].items():
            for name, value in metrics.items():
                if not name.endswith(("_s", "cpu_s")):
                    assert other[0]["models"][model][name] == pytest.approx(value), (model, name)
