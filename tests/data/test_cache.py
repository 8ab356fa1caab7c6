"""The disk cache of parsed tables: the same table back (dtypes and all), built once, built
again when a source file or the parsing code changes, and never in the way when it cannot
be used."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

import vigil.data.cache
import vigil.data.readers
from vigil.data.cache import KEEP, cached_table, code_digest


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

    # a changed source builds afresh
    source.write_text("x\n1\n2\n")
    os.utime(source, ns=(1, 1))
    cached_table("t", [source], build, code=[vigil.data.readers])
    assert len(builds) == 2
    # so does different parsing code
    cached_table("t", [source], build, code=[vigil.data.cache])
    assert len(builds) == 3
    # the versions in use stay side by side, up to KEEP; older ones go
    assert len(list(cache.glob("t-*.parquet"))) == 3
    for n in range(KEEP):
        source.write_text("x\n" * (n + 3))
        cached_table("t", [source], build, code=[vigil.data.readers])
    assert len(list(cache.glob("t-*.parquet"))) == KEEP


def _package_copy(root: Path, body: str) -> ModuleType:
    """A package ``vigil_cache_probe`` in ``root``, imported from there (not the test's one)."""
    folder = root / "vigil_cache_probe"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(body)
    (folder / "reader.py").write_text("def read(): ...\n")
    spec = importlib.util.spec_from_file_location(
        "vigil_cache_probe", folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_checkouts_of_the_same_code_share_the_table(tmp_path: Path) -> None:
    """The digest names each file by its place in the package, not by where the checkout is:
    the worktrees of one machine find one another's tables (it was a rebuild for each, over
    one another's, on every run from another folder)."""
    main = _package_copy(tmp_path / "main" / "src", "X = 1\n")
    branch = _package_copy(tmp_path / "wt" / "src", "X = 1\n")
    changed = _package_copy(tmp_path / "other" / "src", "X = 2\n")
    assert code_digest(main) == code_digest(branch)
    assert code_digest(main) != code_digest(changed)


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
