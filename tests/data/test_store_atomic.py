"""Issue 11: an import of several files is one unit. kill -9 during a 12-file import used to
leave a mix of old and new months; now every file is staged unseen and one atomic manifest
swap publishes them, so the store shows the old state or the new, never a mix."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import signal
import time
from pathlib import Path

import pytest

from vigil.data.store import MANIFEST, IncidentStore

MONTHS = [f"2016-{m:02d}" for m in range(1, 13)]


def _month_files(city_street: Path, out: Path, rows: int) -> Path:
    """The 12 real City of London street files of 2016, each cut to its first ``rows`` rows."""
    out.mkdir(parents=True)
    for month in MONTHS:
        src = city_street / month / f"{month}-city-of-london-street.csv"
        lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
        (out / src.name).write_text("".join(lines[: rows + 1]), encoding="utf-8")
    return out


def _import(root: str, folder: str) -> None:
    IncidentStore(root).import_file(folder, format="police-uk", dataset="city")


def _state(root: Path) -> tuple[int, frozenset[str]]:
    store = IncidentStore(root)
    imports = store.imports()
    return store.summary().total, frozenset(imports["import_id"]) if len(imports) else frozenset()


@pytest.fixture(scope="module")
def old_and_new(city_street: Path, tmp_path_factory: pytest.TempPathFactory):
    base = tmp_path_factory.mktemp("atomic")
    old = _month_files(city_street, base / "old", 20)
    new = _month_files(city_street, base / "new", 60)
    pristine = base / "pristine"
    _import(str(pristine), str(old))
    done = base / "done"
    shutil.copytree(pristine, done)
    t0 = time.perf_counter()
    _import(str(done), str(new))
    seconds = time.perf_counter() - t0
    return pristine, new, _state(pristine)[0], _state(done)[0], seconds


def _kill_at_random_points(old_and_new, tmp_path: Path, wanted: int) -> None:
    pristine, new, n_old, n_new, seconds = old_and_new
    assert n_old < n_new
    ctx = multiprocessing.get_context("fork")  # modules already loaded: each try is quick
    rng = random.Random(20221)
    outcomes = {"old": 0, "new": 0}
    kills = tries = 0
    while kills < wanted:
        i = tries = tries + 1
        assert tries <= 2 * wanted, f"only {kills} of {tries} tries were killed mid-import"
        root = tmp_path / f"try{i}"
        shutil.copytree(pristine, root)
        child = ctx.Process(target=_import, args=(str(root), str(new)))
        child.start()
        time.sleep(rng.uniform(0.0, seconds))
        if child.is_alive():
            os.kill(child.pid, signal.SIGKILL)
            kills += 1
        child.join()
        total, stamps = _state(root)
        assert total in (n_old, n_new), f"try {i}: {total} rows, neither {n_old} nor {n_new}"
        assert len(stamps) == 1, f"try {i}: parts of {len(stamps)} imports are visible"
        outcomes["old" if total == n_old else "new"] += 1
        if i % 4:
            shutil.rmtree(root)
            continue
        # the next import sweeps whatever the killed one staged, and lands whole
        _import(str(root), str(new))
        assert _state(root)[0] == n_new
        folder = root / "incidents" / "city"
        listed = set(IncidentStore(root)._current(folder))
        on_disk = {p.name for p in folder.iterdir()} - {MANIFEST, ".lock"}
        assert on_disk == listed, on_disk ^ listed
        shutil.rmtree(root)
    assert outcomes["old"] > 0


def test_kill_9_during_import_leaves_old_or_new_quick(old_and_new, tmp_path: Path) -> None:
    _kill_at_random_points(old_and_new, tmp_path, wanted=5)


@pytest.mark.slow
def test_kill_9_at_20_random_points_leaves_old_or_new(old_and_new, tmp_path: Path) -> None:
    _kill_at_random_points(old_and_new, tmp_path, wanted=20)


def test_failed_file_leaves_every_month_as_it_was(old_and_new, tmp_path: Path) -> None:
    """A bad row in the last of 12 files: none of the 11 good ones is published."""
    pristine, new, n_old, _, _ = old_and_new
    root = tmp_path / "store"
    shutil.copytree(pristine, root)
    bad = tmp_path / "bad"
    shutil.copytree(new, bad)
    last = bad / "2016-12-city-of-london-street.csv"
    last.write_text(last.read_text().replace("2016-12,", "2016-13,", 1))
    before = _state(root)
    with pytest.raises(Exception, match="row 1.*Month"):
        _import(str(root), str(bad))
    assert _state(root) == before and before[0] == n_old
