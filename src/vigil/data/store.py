"""The incident store: Parquet files under a data directory, queried through DuckDB.

Layout (under ``root``, by default ``settings.store_dir``)::

    incidents/<dataset>/MANIFEST.json            the parts that make up the dataset, and for
                                                 each what was imported: file, mapping, counts
    incidents/<dataset>/<part>-<import>.parquet  one part per imported source file
    stop_search/<dataset>/...                    the same for police.uk stop and search

A part is named by a hash of (dataset, source file name), so importing the same file again
replaces its part instead of adding rows; rows whose stable id is already stored from another
file of the dataset are left out and counted as duplicates.

**An import is one unit.** All of its files are read in bounded pieces (memory does not grow
with the files: police.uk street files in groups of files through DuckDB's reader, see
:mod:`vigil.data.bulkread`; anything else, or anything that reader does not vouch for, in
chunks) and staged as new Parquet parts that no reader sees, under an exclusive lock on the
dataset; then one atomic rename of the manifest makes all of them visible at once and retires
the parts they replace. Killed at any point, the dataset shows the old manifest or the new one,
never a mix; staged parts of an import that died are removed by the next one. A dataset written
before manifests existed (``<part>.parquet`` + ``<part>.json``) is read as it is, and gets a
manifest before its first new import stages anything.

What ``summary`` counts: stored rows, i.e. rows read less the rows a mapping's documented region
filter dropped (``dropped_outside_region``), less rejected bad rows, less duplicates.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import json
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.clock import Clock, SystemClock
from vigil.data import bulkread
from vigil.data.csvio import (
    Budget,
    CsvSource,
    ImportLimits,
    ProgressFn,
    check_declared_sizes,
    csv_sources,
)
from vigil.data.mapping import ColumnMapping, load_mapping
from vigil.data.readers import REJECT_COLUMNS, ReadResult, iter_mapped
from vigil.data.schema import INCIDENT_COLUMNS, empty_incidents
from vigil.data.stop_search import (
    STOP_SEARCH_COLUMNS,
    STOP_SEARCH_SOURCE_COLUMNS,
    empty_stop_search,
    read_stop_search_file,
)
from vigil.data.taxonomy import CATEGORIES
from vigil.errors import DataError
from vigil.settings import get_settings

if TYPE_CHECKING:
    import duckdb

#: --format values and what they stand for
FORMATS = ("police-uk", "police-uk-stop-search")
_POLICE_UK_STREET = "police-uk-street"
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MANIFEST = "MANIFEST.json"
_LOCK = ".lock"
_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", dtype=np.uint8)] = np.arange(16, dtype=np.uint8)
_HEX[np.frombuffer(b"ABCDEF", dtype=np.uint8)] = np.arange(10, 16, dtype=np.uint8)


def ids_to_u64(ids: Any) -> np.ndarray:
    """Stable ids (16 hex digits) as uint64, vectorised: the key for duplicate checks."""
    raw = np.asarray(ids, dtype="S16")
    if not len(raw):
        return np.zeros(0, dtype=np.uint64)
    nib = _HEX[raw.view(np.uint8).reshape(len(raw), 16)].astype(np.uint64)
    if (nib == 255).any():
        raise DataError("stored ids are not 16 hex digits: the store is damaged")
    out = np.zeros(len(raw), dtype=np.uint64)
    for i in range(16):
        out = (out << np.uint64(4)) | nib[:, i]
    return out


class IdSet:
    """A set of uint64 ids as a few sorted arrays merged like a log-structured tree: adding a
    file's ids and testing a chunk against everything stored cost O(n log n) overall."""

    def __init__(self) -> None:
        self.levels: list[np.ndarray] = []

    def add(self, ids: np.ndarray) -> None:
        if not len(ids):
            return
        self.levels.append(np.sort(ids))
        while len(self.levels) > 1 and len(self.levels[-2]) <= 2 * len(self.levels[-1]):
            top = self.levels.pop()
            self.levels[-1] = np.sort(np.concatenate([self.levels[-1], top]), kind="mergesort")

    def contains(self, ids: np.ndarray) -> np.ndarray:
        found = np.zeros(len(ids), dtype=bool)
        for level in self.levels:
            idx = np.minimum(np.searchsorted(level, ids), len(level) - 1)
            found |= level[idx] == ids
        return found

    def __len__(self) -> int:
        return sum(len(x) for x in self.levels)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class ImportResult:
    """What one import did, summed over the files it read."""

    dataset: str
    kind: str  # "incidents" or "stop_search"
    files: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    rows_dropped_outside_region: int = 0
    rows_duplicate: int = 0
    rejects_path: Path | None = None
    seconds: float = 0.0


def _check_dataset(name: str) -> str:
    if not _DATASET_NAME.match(name):
        raise DataError(
            f"dataset name {name!r} must be 1-64 letters, digits, '.', '_' or '-'",
            field="dataset",
        )
    return name


def _schema(columns: dict[str, str]) -> pa.Schema:
    """The Arrow schema of a stored part: the canonical pandas dtypes of ``columns``."""
    return pa.Schema.from_pandas(
        pd.DataFrame({c: pd.Series(dtype=t) for c, t in columns.items()}), preserve_index=False
    )


def _sql_list(paths: list[Path]) -> str:
    return "[" + ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths) + "]"


def _detect_format(source: CsvSource) -> str:
    """'police-uk' or 'police-uk-stop-search' from the header; else DataError asking for one."""
    if source.member:
        first = source.read_bytes()[:4096]
    else:
        with open(source.path, "rb") as fh:
            magic = fh.read(2)
        opener: Any = gzip.open if magic == b"\x1f\x8b" else open
        with opener(source.path, "rb") as fh:
            first = fh.read(4096)
    header = first.decode("utf-8-sig", errors="replace").splitlines()[0] if first else ""
    cols = {c.strip() for c in header.split(",")}
    if {"Crime ID", "Month", "Crime type"} <= cols:
        return "police-uk"
    if {"Self-defined ethnicity", "Legislation", "Object of search"} <= cols:
        return "police-uk-stop-search"
    raise DataError(
        "not a police.uk file; give --mapping (a YAML column mapping) or --format",
        file=source.display,
    )


class IncidentStore:
    """DuckDB over Parquet: import incident files, query the canonical table, summarise."""

    def __init__(self, root: Path | str | None = None, clock: Clock | None = None) -> None:
        self.root = Path(root) if root is not None else get_settings().store_dir
        self.clock = clock or SystemClock()

    # ------------------------------------------------------------------ paths
    def _dir(self, kind: str, dataset: str) -> Path:
        return self.root / kind / dataset

    def _parts(self, kind: str, dataset: str | None = None) -> list[Path]:
        """The Parquet parts readers see: those the manifest names (legacy: all of them)."""
        base = self.root / kind
        if not base.is_dir():
            return []
        folders = [base / dataset] if dataset else sorted(base.iterdir())
        out: list[Path] = []
        for folder in folders:
            if not folder.is_dir():
                continue
            manifest = folder / MANIFEST
            if manifest.is_file():
                names = json.loads(manifest.read_text())["parts"]
                out.extend(folder / n for n in sorted(names))
            else:
                out.extend(sorted(folder.glob("*.parquet")))
        return out

    @staticmethod
    def _part_name(dataset: str, source: CsvSource) -> str:
        return hashlib.sha1(f"{dataset}\x1f{source.name}".encode()).hexdigest()[:16]

    # ------------------------------------------------------------------ import
    def import_file(
        self,
        path: Path | str,
        mapping: ColumnMapping | str | Path | None = None,
        *,
        format: str | None = None,
        dataset: str | None = None,
        skip_bad_rows: bool = False,
        rejects_path: Path | str | None = None,
        progress: ProgressFn | None = None,
        limits: ImportLimits | None = None,
    ) -> ImportResult:
        """Import a CSV (plain, .gz), a folder of them or a police.uk zip, as one unit.

        ``mapping`` (a ColumnMapping, a shipped mapping name or a YAML path) or ``format``
        ("police-uk", "police-uk-stop-search") says how to read it; with neither, a police.uk
        header is recognised. Every file is validated and staged before any becomes visible;
        ``limits`` (default: the settings) caps decompressed bytes, rows and line length.
        """
        path = Path(path)
        limits = limits or ImportLimits.from_settings()
        if mapping is not None and format is not None:
            raise DataError("give a mapping or a format, not both", field="format")
        if format is not None and format not in FORMATS:
            raise DataError(
                f"unknown format {format!r} (known: {', '.join(FORMATS)})", field="format"
            )
        if mapping is None and format is None:
            first = csv_sources(path, "*.csv")
            street = [s for s in first if s.name.endswith(("-street.csv", "-street.csv.gz"))]
            if path.is_dir() or len(first) > 1:
                format = "police-uk" if street else _detect_format(first[0])
            else:
                format = _detect_format(first[0])
        if format == "police-uk-stop-search":
            return self.import_stop_search(
                path,
                dataset=dataset,
                skip_bad_rows=skip_bad_rows,
                rejects_path=rejects_path,
                progress=progress,
                limits=limits,
            )
        if format == "police-uk":
            mapping = _POLICE_UK_STREET
            sources = csv_sources(path, "*-street.csv")
        else:
            sources = csv_sources(path, "*.csv")
        assert mapping is not None
        cmap = mapping if isinstance(mapping, ColumnMapping) else load_mapping(mapping)
        name = _check_dataset(dataset or (path.stem if format == "police-uk" else cmap.name))
        t0 = time.perf_counter()
        check_declared_sizes(sources, limits)
        budget = Budget(limits)
        groups: Iterable[tuple[CsvSource, Iterator[ReadResult | bulkread.ArrowPart]]]
        if bulkread.supports(cmap):  # police.uk street files: many at a time through DuckDB
            groups = bulkread.bulk_groups(
                sources,
                cmap,
                name,
                _schema(INCIDENT_COLUMNS),
                skip_bad_rows=skip_bad_rows,
                progress=progress,
                budget=budget,
            )
        else:
            groups = (
                (
                    s,
                    iter_mapped(
                        s, cmap, name, skip_bad_rows=skip_bad_rows, progress=progress, budget=budget
                    ),
                )
                for s in sources
            )
        res, rejects = self._write(
            "incidents", name, sources, groups, INCIDENT_COLUMNS, "incident_id", cmap.name, progress
        )
        return self._finish(res, rejects, rejects_path, skip_bad_rows, t0)

    def import_stop_search(
        self,
        path: Path | str,
        *,
        dataset: str | None = None,
        skip_bad_rows: bool = False,
        rejects_path: Path | str | None = None,
        progress: ProgressFn | None = None,
        limits: ImportLimits | None = None,
    ) -> ImportResult:
        """Import police.uk stop-and-search CSVs (file, folder or zip) into ``stop_search``,
        as one unit like :meth:`import_file`."""
        path = Path(path)
        limits = limits or ImportLimits.from_settings()
        name = _check_dataset(dataset or "stop-search")
        t0 = time.perf_counter()
        sources = csv_sources(path, "*stop-and-search.csv")
        check_declared_sizes(sources, limits)
        budget = Budget(limits)
        groups: Iterable[tuple[CsvSource, Iterator[ReadResult | bulkread.ArrowPart]]] = (
            (
                s,
                iter(
                    [
                        read_stop_search_file(
                            s, name, skip_bad_rows=skip_bad_rows, progress=progress, budget=budget
                        )
                    ]
                ),
            )
            for s in sources
        )
        res, rejects = self._write(
            "stop_search",
            name,
            sources,
            groups,
            STOP_SEARCH_COLUMNS,
            "search_id",
            "police-uk-stop-search",
            progress,
        )
        return self._finish(res, rejects, rejects_path, skip_bad_rows, t0)

    def _finish(
        self,
        res: ImportResult,
        rejects: list[pd.DataFrame],
        rejects_path: Path | str | None,
        skip_bad_rows: bool,
        t0: float,
    ) -> ImportResult:
        if skip_bad_rows and rejects:
            target = (
                Path(rejects_path)
                if rejects_path
                else self.root.parent / "rejects" / f"{res.dataset}.rejects.csv"
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            frame = pd.concat(rejects, ignore_index=True)
            tmp = target.with_name(target.name + ".tmp")
            frame.to_csv(tmp, index=False)
            os.replace(tmp, target)
            res.rejects_path = target
        res.seconds = time.perf_counter() - t0
        return res

    @contextmanager
    def _locked(self, kind: str, dataset: str) -> Iterator[Path]:
        """The dataset's folder, held under an exclusive lock: one import at a time."""
        folder = self._dir(kind, dataset)
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / _LOCK, "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield folder
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _current(self, folder: Path) -> dict[str, dict[str, Any]]:
        """The dataset's parts and what each holds: the manifest, or a legacy folder's files."""
        manifest = folder / MANIFEST
        if manifest.is_file():
            parts: dict[str, dict[str, Any]] = json.loads(manifest.read_text())["parts"]
            return parts
        out = {}
        for p in sorted(folder.glob("*.parquet")):
            meta = p.with_suffix(".json")
            out[p.name] = json.loads(meta.read_text()) if meta.is_file() else {}
        return out

    @staticmethod
    def _swap_manifest(folder: Path, parts: dict[str, dict[str, Any]]) -> None:
        """Make ``parts`` the dataset, atomically (write, fsync, rename, fsync the folder)."""
        tmp = folder / f".{MANIFEST}.{uuid.uuid4().hex[:8]}.tmp"
        tmp.write_text(json.dumps({"parts": parts}, indent=1))
        _fsync(tmp)
        os.replace(tmp, folder / MANIFEST)
        _fsync(folder)

    @staticmethod
    def _sweep(folder: Path, parts: dict[str, dict[str, Any]]) -> None:
        """Remove every file the manifest does not name (replaced parts, legacy metadata, what
        an import that died had staged). Runs under the dataset's lock."""
        for p in folder.iterdir():
            if p.name in parts or p.name in (MANIFEST, _LOCK) or not p.is_file():
                continue
            p.unlink(missing_ok=True)

    def _stored_ids(self, folder: Path, names: list[str], id_col: str) -> IdSet:
        """The ids stored in ``names`` (parts of ``folder``), streamed in batches."""
        ids = IdSet()
        if not names:
            return ids
        with self._connect() as con:
            reader = con.sql(
                f"SELECT {id_col} FROM read_parquet({_sql_list([folder / n for n in names])})"
            ).to_arrow_reader(1_000_000)
            for batch in reader:
                ids.add(ids_to_u64(batch.column(0).to_numpy(zero_copy_only=False)))
        return ids

    def _write(
        self,
        kind: str,
        dataset: str,
        sources: list[CsvSource],
        groups: Iterable[tuple[CsvSource, Iterator[ReadResult | bulkread.ArrowPart]]],
        columns: dict[str, str],
        id_col: str,
        mapping_name: str,
        progress: ProgressFn | None,
    ) -> tuple[ImportResult, list[pd.DataFrame]]:
        """Stage every file's chunks as new parts, then swap the manifest once (see module)."""
        res = ImportResult(dataset=dataset, kind=kind)
        rejects: list[pd.DataFrame] = []
        schema = _schema(columns)
        token = uuid.uuid4().hex[:12]
        with self._locked(kind, dataset) as folder:
            current = self._current(folder)
            if not (folder / MANIFEST).is_file():
                # a legacy folder: pin what it holds before anything is staged beside it
                self._swap_manifest(folder, current)
            new_parts = {self._part_name(dataset, s) for s in sources}
            # a part's name starts with the 16 hex digits of (dataset, source file name)
            kept = {n: m for n, m in current.items() if n[:16] not in new_parts}
            seen = self._stored_ids(folder, sorted(kept), id_col)
            staged: dict[str, dict[str, Any]] = {}
            try:
                for i, (source, chunks) in enumerate(groups):
                    name = f"{self._part_name(dataset, source)}-{token}.parquet"
                    meta = self._stage(folder / name, chunks, schema, id_col, seen, rejects)
                    meta.update(
                        dataset=dataset,
                        kind=kind,
                        source_file=source.name,
                        source_path=source.display,
                        mapping=mapping_name,
                        import_id=token,
                        imported_at=self.clock.now().astimezone(UTC).isoformat(),
                    )
                    staged[name] = meta
                    res.files.append(source.display)
                    res.rows_read += meta["rows_read"]
                    res.rows_imported += meta["rows_stored"]
                    res.rows_rejected += meta["rows_rejected"]
                    res.rows_dropped_outside_region += meta["rows_dropped_outside_region"]
                    res.rows_duplicate += meta["rows_duplicate"]
                    if progress:
                        progress(f"write:{source.name}", float(i + 1), float(len(sources)))
                for name in staged:
                    _fsync(folder / name)
            except BaseException:
                for name in staged:
                    (folder / name).unlink(missing_ok=True)
                self._sweep(folder, current)
                raise
            self._swap_manifest(folder, kept | staged)
            self._sweep(folder, kept | staged)
        return res, rejects

    def _stage(
        self,
        target: Path,
        chunks: Iterator[ReadResult | bulkread.ArrowPart],
        schema: pa.Schema,
        id_col: str,
        seen: IdSet,
        rejects: list[pd.DataFrame],
    ) -> dict[str, Any]:
        """Write one source file's chunks to ``target`` (not yet in the manifest), leaving out
        ids already stored or staged; returns the part's counts."""
        meta = {
            "rows_read": 0,
            "rows_stored": 0,
            "rows_rejected": 0,
            "rows_dropped_outside_region": 0,
            "rows_duplicate": 0,
        }
        mine: list[np.ndarray] = []
        with pq.ParquetWriter(target, schema, compression="zstd") as writer:
            for r in chunks:
                if isinstance(r, bulkread.ArrowPart):
                    self._stage_arrow(r, writer, seen, mine, meta)
                    continue
                frame = r.incidents
                ids = ids_to_u64(frame[id_col].astype(str).to_numpy()) if len(frame) else None
                if ids is not None and len(seen):
                    dup = seen.contains(ids)
                    if dup.any():
                        meta["rows_duplicate"] += int(dup.sum())
                        frame, ids = frame[~dup], ids[~dup]
                if len(frame):
                    table = pa.Table.from_pandas(
                        frame.reset_index(drop=True), schema=schema, preserve_index=False
                    )
                    writer.write_table(table, row_group_size=256_000)
                if ids is not None:
                    mine.append(ids)
                pa.default_memory_pool().release_unused()  # keep the peak at one chunk
                if len(r.rejects):
                    rejects.append(r.rejects)
                meta["rows_read"] += r.rows_read
                meta["rows_stored"] += len(frame)
                meta["rows_rejected"] += r.rows_rejected
                meta["rows_dropped_outside_region"] += r.dropped_outside_region
                meta["rows_duplicate"] += r.duplicate_key_rows
        if mine:
            seen.add(np.concatenate(mine))  # later files of this import dedupe against it
        return meta

    @staticmethod
    def _stage_arrow(
        part: bulkread.ArrowPart,
        writer: pq.ParquetWriter,
        seen: IdSet,
        mine: list[np.ndarray],
        meta: dict[str, Any],
    ) -> None:
        """One file read by the fast path: the same duplicate check and counts as a chunk."""
        table, ids = part.table, part.ids
        if len(ids) and len(seen):
            dup = seen.contains(ids)
            if dup.any():
                meta["rows_duplicate"] += int(dup.sum())
                table, ids = table.filter(pa.array(~dup)), ids[~dup]
        if table.num_rows:
            writer.write_table(table, row_group_size=256_000)
        mine.append(ids)
        meta["rows_read"] += part.rows_read
        meta["rows_stored"] += table.num_rows
        meta["rows_dropped_outside_region"] += part.dropped_outside_region

    # ------------------------------------------------------------------ reading back
    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        import duckdb  # here, not at import: an import that never queries stays lighter

        con = duckdb.connect(":memory:")
        try:
            yield con
        finally:
            con.close()

    def datasets(self, kind: str = "incidents") -> list[str]:
        """Names of the datasets with stored rows of ``kind`` ("incidents" or "stop_search")."""
        return sorted({p.parent.name for p in self._parts(kind)})

    def imports(self, kind: str = "incidents") -> pd.DataFrame:
        """One row per stored part: what was imported, from where, with what counts."""
        base = self.root / kind
        rows: list[dict[str, Any]] = []
        for folder in sorted(base.iterdir()) if base.is_dir() else []:
            if folder.is_dir():
                rows.extend(m for _, m in sorted(self._current(folder).items()) if m)
        return pd.DataFrame(rows)

    def _select(
        self,
        kind: str,
        columns: dict[str, str],
        dataset: str | list[str] | None,
        start: date | datetime | str | None,
        end: date | datetime | str | None,
        categories: list[str] | set[str] | tuple[str, ...] | None = None,
    ) -> pd.DataFrame | None:
        names = [dataset] if isinstance(dataset, str) else dataset
        parts = [p for p in self._parts(kind) if names is None or p.parent.name in names]
        if not parts:
            return None
        where: list[str] = []
        params: list[Any] = []
        if start is not None:
            where.append("time >= ?")
            params.append(pd.Timestamp(start).to_pydatetime())
        if end is not None:
            where.append("time < ?")
            params.append(pd.Timestamp(end).to_pydatetime())
        if categories is not None:
            cats = list(categories)
            unknown = [c for c in cats if c not in CATEGORIES]
            if unknown:
                raise DataError(f"unknown category code(s): {', '.join(unknown)}", field="category")
            where.append("category IN (SELECT unnest(?))")
            params.append(cats)
        sql = (
            f"SELECT {', '.join(columns)} FROM read_parquet({_sql_list(parts)}, union_by_name=true)"
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + " ORDER BY dataset, source_file, source_row"
        )
        with self._connect() as con:
            table = con.sql(sql, params=params).to_arrow_table()
        df = table.to_pandas()
        return df.astype(columns)

    def query(
        self,
        dataset: str | list[str] | None = None,
        categories: list[str] | set[str] | tuple[str, ...] | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> pd.DataFrame:
        """The canonical incident table, filtered: ``start <= time < end`` on the period start."""
        df = self._select("incidents", INCIDENT_COLUMNS, dataset, start, end, categories)
        return empty_incidents() if df is None else df

    def stop_search(
        self,
        dataset: str | list[str] | None = None,
        start: date | datetime | str | None = None,
        end: date | datetime | str | None = None,
    ) -> pd.DataFrame:
        """The canonical stop-and-search table, filtered on ``start <= time < end``."""
        df = self._select("stop_search", STOP_SEARCH_COLUMNS, dataset, start, end)
        return empty_stop_search() if df is None else df

    def summary(self, dataset: str | None = None) -> StoreSummary:
        """Counts of stored incidents by dataset, month, category and area (see module doc)."""
        parts = [p for p in self._parts("incidents") if dataset is None or p.parent.name == dataset]
        if dataset is not None and not parts:
            known = ", ".join(self.datasets()) or "none"
            raise DataError(
                f"no dataset named {dataset!r} in the store (stored: {known})", field="dataset"
            )
        if not parts:
            return StoreSummary.empty()
        src = f"read_parquet({_sql_list(parts)}, union_by_name=true)"
        with self._connect() as con:

            def q(sql: str) -> pd.DataFrame:
                return con.sql(sql.format(src=src)).to_arrow_table().to_pandas()

            by_dataset = q(
                "SELECT dataset, count(*) AS incidents, min(time) AS first, max(time) AS last, "
                "count(DISTINCT source_file) AS files FROM {src} GROUP BY dataset ORDER BY dataset"
            )
            by_month = q(
                "SELECT date_trunc('month', time) AS month, count(*) AS incidents "
                "FROM {src} GROUP BY 1 ORDER BY 1"
            )
            by_category = q(
                "SELECT category, count(*) AS incidents FROM {src} GROUP BY 1 ORDER BY 2 DESC, 1"
            )
            by_area = q(
                "SELECT area_code, count(*) AS incidents FROM {src} GROUP BY 1 ORDER BY 2 DESC, 1"
            )
        by_category["origin"] = [str(CATEGORIES[c].origin) for c in by_category["category"]]
        by_category["label"] = [CATEGORIES[c].label for c in by_category["category"]]
        imports = self.imports()
        if dataset is not None and len(imports):
            imports = imports[imports["dataset"] == dataset]
        return StoreSummary(
            total=int(by_dataset["incidents"].sum()),
            by_dataset=by_dataset,
            by_month=by_month,
            by_category=by_category,
            by_area=by_area,
            imports=imports.reset_index(drop=True),
        )

    def stop_search_summary(self) -> pd.DataFrame:
        """Stop-and-search records by dataset: count, period, share with a location."""
        parts = self._parts("stop_search")
        if not parts:
            return pd.DataFrame(columns=["dataset", "records", "first", "last", "located"])
        src = f"read_parquet({_sql_list(parts)}, union_by_name=true)"
        with self._connect() as con:
            return (
                con.sql(
                    "SELECT dataset, count(*) AS records, min(time) AS first, max(time) AS last, "
                    f"avg(CASE WHEN lon IS NULL THEN 0 ELSE 1 END) AS located FROM {src} "
                    "GROUP BY dataset ORDER BY dataset"
                )
                .to_arrow_table()
                .to_pandas()
            )

    def drop_dataset(self, dataset: str, kind: str = "incidents") -> int:
        """Remove a dataset's parts; returns how many files were removed."""
        folder = self._dir(kind, _check_dataset(dataset))
        n = 0
        for p in sorted(folder.glob("*")) if folder.is_dir() else []:
            p.unlink()
            n += 1
        if folder.is_dir():
            folder.rmdir()
        return n


@dataclass
class StoreSummary:
    """Stored incident counts: the total, and tables by dataset, month, category and area."""

    total: int
    by_dataset: pd.DataFrame
    by_month: pd.DataFrame
    by_category: pd.DataFrame
    by_area: pd.DataFrame
    imports: pd.DataFrame

    @classmethod
    def empty(cls) -> StoreSummary:
        e = pd.DataFrame()
        return cls(0, e, e, e, e, e)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"total": self.total}
        for f in fields(self):
            v = getattr(self, f.name)
            k = f.name
            if isinstance(v, pd.DataFrame):
                # values as text, a missing one (an incident with no area) as null, not NaN
                rows = v.astype(object).where(v.notna(), None).to_dict(orient="records")
                out[k] = [{c: None if x is None else str(x) for c, x in r.items()} for r in rows]
        return out


__all__ = [
    "FORMATS",
    "REJECT_COLUMNS",
    "ImportResult",
    "IncidentStore",
    "StoreSummary",
    "STOP_SEARCH_SOURCE_COLUMNS",
]
