"""Outcome evaluation and report speed: a season's evaluation and a report's PDF.

Run: ``python benchmarks/bench_outcomes.py [--runs 5]``. Data: London 2022 serious violence
(police.uk, shared/data/met-street-2022), 250 m cells clipped to London, naive forecast fitted on
January-February 2022, a season of nine deployments (March-November). Writes the "outcomes"
section of benchmarks/README.md.

Measured (medians of ``--runs``):

* the whole season evaluation (controls, counts per cell and month, DiD, WDQ), against the
  baseline of fitting the same count panel with the statsmodels formula API
  (``glm("count ~ C(area_id) + C(period) + deployed")``), the obvious way to write it; the two
  must give the same rate ratio;
* building the force-wide statistics report and rendering its PDF (WeasyPrint).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))

from readme_section import write_section  # noqa: E402

from vigil.data.datasets import load_london_2022  # noqa: E402
from vigil.data.taxonomy import SERIOUS_VIOLENCE  # noqa: E402
from vigil.forecast.registry import make_model  # noqa: E402
from vigil.geo.grid import Grid  # noqa: E402
from vigil.geo.projection import BNG, with_xy  # noqa: E402
from vigil.outcomes.did import estimate_did  # noqa: E402
from vigil.outcomes.evaluation import DeploymentWindow, evaluate_deployments  # noqa: E402
from vigil.outcomes.simulate import plan_season  # noqa: E402
from vigil.reports.stats import build_stats_report  # noqa: E402
from vigil.settings import get_settings  # noqa: E402

TARGET_EVAL_S = 5.0
TARGET_PDF_S = 15.0


def timed(fn, runs: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def formula_fit(panel: pd.DataFrame) -> float:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    p = panel.copy()
    p["deployed"] = (p["treated"] & p["post"]).astype(float)
    p = p[p.groupby("area_id")["count"].transform("sum") > 0]
    fit = smf.glm(
        "count ~ C(area_id) + C(period) + deployed", data=p, family=sm.families.Poisson()
    ).fit()
    return float(np.exp(fit.params["deployed"]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    shared = get_settings().shared_data
    df = load_london_2022(shared)
    df, _ = with_xy(df[df["category"].isin(SERIOUS_VIOLENCE)].reset_index(drop=True), BNG)
    lad = gpd.read_file(shared / "london-geography/boundaries/london-2021-lad22-gen20.shp")
    grid = Grid.from_boundary(shapely.union_all(lad.to_crs(BNG).geometry.to_numpy()), 250.0, BNG)
    start = pd.Timestamp("2022-03-01")
    surface = (
        make_model("naive", window="2M")
        .fit(df, start, grid)
        .predict(start, start + pd.Timedelta(days=1))
    )
    plan = plan_season(surface, [f"2022-{m:02d}" for m in range(3, 12)])
    windows = [DeploymentWindow(p.label, (p.area_id,), p.start, p.end) for p in plan]
    year = {"study_start": pd.Timestamp("2022-01-01"), "study_end": pd.Timestamp("2023-01-01")}

    t_eval, ev = timed(
        lambda: evaluate_deployments(df, surface, windows, keep_panel=True, **year), args.runs
    )
    panel = ev.panel  # type: ignore[union-attr]
    t_fit, res = timed(lambda: estimate_did(panel), args.runs)
    t_formula, rr_formula = timed(lambda: formula_fit(panel), args.runs)
    now = pd.Timestamp("2024-01-01", tz="UTC").to_pydatetime()
    t_pdf, size = timed(lambda: len(build_stats_report(2022, now).pdf()), max(1, args.runs // 2))

    rr = res.rate_ratio  # type: ignore[union-attr]
    md = f"""## Outcome evaluation and reports

Run: `python benchmarks/bench_outcomes.py --runs {args.runs}`. London 2022 serious violence
({len(df):,} month-only points), 250 m cells ({grid.n_cells:,}), a season of {len(windows)}
deployments, {len(ev.controls)} matched control cells, panel of {len(panel):,} cell-months.
Machine: {platform.machine()}, 2 CPUs shared with other work while measured; medians of
{args.runs} runs.

| what | median s | target | vs baseline |
|---|---:|---|---:|
| whole season evaluation (controls, counts, DiD, WDQ) | {t_eval:.2f} | < {TARGET_EVAL_S:.0f} s ({"met" if t_eval < TARGET_EVAL_S else "not met"}) | |
| DiD fit on the panel (`estimate_did`, sparse IRLS) | {t_fit:.3f} | | {t_formula / t_fit:.1f}x faster |
| baseline: statsmodels formula API on the same panel | {t_formula:.3f} | | 1.0x |
| force-wide statistics report 2022: build + PDF ({size / 1024:.0f} KiB) | {t_pdf:.2f} | < {TARGET_PDF_S:.0f} s ({"met" if t_pdf < TARGET_PDF_S else "not met"}) | |

Same estimate both ways: rate ratio {rr:.4f} (`estimate_did`) vs {rr_formula:.4f} (formula API);
placebo season (nothing injected): {res.verdict}, 95% interval {res.ci_low:.2f}-{res.ci_high:.2f}.
"""  # noqa: E501
    write_section("outcomes", md)
    print(md)


if __name__ == "__main__":
    main()
