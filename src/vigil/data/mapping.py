"""Column mappings: how the columns of an arbitrary incident CSV become the canonical table.

A mapping is a small YAML file, so a new source is a configuration change, not new code. Vigil
ships mappings for the bundled datasets (``met-street-2022``, ``chicago-aggravated-assaults``)
and for the data.police.uk street format (``police-uk-street``).

Two ways in, for two kinds of caller:

* the operator's command line: ``load_mapping`` takes a shipped name or a path to a YAML file
  the operator owns;
* the web API (an analyst, over the network): ``mapping_by_name`` chooses only by name, from the
  shipped set or from mappings uploaded earlier as YAML *content* (``save_uploaded_mapping``,
  validated, stored under the data directory). A name is looked up in a listing, never turned
  into a path, so no server file can be opened through it, and the error is the same whether or
  not a file of that name exists. An uploaded mapping may only name a built-in boundary.

Example::

    name: my-force
    time: {column: occurred, format: "%d/%m/%Y %H:%M", precision: minute,
           alternatives: [{format: "%d/%m/%Y", precision: day}]}
    lon: longitude            # or  x: easting / y: northing / crs: EPSG:27700
    lat: latitude
    category: {column: offence}          # or {value: robbery} for a one-offence file
    categories: {"gbh": violence}        # extra raw names -> taxonomy codes
    area_code: lsoa
    region: {bbox: [-0.75, 51.15, 0.5, 51.85], drop_if_blank: lsoa}
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigil.data.schema import Precision
from vigil.data.taxonomy import CATEGORIES, normalise
from vigil.errors import DataError

_SHIPPED = "mappings"
#: a mapping's name: also its file name under the uploaded-mappings folder
MAPPING_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: largest mapping YAML accepted over the network (the shipped ones are under 2 KiB)
MAX_MAPPING_BYTES = 64 * 1024
#: boundaries an uploaded mapping may name (a file path is for the operator's own mappings)
NAMED_BOUNDARIES = ("london",)


class TimeFormat(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: str
    precision: Precision


class TimeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    #: a separate column holding the time of day (e.g. "14:05"): its text is appended to the
    #: date column's after one space, and ``format`` describes the combined text
    #: (e.g. "%m/%d/%Y %H:%M"); a blank time leaves the date alone, for a date-only alternative
    time_column: str | None = None
    #: strptime format; "ISO8601" accepts ISO date-times with an offset (converted to local time)
    format: str
    #: what the format pins down; the record's time is the start of that period
    precision: Precision
    #: formats tried in order for values the main one does not parse, each with its precision:
    #: this is how one file holds records known to the minute and others only to the day
    alternatives: list[TimeFormat] = Field(default_factory=list)
    #: timezone the naive local times are expressed in, used when the source carries offsets
    timezone: str | None = None


class CategorySpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str | None = None
    value: str | None = None

    @model_validator(mode="after")
    def _one_of(self) -> CategorySpec:
        if (self.column is None) == (self.value is None):
            raise ValueError("category needs exactly one of 'column' or 'value'")
        return self


class RegionSpec(BaseModel):
    """Where the records must lie: a lon/lat box (a check) and an optional documented filter."""

    model_config = ConfigDict(extra="forbid")

    name: str = "region"
    #: [min_lon, min_lat, max_lon, max_lat]; a point outside it is a bad row
    bbox: tuple[float, float, float, float] | None = None
    #: rows whose value in this source column is blank are outside the region: dropped, counted
    drop_if_blank: str | None = None
    #: a polygon the points must lie in: "london" (the union of the 33 boroughs) or a file
    #: (GeoJSON / GeoPackage / shapefile, all features unioned)
    boundary: str | None = None
    #: outside the boundary: False = a bad row (error or reject); True = dropped and counted,
    #: a documented filter like drop_if_blank
    drop_outside_boundary: bool = False


class ColumnMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    #: when given, the header must hold exactly these columns (order free)
    expected_columns: list[str] | None = None
    time: TimeSpec
    lon: str | None = None
    lat: str | None = None
    x: str | None = None
    y: str | None = None
    crs: str | None = None
    category: CategorySpec
    categories: dict[str, str] = Field(default_factory=dict)
    area_code: str | None = None
    location_type: str | None = None
    #: column holding the source's own record id (police.uk Crime ID); blank values fall back
    source_key: str | None = None
    #: columns that identify one incident in a file with one row per victim (or per offence):
    #: the first row of each key is kept, later rows with the same key (in any file of the
    #: import, or already stored) are left out and counted as duplicates; the id is the key's
    incident_key: list[str] | None = None
    coordinates_required: bool = True
    region: RegionSpec | None = None

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        lonlat = self.lon is not None and self.lat is not None
        xy = self.x is not None and self.y is not None
        if lonlat == xy:
            raise ValueError("give either lon and lat, or x, y and crs")
        if self.incident_key is not None and not self.incident_key:
            raise ValueError("incident_key needs at least one column")
        if self.incident_key and self.source_key:
            raise ValueError("give a source_key or an incident_key, not both")
        if xy and not self.crs:
            raise ValueError("x/y coordinates need a crs")
        for raw, code in self.categories.items():
            if code not in CATEGORIES:
                raise ValueError(f"categories: '{raw}' maps to unknown code '{code}'")
        if self.category.value is not None and self.code_for(self.category.value) is None:
            raise ValueError(f"category value '{self.category.value}' is not in the taxonomy")
        return self

    # ------------------------------------------------------------------ helpers
    def code_for(self, raw: str) -> str | None:
        key = raw.strip().lower()
        extra = {k.strip().lower(): v for k, v in self.categories.items()}
        return extra.get(key) or normalise(key)

    def source_columns(self) -> list[str]:
        """Every source column the mapping reads; each must be in the file's header."""
        cols = [
            self.time.column,
            self.time.time_column,
            self.lon,
            self.lat,
            self.x,
            self.y,
            self.category.column,
            self.area_code,
            self.location_type,
            self.source_key,
            self.region.drop_if_blank if self.region else None,
            *(self.incident_key or []),
        ]
        out: list[str] = []
        for c in cols:
            if c is not None and c not in out:
                out.append(c)
        return out


def shipped_mappings() -> list[str]:
    """Names of the mappings that come with Vigil."""
    root = resources.files("vigil.data").joinpath(_SHIPPED)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml"))


def uploaded_mappings(folder: Path | None) -> list[str]:
    """Names of the mappings uploaded as YAML content into ``folder`` (none if no folder)."""
    if folder is None or not folder.is_dir():
        return []
    return sorted(
        p.stem for p in folder.glob("*.yaml") if p.is_file() and MAPPING_NAME.match(p.stem)
    )


def mapping_by_name(name: str, uploaded: Path | None = None) -> ColumnMapping:
    """A mapping chosen by name only: shipped, or uploaded as content into ``uploaded``.

    For callers that do not own the server's files (the web API). The name is matched against
    the listings, never used to build a path from what the caller typed, and an unknown name gets
    the same answer whatever exists on disk.
    """
    shipped = shipped_mappings()
    mine = uploaded_mappings(uploaded)
    if name in shipped:
        res = resources.files("vigil.data").joinpath(_SHIPPED, f"{name}.yaml")
        return parse_mapping(res.read_text(encoding="utf-8"), f"{name}.yaml")
    if name in mine and uploaded is not None:
        stored = mine[mine.index(name)]  # the listed name, not the caller's string
        return parse_mapping((uploaded / f"{stored}.yaml").read_text(encoding="utf-8"), stored)
    raise DataError(
        f"no mapping named {name!r}: choose a shipped mapping ({', '.join(shipped)})"
        + (f" or an uploaded one ({', '.join(mine)})" if mine else "")
        + ", or upload one as YAML content",
        field="mapping",
    )


def parse_untrusted_mapping(text: str | bytes, where: str = "<uploaded mapping>") -> ColumnMapping:
    """Validate mapping YAML sent over the network: size, schema, a safe name, no file paths."""
    if len(text) > MAX_MAPPING_BYTES:
        raise DataError(
            f"mapping is larger than {MAX_MAPPING_BYTES // 1024} KiB", file=where, field="mapping"
        )
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError("mapping is not UTF-8 text", file=where) from exc
    cmap = parse_mapping(text, where)
    if not MAPPING_NAME.match(cmap.name):
        raise DataError(
            f"mapping name {cmap.name!r} must be 1-64 letters, digits, '.', '_' or '-'",
            file=where,
            field="name",
        )
    if cmap.name in shipped_mappings():
        raise DataError(
            f"'{cmap.name}' is a shipped mapping; give yours another name", file=where, field="name"
        )
    boundary = cmap.region.boundary if cmap.region is not None else None
    if boundary is not None and boundary.lower() not in NAMED_BOUNDARIES:
        raise DataError(
            "an uploaded mapping may only name a built-in boundary "
            f"({', '.join(NAMED_BOUNDARIES)}), not a file",
            file=where,
            field="region.boundary",
        )
    return cmap


def save_uploaded_mapping(text: str | bytes, folder: Path) -> ColumnMapping:
    """Validate uploaded mapping YAML and store it as ``<folder>/<name>.yaml`` (atomically)."""
    cmap = parse_untrusted_mapping(text)
    raw = text if isinstance(text, bytes) else text.encode("utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{cmap.name}.yaml"
    tmp = folder / f".{cmap.name}.yaml.tmp"
    tmp.write_bytes(raw)
    os.replace(tmp, target)
    return cmap


def load_mapping(name_or_path: str | Path) -> ColumnMapping:
    """A shipped mapping by name, or a mapping YAML file by path (the operator's own files:
    the command line, never the web API, which uses :func:`mapping_by_name`)."""
    text: str
    where: str
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise DataError("mapping file not found", file=str(path))
        text, where = path.read_text(encoding="utf-8"), str(path)
    else:
        res = resources.files("vigil.data").joinpath(_SHIPPED, f"{name_or_path}.yaml")
        if not res.is_file():
            raise DataError(
                f"no shipped mapping named '{name_or_path}' "
                f"(shipped: {', '.join(shipped_mappings())}); give a YAML path instead"
            )
        text, where = res.read_text(encoding="utf-8"), f"{name_or_path}.yaml"
    return parse_mapping(text, where)


def parse_mapping(text: str, where: str = "<mapping>") -> ColumnMapping:
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"mapping is not valid YAML: {exc}", file=where) from exc
    if not isinstance(raw, dict):
        raise DataError("mapping must be a YAML mapping of keys to values", file=where)
    try:
        return ColumnMapping.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or None
        raise DataError(f"invalid mapping: {first['msg']}", file=where, field=loc) from exc
