"""National scale, simulated (issue 11): police.uk-shaped street files for the 43 forces of
England and Wales, imported at growing sizes, with wall time and peak memory of each import;
then, on the largest size, the store's summary, a force-wide forecast and a 12-origin backtest
of all 43 forces, serially and on Dask.

    python benchmarks/bench_scale.py --base-rows 1875000 --sizes 1 4 16   # 16x = 30 M rows
    python benchmarks/bench_scale.py --base-rows 20000 --sizes 1 4 --no-write  # a quick look
    python benchmarks/bench_scale.py --scheduler tcp://host:8786 ...  # the backtest on a cluster
    python benchmarks/bench_scale.py --generate-only /tmp/national --rows 30000000

The generator writes ``<YYYY-MM>/<YYYY-MM>-<force>-street.csv`` (the published schema) into a
temporary folder, never into the repository: each force has hotspots (a Gaussian mixture of
0.3-2 km spreads, 60 % of its crime) over a diffuse background, a volume in proportion to its
size, a seasonal month profile (summer +15 %) and a slow trend; a share of rows has no location
(as police.uk publishes anti-social behaviour and some crimes).

Each size is imported by ``vigil.data.store.IncidentStore.import_file`` in a fresh process
(one import of the whole folder: one unit), measured by wall time and the process's own peak
RSS (VmHWM). The baseline, in the same run and the same way: ``pandas.read_csv`` of every file
(type inference, no validation, nothing stored). Growth is linear when seconds per million rows
and peak RSS stay flat across sizes.

On the store of the largest size, each in a fresh process with its peak RSS: ``summary()`` of
the national dataset; a force-wide forecast (KDE of the Metropolitan force's violence over the
two years before the last month, predicting that month on 250 m cells); and the backtest of
every force (``vigil.evaluate.national``: violence, monthly origins through the last year, naive
and KDE, 500 m cells), first serially (the baseline) and then on a Dask ``LocalCluster`` of 2
single-threaded workers, or on ``--scheduler`` when given (the same code on a real cluster).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from readme_section import write_section  # noqa: E402

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
#: the 43 territorial forces of England and Wales: (file slug, lon, lat, relative volume)
FORCES = [
    ("avon-and-somerset", -2.7, 51.4, 3.0), ("bedfordshire", -0.45, 52.1, 1.2),
    ("cambridgeshire", 0.05, 52.3, 1.6), ("cheshire", -2.6, 53.2, 1.9),
    ("city-of-london", -0.09, 51.515, 0.15), ("cleveland", -1.2, 54.57, 1.4),
    ("cumbria", -2.9, 54.6, 0.8), ("derbyshire", -1.5, 53.0, 1.8),
    ("devon-and-cornwall", -4.0, 50.5, 2.8), ("dorset", -2.2, 50.75, 1.1),
    ("durham", -1.6, 54.75, 1.1), ("dyfed-powys", -4.0, 52.1, 0.8),
    ("essex", 0.5, 51.75, 3.0), ("gloucestershire", -2.2, 51.85, 0.9),
    ("greater-manchester", -2.25, 53.48, 6.5), ("gwent", -3.0, 51.6, 1.0),
    ("hampshire", -1.3, 51.0, 3.2), ("hertfordshire", -0.2, 51.8, 1.6),
    ("humberside", -0.4, 53.75, 2.0), ("kent", 0.8, 51.25, 3.2),
    ("lancashire", -2.6, 53.8, 2.7), ("leicestershire", -1.1, 52.65, 1.9),
    ("lincolnshire", -0.3, 53.1, 1.0), ("merseyside", -2.95, 53.42, 2.8),
    ("metropolitan", -0.12, 51.5, 17.0), ("norfolk", 1.1, 52.65, 1.2),
    ("north-wales", -3.6, 53.15, 1.0), ("north-yorkshire", -1.1, 54.0, 0.9),
    ("northamptonshire", -0.9, 52.25, 1.2), ("northumbria", -1.6, 55.0, 2.4),
    ("nottinghamshire", -1.15, 52.95, 2.0), ("south-wales", -3.4, 51.55, 2.4),
    ("south-yorkshire", -1.4, 53.45, 2.9), ("staffordshire", -2.0, 52.85, 1.7),
    ("suffolk", 1.0, 52.2, 1.0), ("surrey", -0.45, 51.3, 1.4),
    ("sussex", -0.2, 50.9, 2.4), ("thames-valley", -1.0, 51.6, 3.5),
    ("warwickshire", -1.55, 52.3, 0.9), ("west-mercia", -2.5, 52.3, 1.9),
    ("west-midlands", -1.9, 52.48, 6.0), ("west-yorkshire", -1.6, 53.8, 6.0),
    ("wiltshire", -1.9, 51.35, 0.9),
]  # fmt: skip
#: inside the police.uk street mapping's region box ([-8.7, 49.8, 1.9, 60.9]) with a margin
LON_RANGE, LAT_RANGE = (-6.3, 1.75), (49.95, 55.8)
CRIME_TYPES = [
    ("Violence and sexual offences", 0.32), ("Anti-social behaviour", 0.20),
    ("Public order", 0.09), ("Shoplifting", 0.07), ("Criminal damage and arson", 0.08),
    ("Other theft", 0.06), ("Vehicle crime", 0.06), ("Burglary", 0.04), ("Drugs", 0.03),
    ("Robbery", 0.01), ("Theft from the person", 0.01), ("Bicycle theft", 0.01),
    ("Possession of weapons", 0.01), ("Other crime", 0.01),
]  # fmt: skip


def generate(out: Path, rows: int, years: int = 5, seed: int = 2022) -> int:
    """Write about ``rows`` police.uk street rows for 43 forces x ``years`` x 12 months."""
    rng = np.random.default_rng(seed)
    months = [f"{2019 + y}-{m:02d}" for y in range(years) for m in range(1, 13)]
    weights = np.array([f[3] for f in FORCES])
    season = np.array([1 + 0.15 * np.sin((m - 4) / 12 * 2 * np.pi) for m in range(1, 13)])
    per_month = np.tile(season, years) * np.linspace(0.95, 1.05, len(months))
    share = np.outer(per_month / per_month.sum(), weights / weights.sum())
    counts = rng.poisson(share * rows)
    types = np.array([t for t, _ in CRIME_TYPES])
    tp = np.array([p for _, p in CRIME_TYPES])
    tp /= tp.sum()
    hotspots = {
        f[0]: (
            rng.normal(0, 0.12, (12, 2)) + [f[1], f[2]],
            rng.uniform(0.003, 0.02, 12),
            rng.dirichlet(np.ones(12)),
        )
        for f in FORCES
    }
    written = 0
    for mi, month in enumerate(months):
        (out / month).mkdir(parents=True, exist_ok=True)
        for fi, (slug, lon0, lat0, _) in enumerate(FORCES):
            n = int(counts[mi, fi])
            centres, spread, w = hotspots[slug]
            hot = rng.random(n) < 0.6
            k = rng.choice(12, n, p=w)
            lon = np.where(hot, centres[k, 0] + rng.normal(0, 1, n) * spread[k] * 1.6, 0.0)
            lat = np.where(hot, centres[k, 1] + rng.normal(0, 1, n) * spread[k], 0.0)
            lon = np.where(hot, lon, lon0 + rng.normal(0, 0.2, n))
            lat = np.where(hot, lat, lat0 + rng.normal(0, 0.13, n))
            # police.uk places every located crime on land in England and Wales: tails of the
            # spreads stay inside the published region's box, which the import enforces (a row
            # outside it fails the whole import; at 7.5 M rows the 4x run hit one)
            lon, lat = np.clip(lon, *LON_RANGE), np.clip(lat, *LAT_RANGE)
            crime = rng.choice(types, n, p=tp)
            asb = crime == "Anti-social behaviour"
            located = rng.random(n) > 0.015
            lsoa = (np.floor((lon + 8) * 40) * 1000 + np.floor((lat - 49) * 60)).astype(int)
            ids = rng.integers(0, 2**63, n)
            name = f"{slug.replace('-', ' ').title()} Police"
            with open(out / month / f"{month}-{slug}-street.csv", "w", encoding="utf-8") as fh:
                fh.write(HEADER)
                for i in range(n):
                    cid = "" if asb[i] else f"{ids[i]:016x}{mi:02d}{fi:02d}"
                    if located[i]:
                        where = (
                            f"{lon[i]:.6f},{lat[i]:.6f},On or near Street {lsoa[i] % 997},"
                            f"E0{lsoa[i] % 10**7:07d},{slug} {lsoa[i] % 400:03d}A"
                        )
                    else:
                        where = ",,No Location,,"
                    fh.write(f"{cid},{month},{name},{name},{where},{crime[i]},,\n")
            written += n
    return written


_IMPORT = """
import json, os, resource, sys, time
from vigil.data.csvio import ImportLimits
from vigil.data.store import IncidentStore
load0 = os.getloadavg()[0]
t0 = time.perf_counter()
res = IncidentStore(sys.argv[2]).import_file(sys.argv[1], format="police-uk", dataset="national",
    limits=ImportLimits(max_bytes=1 << 40, max_rows=10**9))
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"cpu": ru.ru_utime + ru.ru_stime, "load": [load0, os.getloadavg()[0]],
                  "duplicates": res.rows_duplicate}))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(res.rows_read, res.rows_imported, wall, int(hwm.split()[1]) // 1024)
"""
_PANDAS = """
import sys, time
from pathlib import Path
import pandas as pd
t0 = time.perf_counter()
n = 0
for p in sorted(Path(sys.argv[1]).rglob("*-street.csv")):
    n += len(pd.read_csv(p))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(n, n, time.perf_counter() - t0, int(hwm.split()[1]) // 1024)
"""


_SUMMARY = """
import sys, time
from vigil.data.store import IncidentStore
t0 = time.perf_counter()
s = IncidentStore(sys.argv[1]).summary("national")
n = int(s.total)
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(n, n, time.perf_counter() - t0, int(hwm.split()[1]) // 1024)
"""
_FORECAST = """
import sys, time
import pandas as pd
from vigil.data.store import IncidentStore
from vigil.evaluate.national import incidents_by_force
from vigil.evaluate.study_area import activity_grid
from vigil.forecast.registry import make_model
from vigil.geo.projection import BNG, with_xy
t0 = time.perf_counter()
last = pd.Timestamp(sys.argv[2])
frames = incidents_by_force(IncidentStore(sys.argv[1]), "national", ["violence"],
                            last - pd.DateOffset(years=2), last)
met, _ = with_xy(frames["metropolitan"], BNG)
grid = activity_grid(met, 250.0, BNG)
surface = make_model("kde").fit(met, last, grid).predict(last, last + pd.DateOffset(months=1))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(len(met), len(surface), time.perf_counter() - t0, int(hwm.split()[1]) // 1024)
"""
_BACKTEST = """
import json, sys, time
import pandas as pd
from vigil.data.store import IncidentStore
from vigil.evaluate.national import backtest_forces, incidents_by_force
store, mode = sys.argv[1], sys.argv[4]
first, last = pd.Timestamp(sys.argv[2]), pd.Timestamp(sys.argv[3])
frames = incidents_by_force(IncidentStore(store), "national", ["violence"],
                            first - pd.DateOffset(years=1), last)
kw = dict(start=str(first.date()), end=str(last.date()), cell=500.0, n_boot=200)
client = cluster = None
if mode == "serial":
    kw["workers"] = 1
else:
    from distributed import Client, LocalCluster
    if mode == "local":
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(mode)
    client.run(lambda: __import__("vigil.evaluate.national"))  # imports are not the backtest
    kw["scheduler"] = client
t0 = time.perf_counter()
res = backtest_forces(frames, ["naive", "kde"], **kw)
wall = time.perf_counter() - t0
if client is not None:
    client.close()
if cluster is not None:
    cluster.close()
hit = {m: sum(r["models"][m]["hit_rate@0.01"] for r in res) / len(res) for m in ("naive", "kde")}
print(json.dumps({"forces": len(res), "tasks": sum(r["origins"] for r in res),
                  "incidents": sum(r["incidents"] for r in res), "hit1": hit}))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
print(len(res), sum(r["origins"] for r in res), wall, int(hwm.split()[1]) // 1024)
"""


def _run(code: str, *args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if done.returncode != 0:  # say why: a failed step must not lose its error
        raise RuntimeError(f"step failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    out = done.stdout.splitlines()
    read, stored, seconds, peak = out[-1].split()
    extra = json.loads(out[-2]) if len(out) > 1 and out[-2].startswith("{") else {}
    return {"rows": int(read), "stored": int(stored), "seconds": float(seconds), "peak": int(peak),
            **extra}  # fmt: skip


def _later_steps(store: Path, scheduler: str | None) -> dict[str, Any]:
    """Summary, force-wide forecast and the 43-force backtest (serial, then Dask) on ``store``."""
    last = "2024-01-01"  # the generator's five years are 2019-2023
    first = "2023-01-01"  # 12 monthly origins through 2023
    out: dict[str, Any] = {"summary": _run(_SUMMARY, str(store))}
    print("summary", json.dumps(out["summary"]), flush=True)
    out["forecast"] = _run(_FORECAST, str(store), "2023-12-01")
    print("forecast", json.dumps(out["forecast"]), flush=True)
    out["backtest_serial"] = _run(_BACKTEST, str(store), first, last, "serial")
    print("backtest serial", json.dumps(out["backtest_serial"]), flush=True)
    out["backtest_dask"] = _run(_BACKTEST, str(store), first, last, scheduler or "local")
    print("backtest dask", json.dumps(out["backtest_dask"]), flush=True)
    return out


def _report(args: argparse.Namespace, results: list[dict[str, Any]], later: dict[str, Any]) -> str:
    first = results[0]["import"]
    sizes = " ".join(map(str, args.sizes))
    lines = [
        "## Scale: national police.uk-shaped import (issue 11)",
        "",
        f"`nice -n 10 python benchmarks/bench_scale.py --base-rows {args.base_rows} --sizes "
        f"{sizes}"
        + (" --no-later" if args.no_later else "")
        + (
            f" --baseline-sizes {' '.join(map(str, args.baseline_sizes))}"
            if args.baseline_sizes is not None
            else ""
        )
        + "`"
        + (
            f" (sizes {', '.join(f'{r}x' for r in args.prior_sizes)} measured by an earlier "
            "invocation of the same command and passed in with `--prior`)"
            if getattr(args, "prior_sizes", None)
            else ""
        )
        + f" on {platform.machine()}, {os.cpu_count()} cores "
        "(shared with other work: absolute times are noisy, ratios are the point). 43 forces x "
        "60 months (2019-2023) of generated files per size, one import each in a fresh process. "
        "Target: peak RSS under 2 GB at 30 M rows, time growing linearly.",
        "",
        "| size | rows | files | generate s | import wall s | wall s per M rows | import CPU s "
        "| CPU s per M rows | CPU ratio to 1x / rows ratio | import peak RSS MiB "
        "| load avg (start, end) | pandas.read_csv wall s | read_csv peak MiB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        imp, base = r["import"], r.get("pandas")
        cpu = imp.get("cpu", float("nan"))
        load = imp.get("load", [float("nan")] * 2)
        growth = (cpu / first.get("cpu", float("nan"))) / (r["rows"] / results[0]["rows"])
        lines.append(
            f"| {r['size']}x | {r['rows']:,} | {43 * 60} | {r.get('generate_s', 0):.0f} | "
            f"{imp['seconds']:.1f} | {imp['seconds'] / r['rows'] * 1e6:.1f} | {cpu:.1f} | "
            f"{cpu / r['rows'] * 1e6:.1f} | {growth:.2f} | {imp['peak']} | "
            f"{load[0]:.1f}, {load[1]:.1f} | "
            + (f"{base['seconds']:.1f} | {base['peak']} |" if base else "not run | |")
        )
    if later:
        big = results[-1]
        summ, fc = later["summary"], later["forecast"]
        ser, dk = later["backtest_serial"], later["backtest_dask"]
        where = args.scheduler or "LocalCluster, 2 workers x 1 thread"
        lines += [
            "",
            f"On the {big['size']}x store ({big['import']['stored']:,} rows), each in a fresh "
            "process:",
            "",
            "| step | wall s | peak RSS MiB | what |",
            "|---|---|---|---|",
            f"| `IncidentStore.summary('national')` | {summ['seconds']:.1f} | {summ['peak']} | "
            f"{summ['rows']:,} incidents counted by dataset, month, category, area |",
            f"| force-wide forecast (KDE, Metropolitan) | {fc['seconds']:.1f} | {fc['peak']} | "
            f"{fc['rows']:,} violence incidents of 2 years, {fc['stored']:,} cells of 250 m, "
            "December 2023 (query + grid + fit + predict) |",
            f"| 43-force backtest, serial (baseline) | {ser['seconds']:.1f} | {ser['peak']} | "
            f"{ser['rows']} forces, {ser['stored']} origin tasks (12 per force), "
            f"{ser['incidents']:,} incidents, naive + KDE, 500 m |",
            f"| 43-force backtest, Dask ({where}) | {dk['seconds']:.1f} | {dk['peak']} | "
            f"same tasks; speed-up over serial {ser['seconds'] / dk['seconds']:.2f}x |",
            "",
            "Mean hit rate at 1 % of the area over the 43 forces: "
            + ", ".join(f"{m} {v:.3f}" for m, v in ser["hit1"].items())
            + " (serial) and "
            + ", ".join(f"{m} {v:.3f}" for m, v in dk["hit1"].items())
            + " (Dask): the same tasks give the same results whatever runs them. The backtest "
            "times exclude reading the store (one pass, split by force); the Dask peak RSS is "
            "the driver's, not the workers'.",
        ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-rows", type=int, default=20_000, help="rows at size 1x")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 16])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--tmp", default="/tmp", help="folder for the generated files and stores")
    ap.add_argument("--no-later", action="store_true", help="imports only")
    ap.add_argument("--scheduler", default=None, help="Dask scheduler address for the backtest")
    ap.add_argument("--generate-only", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=30_000_000)
    ap.add_argument(
        "--baseline-sizes",
        type=int,
        nargs="*",
        default=None,
        help="sizes at which to time the pandas.read_csv baseline (default: every size)",
    )
    ap.add_argument(
        "--prior",
        type=Path,
        default=None,
        help="JSON lines of sizes measured by an earlier run (as this script prints them), "
        "reported with this run's: a long run split in two",
    )
    args = ap.parse_args()
    if args.generate_only:
        print(f"{generate(args.generate_only, args.rows):,} rows in {args.generate_only}")
        return
    results = []
    if args.prior is not None:
        results = [json.loads(line) for line in args.prior.read_text().splitlines() if line]
        args.prior_sizes = [r["size"] for r in results]
        args.sizes = args.prior_sizes + args.sizes
    later: dict[str, Any] = {}
    done = {r["size"] for r in results}
    for k, size in enumerate(args.sizes):
        if size in done:
            continue
        tmp = Path(tempfile.mkdtemp(prefix="scale-", dir=args.tmp))
        try:
            t0 = time.perf_counter()
            rows = generate(tmp / "files", args.base_rows * size)
            gen = time.perf_counter() - t0
            base = None
            if args.baseline_sizes is None or size in args.baseline_sizes:
                base = _run(_PANDAS, str(tmp / "files"))
            imp = _run(_IMPORT, str(tmp / "files"), str(tmp / "store"))
            results.append({"size": size, "rows": rows, "generate_s": gen, "pandas": base,
                            "import": imp})  # fmt: skip
            print(json.dumps(results[-1]), flush=True)
            if not args.no_write:  # as it goes: a long run stopped early keeps what it measured
                write_section("scale-import", _report(args, results, later))
            if k == len(args.sizes) - 1 and not args.no_later:
                shutil.rmtree(tmp / "files")
                later = _later_steps(tmp / "store", args.scheduler)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    text = _report(args, results, later)
    print(text)
    if not args.no_write:
        write_section("scale-import", text)


if __name__ == "__main__":
    main()
