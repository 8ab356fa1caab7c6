"""Rolling-origin backtests: fit on the past only, predict the next window, score, repeat.

For every origin ``t`` and every grid offset, each model is fitted on the incidents whose whole
known period ended by ``t`` (nothing later is even passed to it) and predicts ``[t, t+horizon)``;
the forecast is scored against the incidents of that window. Several grid offsets (the grid
shifted diagonally by a fraction of a cell) show how much a result owes to where the grid lines
happen to fall. Tasks (origin x offset, all models) run in parallel: see
:mod:`vigil.evaluate.parallel`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry.base import BaseGeometry

from vigil.data.schema import coarsest_precision
from vigil.errors import ModelInputError
from vigil.evaluate import metrics
from vigil.evaluate.bootstrap import compare_to_baselines
from vigil.evaluate.parallel import run_tasks
from vigil.evaluate.study_area import study_grid
from vigil.evaluate.windows import (
    Step,
    check_window_precision,
    observed_counts,
    parse_step,
    past_of,
    period_end,
    rolling_origins,
    step_label,
)
from vigil.forecast.base import Forecaster
from vigil.geo.grid import Grid
from vigil.geo.projection import with_xy

#: The four published baselines every new model is compared with (issue 3).
BASELINES: tuple[str, ...] = ("naive", "kde", "prospective", "sepp")

#: Area fractions at which the hit-rate-vs-area curve of the report is drawn.
CURVE_FRACTIONS: tuple[float, ...] = tuple(
    float(f) for f in np.round(np.geomspace(0.001, 0.3, 25), 5)
)


@dataclass(frozen=True)
class ModelSpec:
    """A model to backtest: a registry name with parameters, or a prototype instance.

    A prototype is cloned (``type(m)(**m.get_params())``) for every fit, as scikit-learn does,
    so one fit never leaks into another.
    """

    label: str
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    prototype: Forecaster | None = None

    @classmethod
    def of(cls, model: str | Forecaster | ModelSpec) -> ModelSpec:
        if isinstance(model, ModelSpec):
            return model
        if isinstance(model, Forecaster):
            return cls(label=model.name, prototype=model)
        if isinstance(model, str):
            return cls(label=model, name=model)
        raise ModelInputError(f"cannot backtest {model!r}: give a model name or a Forecaster")

    def build(self) -> Forecaster:
        if self.prototype is not None:
            return type(self.prototype)(**self.prototype.get_params())
        from vigil.forecast.registry import make_model

        assert self.name is not None
        return make_model(self.name, **self.params)

    def requires_precision(self) -> str:
        return self.build().requires_precision


@dataclass(frozen=True)
class AreaUnits:
    """Polygons (LSOAs, wards, beats) to score on instead of grid cells.

    A grid forecast is shared among the polygons its cells overlap in proportion to the
    overlapping area (as :func:`vigil.forecast.areas.to_polygons` does), and incidents are
    counted in the polygon that contains them. Polygons are ranked by risk per m^2, since they
    differ in size. ``cell``, ``poly`` and ``share`` are that sharing for one grid; ``area_m2``
    is each polygon's area.
    """

    name: str
    cell: np.ndarray
    poly: np.ndarray
    share: np.ndarray
    area_m2: np.ndarray

    def aggregate(self, risk: np.ndarray) -> np.ndarray:
        return np.bincount(
            self.poly, weights=risk[self.cell] * self.share, minlength=self.area_m2.size
        )


def area_units(grid: Grid, areas: Any, name: str = "areas") -> AreaUnits:
    """The sharing of ``grid``'s cells among the polygons of ``areas`` (a GeoDataFrame)."""
    import shapely

    from vigil.forecast.areas import cell_shares

    if areas.crs is not None and str(areas.crs) != grid.crs:
        areas = areas.to_crs(grid.crs)
    geoms = shapely.make_valid(areas.geometry.to_numpy())
    ci, pi, share, _ = cell_shares(grid.polygons(), geoms)
    return AreaUnits(name, ci, pi, share, np.asarray(shapely.area(geoms), float))


@dataclass(frozen=True)
class _Task:
    origin: pd.Timestamp
    end: pd.Timestamp
    offset_index: int
    grid: Grid
    models: tuple[ModelSpec, ...]
    fractions: tuple[float, ...]
    units: AreaUnits | None = None


@dataclass
class _TaskResult:
    rows: list[dict[str, Any]]
    curves: list[dict[str, Any]]
    #: risk per scored area (grid cells, or polygons when scoring on polygons)
    risks: dict[str, np.ndarray]
    #: observed counts per grid cell, and the grid risk per model: for the map
    observed: np.ndarray
    grid_risks: dict[str, np.ndarray]
    #: model, origin, offset, bin, lo, hi, n, expected, observed (reliability table rows)
    reliability: list[dict[str, Any]] = field(default_factory=list)


def _run_task(task: _Task, incidents: pd.DataFrame) -> _TaskResult:
    ends = incidents["period_end"] if "period_end" in incidents else period_end(incidents)
    past = past_of(incidents, task.origin, ends)
    observed = observed_counts(incidents, task.grid, task.origin, task.end, ends)
    area, scored_obs = task.grid.clipped_area, observed
    if task.units is not None:
        area = task.units.area_m2
        times = pd.to_datetime(incidents["time"])
        inside = ((times >= task.origin) & (ends <= task.end)).to_numpy()
        idx = incidents["area_index"].to_numpy()[inside]
        scored_obs = np.bincount(idx[idx >= 0], minlength=area.size).astype(float)
    rows: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    risks: dict[str, np.ndarray] = {}
    grid_risks: dict[str, np.ndarray] = {}
    calib: list[dict[str, Any]] = []
    for spec in task.models:
        model = spec.build()
        c0, t0 = time.process_time(), time.perf_counter()
        model.fit(past, task.origin, task.grid)
        t1 = time.perf_counter()
        surface = model.predict(task.origin, task.end)
        t2, c2 = time.perf_counter(), time.process_time()
        if len(surface) != task.grid.n_cells:
            raise ModelInputError(
                f"model {spec.label!r} returned {len(surface)} areas for a grid of "
                f"{task.grid.n_cells} cells"
            )
        grid_risks[spec.label] = risk = np.asarray(surface.risk, float)
        if task.units is not None:
            risk = task.units.aggregate(risk)
        row: dict[str, Any] = {
            "model": spec.label,
            "origin": task.origin,
            "end": task.end,
            "offset": task.offset_index,
            "n_train": len(past),
            "fit_s": t1 - t0,
            "predict_s": t2 - t1,
            "cpu_s": c2 - c0,  # fit + predict, this process (more than wall if multithreaded)
        }
        by_density = task.units is not None  # polygons differ in size: rank by risk per m^2
        row.update(metrics.score(risk, scored_obs, area, task.fractions, by_density))
        rows.append(row)
        curve = metrics.hit_rate_curve(risk, scored_obs, area, CURVE_FRACTIONS, by_density)
        curves.extend(
            {
                "model": spec.label,
                "origin": task.origin,
                "offset": task.offset_index,
                "fraction": f,
                "hit_rate": float(h),
            }
            for f, h in zip(CURVE_FRACTIONS, curve, strict=True)
        )
        table = metrics.reliability(risk, scored_obs)
        calib.extend(
            {"model": spec.label, "origin": task.origin, "offset": task.offset_index, "bin": i}
            | {k: float(v[i]) for k, v in table.items()}
            for i in range(table["n"].size)
        )
        risks[spec.label] = risk
    return _TaskResult(rows, curves, risks, observed, grid_risks, calib)


@dataclass
class BacktestResult:
    """Tidy results: one row per model x origin x offset, plus summaries and comparisons."""

    #: model, origin, end, offset, n_train, fit_s, predict_s, observed, expected,
    #: log_likelihood, hit_rate@f, pai@f, pei@f, pei_star@f, stability@f
    frame: pd.DataFrame
    #: model, origin, offset, fraction, hit_rate (for hit-rate-vs-area curves)
    curves: pd.DataFrame
    #: bootstrap comparison of each model with the best baseline, per fraction
    comparison: pd.DataFrame
    config: dict[str, Any]
    #: grids per offset, and the last origin's risk per model and observed counts (offset 0)
    grids: list[Grid]
    last_risk: dict[str, np.ndarray]
    last_observed: np.ndarray
    notes: list[str] = field(default_factory=list)
    #: model, origin, offset, bin, lo, hi, n, expected, observed: one row per window and bin
    reliability: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def fractions(self) -> tuple[float, ...]:
        return tuple(self.config["fractions"])

    def summary(self) -> pd.DataFrame:
        """Mean of each metric per model over all origins and offsets."""
        cols = [
            c
            for c in self.frame.columns
            if c not in ("model", "origin", "end", "offset", "n_train")
        ]
        out = self.frame.groupby("model", sort=False)[cols].mean()
        out["windows"] = self.frame.groupby("model", sort=False).size()
        return out.reset_index()

    def reliability_table(self) -> pd.DataFrame:
        """Reliability diagram per model: areas binned by their expected count in a window,
        summed over all windows; ``ratio`` is observed / expected (1 when calibrated)."""
        if self.reliability.empty:
            return pd.DataFrame(columns=["model", "lo", "hi", "n", "expected", "observed"])
        out = (
            self.reliability.groupby(["model", "bin"], sort=False)
            .agg(
                lo=("lo", "first"),
                hi=("hi", "first"),
                n=("n", "sum"),
                expected=("expected", "sum"),
                observed=("observed", "sum"),
            )
            .reset_index()
        )
        out = out[out["n"] > 0].drop(columns="bin")
        out["ratio"] = out["observed"] / out["expected"].where(out["expected"] > 0)
        return out.reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            return json.loads(df.to_json(orient="records", date_format="iso"))

        return {
            "config": self.config,
            "notes": self.notes,
            "summary": records(self.summary()),
            "comparison": records(self.comparison),
            "results": records(self.frame),
            "curves": records(
                self.curves.groupby(["model", "fraction"], sort=False)["hit_rate"]
                .mean()
                .reset_index()
            ),
            "reliability": records(self.reliability_table()),
        }

    def to_json(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1, default=str))
        return path


def grid_offsets(cell: float, n: int) -> list[tuple[float, float]]:
    """``n`` diagonal shifts of the grid, evenly spread over one cell."""
    if n < 1:
        raise ModelInputError(f"need at least one grid offset, got {n}")
    return [(i * cell / n, i * cell / n) for i in range(n)]


def make_grids(
    incidents: pd.DataFrame,
    boundary: BaseGeometry | None,
    cell: float,
    crs: str,
    offsets: int,
) -> list[Grid]:
    """One grid per offset, clipped to ``boundary`` (or the box around the incidents)."""
    return [study_grid(incidents, boundary, cell, crs, off) for off in grid_offsets(cell, offsets)]


def backtest(
    incidents: pd.DataFrame,
    models: Sequence[str | Forecaster | ModelSpec],
    *,
    start: Any,
    end: Any,
    step: str | Step = "1M",
    horizon: str | Step | None = None,
    cell: float = 250.0,
    boundary: BaseGeometry | None = None,
    crs: str | None = None,
    offsets: int = 1,
    fractions: Iterable[float] = metrics.FRACTIONS,
    baselines: Sequence[str] = BASELINES,
    workers: int | None = None,
    scheduler: Any = None,
    n_boot: int = 2000,
    seed: int = 0,
    skip_incompatible: bool = False,
    areas: Any = None,
    areas_name: str = "areas",
) -> BacktestResult:
    """Rolling-origin backtest of ``models`` with origins every ``step`` in ``[start, end)``.

    ``incidents`` is the canonical table filtered to the target categories; ``x``/``y`` are
    added in ``crs`` (default: chosen from the data) when missing. ``horizon`` defaults to
    ``step``. A model that needs finer times than the data have raises ModelInputError, or is
    left out with a note when ``skip_incompatible``. With ``areas`` (a GeoDataFrame of
    polygons), forecasts are made on the grid but scored on the polygons (see
    :class:`AreaUnits`), as a commander would choose LSOAs or wards.
    """
    if incidents.empty:
        raise ModelInputError("no incidents to backtest on (check the dataset and categories)")
    if "x" not in incidents or "y" not in incidents:
        incidents, crs = with_xy(incidents, crs)
    crs = crs or _guess_crs(incidents)
    step_off = parse_step(step)
    horizon_off = parse_step(horizon) if horizon is not None else step_off
    origins = rolling_origins(start, end, step_off)
    for o in origins:
        check_window_precision(incidents, o, o + horizon_off)
    fracs = tuple(float(f) for f in fractions)
    specs, notes = _compatible([ModelSpec.of(m) for m in models], incidents, skip_incompatible)
    labels = [s.label for s in specs]
    if len(set(labels)) != len(labels):
        raise ModelInputError(f"model labels must be unique, got {labels}")
    keep_cols = [
        c for c in ("time", "precision", "category", "x", "y", "lon", "lat") if c in incidents
    ]
    data = incidents[keep_cols].reset_index(drop=True)
    data["period_end"] = period_end(data)  # once, not in every task
    grids = make_grids(data, boundary, cell, crs, offsets)
    units: list[AreaUnits | None] = [None] * len(grids)
    if areas is not None:
        from vigil.geo.areas import assign_points

        if areas.crs is not None and str(areas.crs) != crs:
            areas = areas.to_crs(crs)
        if "area_id" not in areas:
            raise ModelInputError("the area polygons need an 'area_id' column")
        units = [area_units(g, areas, areas_name) for g in grids]
        ids = assign_points(data["x"], data["y"], areas)
        pos = {a: i for i, a in enumerate(areas["area_id"].astype(str))}
        data["area_index"] = pd.Series(ids, dtype=object).map(pos).fillna(-1).to_numpy(np.int64)
    tasks = [
        _Task(o, o + horizon_off, i, g, tuple(specs), fracs, units[i])
        for o in origins
        for i, g in enumerate(grids)
    ]
    t0 = time.perf_counter()
    results = run_tasks(_run_task, tasks, data, workers=workers, scheduler=scheduler)
    wall = time.perf_counter() - t0

    frame = pd.DataFrame([r for res in results for r in res.rows])
    curves = pd.DataFrame([c for res in results for c in res.curves])
    frame = _add_stability(frame, tasks, results, fracs)
    last = [k for k, t in enumerate(tasks) if t.offset_index == 0][-1]
    present = [b for b in baselines if b in labels]
    if not present:
        notes.append(
            f"no baseline among {', '.join(baselines)} was run: "
            "no comparison with the best baseline"
        )
    comparison = compare_to_baselines(frame, present, fracs, n_boot=n_boot, seed=seed)
    config = {
        "models": labels,
        "params": {s.label: s.build().get_params() for s in specs},
        "start": str(pd.Timestamp(start).date()),
        "end": str(pd.Timestamp(end).date()),
        "step": step_label(step_off),
        "horizon": step_label(horizon_off),
        "origins": [o.isoformat() for o in origins],
        "cell": cell,
        "crs": crs,
        "offsets": grid_offsets(cell, offsets),
        "n_cells": [g.n_cells for g in grids],
        "clipped_area_km2": float(grids[0].clipped_area.sum() / 1e6),
        "scored_on": "grid cells" if areas is None else f"{areas_name} ({len(areas)} polygons)",
        "n_incidents": len(data),
        "precision": coarsest_precision(data).value,
        "fractions": list(fracs),
        "baselines": present,
        "bootstrap": {"n_boot": n_boot, "seed": seed, "unit": "origin (all offsets together)"},
        "parallel": "dask" if scheduler is not None else f"process pool ({workers or 'auto'})",
        "wall_s": wall,
    }
    return BacktestResult(
        frame=frame,
        curves=curves,
        comparison=comparison,
        config=config,
        grids=grids,
        last_risk=results[last].grid_risks,
        last_observed=results[last].observed,
        notes=notes,
        reliability=pd.DataFrame([c for res in results for c in res.reliability]),
    )


def _guess_crs(incidents: pd.DataFrame) -> str:
    from vigil.geo.projection import working_crs

    return working_crs(incidents["lon"], incidents["lat"])


def _compatible(
    specs: list[ModelSpec], incidents: pd.DataFrame, skip: bool
) -> tuple[list[ModelSpec], list[str]]:
    from vigil.data.schema import PRECISION_ORDER, Precision

    have = coarsest_precision(incidents)
    keep, notes = [], []
    for spec in specs:
        need = Precision(spec.requires_precision())
        if PRECISION_ORDER[have] < PRECISION_ORDER[need]:
            msg = (
                f"model {spec.label!r} needs incident times to the {need.value}, but the data "
                f"are known only to the {have.value}"
            )
            if not skip:
                raise ModelInputError(msg + "; leave it out or use timestamped data")
            notes.append(msg + ": left out")
            continue
        keep.append(spec)
    if not keep:
        raise ModelInputError("no model left to backtest: " + "; ".join(notes))
    return keep, notes


def _add_stability(
    frame: pd.DataFrame,
    tasks: list[_Task],
    results: list[Any],
    fractions: tuple[float, ...],
) -> pd.DataFrame:
    """Jaccard of each model's top areas between consecutive origins on the same grid."""
    by_offset: dict[int, list[int]] = {}
    for k, t in enumerate(tasks):
        by_offset.setdefault(t.offset_index, []).append(k)
    values: dict[tuple[str, pd.Timestamp, int], dict[str, float]] = {}
    for off, ks in by_offset.items():
        ks = sorted(ks, key=lambda k: tasks[k].origin)
        first = tasks[ks[0]]
        area = first.grid.clipped_area if first.units is None else first.units.area_m2
        for prev, cur in zip(ks[:-1], ks[1:], strict=True):
            for label, risk in results[cur].risks.items():
                before = results[prev].risks[label]
                jac = metrics.selection_jaccards(
                    before, risk, area, fractions, by_density=first.units is not None
                )
                values[(label, tasks[cur].origin, off)] = {
                    f"stability@{f:g}": j for f, j in zip(fractions, jac, strict=True)
                }
    for f in fractions:
        col = f"stability@{f:g}"
        frame[col] = [
            values.get((m, o, off), {}).get(col, np.nan)
            for m, o, off in zip(frame["model"], frame["origin"], frame["offset"], strict=True)
        ]
    return frame
