"""Reading a CSV as text, fast, in blocks, without losing track of its rows.

Every column is read as a string with pyarrow's streaming reader, so the reader never guesses a
type and validation (vectorised, in :mod:`vigil.data.readers`) can say exactly which row and
field is wrong. Rows with the wrong number of fields are set aside during reading and located by
a second, pure-Python pass over the file: that pass only runs when something is wrong.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vigil.errors import DataError

#: progress(step, completed, total). ``step`` is "<kind>:<file name>" with kind "read" (units:
#: bytes of the file, reported block by block), "check" (validation stages) or "write" (files).
ProgressFn = Callable[[str, float, float], None]

_BLOCK = 1 << 20


@dataclass(frozen=True)
class CsvSource:
    """A CSV on disk (plain or .gz) or a member of a zip archive."""

    path: Path
    member: str | None = None

    @property
    def name(self) -> str:
        """Stable, location-free name used in ids and messages: the file (or member) name."""
        return Path(self.member).name if self.member else self.path.name

    @property
    def display(self) -> str:
        return f"{self.path}!{self.member}" if self.member else str(self.path)

    def size(self) -> int:
        if self.member:
            with zipfile.ZipFile(self.path) as zf:
                return zf.getinfo(self.member).compress_size
        return self.path.stat().st_size

    def read_bytes(self) -> bytes:
        """Whole decompressed content (used for zip members and the rare error-location pass)."""
        if self.member:
            with zipfile.ZipFile(self.path) as zf:
                return zf.read(self.member)
        raw = self.path.read_bytes()
        return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


@dataclass
class RawTable:
    """A CSV read as strings: the columns, 1-based data-row numbers, and malformed rows."""

    source: CsvSource
    columns: list[str]
    frame: pd.DataFrame  # every column str, "" for empty
    rows: np.ndarray  # 1-based data-row number (header excluded) of each frame row
    malformed: list[tuple[int, str]] = field(default_factory=list)  # (row, reason)


def _header(first: bytes, source: CsvSource) -> list[str]:
    line = first.decode("utf-8-sig", errors="replace").splitlines()
    if not line or not line[0].strip():
        raise DataError("file is empty or has no header row", file=source.display)
    names = next(csv.reader([line[0]]))
    names = [n.strip() for n in names]
    seen: set[str] = set()
    for n in names:
        if not n:
            raise DataError("header has an empty column name", file=source.display)
        if n in seen:
            raise DataError("header repeats a column name", file=source.display, field=n)
        seen.add(n)
    return names


def read_text_table(source: CsvSource, progress: ProgressFn | None = None) -> RawTable:
    """Read ``source`` with every column as text; malformed rows are set aside, located."""
    total = max(source.size(), 1)
    if source.member:
        data = source.read_bytes()
        raw_stream: pa.NativeFile = pa.BufferReader(data)
        counter: pa.NativeFile = raw_stream
        first = data[:65536]
        total = max(len(data), 1)
        stream = raw_stream
    else:
        with open(source.path, "rb") as fh:
            magic = fh.read(2)
        counter = pa.OSFile(str(source.path), "rb")
        stream = pa.CompressedInputStream(counter, "gzip") if magic == b"\x1f\x8b" else counter
        if magic == b"\x1f\x8b":
            with gzip.open(source.path, "rb") as gz:
                first = gz.read(65536)
        else:
            with open(source.path, "rb") as fh:
                first = fh.read(65536)
    names = _header(first, source)
    positional = [f"c{i}" for i in range(len(names))]
    rest = first.split(b"\n", 1)[1] if b"\n" in first else b""
    if len(first) < 65536 and not rest.strip():  # a header and nothing else
        stream.close()
        empty = pd.DataFrame({n: pd.Series(dtype="str") for n in names})
        return RawTable(source, names, empty, np.zeros(0, dtype=np.int64), [])
    bad: list[str] = []

    def _on_invalid(row: Any) -> str:
        bad.append(f"expected {row.expected_columns} fields, found {row.actual_columns}")
        return "skip"

    try:
        reader = pacsv.open_csv(
            stream,
            # our own header parse names the columns; pyarrow only ever sees data rows as text
            read_options=pacsv.ReadOptions(
                block_size=_BLOCK, use_threads=True, column_names=positional, skip_rows=1
            ),
            parse_options=pacsv.ParseOptions(invalid_row_handler=_on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in positional}, strings_can_be_null=False
            ),
        )
        batches = []
        for batch in reader:
            batches.append(batch)
            if progress:
                progress(f"read:{source.name}", float(counter.tell()), float(total))
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError) as exc:
        # locate the culprit with a pure-Python pass (error path only)
        row = _locate_bad_utf8(source)
        if row is not None:
            raise DataError("text is not valid UTF-8", file=source.display, row=row) from exc
        located = _locate_malformed(source, len(names))
        if located:
            bad_row, why = located[0]
            raise DataError(why, file=source.display, row=bad_row) from exc
        raise DataError(f"cannot read as CSV: {exc}", file=source.display) from exc
    finally:
        stream.close()
    if progress:
        progress(f"read:{source.name}", float(total), float(total))
    schema = reader.schema
    table = pa.Table.from_batches(batches, schema=schema)
    frame = table.to_pandas()
    frame.columns = names
    n = len(frame)
    malformed: list[tuple[int, str]] = []
    if bad:
        malformed = _locate_malformed(source, len(names))
        bad_rows = {r for r, _ in malformed}
        rows = np.array([r for r in range(1, n + len(bad_rows) + 1) if r not in bad_rows])
    else:
        rows = np.arange(1, n + 1, dtype=np.int64)
    return RawTable(source, names, frame, rows.astype(np.int64), malformed)


def _locate_malformed(source: CsvSource, n_fields: int) -> list[tuple[int, str]]:
    """Row numbers of the rows whose field count is wrong (second pass, error path only)."""
    text = source.read_bytes().decode("utf-8-sig", errors="replace")
    out: list[tuple[int, str]] = []
    reader = csv.reader(io.StringIO(text))
    next(reader, None)
    i = 0
    for rec in reader:
        if not rec:  # blank lines are ignored by the fast reader too, and not counted
            continue
        i += 1
        if len(rec) != n_fields:
            out.append((i, f"expected {n_fields} fields, found {len(rec)}"))
    return out


def _locate_bad_utf8(source: CsvSource) -> int | None:
    """Data-row number of the first line that is not valid UTF-8 (error path only)."""
    lines = source.read_bytes().split(b"\n")
    row = 0
    for i, line in enumerate(lines):
        if i > 0 and line.strip():
            row += 1
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return row if i > 0 else None
    return None


def csv_sources(path: Path, pattern: str = "*.csv") -> list[CsvSource]:
    """The CSV files a path stands for: a file, a folder (recursively), or a zip archive."""
    if not path.exists():
        raise DataError("file or folder not found", file=str(path))
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and _matches(p.name, pattern))
        if not files:
            raise DataError(f"folder holds no files matching {pattern}", file=str(path))
        return [CsvSource(p) for p in files]
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            members = sorted(
                m for m in zf.namelist() if not m.endswith("/") and _matches(Path(m).name, pattern)
            )
        if not members:
            raise DataError(f"zip archive holds no files matching {pattern}", file=str(path))
        return [CsvSource(path, m) for m in members]
    return [CsvSource(path)]


def _matches(name: str, pattern: str) -> bool:
    from fnmatch import fnmatch

    return fnmatch(name, pattern) or fnmatch(name, pattern + ".gz")
