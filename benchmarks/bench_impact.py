"""Community impact speed: the CIA's automatic indicators and the guardrail check.

Targets (set by the impact part, for an interactive case page):
- indicators for an area, once the source files are loaded in the process (warm): < 1 s, so a
  case page can compute them on request; the first call (cold, reading every file): < 60 s;
- the guardrail check against a year of a busy force's deployments (1,000 windows) and a
  London-wide 250 m evidence surface: < 0.5 s per authorisation decision.

Baselines in the same script: for the indicators, reading the street-crime file alone with
``pandas.read_csv`` (the largest single input); for the guardrails, the same check with no past
deployments (the evidence test alone).

Run: python benchmarks/bench_impact.py [--runs 5]   (writes the "impact" section of README.md)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

from vigil.cases.guardrail_policy import GuardrailPolicy  # noqa: E402
from vigil.forecast.surface import RiskSurface  # noqa: E402
from vigil.geo.grid import Grid  # noqa: E402
from vigil.impact.area import select_area  # noqa: E402
from vigil.impact.guardrails import Window, evaluate, evidence_test  # noqa: E402
from vigil.impact.indicators import compute_indicators  # noqa: E402
from vigil.settings import get_settings  # noqa: E402

LSOA, WARD = "E01003023", "E05000420"


def timed(fn, runs: int) -> tuple[float, list[float]]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def london_surface(rng: np.random.Generator) -> RiskSurface:
    grid = Grid.from_bounds(503000, 155000, 562000, 201000, cell=250, crs="EPSG:27700")
    x, y = grid.centres()
    risk = rng.gamma(0.3, 1.0, grid.n_cells)
    ids = grid.area_ids()
    drivers = pd.DataFrame({"area_id": ids, "long_run": risk * rng.uniform(0.3, 1.2, len(ids))})
    return RiskSurface(
        area_id=ids, x=x, y=y, risk=risk, crs="EPSG:27700", start=pd.Timestamp("2022-07-01"),
        end=pd.Timestamp("2022-07-02"), model="bench", grid=grid, drivers=drivers,
    )  # fmt: skip


def windows(n: int, rng: np.random.Generator, now: datetime) -> list[Window]:
    out = []
    for i in range(n):
        cx, cy = rng.uniform(505000, 560000), rng.uniform(157000, 199000)
        start = now - timedelta(hours=float(rng.uniform(0, 365 * 24)))
        area = shapely.box(cx - 250, cy - 250, cx + 250, cy + 250)
        out.append(Window(f"c{i}", area, start, start + timedelta(hours=float(rng.uniform(4, 15)))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    shared = Path(get_settings().shared_data)
    rows = []

    base, _ = timed(
        lambda: pd.read_csv(shared / "met-street-2022/london_crimes_2022.csv.gz"), args.runs
    )
    t = time.perf_counter()
    compute_indicators(select_area(lsoa=LSOA, shared=shared), shared=shared)
    cold = time.perf_counter() - t
    lsoa, _ = timed(
        lambda: compute_indicators(select_area(lsoa=LSOA, shared=shared), shared=shared), args.runs
    )
    ward, _ = timed(
        lambda: compute_indicators(select_area(ward=WARD, shared=shared), shared=shared), args.runs
    )
    rows.append(("baseline: `pandas.read_csv` of met-street-2022", base, "-"))
    rows.append((f"indicators, LSOA {LSOA}, cold (first call)", cold, "< 60 s"))
    rows.append((f"indicators, LSOA {LSOA}, warm", lsoa, "< 1 s"))
    rows.append((f"indicators, ward {WARD} (10 LSOAs), warm", ward, "< 1 s"))

    rng = np.random.default_rng(5)
    surface = london_surface(rng)
    now = datetime(2022, 7, 1, 9, tzinfo=UTC)
    area = shapely.box(531000, 175000, 531500, 175500)
    policy = GuardrailPolicy()
    long_run = surface.drivers["long_run"].to_numpy()  # type: ignore[index]
    g_rows = []
    for n in (0, 100, 1000, 10000):
        past = windows(n, rng, now)

        def check(past: list[Window] = past) -> None:
            ev = evidence_test(surface, area, long_run)
            start = now + timedelta(hours=1)
            evaluate(
                case_id="new",
                area=area,
                start=start,
                end=start + timedelta(hours=8),
                windows=past,
                policy=policy,
                evidence=ev,
            )

        check()  # warm-up: the first call builds the surface's cell polygons
        med, _ = timed(check, args.runs)
        g_rows.append((n, med))
    g0 = g_rows[0][1]

    cpu = os.cpu_count()
    lines = [
        "## Community impact",
        "",
        f"Run: `python benchmarks/bench_impact.py --runs {args.runs}`. Medians of {args.runs} "
        f"runs (cold: one run); {platform.machine()}, {cpu} CPUs shared with other work while "
        "measured.",
        "",
        "| what | median s | target |",
        "|---|---:|---|",
        *(f"| {w} | {s:.2f} | {tgt} |" for w, s, tgt in rows),
        "",
        f"Warm LSOA indicators / `read_csv` baseline: {lsoa / base:.2f}x; cold / warm: "
        f"{cold / lsoa:.0f}x. Targets met: cold **{'yes' if cold < 60 else 'no'}**, warm "
        f"**{'yes' if max(lsoa, ward) < 1 else 'no'}**.",
        "",
        f"Guardrail check (evidence test on a London-wide 250 m surface of "
        f"{len(surface):,} cells, plus the four rules) by number of past deployment windows:",
        "",
        "| past windows | median s | vs no windows (baseline) | target < 0.5 s at 1,000 |",
        "|---:|---:|---:|---|",
        *(
            f"| {n:,} | {s:.3f} | {s / g0:.2f}x | "
            f"{('met' if s < 0.5 else 'not met') if n == 1000 else ''} |"
            for n, s in g_rows
        ),
    ]
    write_section("impact", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
