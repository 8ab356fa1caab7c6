"""Backtest speed: a London backtest of every model must finish in under 2 minutes (issue 3).

    python benchmarks/bench_backtest_speed.py              # writes the "Backtest speed" section
    python benchmarks/bench_backtest_speed.py --no-serial  # skip the serial baseline

The run: London 2022 "violence" (police.uk, month-only, real data from shared/data), every
model in the registry that accepts month-only data (sepp needs exact times and is left out),
250 m cells clipped to the borough union, scored at all five area fractions with a
2,000-resample bootstrap. Twelve months of point data allow at most ten origins that every
model can fit (see bench_accuracy.py), so the 12 fits per model of the target are made as the
six latest monthly origins (Jul-Dec 2022: the most history, so the slowest fits) x 2 grid
offsets = 12 origin x offset tasks, each fitting and scoring every model once.

Timed: the default local process pool (one worker per CPU), and as a baseline the same
backtest serially (``workers=1``); the ratio is the parallel speed-up. Loading the data and
building the boundary are timed separately from the backtest itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from readme_section import code_version, write_section  # noqa: E402

from vigil.data import datasets  # noqa: E402
from vigil.evaluate.backtest import backtest  # noqa: E402
from vigil.evaluate.study_area import study_area  # noqa: E402
from vigil.forecast.registry import MODELS  # noqa: E402
from vigil.geo.projection import with_xy  # noqa: E402

TARGET_S = 120.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=1, help="timed runs of each mode (median)")
    ap.add_argument("--no-serial", action="store_true", help="skip the serial baseline")
    ap.add_argument("--offsets", type=int, default=2)
    ap.add_argument("--first", default="2022-07-01", help="first origin (monthly to Dec 2022)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    df = datasets.load_london_2022()
    incidents, crs = with_xy(df[df["category"] == "violence"].reset_index(drop=True))
    boundary, _ = study_area(incidents, crs)
    load_s = time.perf_counter() - t0

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished pool workers
        return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime

    def run(workers: int | None) -> tuple[float, int, list[str], list[str], float]:
        t, c = time.perf_counter(), cpu()
        res = backtest(
            incidents,
            list(MODELS),
            start=args.first,
            end="2023-01-01",
            step="1M",
            cell=250,
            boundary=boundary,
            crs=crs,
            offsets=args.offsets,
            workers=workers,
            skip_incompatible=True,
        )
        wall = time.perf_counter() - t
        # worker processes of the forkserver are not our children: count their model CPU
        # from the rows when the parent did not run the tasks itself
        model_cpu = float(res.frame["cpu_s"].sum())
        used = cpu() - c + (model_cpu if workers != 1 else 0.0)
        return wall, len(res.frame), res.config["models"], res.notes, used

    pool = [run(None) for _ in range(args.repeats)]
    pool_s = statistics.median(p[0] for p in pool)
    pool_cpu = statistics.median(p[4] for p in pool)
    rows, models, notes = pool[0][1], pool[0][2], pool[0][3]
    serial_s = serial_cpu = None
    if not args.no_serial:
        serial = [run(1) for _ in range(args.repeats)]
        serial_s = statistics.median(p[0] for p in serial)
        serial_cpu = statistics.median(p[4] for p in serial)
    tasks = rows // len(models)
    lines = [
        "## Backtest speed",
        "",
        "Run: `python benchmarks/bench_backtest_speed.py`. London 2022 violence (251,236 "
        f"month-only points), monthly origins {args.first[:7]} to 2022-12 x "
        f"{args.offsets} grid offsets = {tasks} origin x offset tasks (12 fits of every model, "
        "the target's work; 12 months of data allow at most 10 origins), 250 m cells clipped "
        "to London (26,115 cells), models: "
        f"{', '.join(models)}; all five area fractions and a 2,000-resample bootstrap included.",
        f"Machine: {os.cpu_count()} CPUs (shared with other work while measured); "
        f"median of {args.repeats} run(s). Code measured: {code_version()}. CPU s: this "
        "process plus, for the pool, the model fits in the workers (their imports and data "
        "transfer are not counted).",
        "",
        "| mode | wall s | CPU s | wall per task s | target < 120 s wall |",
        "|---|---|---|---|---|",
        f"| process pool ({os.cpu_count()} workers, default) | {pool_s:.1f} | {pool_cpu:.1f} | "
        f"{pool_s / tasks:.2f} | {'met' if pool_s < TARGET_S else '**not met**'} |",
    ]
    if serial_s is not None:
        lines.append(
            f"| serial baseline (workers=1) | {serial_s:.1f} | {serial_cpu:.1f} | "
            f"{serial_s / tasks:.2f} | "
            f"{'met' if serial_s < TARGET_S else 'not met'} |"
        )
        lines += ["", f"Parallel speed-up over serial: {serial_s / pool_s:.2f}x."]
    lines += [
        "",
        f"Loading the data, projecting and building the London boundary: {load_s:.1f} s "
        "(not part of the backtest time).",
    ]
    lines += [f"\nNote: {n}." for n in notes]
    text = "\n".join(lines)
    print(text)
    write_section("backtest-speed", text)


if __name__ == "__main__":
    main()
