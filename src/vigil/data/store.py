"""The incident store: Parquet files under a data directory, queried through DuckDB.

Layout (under ``root``, by default ``settings.store_dir``)::

    incidents/<dataset>/<part>.parquet     one part per imported source file
    incidents/<dataset>/<part>.json        what was imported: file, mapping, counts, when
    stop_search/<dataset>/<part>.parquet   (and .json) police.uk stop and search

A part is named by a hash of (dataset, source file name), so importing the same file again
replaces its part instead of adding rows; rows whose stable id is already stored from another
file of the dataset are left out and counted as duplicates. Each part is written to a temporary
file and renamed into place, so a failed import never leaves half a file in the store: a file's
rows are either all stored (less the rejects, when asked to skip them) or not at all.

What ``summary`` counts: stored rows, i.e. rows read less the rows a mapping's documented region
filter dropped (``dropped_outside_region``), less rejected bad rows, less duplicates.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from vigil.clock import Clock, SystemClock
from vigil.data.csvio import CsvSource, ProgressFn, csv_sources
from vigil.data.mapping import ColumnMapping, load_mapping
from vigil.data.readers import REJECT_COLUMNS, ReadResult, read_mapped
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

#: --format values and what they stand for
FORMATS = ("police-uk", "police-uk-stop-search")
_POLICE_UK_STREET = "police-uk-street"
_DATASET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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
        base = self.root / kind
        if not base.is_dir():
            return []
        pattern = f"{dataset}/*.parquet" if dataset else "*/*.parquet"
        return sorted(base.glob(pattern))

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
    ) -> ImportResult:
        """Import a CSV (plain, .gz), a folder of them or a police.uk zip.

        ``mapping`` (a ColumnMapping, a shipped mapping name or a YAML path) or ``format``
        ("police-uk", "police-uk-stop-search") says how to read it; with neither, a police.uk
        header is recognised. Every file is validated before anything is written.
        """
        path = Path(path)
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
        results = [
            read_mapped(s, cmap, name, skip_bad_rows=skip_bad_rows, progress=progress)
            for s in sources
        ]
        res = self._write(
            "incidents", name, results, INCIDENT_COLUMNS, "incident_id", cmap.name, progress
        )
        return self._finish(res, results, rejects_path, skip_bad_rows, t0)

    def import_stop_search(
        self,
        path: Path | str,
        *,
        dataset: str | None = None,
        skip_bad_rows: bool = False,
        rejects_path: Path | str | None = None,
        progress: ProgressFn | None = None,
    ) -> ImportResult:
        """Import police.uk stop-and-search CSVs (file, folder or zip) into ``stop_search``."""
        path = Path(path)
        name = _check_dataset(dataset or "stop-search")
        t0 = time.perf_counter()
        results = [
            read_stop_search_file(s, name, skip_bad_rows=skip_bad_rows, progress=progress)
            for s in csv_sources(path, "*stop-and-search.csv")
        ]
        res = self._write(
            "stop_search",
            name,
            results,
            STOP_SEARCH_COLUMNS,
            "search_id",
            "police-uk-stop-search",
            progress,
        )
        return self._finish(res, results, rejects_path, skip_bad_rows, t0)

    def _finish(
        self,
        res: ImportResult,
        results: list[ReadResult],
        rejects_path: Path | str | None,
        skip_bad_rows: bool,
        t0: float,
    ) -> ImportResult:
        rejects = [r.rejects for r in results if len(r.rejects)]
        res.rows_rejected = sum(r.rows_rejected for r in results)
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

    def _write(
        self,
        kind: str,
        dataset: str,
        results: list[ReadResult],
        columns: dict[str, str],
        id_col: str,
        mapping_name: str,
        progress: ProgressFn | None,
    ) -> ImportResult:
        res = ImportResult(dataset=dataset, kind=kind)
        folder = self._dir(kind, dataset)
        folder.mkdir(parents=True, exist_ok=True)
        total = len(results)
        for i, r in enumerate(results):
            part = self._part_name(dataset, r.source)
            target = folder / f"{part}.parquet"
            frame = r.incidents
            others = [p for p in self._parts(kind, dataset) if p != target]
            dup = 0
            if others and len(frame):
                with self._connect() as con:
                    con.register("new_ids", pa.table({"id": frame[id_col].astype(str).to_numpy()}))
                    stored = con.execute(
                        f"SELECT {id_col} FROM read_parquet({_sql_list(others)}) "
                        f"WHERE {id_col} IN (SELECT id FROM new_ids)"
                    ).fetchall()
                if stored:
                    seen = {s[0] for s in stored}
                    keep = ~frame[id_col].isin(seen)
                    dup = int((~keep).sum())
                    frame = frame[keep]
            table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
            tmp = folder / f".{part}.parquet.tmp"
            pq.write_table(table, tmp, compression="zstd", row_group_size=256_000)
            meta = {
                "dataset": dataset,
                "kind": kind,
                "source_file": r.source.name,
                "source_path": r.source.display,
                "mapping": mapping_name,
                "rows_read": r.rows_read,
                "rows_stored": len(frame),
                "rows_rejected": r.rows_rejected,
                "rows_dropped_outside_region": r.dropped_outside_region,
                "rows_duplicate": dup,
                "imported_at": self.clock.now().astimezone(UTC).isoformat(),
            }
            mtmp = folder / f".{part}.json.tmp"
            mtmp.write_text(json.dumps(meta, indent=1))
            os.replace(tmp, target)
            os.replace(mtmp, folder / f"{part}.json")
            res.files.append(r.source.display)
            res.rows_read += r.rows_read
            res.rows_imported += len(frame)
            res.rows_dropped_outside_region += r.dropped_outside_region
            res.rows_duplicate += dup
            if progress:
                progress(f"write:{r.source.name}", float(i + 1), float(total))
        return res

    # ------------------------------------------------------------------ reading back
    @contextmanager
    def _connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
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
        rows = []
        for p in sorted(base.glob("*/*.json")) if base.is_dir() else []:
            if p.with_suffix(".parquet").exists():
                rows.append(json.loads(p.read_text()))
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
                out[k] = v.astype(str).to_dict(orient="records")
        return out


__all__ = [
    "FORMATS",
    "REJECT_COLUMNS",
    "ImportResult",
    "IncidentStore",
    "StoreSummary",
    "STOP_SEARCH_SOURCE_COLUMNS",
]
