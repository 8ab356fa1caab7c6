"""Forecast speed: fit + predict of every model on 100,000 real events and 40,000 cells (issue 3).

    python benchmarks/bench_forecast_speed.py            # 5 runs each, writes the README section
    python benchmarks/bench_forecast_speed.py --runs 3

Events: the 100,000 most recent Chicago aggravated assaults of 2010-2016 (real, minute times,
/work/shared/data/chicago-aggravated-assaults-2010-2016, through vigil.data.datasets), projected to
UTM 16N. Grid: a 30 km x 30 km square with 150 m cells (200 x 200 = 40,000 cells) centred on the
events' median point; every event is passed to the model (those outside the square too, as a
real force-wide table would be). Each model is fitted on all of them and predicts one week.

Targets: KDE < 1 s, grid SEPP < 5 s on this 2-core machine. Baseline, in the same script and
the same process: naive counting (one bincount), so the ratio column says how many "count the
events per cell" passes each model costs. The SEPP's one-off numba compilation (cached on disk
after the first run) is timed separately and excluded from the medians; so is LightGBM's import.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from readme_section import write_section  # noqa: E402

from vigil.data.datasets import load_chicago  # noqa: E402
from vigil.forecast.registry import make_model  # noqa: E402
from vigil.geo.grid import Grid  # noqa: E402
from vigil.geo.projection import with_xy  # noqa: E402

N_EVENTS = 100_000
SIDE_M = 30_000.0
CELL_M = 150.0
TARGETS = {"kde": 1.0, "sepp": 5.0}
MODELS = ("naive", "kde", "prospective", "sepp", "boosted")


def data() -> tuple:
    df = load_chicago(years=(2010, 2016)).sort_values("time")
    df = df.tail(N_EVENTS).reset_index(drop=True)
    df, crs = with_xy(df, "EPSG:32616")
    # centre on a cell corner so the square is exactly 200 x 200 cells
    cx = round(float(np.median(df.x)) / CELL_M) * CELL_M
    cy = round(float(np.median(df.y)) / CELL_M) * CELL_M
    h = SIDE_M / 2
    grid = Grid.from_bounds(cx - h, cy - h, cx + h - 1.0, cy + h - 1.0, CELL_M, crs)
    until = df.time.max().normalize() + np.timedelta64(1, "D")
    return df, grid, until


def time_model(name: str, df, grid: Grid, until, runs: int) -> dict:
    end = until + np.timedelta64(7, "D")
    times = []
    surface = None
    for _ in range(runs):
        model = make_model(name)
        t0 = time.perf_counter()
        model.fit(df, until, grid)
        surface = model.predict(until, end)
        times.append(time.perf_counter() - t0)
    assert surface is not None
    return {
        "model": name,
        "median_s": statistics.median(times),
        "min_s": min(times),
        "runs": runs,
        "expected_week": float(surface.risk.sum()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-readme", action="store_true")
    args = ap.parse_args()

    t0 = time.perf_counter()
    df, grid, until = data()
    load_s = time.perf_counter() - t0
    inside = int((grid.locate(df.x.to_numpy(), df.y.to_numpy()) >= 0).sum())

    # one-off costs, kept out of the medians
    t0 = time.perf_counter()
    make_model("sepp", max_iter=1).fit(df, until, grid)
    warm_sepp = time.perf_counter() - t0
    t0 = time.perf_counter()
    import lightgbm  # noqa: F401

    warm_lgb = time.perf_counter() - t0

    rows = [time_model(m, df, grid, until, args.runs) for m in MODELS]
    base = next(r for r in rows if r["model"] == "naive")["median_s"]
    for r in rows:
        r["ratio_vs_naive"] = r["median_s"] / base if base > 0 else float("nan")
        target = TARGETS.get(r["model"])
        r["target_s"] = target
        r["met"] = None if target is None else r["median_s"] < target

    result = {
        "events": len(df),
        "events_inside_square": inside,
        "cells": grid.n_cells,
        "cell_m": CELL_M,
        "side_m": SIDE_M,
        "until": str(until),
        "cpus": os.cpu_count(),
        "load_s": load_s,
        "sepp_first_call_s": warm_sepp,
        "lightgbm_import_s": warm_lgb,
        "rows": rows,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "forecast_speed.json").write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps(result, indent=1, default=str))
    if not args.no_readme:
        write_section("forecast-speed", markdown(result))


def markdown(r: dict) -> str:
    lines = [
        "## Forecast speed",
        "",
        "Run: `python benchmarks/bench_forecast_speed.py` (writes this section and "
        "`benchmarks/results/forecast_speed.json`).",
        f"Data: the {r['events']:,} most recent real Chicago aggravated assaults (2010-2016, "
        f"minute times); grid: {r['side_m'] / 1000:g} km square, {r['cell_m']:g} m cells "
        f"({r['cells']:,} cells; {r['events_inside_square']:,} of the events fall inside it). "
        "Each model fits on all events and predicts one week.",
        f"Machine: {r['cpus']} CPUs, shared with other work while measured; "
        f"median of {r['rows'][0]['runs']} runs per model, fit + predict, in one process. "
        "Baseline: naive counting in the same run.",
        "",
        "| model | median s | min s | x naive | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        target = "" if row["target_s"] is None else f"< {row['target_s']:g} s"
        met = "" if row["met"] is None else ("**met**" if row["met"] else "**not met**")
        lines.append(
            f"| {row['model']} | {row['median_s']:.3f} | {row['min_s']:.3f} | "
            f"{row['ratio_vs_naive']:.1f} | {target} | {met} |"
        )
    lines += [
        "",
        f"One-off costs not in the medians: SEPP first call (numba compile or cache load) "
        f"{r['sepp_first_call_s']:.2f} s; LightGBM import {r['lightgbm_import_s']:.2f} s; "
        f"loading and projecting the data {r['load_s']:.1f} s.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
