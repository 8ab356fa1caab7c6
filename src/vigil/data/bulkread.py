"""Many incident CSVs of one mapping read through DuckDB's own CSV reader, a group at a time.

Why: the chunked reader (:func:`vigil.data.readers.iter_mapped`) pays a fixed cost per file
and per 10,000-row chunk in pandas; a national police.uk import is thousands of files and tens
of millions of rows (issue 11). Here the files are read in groups of about ``GROUP_BYTES`` of
CSV (so memory is bounded whatever the import's size) by one ``read_csv`` statement with every
column as text; one SQL statement checks every row and computes the stored columns and the MD5
of every value; numpy folds the MD5s into the same stable ids as
:func:`vigil.data.readers.stable_ids`. Every file comes out as exactly the rows the chunked
reader gives (same ids, times, coordinates, row numbers): tests compare the two on real files.

The fast path claims only what it checks conservatively, and hands anything else to the chunked
reader, file by file, in the same order: a mapping or file it does not support (zip members,
gzip, a file over ``GROUP_BYTES``, a header it cannot vouch for), a group DuckDB refuses
(malformed CSV, invalid UTF-8, an over-long line), a group where any row is bad or merely
unusual (a value outside the strict shapes below, a newline inside a quoted value, unusual
whitespace). So every error (file, row, field) and every rejects file comes from the chunked
reader, and bad input costs time, never correctness.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vigil.data.csvio import Budget, CsvSource, ProgressFn
from vigil.data.mapping import ColumnMapping
from vigil.data.readers import _PRIME, ReadResult, _md5_64, _mix, iter_mapped, occurrences
from vigil.data.taxonomy import RAW_TO_CODE

#: CSV bytes read by one statement: bounds the memory of an import whatever its size
GROUP_BYTES = 24 * 1024**2
#: DuckDB's own memory cap and threads (the import's peak stays far below 2 GB)
DUCKDB_MEMORY = "256MB"

_FORMAT_PARTS = {"%Y": r"[0-9]{4}", "%m": r"[0-9]{2}", "%d": r"[0-9]{2}", "%H": r"[0-9]{2}",
                 "%M": r"[0-9]{2}"}  # fmt: skip
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
#: a value whose first or last character is not printable ASCII: Python's strip() and
#: DuckDB's trim() could differ on it, so the chunked reader decides
_ODD_EDGE = r"^[^ -~]|[^ -~]$"


@dataclass
class ArrowPart:
    """One file's rows as read by the fast path: the stored table and its ids as uint64."""

    source: CsvSource
    table: pa.Table  # in the store's incident schema
    ids: np.ndarray  # uint64 of incident_id, for the store's duplicate check
    rows_read: int
    dropped_outside_region: int = 0
    rows_rejected: int = 0
    duplicate_key_rows: int = 0
    rejects: Any = None


def _format_regex(fmt: str) -> str | None:
    """A full-match regex for the values a simple strptime format certainly parses alike in
    pandas and DuckDB (fixed-width digits), or None when the format is not that simple."""
    out, i = "^", 0
    while i < len(fmt):
        two = fmt[i : i + 2]
        if two in _FORMAT_PARTS:
            out += _FORMAT_PARTS[two]
            i += 2
        elif fmt[i] in "-/: T":
            out += re.escape(fmt[i])
            i += 1
        else:
            return None
    return out + "$"


def supports(mapping: ColumnMapping) -> bool:
    """Whether the fast path can read files of ``mapping`` (police.uk street files can)."""
    t = mapping.time
    region = mapping.region
    return (
        mapping.lon is not None
        and mapping.lat is not None
        and mapping.crs is None
        and t.time_column is None
        and not t.alternatives
        and t.timezone is None
        and t.format.upper() != "ISO8601"
        and _format_regex(t.format) is not None
        and mapping.category.column is not None
        and mapping.incident_key is None
        and (region is None or region.boundary is None)
    )


def _plain_header(source: CsvSource, limit: int) -> tuple[str, ...] | None:
    """The header of a plain CSV when the fast path can vouch for it, else None."""
    if source.member is not None or source.name.endswith(".gz"):
        return None
    try:
        with open(source.path, "rb") as fh:
            line = fh.readline(limit + 2)
    except OSError:
        return None
    if line[:2] == b"\x1f\x8b" or not line.endswith(b"\n") or len(line) > limit:
        return None
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError:
        return None
    if '"' in text or "\r" in text:
        return None
    names = tuple(text.split(","))
    if any(not n or n != n.strip() for n in names) or len(set(names)) != len(names):
        return None
    return names


def _header_fits(names: tuple[str, ...], mapping: ColumnMapping) -> bool:
    if any(c not in names for c in mapping.source_columns()):
        return False
    return mapping.expected_columns is None or set(names) == set(mapping.expected_columns)


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _ident(names: tuple[str, ...], col: str | None) -> str | None:
    return None if col is None else f"c{names.index(col)}"


def _check_sql(
    names: tuple[str, ...], mapping: ColumnMapping, line_limit: int, md5_cols: list[int]
) -> str:
    """One statement over the group's raw text (table ``raw``): for each row the MD5 of every
    value, whether the fast path may keep it (``ok``), and the stored columns."""
    n = len(names)
    cols = [f"coalesce(c{i}, '')" for i in range(n)]
    t = _ident(names, mapping.time.column)
    lon, lat = _ident(names, mapping.lon), _ident(names, mapping.lat)
    cat = _ident(names, mapping.category.column)
    area = _ident(names, mapping.area_code)
    loc = _ident(names, mapping.location_type)
    key = _ident(names, mapping.source_key)
    region = mapping.region
    drop = _ident(names, region.drop_if_blank) if region is not None else None
    assert t is not None and lon is not None and lat is not None and cat is not None  # supports()
    trimmed = [c for c in (t, lon, lat, cat, area, loc, key, drop) if c is not None]
    fmt = mapping.time.format
    regex = _format_regex(fmt)
    prec = str(mapping.time.precision)
    unit = {"month": "month", "day": "day", "minute": "minute"}[prec]
    v = {c: f"coalesce({c}, '')" for c in trimmed}
    tr = {c: f"trim({v[c]})" for c in trimmed}
    checks = [
        # pyarrow splits a row at a newline inside quotes; DuckDB does not: chunked reader
        *(f"NOT contains({c}, chr(10)) AND NOT contains({c}, chr(13))" for c in cols),
        # an upper bound of the line's bytes (every character a doubled quote) within the
        # line limit: DuckDB's own limit is not the chunked reader's
        f"2 * ({' + '.join(f'strlen({c})' for c in cols)}) + {3 * n + 1} <= {line_limit}",
        *(f"NOT regexp_matches({v[c]}, '{_ODD_EDGE}')" for c in trimmed),
        f"regexp_full_match({tr[t]}, {_sql_str(regex or '')})",
        "ts IS NOT NULL AND ts >= TIMESTAMP '1900-01-01' AND ts < TIMESTAMP '2200-01-01'",
        f"({tr[lon]} = '' OR regexp_full_match({tr[lon]}, '{_NUMBER}'))",
        f"({tr[lat]} = '' OR regexp_full_match({tr[lat]}, '{_NUMBER}'))",
        f"(({tr[lon]} = '') = ({tr[lat]} = ''))",
        f"NOT regexp_matches({tr[cat]}, '[^ -~]')",
        "code IS NOT NULL",
        "coalesce(abs(x) <= 180 AND abs(y) <= 90, true)",
    ]
    if mapping.coordinates_required:
        checks.append(f"{tr[lon]} <> ''")
    if region is not None and region.bbox is not None:
        x0, y0, x1, y1 = region.bbox
        checks.append(
            f"coalesce(x BETWEEN {x0!r} AND {x1!r} AND y BETWEEN {y0!r} AND {y1!r}, true)"
        )
    md5s = "".join(f"md5_number_upper({cols[i]}) AS m{i}, " for i in md5_cols)
    dropped = f"{tr[drop]} = ''" if drop else "false"
    return f"""
    WITH typed AS (
        SELECT *, try_strptime({tr[t]}, {_sql_str(fmt)}) AS ts,
               CASE WHEN {tr[lon]} = '' THEN NULL ELSE try_cast({tr[lon]} AS DOUBLE) END AS x,
               CASE WHEN {tr[lat]} = '' THEN NULL ELSE try_cast({tr[lat]} AS DOUBLE) END AS y
        FROM raw
    )
    SELECT fidx, row, {md5s}
           {f"trim({v[key]}) <> ''" if key else "false"} AS keyed,
           {dropped} AS dropped,
           coalesce({" AND ".join(f"({c})" for c in checks)}, false) AS ok,
           code AS category, {tr[cat]} AS raw_category,
           date_trunc('{unit}', ts) AS time, x AS lon, y AS lat,
           {f"nullif({tr[area]}, '')" if area else "NULL::VARCHAR"} AS area_code,
           {f"nullif({tr[loc]}, '')" if loc else "NULL::VARCHAR"} AS location_type
    FROM typed LEFT JOIN codes ON lower({tr[cat]}) = codes.raw
    ORDER BY fidx, row
    """


def _codes(mapping: ColumnMapping) -> pa.Table:
    """Every lower-cased raw category name the mapping knows, with its code."""
    table = dict(RAW_TO_CODE)
    table.update({k.strip().lower(): v for k, v in mapping.categories.items()})
    keys = [k for k in table if mapping.code_for(k) == table[k]]
    return pa.table({"raw": keys, "code": [table[k] for k in keys]})


def _value_hashes(raw: pa.Table, n_cols: int) -> dict[int, np.ndarray]:
    """MD5 (64 bits) of every value of the columns with few distinct values (most police.uk
    columns), computed once per distinct value; the others are hashed in SQL."""
    out = {}
    cap = max(1000, len(raw) // 8)
    for i in range(n_cols):
        col = pc.fill_null(raw.column(f"c{i}"), "")
        if len(pc.unique(col.slice(0, 4 * cap))) > cap // 2:
            continue  # mostly distinct (ids, coordinates): one MD5 per row in SQL is cheaper
        enc = pc.dictionary_encode(col).combine_chunks()
        values = enc.dictionary.to_pylist()
        if len(values) > cap:
            continue
        table = np.fromiter((_md5_64(v) for v in values), dtype=np.uint64, count=len(values))
        out[i] = table[enc.indices.to_numpy(zero_copy_only=False)]
    return out


def _ids(
    m: list[np.ndarray], h0: int, key_col: int | None, keyed: np.ndarray, salt: np.uint64
) -> np.ndarray:
    """The stable ids of one file's rows from the MD5 of each value (``m``, one array per
    column in header order), as :func:`readers.stable_ids` makes them."""
    n = len(keyed)
    h = np.full(n, h0, dtype=np.uint64)
    for col in m:
        h = _mix((h * _PRIME) ^ col)
    if key_col is not None and keyed.any():
        h = np.where(keyed, _mix(salt ^ m[key_col]), h)
    occ = occurrences(h)
    rep = occ > 0
    if rep.any():
        h[rep] = _mix((h[rep] * _PRIME) ^ _mix(occ[rep]))
    return h


def _hex(h: np.ndarray) -> pa.Array:
    n = len(h)
    hexed = h.astype(">u8").tobytes().hex().encode()
    offsets = np.arange(0, 16 * (n + 1), 16, dtype=np.int64)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(hexed))


class _Refused(Exception):
    """Internal: the fast path does not vouch for this group; the chunked reader reads it."""


def _read_group(
    con: Any,
    group: list[CsvSource],
    names: tuple[str, ...],
    mapping: ColumnMapping,
    dataset: str,
    schema: pa.Schema,
    budget: Budget,
) -> list[ArrowPart]:
    """The group's files as parts, or _Refused. ``budget`` is charged only on success."""
    import duckdb

    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(names))) + "}"
    files = "[" + ", ".join(_sql_str(str(s.path)) for s in group) + "]"
    try:
        raw = con.sql(
            f"SELECT filename, * EXCLUDE (filename) FROM read_csv({files}, header=true, "
            f"columns={cols}, auto_detect=false, filename=true, hive_partitioning=false, "
            "strict_mode=true, "
            "null_padding=false, quote='\"', escape='\"', "
            f"max_line_size={max(budget.limits.max_line_bytes, 4096)})"
        ).to_arrow_table()
    except duckdb.Error as exc:
        raise _Refused(str(exc)) from exc
    # rows come in file order, each file's in its own order (insertion order is preserved):
    # the row number is the position within the file, as the chunked reader counts it
    enc = pc.dictionary_encode(raw.column("filename")).combine_chunks()
    order = {str(s.path): i for i, s in enumerate(group)}
    remap = np.array([order.get(p, -1) for p in enc.dictionary.to_pylist()], dtype=np.int64)
    fidx = remap[enc.indices.to_numpy(zero_copy_only=False)] if len(raw) else remap[:0]
    if (fidx < 0).any() or (np.diff(fidx) < 0).any():
        raise _Refused("rows not in file order")
    counts = np.bincount(fidx, minlength=len(group))
    starts = np.r_[0, np.cumsum(counts)]
    row = np.arange(len(raw), dtype=np.int64) - starts[fidx] + 1
    raw = (
        raw.drop_columns(["filename"])
        .append_column("fidx", pa.array(fidx))
        .append_column("row", pa.array(row))
    )
    hashed = _value_hashes(raw, len(names))
    md5_cols = [i for i in range(len(names)) if i not in hashed]
    con.register("raw", raw)
    con.register("codes", _codes(mapping))
    try:
        sql = _check_sql(names, mapping, budget.limits.max_line_bytes, md5_cols)
        res = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        raise _Refused(str(exc)) from exc
    finally:
        con.unregister("raw")
        con.unregister("codes")
    del raw
    if len(res) and not pc.all(res.column("ok")).as_py():
        raise _Refused("a row the chunked reader must judge")
    trial = Budget(budget.limits, budget.bytes, budget.rows)
    for s, c in zip(group, counts, strict=True):
        trial.add_bytes(s.path.stat().st_size, s.display)
        trial.add_rows(int(c), s.display)
    key_col = names.index(mapping.source_key) if mapping.source_key else None
    salt = np.uint64((_md5_64(f"{dataset}\x1fkey") * int(_PRIME)) & 0xFFFFFFFFFFFFFFFF)
    parts = []
    for i, source in enumerate(group):
        lo, hi = int(starts[i]), int(starts[i + 1])
        sl = res.slice(lo, hi - lo)
        keep = pc.invert(sl.column("dropped"))
        h0 = _md5_64(f"{dataset}\x1ffile\x1f{source.name}")
        m = [
            hashed[c][lo:hi]
            if c in hashed
            else sl.column(f"m{c}").to_numpy().astype(np.uint64).byteswap()
            for c in range(len(names))
        ]
        keyed = sl.column("keyed").to_numpy(zero_copy_only=False)
        h = _ids(m, h0, key_col, keyed, salt)
        dropped = int(hi - lo - pc.sum(keep.cast(pa.int64())).as_py()) if hi > lo else 0
        if dropped:
            sl = sl.filter(keep)
            h = h[keep.to_numpy(zero_copy_only=False)]
        n = len(sl)
        table = pa.Table.from_arrays(
            [
                _hex(h),
                pa.array([dataset] * n, pa.large_string()),
                sl.column("category").cast(pa.large_string()),
                sl.column("raw_category").cast(pa.large_string()),
                sl.column("time").cast(pa.timestamp("ns")),
                pa.array([str(mapping.time.precision)] * n, pa.large_string()),
                sl.column("lon").cast(pa.float64()),
                sl.column("lat").cast(pa.float64()),
                sl.column("area_code").cast(pa.large_string()),
                sl.column("location_type").cast(pa.large_string()),
                pa.array([source.name] * n, pa.large_string()),
                sl.column("row").cast(pa.int64()),
            ],
            schema=schema,
        )
        parts.append(ArrowPart(source, table, h, hi - lo, dropped))
    budget.bytes, budget.rows = trial.bytes, trial.rows
    return parts


def bulk_groups(
    sources: list[CsvSource],
    mapping: ColumnMapping,
    dataset: str,
    schema: pa.Schema,
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
    budget: Budget,
) -> Iterator[tuple[CsvSource, Iterator[ReadResult | ArrowPart]]]:
    """(source, its rows) for every source in order, like the store's chunked groups: groups of
    files through DuckDB where the fast path vouches for them, else the chunked reader."""

    def chunked(s: CsvSource) -> tuple[CsvSource, Iterator[ReadResult | ArrowPart]]:
        return s, iter_mapped(
            s, mapping, dataset, skip_bad_rows=skip_bad_rows, progress=progress, budget=budget
        )

    limit = budget.limits.max_line_bytes
    con = None  # DuckDB is loaded only when a group can use it (it costs memory to load)
    try:
        i = 0
        while i < len(sources):
            first = sources[i]
            names = _plain_header(first, limit)
            if names is None or not _header_fits(names, mapping) or first.size() > GROUP_BYTES:
                yield chunked(first)
                i += 1
                continue
            group, size = [first], first.size()
            j = i + 1
            while j < len(sources) and size + sources[j].size() <= GROUP_BYTES:
                if _plain_header(sources[j], limit) != names:
                    break
                size += sources[j].size()
                group.append(sources[j])
                j += 1
            if con is None:
                import duckdb

                con = duckdb.connect(
                    ":memory:", config={"memory_limit": DUCKDB_MEMORY, "threads": 2}
                )
            try:
                parts = _read_group(con, group, names, mapping, dataset, schema, budget)
            except _Refused:
                for s in group:
                    yield chunked(s)
            else:
                for part in parts:
                    if progress:
                        total = float(max(part.source.size(), 1))
                        progress(f"read:{part.source.name}", total, total)
                    yield part.source, iter([part])
            i = j
    finally:
        if con is not None:
            con.close()
