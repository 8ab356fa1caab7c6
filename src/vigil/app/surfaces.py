"""Where the web app finds the current intelligence picture.

``vigil forecast --save`` (or any code) writes ``RiskSurface.to_dict()`` JSON files under
``<data_dir>/forecasts/``; the map shows the newest. Reading a saved surface keeps page loads
fast and means the map shows exactly what an analyst produced and can cite, not a model re-run
behind their back.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from vigil.app.context import SurfaceSource
from vigil.errors import DataError
from vigil.forecast.surface import RiskSurface


def forecasts_dir(data_dir: Path) -> Path:
    return data_dir / "forecasts"


def surface_stem(surface: RiskSurface) -> str:
    """The file name (without suffix) a saved surface gets: model and window."""
    return f"{surface.model}-{surface.start:%Y%m%d}-{surface.end:%Y%m%d}"


def save_surface(surface: RiskSurface, data_dir: Path, name: str | None = None) -> Path:
    """Write ``surface`` where the app will find it; returns the file."""
    folder = forecasts_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or surface_stem(surface)
    return surface.to_json(folder / f"{stem}.json")


def load_surface(path: Path) -> RiskSurface:
    try:
        return RiskSurface.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DataError(f"not a saved risk surface: {exc}", file=str(path)) from None


def latest_surface_source(data_dir: Path) -> SurfaceSource:
    """A source returning the most recently written surface under ``data_dir/forecasts``,
    re-reading only when a newer file appears."""
    state: dict[str, Any] = {"key": None, "surface": None}

    def source() -> RiskSurface | None:
        folder = forecasts_dir(data_dir)
        if not folder.is_dir():
            return None
        files = sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        if not files:
            return None
        newest = files[-1]
        key = (str(newest), newest.stat().st_mtime_ns)
        if state["key"] != key:
            state["surface"] = load_surface(newest)
            state["key"] = key
        surface: RiskSurface = state["surface"]
        return surface

    return source


def percentile_ranks(risk: np.ndarray) -> np.ndarray:
    """Each area's percentile (0-100) among all areas: share of areas with lower risk."""
    risk = np.asarray(risk, float)
    # ties share the lowest rank so equal areas get equal percentiles
    first = np.searchsorted(np.sort(risk), risk, side="left")
    return 100.0 * first / max(len(risk), 1)
