"""Issue 11: a multi-file police.uk import reads groups of files through DuckDB
(vigil.data.bulkread) instead of 10,000-row pandas chunks per file. It must store exactly the
rows the chunked reader stores (ids, times, coordinates, row numbers, counts), on the real City
of London files, and hand anything it cannot vouch for to the chunked reader, so errors still
name the file and row."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from vigil.data import bulkread
from vigil.data.store import IncidentStore
from vigil.errors import DataError

_VOLATILE = ["import_id", "imported_at", "source_path"]


def _import(root: Path, folder: Path, *, fast: bool, monkeypatch: pytest.MonkeyPatch, **kw):
    """Import ``folder`` with the fast path allowed or not; (result, rows, imports, groups)."""
    groups = {"read": 0, "refused": 0}
    real = bulkread._read_group

    def counted(*a, **k):
        try:
            out = real(*a, **k)
        except bulkread._Refused:
            groups["refused"] += 1
            raise
        groups["read"] += 1
        return out

    with monkeypatch.context() as m:
        m.setattr(bulkread, "_read_group", counted)
        if not fast:
            m.setattr(bulkread, "supports", lambda mapping: False)
        store = IncidentStore(root)
        res = store.import_file(folder, format="police-uk", dataset="city", **kw)
    imports = store.imports().drop(columns=_VOLATILE)
    imports = imports.sort_values("source_file").reset_index(drop=True)
    return res, store.query("city"), imports, groups


def _same(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    fast = _import(tmp_path / "fast", folder, fast=True, monkeypatch=monkeypatch)
    slow = _import(tmp_path / "slow", folder, fast=False, monkeypatch=monkeypatch)
    assert slow[3] == {"read": 0, "refused": 0}
    pd.testing.assert_frame_equal(fast[1], slow[1])
    pd.testing.assert_frame_equal(fast[2], slow[2])
    for what in ("rows_read", "rows_imported", "rows_duplicate", "rows_dropped_outside_region"):
        assert getattr(fast[0], what) == getattr(slow[0], what), what
    assert fast[0].files == slow[0].files
    return fast[3]


def test_real_files_store_the_same_rows_as_the_chunked_reader(tmp_path, city_street, monkeypatch):
    groups = _same(tmp_path, city_street, monkeypatch)
    assert groups == {"read": 1, "refused": 0}  # all 18 files in one statement


def test_duplicates_across_files_and_repeated_rows_match(tmp_path, city_street, monkeypatch):
    """The same Crime IDs in a second file are duplicates; an anti-social behaviour row (no
    Crime ID) repeated within a file gets its occurrence number: same as the chunked reader."""
    folder = tmp_path / "in"
    folder.mkdir()
    src = city_street / "2016-03" / "2016-03-city-of-london-street.csv"
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    asb = next(x for x in lines[1:] if x.startswith(","))
    (folder / "2016-03-city-of-london-street.csv").write_text("".join(lines + [asb, asb]))
    (folder / "2016-04-copy-street.csv").write_text("".join(lines[:200]))
    groups = _same(tmp_path, folder, monkeypatch)
    assert groups == {"read": 1, "refused": 0}
    keyed = sum(not x.startswith(",") for x in lines[1:200])  # rows with a Crime ID
    fast = IncidentStore(tmp_path / "fast").imports()
    assert fast.set_index("source_file").loc["2016-04-copy-street.csv", "rows_duplicate"] == keyed


@pytest.mark.parametrize(
    ("edit", "refused"),
    [
        (lambda cells: cells.__setitem__(9, cells[9] + "\t"), 1),  # whitespace only Python strips
        (lambda cells: cells.__setitem__(6, '"On or near\nTwo Lines"'), 1),  # newline in quotes
        (
            lambda cells: cells.__setitem__(1, "2016-2"),
            1,
        ),  # a month DuckDB and pandas may differ on
        (lambda cells: cells.__setitem__(4, " " + cells[4]), 0),  # a padded number: both trim it
    ],
    ids=["tab", "quoted-newline", "short-month", "padded-number"],
)
def test_rows_it_cannot_vouch_for_go_to_the_chunked_reader(
    tmp_path, city_street, edit, refused, monkeypatch
):
    folder = tmp_path / "in"
    shutil.copytree(city_street / "2016-01", folder / "2016-01")
    shutil.copytree(city_street / "2016-02", folder / "2016-02")
    target = folder / "2016-02" / "2016-02-city-of-london-street.csv"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[7].rstrip("\n").split(",")
    edit(cells)
    lines[7] = ",".join(cells) + "\n"
    target.write_text("".join(lines), encoding="utf-8")
    try:
        groups = _same(tmp_path, folder, monkeypatch)
    except DataError as exc:  # the chunked reader refuses it: so must the import
        with pytest.raises(DataError) as fast:
            _import(tmp_path / "again", folder, fast=True, monkeypatch=monkeypatch)
        assert str(fast.value) == str(exc)
        return
    assert groups["refused"] == refused


def test_a_bad_row_is_reported_by_file_and_row_and_nothing_is_stored(
    tmp_path, city_street, monkeypatch
):
    folder = tmp_path / "in"
    for month in ("2016-01", "2016-02", "2016-03"):
        shutil.copytree(city_street / month, folder / month)
    target = folder / "2016-02" / "2016-02-city-of-london-street.csv"
    lines = target.read_text(encoding="utf-8").splitlines(keepends=True)
    cells = lines[12].split(",")
    cells[4] = "181.5"  # longitude out of range: data row 12
    lines[12] = ",".join(cells)
    target.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(DataError) as slow:
        _import(tmp_path / "slow", folder, fast=False, monkeypatch=monkeypatch)
    with pytest.raises(DataError) as fast:
        _import(tmp_path / "fast", folder, fast=True, monkeypatch=monkeypatch)
    assert str(fast.value) == str(slow.value)
    assert "2016-02-city-of-london-street.csv" in str(fast.value) and "12" in str(fast.value)
    assert IncidentStore(tmp_path / "fast").summary().total == 0
