"""The canonical incident table every reader produces and every model consumes.

One row per recorded incident; no person-level fields exist, by design. ``time`` is the start of
the period the incident is known to fall in and ``precision`` says how long that period is: a
police.uk record is known only to its month, so it gets the first of the month and
``precision == "month"`` and never an invented day.
"""

from __future__ import annotations

from enum import StrEnum

import pandas as pd


class Precision(StrEnum):
    MONTH = "month"
    DAY = "day"
    MINUTE = "minute"


#: Column name -> pandas dtype of the canonical incident table.
INCIDENT_COLUMNS: dict[str, str] = {
    "incident_id": "string",  # stable: hash of (dataset, source key); re-import never duplicates
    "dataset": "string",  # name given at import, e.g. "met-street-2022"
    "category": "string",  # taxonomy code (vigil.data.taxonomy)
    "raw_category": "string",
    "time": "datetime64[ns]",  # naive local time: start of the period
    "precision": "string",  # Precision value
    "lon": "float64",  # WGS84
    "lat": "float64",
    "area_code": "string",  # small-area code when the source has one (LSOA), else <NA>
    "location_type": "string",
    "source_file": "string",
    "source_row": "int64",  # 1-based data row in the source file
}

PRECISION_ORDER = {Precision.MONTH: 0, Precision.DAY: 1, Precision.MINUTE: 2}


def empty_incidents() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in INCIDENT_COLUMNS.items()})


def coarsest_precision(df: pd.DataFrame) -> Precision:
    """The coarsest time precision present: what a model may rely on for the whole table."""
    if df.empty:
        return Precision.MINUTE
    values = {Precision(v) for v in pd.unique(df["precision"].astype(str))}
    return min(values, key=lambda p: PRECISION_ORDER[p])
