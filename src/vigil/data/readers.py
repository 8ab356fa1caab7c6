"""Readers: an incident CSV plus its column mapping in, the canonical incident table out.

There is one code path: police.uk street files are read through the shipped
``police-uk-street`` mapping, the bundled datasets through theirs, and ``vigil data import``
and the dataset loaders all call :func:`read_mapped`. Validation is vectorised over whole
columns; every problem is located by file, 1-based data row and source field. A file either
reads completely or raises :class:`DataError` for its first bad row, unless the caller asked to
skip bad rows, in which case the rejects come back with their reasons.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from vigil.data.csvio import (
    CHUNK_ROWS,
    Budget,
    CsvSource,
    ProgressFn,
    RawTable,
    csv_sources,
    iter_text_chunks,
)
from vigil.data.mapping import ColumnMapping, RegionSpec, load_mapping
from vigil.data.schema import INCIDENT_COLUMNS, Precision, empty_incidents
from vigil.errors import DataError
from vigil.geo.projection import to_lonlat

#: columns of a rejects table, before the raw source columns
REJECT_COLUMNS = ["file", "row", "field", "reason", "value"]


@dataclass
class ReadResult:
    """What reading one file produced."""

    source: CsvSource
    incidents: pd.DataFrame  # canonical incident table
    rejects: pd.DataFrame  # REJECT_COLUMNS + raw columns, one line per problem
    rows_read: int  # data rows in the file, malformed ones included
    dropped_outside_region: int  # removed by the mapping's documented region filter
    #: later rows of an incident already read (the mapping's incident_key)
    duplicate_key_rows: int = 0

    @property
    def rows_rejected(self) -> int:
        return int(self.rejects["row"].nunique()) if len(self.rejects) else 0


class Problems:
    """Bad cells found by vectorised checks: (row position, field, reason, value)."""

    def __init__(self, raw: RawTable, active: np.ndarray | None = None) -> None:
        self.raw = raw
        #: rows still judged (rows a documented region filter dropped are not bad rows)
        self.active = np.ones(len(raw.frame), dtype=bool) if active is None else active
        self.parts: list[pd.DataFrame] = []

    def add(self, mask: np.ndarray, field: str, reason: str | pd.Series, value: pd.Series) -> None:
        mask = np.asarray(mask, dtype=bool) & self.active
        if not mask.any():
            return
        pos = np.flatnonzero(mask)
        reasons = reason[mask].to_numpy() if isinstance(reason, pd.Series) else reason
        self.parts.append(
            pd.DataFrame(
                {
                    "pos": pos,
                    "row": self.raw.rows[pos],
                    "field": field,
                    "reason": reasons,
                    "value": value.to_numpy()[mask],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        malformed = pd.DataFrame(
            {
                "pos": -1,
                "row": [r for r, _ in self.raw.malformed],
                "field": "(row)",
                "reason": [why for _, why in self.raw.malformed],
                "value": "",
            }
        )
        parts = [p for p in (malformed, *self.parts) if len(p)]
        if not parts:
            return pd.DataFrame(
                {"pos": pd.Series(dtype="int64"), "row": pd.Series(dtype="int64")}
                | {c: pd.Series(dtype="str") for c in ("field", "reason", "value")}
            )
        return pd.concat(parts, ignore_index=True).sort_values(["row", "field"], kind="stable")


def blank_mask(s: pd.Series) -> np.ndarray:
    return (s.str.strip() == "").to_numpy()


def _check_header(raw: RawTable, mapping: ColumnMapping) -> None:
    header = set(raw.columns)
    for col in mapping.source_columns():
        if col not in header:
            raise DataError(
                f"column not in header (header: {', '.join(raw.columns)})",
                file=raw.source.display,
                field=col,
            )
    if mapping.expected_columns is not None:
        expected = set(mapping.expected_columns)
        for col in raw.columns:
            if col not in expected:
                raise DataError(
                    f"unknown column for mapping '{mapping.name}'",
                    file=raw.source.display,
                    field=col,
                )
        for col in mapping.expected_columns:
            if col not in header:
                raise DataError(
                    f"column missing for mapping '{mapping.name}'",
                    file=raw.source.display,
                    field=col,
                )


#: dates outside these years are read as unparseable: pandas parses "0000-01-01" or
#: "9999-12-31" (at microseconds), and storing them at nanoseconds overflowed into a crash
EARLIEST, LATEST = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-01-01")


def as_stored_time(t: pd.Series) -> pd.Series:
    """Naive wall-clock times as stored (nanoseconds), NaT where the year is out of range."""
    return t.where((t >= EARLIEST) & (t < LATEST)).astype("datetime64[ns]")


def _parse_one(text: pd.Series, fmt: str, precision: Precision, tz: str | None) -> pd.Series:
    t: Any
    if fmt.upper() == "ISO8601":
        t = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
        t = t.dt.tz_convert(tz or "Europe/London").dt.tz_localize(None)
    else:
        t = pd.to_datetime(text, format=fmt, errors="coerce")
    t = as_stored_time(t)
    # the start of the period the record is known to: never a finer time than the source gives
    if precision is Precision.MONTH:
        return t.dt.to_period("M").dt.to_timestamp().astype("datetime64[ns]")
    if precision is Precision.DAY:
        return t.dt.floor("D")
    return t.dt.floor("min")


def _parse_time(s: pd.Series, mapping: ColumnMapping) -> tuple[pd.Series, pd.Series]:
    """Times and the precision of each record: the main format first, then the alternatives
    (for example a minute format, then a date-only one) for the rows it did not parse."""
    spec = mapping.time
    text = s.str.strip()
    t = _parse_one(text, spec.format, spec.precision, spec.timezone)
    precision = pd.Series(str(spec.precision), index=s.index, dtype="string")
    for alt in spec.alternatives:
        missing = t.isna() & (text != "")
        if not missing.any():
            break
        t2 = _parse_one(text[missing], alt.format, alt.precision, spec.timezone)
        got = t2.notna()
        t.loc[got[got].index] = t2[got]
        precision.loc[got[got].index] = str(alt.precision)
    return t, precision


def _coords(
    df: pd.DataFrame, mapping: ColumnMapping, probs: Problems
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lon, lat (NaN where absent) and a mask of rows with a bad coordinate."""
    a_col, b_col = (mapping.lon, mapping.lat) if mapping.lon else (mapping.x, mapping.y)
    assert a_col is not None and b_col is not None
    return check_coordinates(
        df,
        a_col,
        b_col,
        probs,
        crs=None if mapping.lon else mapping.crs,
        required=mapping.coordinates_required,
        region=mapping.region,
    )


def _to_float(s: pd.Series) -> np.ndarray:
    """Numbers from text; NaN where blank or not a number (fast path: one Arrow cast)."""
    try:
        arr = pa.array(s, type=pa.large_string())
        return np.asarray(pc.cast(pc.utf8_trim_whitespace(arr), pa.float64()), dtype=float)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pd.to_numeric(s.str.strip(), errors="coerce").to_numpy(dtype=float)


def check_coordinates(
    df: pd.DataFrame,
    a_col: str,
    b_col: str,
    probs: Problems,
    *,
    crs: str | None,
    required: bool,
    region: RegionSpec | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a coordinate pair (lon/lat, or x/y in ``crs``); flag bad ones; return lon, lat."""
    bad = np.zeros(len(df), dtype=bool)
    vals = []
    for col in (a_col, b_col):
        s = df[col]
        num = _to_float(s)
        blank = blank_mask(s)
        notnum = ~blank & ~np.isfinite(num)
        probs.add(notnum, col, "not a number", s)
        if required:
            probs.add(blank, col, "missing coordinate", s)
            bad |= blank
        bad |= notnum
        vals.append(np.where(blank | notnum, np.nan, num))
    a, b = vals
    half_a = ~np.isfinite(a) & np.isfinite(b) & ~bad
    half_b = np.isfinite(a) & ~np.isfinite(b) & ~bad
    why = "coordinate pair incomplete: this one is blank"
    probs.add(half_a, a_col, why, df[a_col])
    probs.add(half_b, b_col, why, df[b_col])
    half = half_a | half_b
    bad |= half
    a = np.where(half, np.nan, a)
    b = np.where(half, np.nan, b)
    if crs is None:
        lon, lat = a, b
    else:
        lon, lat = to_lonlat(a, b, crs)
    with np.errstate(invalid="ignore"):
        rng_lon = np.isfinite(lon) & (np.abs(lon) > 180) & ~bad
        rng_lat = np.isfinite(lat) & (np.abs(lat) > 90) & ~bad & ~rng_lon
    # a projected pair is one reading; name its first column, else the coordinate at fault
    lat_col = a_col if crs else b_col
    probs.add(rng_lon, a_col, "longitude outside -180..180", df[a_col])
    probs.add(rng_lat, lat_col, "latitude outside -90..90", df[lat_col])
    bad |= rng_lon | rng_lat
    if region is not None and region.bbox is not None:
        x0, y0, x1, y1 = region.bbox
        with np.errstate(invalid="ignore"):
            lon_in = (lon >= x0) & (lon <= x1)
            lat_in = (lat >= y0) & (lat <= y1)
            out = np.isfinite(lon) & ~(lon_in & lat_in) & ~bad
        if out.any():
            pairs = zip(df[a_col].to_numpy()[out], df[b_col].to_numpy()[out], strict=True)
            where = pd.Series([f"{x},{y}" for x, y in pairs], dtype="str")
            val = pd.Series("", index=df.index, dtype="str")
            val[out] = where.to_numpy()
            why = f"outside region {region.name} (bbox {list(region.bbox)})"
            by_lat = out & lon_in
            probs.add(out & ~by_lat, a_col, why, val)
            probs.add(by_lat, lat_col, why, val)
            bad |= out
    lon = np.where(bad, np.nan, lon)
    lat = np.where(bad, np.nan, lat)
    return lon, lat, bad


_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_PRIME = np.uint64(0x100000001B3)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fixed, well-spread 64-bit mixing (uint64 arithmetic wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def _md5_64(text: str) -> int:
    return int.from_bytes(hashlib.md5(text.encode("utf-8")).digest()[:8], "big")


def occurrences(h: np.ndarray) -> np.ndarray:
    """Each row's occurrence number among the rows with its hash (0 for the first, in row
    order): repeated rows get distinct ids. One home for the rule, which the bulk reader
    (:mod:`vigil.data.bulkread`) must follow exactly to give the same ids."""
    n = h.size
    order = np.argsort(h, kind="stable")
    hs = h[order]
    idx = np.arange(n)
    starts = np.where(np.r_[True, hs[1:] != hs[:-1]], idx, 0)
    occ = np.empty(n, dtype=np.uint64)
    occ[order] = (idx - np.maximum.accumulate(starts)).astype(np.uint64)
    return occ


def _column_hashes(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """MD5 (64 bits) of each value, computed once per distinct value."""
    enc = pc.dictionary_encode(col)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    values = enc.dictionary.to_pylist()
    table = np.fromiter((_md5_64(v) for v in values), dtype=np.uint64, count=len(values))
    codes = enc.indices.to_numpy(zero_copy_only=False)
    return table[codes]


@dataclass
class Occurrences:
    """How often each row hash has been met in the earlier chunks of a file (sorted keys), so a
    file read in chunks gets the same ids as one read whole. 16 bytes per distinct row."""

    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def before(self, h: np.ndarray) -> np.ndarray:
        """Times each hash of ``h`` was met before this chunk."""
        if not len(self.keys):
            return np.zeros(len(h), dtype=np.int64)
        idx = np.searchsorted(self.keys, h)
        ok = idx < len(self.keys)
        found = np.zeros(len(h), dtype=bool)
        found[ok] = self.keys[idx[ok]] == h[ok]
        return np.where(found, self.counts[np.minimum(idx, len(self.keys) - 1)], 0)

    def add(self, h: np.ndarray) -> None:
        keys = np.concatenate([self.keys, h])
        counts = np.concatenate([self.counts, np.ones(len(h), dtype=np.int64)])
        self.keys, inverse = np.unique(keys, return_inverse=True)
        self.counts = np.bincount(inverse, weights=counts, minlength=len(self.keys)).astype(
            np.int64
        )


def stable_ids(
    df: pd.DataFrame,
    dataset: str,
    source: CsvSource,
    key_column: str | None = None,
    seen: Occurrences | None = None,
) -> pd.Series:
    """Stable ids: dataset + source key when present, else file name + row content; each with
    its occurrence number, so identical rows stay distinct and re-imports land on the same id.

    An id is 16 hex digits of a 64-bit hash built only from MD5 and fixed integer arithmetic,
    so it is the same on every machine and version. Each distinct value of a column is hashed
    once (police.uk columns repeat a lot), then the columns are folded row-wise in numpy.
    """
    n = len(df)
    table = pa.Table.from_pandas(df, preserve_index=False)
    h = np.full(n, _md5_64(f"{dataset}\x1ffile\x1f{source.name}"), dtype=np.uint64)
    for col in table.columns:
        h = _mix((h * _PRIME) ^ _column_hashes(col))
    if key_column:
        key = table[key_column]
        keyed = pc.not_equal(pc.utf8_trim_whitespace(key), "").to_numpy(zero_copy_only=False)
        if keyed.any():
            salt = np.uint64((_md5_64(f"{dataset}\x1fkey") * int(_PRIME)) & 0xFFFFFFFFFFFFFFFF)
            by_key = _mix(salt ^ _column_hashes(key))
            h = np.where(keyed, by_key, h)
    occ = occurrences(h)
    if seen is not None:  # rows met in earlier chunks of the same file come first
        occ += seen.before(h).astype(np.uint64)
        seen.add(h)
    rep = occ > 0
    if rep.any():
        h[rep] = _mix((h[rep] * _PRIME) ^ _mix(occ[rep]))
    hexed = h.astype(">u8").tobytes().hex().encode()
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(hexed))
    return arr.to_pandas().astype("string")


def key_ids(
    df: pd.DataFrame, dataset: str, key: list[str], seen: Occurrences
) -> tuple[pd.Series, np.ndarray]:
    """Ids from an incident key (the same key gives the same id in any file, so the store
    drops it as a duplicate), and which rows repeat a key met earlier in the file."""
    n = len(df)
    table = pa.Table.from_pandas(df[key], preserve_index=False)
    h = np.full(n, _md5_64(f"{dataset}\x1fincident"), dtype=np.uint64)
    for col in table.columns:
        h = _mix((h * _PRIME) ^ _column_hashes(pc.utf8_trim_whitespace(col)))
    order = np.argsort(h, kind="stable")
    hs = h[order]
    first = np.r_[True, hs[1:] != hs[:-1]]
    repeat = np.empty(n, dtype=bool)
    repeat[order] = ~first
    repeat |= seen.before(h) > 0
    seen.add(np.unique(h))
    hexed = h.astype(">u8").tobytes().hex().encode()
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int32)
    arr = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(hexed))
    return arr.to_pandas().astype("string"), repeat


def read_mapped(
    source: CsvSource | Path | str,
    mapping: ColumnMapping | str | Path,
    dataset: str | None = None,
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
    budget: Budget | None = None,
) -> ReadResult:
    """Read one CSV into the canonical incident table through ``mapping``, whole.

    Raises DataError (file, row, field) on the first bad row unless ``skip_bad_rows``; then the
    bad rows are left out and returned in ``rejects`` with their reasons. For files of any size
    use :func:`iter_mapped`, which hands the same rows out chunk by chunk.
    """
    parts = list(
        iter_mapped(
            source,
            mapping,
            dataset,
            skip_bad_rows=skip_bad_rows,
            progress=progress,
            budget=budget,
        )
    )
    first = parts[0]
    if len(parts) == 1:
        return first
    frames = [p.incidents for p in parts if len(p.incidents)]
    rejects = [p.rejects for p in parts if len(p.rejects)]
    return ReadResult(
        first.source,
        pd.concat(frames, ignore_index=True) if frames else empty_incidents(),
        pd.concat(rejects, ignore_index=True) if rejects else first.rejects,
        sum(p.rows_read for p in parts),
        sum(p.dropped_outside_region for p in parts),
        sum(p.duplicate_key_rows for p in parts),
    )


def iter_mapped(
    source: CsvSource | Path | str,
    mapping: ColumnMapping | str | Path,
    dataset: str | None = None,
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
    budget: Budget | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[ReadResult]:
    """Read one CSV through ``mapping`` chunk by chunk (memory bounded by ``chunk_rows``).

    Every chunk is a :class:`ReadResult` of its own rows; ids and row numbers are those of the
    whole file. Without ``skip_bad_rows``, the first bad row raises DataError after the rest of
    the file has been checked (to say how many rows are bad in all); the chunks handed out
    before it must then be thrown away by the caller, as the store does.
    """
    if not isinstance(source, CsvSource):
        source = CsvSource(Path(source))
    if not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    dataset = dataset or mapping.name
    seen = Occurrences()
    failed: pd.DataFrame | None = None
    bad_rows = 0
    for raw in iter_text_chunks(source, budget or Budget(), progress, chunk_rows):
        res, problems = _read_chunk(raw, mapping, dataset, skip_bad_rows, progress, seen)
        if not skip_bad_rows and len(problems):
            bad_rows += int(problems["row"].nunique())
            if failed is None:
                failed = problems
            continue
        if failed is None:
            yield res
    if failed is not None:
        raise_first(failed, source, bad_rows)


def _read_chunk(
    raw: RawTable,
    mapping: ColumnMapping,
    dataset: str,
    skip_bad_rows: bool,
    progress: ProgressFn | None,
    seen: Occurrences,
) -> tuple[ReadResult, pd.DataFrame]:
    """One chunk through the mapping: the result, and its problems (row, field, reason)."""
    source = raw.source
    _check_header(raw, mapping)
    df_all = raw.frame
    rows_read = len(df_all) + len(raw.malformed)

    df = df_all
    region = mapping.region
    drop = np.zeros(len(df), dtype=bool)  # documented region filters: dropped, counted
    if region is not None and region.drop_if_blank:
        drop = blank_mask(df[region.drop_if_blank])
    probs = Problems(raw, ~drop)
    step = f"check:{source.name}"

    def stage(done: int) -> None:
        if progress:
            progress(step, float(done), 4.0)

    stage(0)
    bad = np.zeros(len(df), dtype=bool)

    # time (a separate time-of-day column is appended to the date's text)
    tcol = mapping.time.column
    ttext = df[tcol]
    if mapping.time.time_column:
        clock = df[mapping.time.time_column].str.strip()
        ttext = (ttext.str.strip() + " " + clock).str.strip()
    times, precisions = _parse_time(ttext, mapping)
    tblank = blank_mask(df[tcol])
    probs.add(tblank, tcol, "missing date", df[tcol])
    tbad = times.isna().to_numpy() & ~tblank
    formats = " or ".join([mapping.time.format] + [a.format for a in mapping.time.alternatives])
    where = f"{tcol} + {mapping.time.time_column}" if mapping.time.time_column else tcol
    probs.add(tbad, where, f"unparseable date (expected {formats})", ttext)
    bad |= tblank | tbad

    stage(1)
    # coordinates
    lon, lat, cbad = _coords(df, mapping, probs)
    bad |= cbad
    outside = np.zeros(len(df), dtype=bool)
    if region is not None and region.boundary:
        from vigil.geo.areas import points_inside  # geopandas only when a boundary is used

        outside = ~points_inside(lon, lat, region.boundary) & ~bad & ~drop
        if region.drop_outside_boundary:
            drop |= outside
        else:
            col = mapping.lon or mapping.x
            assert col is not None
            probs.add(outside, col, f"outside region {region.name} (boundary)", df[col])
            bad |= outside

    stage(2)
    # category
    if mapping.category.column:
        ccol = mapping.category.column
        rawcat = df[ccol].str.strip()
        uniq = pd.unique(rawcat)
        lookup = {u: mapping.code_for(u) for u in uniq}
        codes = rawcat.map(lookup)
        cblank = (rawcat == "").to_numpy()
        probs.add(cblank, ccol, "missing category", df[ccol])
        unknown = codes.isna().to_numpy() & ~cblank
        reasons = "unknown category '" + rawcat + "' (add it to the mapping's categories)"
        probs.add(unknown, ccol, reasons, df[ccol])
        bad |= cblank | unknown
        raw_category = rawcat
    else:
        value = mapping.category.value
        assert value is not None
        codes = pd.Series(mapping.code_for(value), index=df.index, dtype="str")
        raw_category = pd.Series(value, index=df.index, dtype="str")

    problems = probs.frame()
    # ids over every row of the file, so a row's id depends on the file alone, not on the checks
    if mapping.incident_key:
        ids, repeat = key_ids(df, dataset, mapping.incident_key, seen)
    else:
        ids = stable_ids(df, dataset, source, mapping.source_key, seen)
        repeat = np.zeros(len(df), dtype=bool)
    if not skip_bad_rows and len(problems):
        return ReadResult(source, empty_incidents(), df_all.iloc[:0], rows_read, 0), problems

    rejects = rejects_frame(problems, df_all, source)
    bad &= ~drop
    dropped = int(drop.sum())
    # a later row of an incident already read (one row per victim): left out, counted
    repeat &= ~bad & ~drop
    good = ~bad & ~drop & ~repeat
    any_out = bool((~good).any())

    def pick(s: pd.Series) -> pd.Series:
        return (s[good] if any_out else s).reset_index(drop=True)

    n_repeat = int(repeat.sum())
    if not good.any():
        empty = ReadResult(source, empty_incidents(), rejects, rows_read, dropped, n_repeat)
        return empty, problems
    stage(3)
    out = pd.DataFrame(
        {
            "incident_id": pick(ids),
            "dataset": dataset,
            "category": pick(codes),
            "raw_category": pick(raw_category),
            "time": pick(times),
            "precision": pick(precisions),
            "lon": lon[good],
            "lat": lat[good],
            "area_code": pick(optional_text(df, mapping.area_code)),
            "location_type": pick(optional_text(df, mapping.location_type)),
            "source_file": source.name,
            "source_row": raw.rows[good],
        }
    )
    out = out.astype(INCIDENT_COLUMNS)
    stage(4)
    return ReadResult(source, out, rejects, rows_read, dropped, n_repeat), problems


def raise_first(problems: pd.DataFrame, source: CsvSource, n_rows: int | None = None) -> None:
    """Raise DataError for the first problem (by row), saying how many rows are bad in all
    (``n_rows`` when the file was checked in chunks, else counted in ``problems``)."""
    if not len(problems):
        return
    first = problems.iloc[0]
    n_rows = problems["row"].nunique() if n_rows is None else n_rows
    more = f" ({n_rows} bad rows in all; --skip-bad-rows sets them aside)" if n_rows > 1 else ""
    value = str(first["value"])
    text = f"{first['reason']}: {value!r}{more}" if value else f"{first['reason']}{more}"
    raise DataError(
        text,
        file=source.display,
        row=int(first["row"]),
        field=None if first["field"] == "(row)" else str(first["field"]),
    )


def optional_text(df: pd.DataFrame, col: str | None) -> pd.Series:
    if col is None:
        return pd.Series(pd.NA, index=df.index, dtype="string")
    s = df[col].str.strip().astype("string")
    return s.mask(s == "")


def rejects_frame(problems: pd.DataFrame, df_all: pd.DataFrame, source: CsvSource) -> pd.DataFrame:
    if not len(problems):
        return pd.DataFrame(columns=REJECT_COLUMNS + list(df_all.columns))
    pos = problems["pos"].to_numpy()
    raw = pd.DataFrame(index=range(len(problems)), columns=list(df_all.columns), dtype="str")
    has = pos >= 0
    if has.any():
        raw.loc[has, :] = df_all.iloc[pos[has]].to_numpy()
    head = problems[["row", "field", "reason", "value"]].reset_index(drop=True)
    head.insert(0, "file", source.display)
    return pd.concat([head, raw.fillna("")], axis=1)


def read_police_uk(
    path: Path | str,
    dataset: str = "police-uk",
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Every ``*-street.csv`` in a police.uk file, month folder tree or archive zip, canonical."""
    frames = [
        read_mapped(
            src, "police-uk-street", dataset, skip_bad_rows=skip_bad_rows, progress=progress
        ).incidents
        for src in csv_sources(Path(path), "*-street.csv")
    ]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_incidents()
