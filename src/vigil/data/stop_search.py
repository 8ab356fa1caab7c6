"""Reader for data.police.uk stop-and-search CSVs.

Vigil keeps only what disproportionality and legality need: when, where (nullable: the Met did
not publish search locations in 2015), under which power, for what, with what outcome, and the
self- and officer-defined ethnicity. Gender and age range are dropped on read, never stored.

``ethnicity_group`` groups the self-defined ethnicity into the five 2011-census groups plus
"Not stated", so it can be compared with census populations (london-demographics): the old
police.uk code O1 "Chinese" is counted as Asian, as the 2011 census does.
``officer_ethnicity_group`` groups the officer-defined ethnicity the same way.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vigil.data.csvio import Budget, CsvSource, ProgressFn, csv_sources, read_text_table
from vigil.data.mapping import RegionSpec
from vigil.data.readers import (
    Problems,
    ReadResult,
    as_stored_time,
    blank_mask,
    check_coordinates,
    optional_text,
    raise_first,
    rejects_frame,
    stable_ids,
)
from vigil.errors import DataError

STOP_SEARCH_SOURCE_COLUMNS = [
    "Type",
    "Date",
    "Part of a policing operation",
    "Policing operation",
    "Latitude",
    "Longitude",
    "Gender",
    "Age range",
    "Self-defined ethnicity",
    "Officer-defined ethnicity",
    "Legislation",
    "Object of search",
    "Outcome",
    "Outcome linked to object of search",
    "Removal of more than just outer clothing",
]
#: columns police.uk added later; accepted when present
_OPTIONAL_SOURCE = {"Policing operation", "Part of a policing operation"}

#: Column name -> pandas dtype of the canonical stop-and-search table.
STOP_SEARCH_COLUMNS: dict[str, str] = {
    "search_id": "string",
    "dataset": "string",
    "type": "string",
    "time": "datetime64[ns]",  # naive London local time
    "precision": "string",
    "lon": "float64",
    "lat": "float64",
    "part_of_operation": "boolean",
    "policing_operation": "string",
    "legislation": "string",
    "object_of_search": "string",
    "outcome": "string",
    "outcome_linked_to_object": "boolean",
    "removal_more_than_outer_clothing": "boolean",
    "self_defined_ethnicity": "string",
    "officer_defined_ethnicity": "string",
    "ethnicity_group": "string",
    "officer_ethnicity_group": "string",
    "source_file": "string",
    "source_row": "int64",
}

ETHNICITY_GROUPS = ("Asian", "Black", "Mixed", "White", "Other", "Not stated")
_UK_REGION = RegionSpec(name="United Kingdom", bbox=(-8.7, 49.8, 1.9, 60.9))
_CODE = re.compile(r"\(([A-Z]{1,2}\d?)\)\s*$")
_BOOL = {"true": True, "false": False}


def empty_stop_search() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in STOP_SEARCH_COLUMNS.items()})


def ethnicity_group(value: str) -> str:
    """One of ETHNICITY_GROUPS for a police.uk self- or officer-defined ethnicity."""
    v = value.strip()
    if not v:
        return "Not stated"
    m = _CODE.search(v)
    if m:
        code = m.group(1)
        if code == "NS":
            return "Not stated"
        if code == "O1":  # "Chinese or other ethnic group - Chinese": Asian in the 2011 census
            return "Asian"
        first = {"A": "Asian", "B": "Black", "M": "Mixed", "W": "White", "O": "Other"}
        if code[0] in first:
            return first[code[0]]
    low = v.lower()
    if "not stated" in low:
        return "Not stated"
    if "chinese" in low:
        return "Asian"
    for prefix, group in (
        ("asian", "Asian"),
        ("black", "Black"),
        ("mixed", "Mixed"),
        ("white", "White"),
        ("other", "Other"),
    ):
        if low.startswith(prefix):
            return group
    return "Other"


def _group(s: pd.Series) -> pd.Series:
    uniq = pd.unique(s)
    return s.map({u: ethnicity_group(str(u)) for u in uniq}).astype("string")


def _bool(df: pd.DataFrame, col: str, probs: Problems) -> tuple[pd.Series, np.ndarray]:
    if col not in df.columns:
        return pd.Series(pd.NA, index=df.index, dtype="boolean"), np.zeros(len(df), dtype=bool)
    low = df[col].str.strip().str.lower()
    vals = low.map(_BOOL).astype("boolean")
    bad = (vals.isna() & (low != "")).to_numpy()
    probs.add(bad, col, "expected True, False or blank", df[col])
    return vals, bad


def read_stop_search_file(
    source: CsvSource | Path | str,
    dataset: str = "stop-search",
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
    budget: Budget | None = None,
) -> ReadResult:
    """One police.uk stop-and-search CSV as the canonical stop-and-search table (whole: a
    force's monthly file is a few thousand rows; ``budget`` still caps what is read)."""
    if not isinstance(source, CsvSource):
        source = CsvSource(Path(source))
    raw = read_text_table(source, progress, budget)
    header = set(raw.columns)
    for col in raw.columns:
        if col not in STOP_SEARCH_SOURCE_COLUMNS:
            what = "unknown column for police.uk stop and search"
            raise DataError(what, file=source.display, field=col)
    for col in STOP_SEARCH_SOURCE_COLUMNS:
        if col not in header and col not in _OPTIONAL_SOURCE:
            what = "column missing for police.uk stop and search"
            raise DataError(what, file=source.display, field=col)
    df = raw.frame
    probs = Problems(raw)

    text = df["Date"].str.strip()
    t = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    times = as_stored_time(t.dt.tz_convert("Europe/London").dt.tz_localize(None))
    tblank = blank_mask(df["Date"])
    probs.add(tblank, "Date", "missing date", df["Date"])
    tbad = times.isna().to_numpy() & ~tblank
    what = "unparseable date (expected an ISO 8601 date-time, years 1900-2199)"
    probs.add(tbad, "Date", what, df["Date"])
    bad = tblank | tbad

    lon, lat, cbad = check_coordinates(
        df, "Longitude", "Latitude", probs, crs=None, required=False, region=_UK_REGION
    )
    bad |= cbad
    part, b1 = _bool(df, "Part of a policing operation", probs)
    linked, b2 = _bool(df, "Outcome linked to object of search", probs)
    removal, b3 = _bool(df, "Removal of more than just outer clothing", probs)
    bad |= b1 | b2 | b3

    problems = probs.frame()
    if not skip_bad_rows:
        raise_first(problems, source)
    rejects = rejects_frame(problems, df, source)
    good = ~bad
    kept = [c for c in raw.columns if c not in ("Gender", "Age range")]
    ids: Any = stable_ids(df.loc[good, kept], dataset, source) if good.any() else []
    self_def = optional_text(df, "Self-defined ethnicity")
    officer_def = optional_text(df, "Officer-defined ethnicity")
    out = pd.DataFrame(
        {
            "search_id": ids,
            "dataset": dataset,
            "type": optional_text(df, "Type")[good].to_numpy(),
            "time": times[good].to_numpy(),
            "precision": "minute",
            "lon": lon[good],
            "lat": lat[good],
            "part_of_operation": part[good].to_numpy(),
            "policing_operation": (
                optional_text(df, "Policing operation")
                if "Policing operation" in header
                else optional_text(df, None)
            )[good].to_numpy(),
            "legislation": optional_text(df, "Legislation")[good].to_numpy(),
            "object_of_search": optional_text(df, "Object of search")[good].to_numpy(),
            "outcome": optional_text(df, "Outcome")[good].to_numpy(),
            "outcome_linked_to_object": linked[good].to_numpy(),
            "removal_more_than_outer_clothing": removal[good].to_numpy(),
            "self_defined_ethnicity": self_def[good].to_numpy(),
            "officer_defined_ethnicity": officer_def[good].to_numpy(),
            "ethnicity_group": _group(df["Self-defined ethnicity"])[good].to_numpy(),
            "officer_ethnicity_group": _group(df["Officer-defined ethnicity"])[good].to_numpy(),
            "source_file": source.name,
            "source_row": raw.rows[good],
        }
    )
    out = out.astype(STOP_SEARCH_COLUMNS) if len(out) else empty_stop_search()
    return ReadResult(source, out, rejects, len(df) + len(raw.malformed), 0)


def read_stop_search(
    path_or_folder: Path | str,
    dataset: str = "stop-search",
    *,
    skip_bad_rows: bool = False,
    progress: ProgressFn | None = None,
) -> pd.DataFrame:
    """Every ``*-stop-and-search.csv`` in a file, folder tree or police.uk archive zip."""
    frames = []
    for src in csv_sources(Path(path_or_folder), "*stop-and-search.csv"):
        res = read_stop_search_file(src, dataset, skip_bad_rows=skip_bad_rows, progress=progress)
        frames.append(res.incidents)
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_stop_search()
