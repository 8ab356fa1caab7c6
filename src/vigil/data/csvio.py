"""Reading a CSV as text, fast, in blocks, without losing track of its rows.

Every column is read as a string with pyarrow's streaming reader, so the reader never guesses a
type and validation (vectorised, in :mod:`vigil.data.readers`) can say exactly which row and
field is wrong. Rows with the wrong number of fields are set aside during reading and located by
a second, pure-Python pass over the file: that pass only runs when something is wrong.

A file is read as a stream of chunks (``iter_text_chunks``), so memory does not grow with the
file. Every byte goes through a :class:`Budget` shared by all the files of one import, which
enforces the :class:`ImportLimits`: decompressed bytes, data rows and line length. An archive's
declared sizes are checked before anything is decompressed; the counts are enforced while
reading too, because a gzip stream declares nothing reliable.
"""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from vigil.errors import DataError

#: progress(step, completed, total). ``step`` is "<kind>:<file name>" with kind "read" (units:
#: bytes of the file, reported block by block), "check" (validation stages) or "write" (files).
ProgressFn = Callable[[str, float, float], None]

_BLOCK = 1 << 20
#: data rows handed to validation at a time: bounds memory whatever the file's size
CHUNK_ROWS = 10_000

MiB = 1024**2


@dataclass(frozen=True)
class ImportLimits:
    """What one import may read: caps that stop a small archive expanding without bound.

    Defaults (settings ``VIGIL_IMPORT_MAX_BYTES``, ``VIGIL_IMPORT_MAX_ROWS``,
    ``VIGIL_IMPORT_MAX_LINE_BYTES``): 1 GiB of decompressed CSV, 5 million data rows, 64 KiB
    per line. A year of the largest force's police.uk files is about 1.1 M rows and 300 MiB;
    the longest police.uk line is under 1 KiB. Raise them for a national import.
    """

    max_bytes: int = 1024**3
    max_rows: int = 5_000_000
    max_line_bytes: int = 64 * 1024

    @classmethod
    def from_settings(cls, settings: Any = None) -> ImportLimits:
        """The limits configured in ``settings`` (default: the process's settings)."""
        if settings is None:
            from vigil.settings import get_settings

            settings = get_settings()
        return cls(
            settings.import_max_bytes, settings.import_max_rows, settings.import_max_line_bytes
        )


class LimitExceeded(DataError):
    """An import went over one of its :class:`ImportLimits`; nothing of it is stored."""


@dataclass
class Budget:
    """Bytes and rows read so far by one import, checked against its limits."""

    limits: ImportLimits = field(default_factory=ImportLimits)
    bytes: int = 0
    rows: int = 0

    def add_bytes(self, n: int, where: str) -> None:
        self.bytes += n
        if self.bytes > self.limits.max_bytes:
            raise LimitExceeded(
                f"import is larger than {_size(self.limits.max_bytes)} of CSV once decompressed "
                "(limit VIGIL_IMPORT_MAX_BYTES); nothing was stored",
                file=where,
            )

    def add_rows(self, n: int, where: str) -> None:
        self.rows += n
        if self.rows > self.limits.max_rows:
            raise LimitExceeded(
                f"import holds more than {self.limits.max_rows:,} data rows "
                "(limit VIGIL_IMPORT_MAX_ROWS); nothing was stored",
                file=where,
            )


def _size(n: int) -> str:
    return f"{n / 1024**3:g} GiB" if n >= 1024**3 else f"{n / MiB:g} MiB"


class _Guarded(io.RawIOBase):
    """A read-only byte stream that counts bytes into a budget and refuses over-long lines."""

    def __init__(self, inner: io.BufferedIOBase | io.RawIOBase, budget: Budget, where: str) -> None:
        self.inner = inner
        self.budget = budget
        self.where = where
        self.line = 0  # bytes since the last newline
        self.lineno = 1  # physical line number (1 = header)
        self.read_bytes = 0

    def position(self) -> int:
        """How far into the file on disk (compressed bytes for gzip), for progress."""
        fileobj = getattr(self.inner, "fileobj", None)
        return int(fileobj.tell()) if fileobj is not None else self.read_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(min(len(b), _BLOCK))
        n = len(data)
        if not n:
            return 0
        self.budget.add_bytes(n, self.where)
        self.read_bytes += n
        cap = self.budget.limits.max_line_bytes
        last = data.rfind(b"\n")
        if last < 0:
            self.line += n
            if self.line > cap:
                self._too_long(cap)
        else:
            first = data.find(b"\n")
            if self.line + first > cap:
                self._too_long(cap)
            if last > first:
                parts = data[first + 1 : last].split(b"\n")
                longest = max(map(len, parts))
                if longest > cap:
                    self.lineno += 1 + next(i for i, x in enumerate(parts) if len(x) > cap)
                    self._too_long(cap)
            self.lineno += data.count(b"\n")
            self.line = n - last - 1
            if self.line > cap:
                self._too_long(cap)
        b[:n] = data
        return n

    def _too_long(self, cap: int) -> None:
        raise LimitExceeded(
            f"line {self.lineno:,} (counting the header as 1) is longer than {cap:,} bytes "
            "(limit VIGIL_IMPORT_MAX_LINE_BYTES); nothing was stored",
            file=self.where,
        )

    def close(self) -> None:
        self.inner.close()
        super().close()


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
        """Bytes on disk (compressed size for a zip member): the unit of read progress."""
        if self.member:
            with zipfile.ZipFile(self.path) as zf:
                return zf.getinfo(self.member).compress_size
        return self.path.stat().st_size

    def declared_size(self) -> int | None:
        """Decompressed size as the archive declares it (zip members; None otherwise)."""
        if self.member:
            with zipfile.ZipFile(self.path) as zf:
                return zf.getinfo(self.member).file_size
        return None

    def open_raw(self) -> io.BufferedIOBase | io.RawIOBase:
        """The decompressed bytes as a stream (a zip member never yields more than it declares:
        ``zipfile`` stops at the declared size and checks the CRC)."""
        if self.member:
            zf = zipfile.ZipFile(self.path)
            inner = zf.open(self.member)
            return _Closing(inner, zf)
        with open(self.path, "rb") as fh:
            magic = fh.read(2)
        if magic == b"\x1f\x8b":
            return gzip.open(self.path, "rb")
        return open(self.path, "rb")

    def open(self, budget: Budget) -> io.BufferedReader:
        """The decompressed bytes through ``budget``'s limits."""
        return io.BufferedReader(_Guarded(self.open_raw(), budget, self.display), _BLOCK)

    def progress_total(self) -> int:
        """The unit of read progress: declared size of a zip member, else bytes on disk."""
        declared = self.declared_size()
        return declared if declared is not None else self.path.stat().st_size

    def read_bytes(self) -> bytes:
        """Whole decompressed content (small files only: tests and one-off helpers)."""
        with self.open_raw() as fh:
            return fh.read()


class _Closing(io.RawIOBase):
    """A zip member's stream that also closes its archive."""

    def __init__(self, inner: IO[bytes], owner: zipfile.ZipFile) -> None:
        self.inner, self.owner = inner, owner

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        data = self.inner.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        self.owner.close()
        super().close()


def check_declared_sizes(sources: list[CsvSource], limits: ImportLimits) -> None:
    """Refuse an archive whose members declare more than the byte limit, before decompressing."""
    total = 0
    for s in sources:
        declared = s.declared_size()
        if declared is None:
            continue
        total += declared
        if total > limits.max_bytes:
            raise LimitExceeded(
                f"archive expands to more than {_size(limits.max_bytes)} of CSV "
                f"(members declare {_size(total)} by {s.name}; limit VIGIL_IMPORT_MAX_BYTES); "
                "nothing was read or stored",
                file=str(s.path),
            )


@dataclass
class RawTable:
    """A CSV (or a chunk of one) read as strings: the columns, 1-based data-row numbers, and
    the malformed rows in it."""

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


class _HasMalformed(Exception):
    """Internal: a row with the wrong number of fields was met; locate them, then read again."""


def read_text_table(
    source: CsvSource, progress: ProgressFn | None = None, budget: Budget | None = None
) -> RawTable:
    """Read the whole of ``source`` with every column as text (small files: stop and search)."""
    chunks = list(iter_text_chunks(source, budget or Budget(), progress))
    first = chunks[0]
    if len(chunks) == 1:
        return first
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    rows = np.concatenate([c.rows for c in chunks])
    malformed = [m for c in chunks for m in c.malformed]
    return RawTable(source, first.columns, frame, rows, malformed)


def iter_text_chunks(
    source: CsvSource,
    budget: Budget,
    progress: ProgressFn | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[RawTable]:
    """``source`` as text, in chunks of about ``chunk_rows`` data rows (at least one chunk).

    Malformed rows are located by a streaming pass first (only when the fast reader met one), so
    every chunk carries exact row numbers; they are reported with the first chunk.
    """
    start_bytes, start_rows = budget.bytes, budget.rows
    yielded = 0
    try:
        for chunk in _chunks(source, budget, progress, chunk_rows, None, 0):
            yielded += 1
            yield chunk
    except _HasMalformed:
        # the chunks already handed out had no malformed row before them: their row numbers
        # stand; read again, with the malformed rows located, from where they stopped
        budget.bytes, budget.rows = start_bytes, start_rows
        located = _locate_malformed(source, budget)
        yield from _chunks(source, budget, progress, chunk_rows, located, yielded)


def _chunks(
    source: CsvSource,
    budget: Budget,
    progress: ProgressFn | None,
    chunk_rows: int,
    malformed: list[tuple[int, str]] | None,
    skip: int,
) -> Iterator[RawTable]:
    """Chunks of ``source``; the first ``skip`` are read but not handed out (a re-read)."""
    total = float(max(source.progress_total(), 1))
    stream = source.open(budget)
    guard = stream.raw
    assert isinstance(guard, _Guarded)
    try:
        first = stream.peek(65536)[:65536]
        names = _header(first, source)
        positional = [f"c{i}" for i in range(len(names))]
        rest = first.split(b"\n", 1)[1] if b"\n" in first else b""
        if len(first) < 65536 and not rest.strip():  # a header and nothing else
            empty = pd.DataFrame({n: pd.Series(dtype="str") for n in names})
            yield RawTable(source, names, empty, np.zeros(0, dtype=np.int64), [])
            return
        bad: list[str] = []

        def _on_invalid(row: Any) -> str:
            bad.append(f"expected {row.expected_columns} fields, found {row.actual_columns}")
            return "skip"

        bad_rows = np.array(sorted(r for r, _ in malformed or []), dtype=np.int64)
        done = 0  # good rows read so far
        emitted = 0  # chunks made so far
        yielded = False
        pending: list[pa.RecordBatch] = []
        pending_rows = 0

        def emit(batches: list[pa.RecordBatch]) -> RawTable | None:
            nonlocal done, yielded, emitted
            emitted += 1
            if emitted <= skip:
                done += sum(b.num_rows for b in batches)
                return None
            table = pa.Table.from_batches(batches, schema=schema)
            frame = table.to_pandas()
            frame.columns = names
            n = len(frame)
            rows = _row_numbers(done, n, bad_rows)
            done += n
            first_chunk = not yielded
            yielded = True
            return RawTable(
                source, names, frame, rows, list(malformed or []) if first_chunk else []
            )

        try:
            reader = pacsv.open_csv(
                pa.PythonFile(stream, mode="r"),
                # our own header parse names the columns; pyarrow only sees data rows as text
                # parsing in the consumer's thread: no read-ahead piles up while checks run
                read_options=pacsv.ReadOptions(
                    block_size=_BLOCK, use_threads=False, column_names=positional, skip_rows=1
                ),
                parse_options=pacsv.ParseOptions(invalid_row_handler=_on_invalid),
                convert_options=pacsv.ConvertOptions(
                    column_types={n: pa.string() for n in positional}, strings_can_be_null=False
                ),
            )
            schema = reader.schema
            for batch in reader:
                if bad and malformed is None:
                    raise _HasMalformed
                budget.add_rows(batch.num_rows, source.display)
                pending.append(batch)
                pending_rows += batch.num_rows
                if progress:
                    progress(f"read:{source.name}", min(float(guard.position()), total), total)
                if pending_rows >= chunk_rows:
                    chunk = emit(pending)
                    if chunk is not None:
                        yield chunk
                    pending, pending_rows = [], 0
            if bad and malformed is None:
                raise _HasMalformed
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            # locate the culprit with a streaming pure-Python pass (error path only)
            raise _locate_error(source, len(names), exc, budget) from exc
        if pending or (not yielded and emitted == 0):
            if not pending:
                pending = [pa.RecordBatch.from_pylist([], schema=schema)]
            chunk = emit(pending)
            if chunk is not None:
                yield chunk
        if progress:
            progress(f"read:{source.name}", total, total)
    finally:
        stream.close()


def _row_numbers(done: int, n: int, bad_rows: np.ndarray) -> np.ndarray:
    """1-based data-row numbers of good rows ``done .. done + n - 1`` when ``bad_rows`` (sorted
    data-row numbers) were set aside: the k-th good row is the k-th number not in ``bad_rows``."""
    k = np.arange(done + 1, done + n + 1, dtype=np.int64)
    if not len(bad_rows):
        return k
    # row r is good number r - (#bad <= r); solve for r by adding the bad rows at or before it
    shift = bad_rows - np.arange(1, len(bad_rows) + 1)  # good rows before each bad row
    return k + np.searchsorted(shift, k - 1, side="right")


def _text_lines(source: CsvSource, budget: Budget) -> io.TextIOWrapper:
    """The file as text, streamed through a fresh copy of the limits (error path only)."""
    return io.TextIOWrapper(
        source.open(Budget(budget.limits)), encoding="utf-8-sig", errors="replace", newline=""
    )


def _csv_records(source: CsvSource, budget: Budget) -> Iterator[list[str]]:
    limit = csv.field_size_limit()
    csv.field_size_limit(max(budget.limits.max_line_bytes, 1))
    try:
        with _text_lines(source, budget) as fh:
            reader = csv.reader(fh)
            next(reader, None)
            try:
                yield from reader
            except csv.Error as exc:
                raise DataError(
                    f"cannot read as CSV: {exc}", file=source.display, row=reader.line_num - 1
                ) from exc
    finally:
        csv.field_size_limit(limit)


def _locate_malformed(
    source: CsvSource, budget: Budget, n_fields: int | None = None
) -> list[tuple[int, str]]:
    """Row numbers of the rows whose field count is wrong (second pass, error path only)."""
    if n_fields is None:
        with source.open(Budget(budget.limits)) as fh:
            n_fields = len(_header(fh.peek(65536)[:65536], source))
    out: list[tuple[int, str]] = []
    i = 0
    for rec in _csv_records(source, budget):
        if not rec:  # blank lines are ignored by the fast reader too, and not counted
            continue
        i += 1
        if len(rec) != n_fields:
            out.append((i, f"expected {n_fields} fields, found {len(rec)}"))
    return out


def _locate_error(source: CsvSource, n_fields: int, exc: Exception, budget: Budget) -> DataError:
    """A located DataError for a file the fast reader could not parse (error path only)."""
    row = _locate_bad_utf8(source, budget)
    if row is not None:
        return DataError("text is not valid UTF-8", file=source.display, row=row)
    located = _locate_malformed(source, budget, n_fields)
    if located:
        bad_row, why = located[0]
        return DataError(why, file=source.display, row=bad_row)
    return DataError(f"cannot read as CSV: {exc}", file=source.display)


def _locate_bad_utf8(source: CsvSource, budget: Budget) -> int | None:
    """Data-row number of the first line that is not valid UTF-8 (error path only)."""
    row = 0
    with source.open(Budget(budget.limits)) as fh:
        for i, line in enumerate(fh):
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
