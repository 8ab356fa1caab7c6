"""The stored forecasts a person can pick on the map, how well each model did in the stored
backtests, and whether a forecast is too old to stand as evidence.

Forecasts are the ``RiskSurface`` JSON files under ``<data_dir>/forecasts/`` (``vigil
forecast`` writes them); the current one is the app's surface source (the newest file). Each
is keyed by its file stem; a key is only ever looked up among the listed files, never joined
into a path. Backtests are ``vigil backtest --out <data_dir>/backtests/NAME`` results
(``backtest.json``: its ``config`` and ``summary``); only their stored numbers are shown.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from vigil.app.context import AppContext
from vigil.app.snapshot_facts import snapshot_facts
from vigil.app.surfaces import forecasts_dir, load_surface
from vigil.errors import DataError, NotFound
from vigil.evaluate.windows import step_words
from vigil.forecast.surface import RiskSurface

#: the key of the app's current forecast (the surface source), whatever its file
CURRENT = "current"
#: the share of the area whose hit rate the map quotes (the darkest two bands of the map)
HIT_SHARE = 0.01


@dataclass(frozen=True)
class StoredForecast:
    """One forecast as the selector lists it."""

    key: str
    model: str
    #: the forecast's as-of: it learnt from incidents before this, and forecasts from it
    start: datetime
    end: datetime
    cell: float | None
    current: bool


def _entry(key: str, s: RiskSurface, current: bool) -> StoredForecast:
    return StoredForecast(
        key,
        s.model,
        s.start.to_pydatetime(),
        s.end.to_pydatetime(),
        None if s.grid is None else float(s.grid.cell),
        current,
    )


def _files(ctx: AppContext) -> dict[str, Path]:
    folder = forecasts_dir(ctx.settings.data_dir)
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.json"))}


#: stored surfaces kept whole at once (the picked ones); the list keeps only their headers
KEEP_SURFACES = 4


def _load(ctx: AppContext, path: Path) -> RiskSurface:
    """A stored surface, read once per file version (path and modification time); at most
    ``KEEP_SURFACES`` are kept, the least recently picked dropped."""
    key = f"forecast:{path}:{path.stat().st_mtime_ns}"
    surface: RiskSurface = ctx.cached(key, lambda: load_surface(path))
    with ctx.lock:
        order: list[str] = ctx.cache.setdefault("forecast-order", [])
        if key in order:
            order.remove(key)
        order.append(key)
        while len(order) > KEEP_SURFACES:
            ctx.cache.pop(order.pop(0), None)
    return surface


def _header(ctx: AppContext, key: str, path: Path) -> tuple[StoredForecast, int]:
    """A stored forecast's entry and area count, read once per file version without keeping
    the surface."""

    def read() -> tuple[StoredForecast, int]:
        try:
            d = json.loads(path.read_text())
            grid = d.get("grid") or {}
            entry = StoredForecast(
                key,
                str(d["model"]),
                pd.Timestamp(d["start"]).to_pydatetime(),
                pd.Timestamp(d["end"]).to_pydatetime(),
                float(grid["cell"]) if "cell" in grid else None,
                False,
            )
            return entry, len(d["area_id"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not a saved risk surface: {exc}", file=str(path)) from None

    found: tuple[StoredForecast, int] = ctx.cached(
        f"forecast-header:{path}:{path.stat().st_mtime_ns}", read
    )
    return found


def stored_forecasts(ctx: AppContext) -> list[StoredForecast]:
    """The current forecast first, then every stored one, newest as-of first."""
    current = ctx.surface_source()
    out = []
    for key, path in _files(ctx).items():
        entry, n = _header(ctx, key, path)
        same = current is not None and (entry.model, entry.start, entry.end, n) == (
            current.model,
            current.start.to_pydatetime(),
            current.end.to_pydatetime(),
            len(current),
        )
        out.append(replace(entry, current=same))
    out.sort(key=lambda f: (not f.current, -f.start.timestamp(), f.key))
    if current is not None and not any(f.current for f in out):
        out.insert(0, _entry(CURRENT, current, True))
    return out


def chosen_surface(ctx: AppContext, key: str | None) -> tuple[str, RiskSurface]:
    """(key, surface) for ``key``: the current forecast for None or "current", else the stored
    file of that stem; NotFound naming the keys there are."""
    if key in (None, "", CURRENT):
        surface = ctx.surface_source()
        if surface is None:
            raise NotFound("no forecast has been saved yet: run `vigil forecast` first")
        return CURRENT, surface
    files = _files(ctx)
    if key not in files:
        there = ", ".join([CURRENT, *files]) if files else CURRENT
        raise NotFound(f"no stored forecast {key!r}; there are: {there}")
    return str(key), _load(ctx, files[str(key)])


# ---------------------------------------------------------------------- backtests
@dataclass(frozen=True)
class BacktestEvidence:
    """What a stored backtest says of one model, in the figures it stored."""

    source: str
    model: str
    #: share of the next window's incidents in the HIT_SHARE of the area ranked highest
    hit_rate: float
    share: float
    origins: int
    first: str
    last: str
    #: the backtest's window length in words ("1 month")
    horizon: str
    cell: float | None
    study_area: str | None
    #: how this backtest's set-up differs from the forecast's (empty: the same set-up)
    differences: tuple[str, ...]


def _backtests(ctx: AppContext) -> list[tuple[str, dict[str, Any]]]:
    folder = ctx.settings.data_dir / "backtests"
    if not folder.is_dir():
        return []
    out = []
    for path in sorted(folder.rglob("*.json")):
        stamp = path.stat().st_mtime_ns

        def read(p: Path = path) -> dict[str, Any] | None:
            try:
                data = json.loads(p.read_text())
            except (OSError, ValueError):
                return None
            ok = isinstance(data, dict) and {"config", "summary"} <= set(data)
            return data if ok else None

        data = ctx.cached(f"backtest:{path}:{stamp}", read)
        if data is not None:
            out.append((str(path.relative_to(folder)), data))
    return out


def _window_matches(surface: RiskSurface, horizon: str) -> bool:
    from vigil.evaluate.windows import parse_step

    try:
        return bool(surface.start + parse_step(horizon) == surface.end)
    except Exception:  # a horizon this version does not read: not the same set-up
        return False


def backtest_for(ctx: AppContext, surface: RiskSurface) -> BacktestEvidence | None:
    """The stored backtest of ``surface``'s model, the one closest to its set-up (same cell
    size and window length first), or None when no stored backtest scored that model."""
    key = f"hit_rate@{HIT_SHARE:g}"
    found = []
    for source, data in _backtests(ctx):
        row = next(
            (r for r in data["summary"] if r.get("model") == surface.model and key in r), None
        )
        if row is None or row[key] is None:
            continue
        config = data["config"]
        horizon = str(config.get("horizon") or config.get("step") or "")
        cell = config.get("cell")
        differences = []
        if surface.grid is not None and cell is not None and float(cell) != surface.grid.cell:
            differences.append(
                f"{float(cell):g} m cells, where this forecast uses {surface.grid.cell:g} m"
            )
        if not _window_matches(surface, horizon):
            days = (surface.end - surface.start).days
            differences.append(
                f"windows of {step_words(horizon)}, where this forecast covers {days} days"
            )
        origins = config.get("origins")
        n = len(origins) if isinstance(origins, list) else int(origins or 0)
        found.append(
            BacktestEvidence(
                source,
                surface.model,
                float(row[key]),
                HIT_SHARE,
                n,
                str(config.get("start", "")),
                str(config.get("end", "")),
                step_words(horizon),
                None if cell is None else float(cell),
                config.get("study_area"),
                tuple(differences),
            )
        )
    if not found:
        return None
    return min(found, key=lambda b: (len(b.differences), b.source))


# ---------------------------------------------------------------------- staleness
@dataclass(frozen=True)
class Staleness:
    """A forecast whose own window has passed: older than its horizon."""

    start: datetime
    end: datetime
    now: datetime
    horizon_days: float
    #: whole days since the forecast's window ended
    days_past: int


def staleness(surface: RiskSurface, now: datetime) -> Staleness | None:
    """Stale when ``now`` is past the end of the window the forecast was made for, that is
    when it is older (from its as-of) than its own horizon; None while it is in date."""
    return window_passed(surface.start, surface.end, now)


def window_passed(start: Any, end: Any, now: Any) -> Staleness | None:
    """The one staleness rule over a forecast's period (``start`` to ``end``) read at ``now``:
    the map and the new-case page read it at today, a case at its requested window's start."""
    start, end, at = pd.Timestamp(start), pd.Timestamp(end), pd.Timestamp(now)
    if start.tzinfo is None:
        start, end = start.tz_localize("UTC"), end.tz_localize("UTC")
    if at.tzinfo is None:
        at = at.tz_localize("UTC")
    if at < end:
        return None
    return Staleness(
        start.to_pydatetime(),
        end.to_pydatetime(),
        at.to_pydatetime(),
        (end - start).total_seconds() / 86400,
        int((at - end).total_seconds() // 86400),
    )


def evidence_staleness(
    evidence_json: str | None, digest: str | None, window_start: Any
) -> Staleness | None:
    """A case's frozen evidence against its requested window (issue 12: "a December 2022
    forecast is frozen as evidence for a 2026 deployment with no warning"): stale when the
    forecast's period ended before the window starts; None without evidence or a period."""
    period = snapshot_facts(evidence_json, digest).period
    if period is None or window_start is None:
        return None
    return window_passed(*period, window_start)
