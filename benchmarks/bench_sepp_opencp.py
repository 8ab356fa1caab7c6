"""Vigil's grid SEPP against open_cp's ``seppexp`` on the same data (issue 13).

    python benchmarks/bench_sepp_opencp.py                  # writes the README section
    OPENCP=/path/to/PredictCode python benchmarks/bench_sepp_opencp.py

Issue 13 found the grid SEPP "not self-exciting on Chicago: branching ratio about 0.014 and the
decay rate pinned at its 1-per-day bound", and asked for a comparison with open_cp's
``seppexp`` (Mohler et al. 2015's grid model, the one Vigil's ``GridSEPP`` follows) on the same
data: is the weak triggering Vigil's bug or the data's? Both models are fitted here to the same
events in the same cells, and their branching ratio (theta), decay rate (omega, per day) and
mean delay are compared.

Reference: ``open_cp.seppexp.SEPPTrainer`` from QuantCrimAtLeeds/PredictCode (github), imported
from the folder named by ``$OPENCP`` (default /tmp/opencp, e.g. ``git archive HEAD open_cp |
tar -x -C /tmp/opencp``). It is run, not copied. It needs shims to run on numpy 2 (``np.object``
and ``np.int`` were removed): the benchmark sets them before importing it. open_cp starts EM at
theta 0.5 and a mean delay of one day, with no bound on omega, and runs a fixed number of
passes; its "corrected" variant accounts for the triggering cut off at the end of the history
(edge correction), as Vigil's EM does.

Data: Chicago aggravated assaults (real, minute times; shared/data), the 365 days before
2016-01-01, 150 m cells of a square grid over the City of Chicago's police districts, as the
accuracy benchmark uses; events outside the grid's cells dropped for both. Vigil is fitted
twice: with its default 1-day floor on the mean delay, and with the floor at 0.01 day (about
15 minutes), i.e. as free as open_cp's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from readme_section import code_version, publish  # noqa: E402

from vigil.data import datasets  # noqa: E402
from vigil.evaluate.study_area import study_area  # noqa: E402
from vigil.forecast.sepp import GridSEPP  # noqa: E402
from vigil.geo.grid import Grid  # noqa: E402
from vigil.geo.projection import with_xy  # noqa: E402

UNTIL = pd.Timestamp("2016-01-01")
DAYS = 365
ITERATIONS = 50
MINUTES_PER_DAY = 24 * 60


def _opencp():
    """open_cp's seppexp and data modules, on numpy 2."""
    np.object = object  # type: ignore[attr-defined]
    np.int = int  # type: ignore[attr-defined]
    sys.path.insert(0, os.environ.get("OPENCP", "/tmp/opencp"))
    import open_cp.data as ocd  # type: ignore[import-not-found]
    import open_cp.seppexp as seppexp  # type: ignore[import-not-found]

    return ocd, seppexp


def _events() -> tuple[pd.DataFrame, Grid]:
    """The events both models see: inside the grid's cells, in the last 365 days."""
    df, crs = with_xy(datasets.load_chicago(years=(2014, 2015)).reset_index(drop=True))
    boundary, _ = study_area(df, crs)
    grid = Grid.from_boundary(boundary, 150.0, crs)
    df = df[(df.time >= UNTIL - pd.Timedelta(days=DAYS)) & (df.time < UNTIL)]
    df = df[grid.locate(df.x.to_numpy(), df.y.to_numpy()) >= 0]
    return df.sort_values("time").reset_index(drop=True), grid


def _fit_opencp(df: pd.DataFrame, grid: Grid, corrected: bool) -> dict:
    ocd, seppexp = _opencp()
    xmin, ymin = grid.x0, grid.y0
    xmax, ymax = xmin + grid.nx * grid.cell, ymin + grid.ny * grid.cell
    region = ocd.RectangularRegion(xmin=xmin, xmax=xmax, ymin=ymin, ymax=ymax)
    points = ocd.TimedPoints.from_coords(
        df.time.to_numpy().astype("datetime64[ms]"), df.x.to_numpy(), df.y.to_numpy()
    )
    trainer = seppexp.SEPPTrainer(region=region, grid_size=grid.cell)
    trainer.data = points
    t0 = time.perf_counter()
    predictor = trainer.train(iterations=ITERATIONS, use_corrected=corrected)
    seconds = time.perf_counter() - t0
    omega_per_day = float(predictor.omega) * MINUTES_PER_DAY
    return {
        "model": f"open_cp seppexp ({'edge-corrected' if corrected else 'uncorrected'})",
        "theta": float(predictor.theta),
        "omega": omega_per_day,
        "delay_h": 24.0 / omega_per_day,
        "passes": ITERATIONS,
        "seconds": seconds,
    }


def _fit_vigil(df: pd.DataFrame, grid: Grid, floor: float) -> dict:
    t0 = time.perf_counter()
    m = GridSEPP(window=f"{DAYS}D", min_delay_days=floor, max_iter=200).fit(df, UNTIL, grid)
    seconds = time.perf_counter() - t0
    return {
        "model": f"Vigil GridSEPP (delay floor {floor:g} day)",
        "theta": m.theta_,
        "omega": m.omega_,
        "delay_h": 24.0 / m.omega_,
        "passes": m.n_iter_,
        "seconds": seconds,
    }


def main() -> None:
    df, grid = _events()
    rows = [
        _fit_vigil(df, grid, 1.0),
        _fit_vigil(df, grid, 0.01),
        _fit_opencp(df, grid, corrected=False),
        _fit_opencp(df, grid, corrected=True),
    ]
    lines = [
        "## SEPP against open_cp's seppexp",
        "",
        f"Run: `python benchmarks/bench_sepp_opencp.py`. Code: {code_version()}. Chicago "
        f"aggravated assaults in the {DAYS} days before {UNTIL.date()}, {len(df):,} events in "
        f"150 m cells ({grid.n_cells} cells); open_cp run side by side "
        f"(QuantCrimAtLeeds/PredictCode, {ITERATIONS} EM passes from its own start).",
        "",
        "| model | theta (branching ratio) | omega per day | mean delay (hours) | EM passes | s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['theta']:.4f} | {r['omega']:.2f} | {r['delay_h']:.2f} | "
            f"{r['passes']} | {r['seconds']:.1f} |"
        )
    free, ref = rows[1], rows[2]
    lines += [
        "",
        f"Unbounded, both find the same weak triggering: branching ratio {free['theta']:.4f} "
        f"(Vigil) and {ref['theta']:.4f} (open_cp), mean delay {free['delay_h']:.2f} and "
        f"{ref['delay_h']:.2f} hours: follow-up records within the hour of an incident, nothing "
        "over the following days. The weak triggering is the data's, not an artefact of Vigil's "
        "bounds or start (docs/forecasting.md). open_cp's passes are pure Python over cells, "
        "hence its time; Vigil's second fit reuses the first's prepared history.",
    ]
    publish("sepp-opencp", {"rows": rows, "events": len(df)}, "\n".join(lines))


if __name__ == "__main__":
    main()
