"""`vigil data ...` end to end on real slices, through the Typer app and the real entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.data.store import IncidentStore
from vigil.errors import DataError
from vigil.settings import get_settings

runner = CliRunner()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "vigil-data"))
    get_settings.cache_clear()
    yield tmp_path / "vigil-data"
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def london_csv(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    """2,000 rows of met-street-2022 (every 400th row, so all months), written as a plain CSV."""
    df = pd.read_csv(
        shared_data / "met-street-2022" / "london_crimes_2022.csv.gz",
        dtype=str,
        keep_default_na=False,
    )
    out = tmp_path_factory.mktemp("cli") / "london_2k.csv"
    df.iloc[::400].head(2000).to_csv(out, index=False)
    return out


def test_import_and_summary(data_dir: Path, london_csv: Path) -> None:
    res = runner.invoke(app, ["data", "import", str(london_csv), "--mapping", "met-street-2022"])
    assert res.exit_code == 0, res.output
    assert "imported" in res.output and "met-street-2022" in res.output
    stored = IncidentStore(data_dir / "store").query()
    assert 1990 <= len(stored) <= 2000  # a few of the slice may lack a London LSOA
    assert f"{len(stored):,} incidents" in res.output
    res = runner.invoke(app, ["data", "summary"])
    assert res.exit_code == 0, res.output
    assert f"Stored incidents: {len(stored):,}" in res.output
    for month in ("2022-01", "2022-12"):
        assert month in res.output
    assert "police generated" in res.output  # the origin of drugs / weapons possession


def test_import_police_uk_folder_auto_detected(data_dir: Path, shared_data: Path) -> None:
    folder = shared_data / "city-of-london-2016-2017"
    res = runner.invoke(app, ["data", "import", str(folder), "--dataset", "city"])
    assert res.exit_code == 0, res.output
    assert "10,118 incidents" in res.output and "18 file(s)" in res.output
    res = runner.invoke(app, ["data", "summary", "--dataset", "city"])
    assert "2016-01" in res.output and "2017-06" in res.output


def test_bad_row_fails_with_location(data_dir: Path, london_csv: Path, tmp_path: Path) -> None:
    lines = london_csv.read_text().splitlines(keepends=True)
    lines[7] = lines[7].replace("2022-", "22-", 1)
    bad = tmp_path / "bad.csv"
    bad.write_text("".join(lines))
    res = runner.invoke(app, ["data", "import", str(bad), "-m", "met-street-2022"])
    assert res.exit_code != 0
    err = res.exception
    assert isinstance(err, DataError) and (err.row, err.field) == (7, "month")
    assert not (data_dir / "store" / "incidents").exists() or not any(
        (data_dir / "store" / "incidents").rglob("*.parquet")
    )
    rejects = tmp_path / "rej.csv"
    res = runner.invoke(
        app,
        [
            "data",
            "import",
            str(bad),
            "-m",
            "met-street-2022",
            "--skip-bad-rows",
            "--rejects",
            str(rejects),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rejected bad rows: 1" in res.output
    rej = pd.read_csv(rejects, dtype=str)
    assert list(rej[["row", "field"]].itertuples(index=False, name=None)) == [("7", "month")]


def test_entry_point_turns_errors_into_one_line(data_dir: Path, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.csv"
    env = {**os.environ, "VIGIL_DATA_DIR": str(data_dir)}
    proc = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "data", "import", str(missing)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "nothing.csv" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr
    # stderr is a pipe here: Rich must not wrap the message at 80 columns
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unknown_mapping_and_format(data_dir: Path, london_csv: Path) -> None:
    res = runner.invoke(app, ["data", "import", str(london_csv), "-m", "no-such-mapping"])
    assert isinstance(res.exception, DataError) and "shipped" in str(res.exception)
    res = runner.invoke(app, ["data", "import", str(london_csv), "--format", "xls"])
    assert isinstance(res.exception, DataError) and "unknown format" in str(res.exception)
    res = runner.invoke(app, ["data", "import", str(london_csv)])
    assert isinstance(res.exception, DataError) and "--mapping" in str(res.exception)


def test_drop_dataset(data_dir: Path, london_csv: Path) -> None:
    runner.invoke(app, ["data", "import", str(london_csv), "-m", "met-street-2022", "-d", "tmp"])
    assert IncidentStore(data_dir / "store").datasets() == ["tmp"]
    res = runner.invoke(app, ["data", "drop", "tmp"], input="n\n")
    assert res.exit_code != 0 and IncidentStore(data_dir / "store").datasets() == ["tmp"]
    res = runner.invoke(app, ["data", "drop", "tmp", "--yes"])
    assert res.exit_code == 0, res.output
    assert IncidentStore(data_dir / "store").datasets() == []
    res = runner.invoke(app, ["data", "drop", "tmp", "--yes"])
    assert isinstance(res.exception, DataError)
