"""The disk cache of parsed tables: the same table back (dtypes and all), built once, built
again when a source file or the parsing code changes, and never in the way when it cannot
be used."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vigil.data.cache
import vigil.data.readers
from vigil.data.cache import cached_table


def _table() -> pd.DataFrame:
    """The kinds of column the cached sources hold: strings with gaps, times, floats, None."""
    return pd.DataFrame(
        {
            "incident_id": pd.array(["a1", "b2", None], dtype="string"),
            "time": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01"]),
            "lon": [-0.1, np.nan, -0.2],
            "group": np.array(["Black", None, "White"], dtype=object),
            "source_row": [1, 2, 3],
        },
        index=pd.Index(["E01", "E02", "E03"], name="LSOA11CD"),
    )


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VIGIL_CACHE_DIR", str(folder))
    return folder


def test_built_once_then_read_back_equal(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "source.csv"
    source.write_text("x\n1\n")
    builds: list[int] = []

    def build() -> pd.DataFrame:
        builds.append(1)
        return _table()

    first = cached_table("t", [source], build, code=[vigil.data.readers])
    again = cached_table("t", [source], build, code=[vigil.data.readers])
    assert len(builds) == 1
    pd.testing.assert_frame_equal(first, again)
    assert first.dtypes.to_dict() == again.dtypes.to_dict()
    assert len(list(cache.glob("t-*.parquet"))) == 1

    # a changed source builds afresh, and the stale copy goes
    source.write_text("x\n1\n2\n")
    os.utime(source, ns=(1, 1))
    cached_table("t", [source], build, code=[vigil.data.readers])
    assert len(builds) == 2 and len(list(cache.glob("t-*.parquet"))) == 1
    # so does different parsing code
    cached_table("t", [source], build, code=[vigil.data.cache])
    assert len(builds) == 3


def test_a_torn_file_is_rebuilt(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "s.csv"
    source.write_text("x\n")
    cached_table("t", [source], _table, code=[vigil.data.readers])
    (path,) = cache.glob("t-*.parquet")
    path.write_bytes(b"not parquet")
    pd.testing.assert_frame_equal(
        cached_table("t", [source], _table, code=[vigil.data.readers]), _table()
    )
    pd.testing.assert_frame_equal(pd.read_parquet(path), _table())


def test_switched_off_or_unwritable_just_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "s.csv"
    source.write_text("x\n")
    monkeypatch.setenv("VIGIL_CACHE_DIR", "")
    assert vigil.data.cache.cache_dir() is None
    pd.testing.assert_frame_equal(cached_table("t", [source], _table, code=[]), _table())
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("VIGIL_CACHE_DIR", str(blocked / "cache"))
    pd.testing.assert_frame_equal(cached_table("t", [source], _table, code=[]), _table())
