"""Is the grid SEPP's weak triggering an artefact of its bounds or starting values? (issue 13)

    python benchmarks/bench_sepp_fits.py

Chicago aggravated assaults (all of 2010-2015 before 2016-01-01, and the last 365 days only),
150 m cells clipped to the police districts, as the accuracy benchmark uses. Each fit is run from
two starting points (theta0, omega0) = (0.2, 0.5) and (0.5, 0.05), with the default 1-day floor
on the mean triggering delay and with the floor at 0.01 day (about 15 minutes), on all records
and on records with one per cell and minute (several victims of one event). Reported: the fitted
branching ratio theta, decay omega, mean delay 1/omega, log-likelihood per event, EM passes.
Nothing here is scored: it explains what the model finds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
STARTS = ((0.2, 0.5), (0.5, 0.05))


def main() -> None:
    df, crs = with_xy(datasets.load_chicago(years=(2010, 2016)).reset_index(drop=True))
    boundary, area = study_area(df, crs)
    grid = Grid.from_boundary(boundary, 150.0, crs)
    cell = grid.locate(df.x.to_numpy(), df.y.to_numpy())
    dedup = df[~pd.DataFrame({"c": cell, "t": df.time}).duplicated().to_numpy()]
    rows = []
    t0 = time.perf_counter()
    for data_name, data in (("all records", df), ("one per cell and minute", dedup)):
        for window in ("365D", None):
            for floor in (1.0, 0.01):
                for theta0, omega0 in STARTS:
                    m = GridSEPP(
                        window=window,
                        min_delay_days=floor,
                        theta0=theta0,
                        omega0=omega0,
                        max_iter=200,
                    ).fit(data, UNTIL, grid)
                    rows.append(
                        {
                            "data": data_name,
                            "history": window or "2010-2015",
                            "delay floor d": floor,
                            "start": f"{theta0}, {omega0}",
                            "theta": m.theta_,
                            "omega /d": m.omega_,
                            "delay h": 24.0 / m.omega_,
                            "loglik/event": m.loglik_,
                            "passes": m.n_iter_,
                        }
                    )
                    print(rows[-1], flush=True)
    wall = time.perf_counter() - t0
    lines = [
        "## SEPP fits: bounds and starting values",
        "",
        "Run: `python benchmarks/bench_sepp_fits.py`. Chicago aggravated assaults before "
        f"{UNTIL.date()}, 150 m cells ({grid.n_cells} cells, {area}); {len(df)} records, "
        f"{len(dedup)} with one per cell and minute. {code_version()}; {wall:.0f} s.",
        "",
        "| data | history | delay floor (days) | start (theta0, omega0) | theta | omega /day "
        "| mean delay (hours) | log-lik / event | EM passes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['data']} | {r['history']} | {r['delay floor d']:g} | {r['start']} | "
            f"{r['theta']:.4f} | {r['omega /d']:.2f} | {r['delay h']:.1f} | "
            f"{r['loglik/event']:.4f} | {r['passes']} |"
        )
    publish("sepp-fits", {"rows": rows, "wall_s": wall, "code": code_version()}, "\n".join(lines))


if __name__ == "__main__":
    main()
