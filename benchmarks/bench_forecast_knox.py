"""Near-repeat (Knox) analysis against a reference implementation, and its speed (issue 13).

    python benchmarks/bench_forecast_knox.py                  # writes the README section
    OPENCP=/path/to/PredictCode python benchmarks/bench_forecast_knox.py

Reference: ``open_cp.knox.Knox`` from QuantCrimAtLeeds/PredictCode (github), imported from the
folder named by ``$OPENCP`` (default /tmp/opencp: the repository's ``open_cp`` package, e.g.
``git archive HEAD open_cp | tar -x -C /tmp/opencp``). It is run, not copied: it computes every
pair's distance and time difference (``scipy.spatial.distance.pdist``), counts pairs per
inclusive ``[min, max]`` band, and shuffles the timestamps for its Monte Carlo replicas: the
same test as Vigil's, done independently. It needs one shim to run on numpy 2 (``np.object``
was removed): the benchmark sets ``numpy.object = object`` before calling it.

Same data for both: Chicago aggravated assaults of 2016 (real, minute times; shared/data) in a
3 km square of the South Side. Band edges are set a fraction off round values (distances
+0.01 m, times +30 s) so that no pair falls exactly on an edge, where open_cp's inclusive bands
and Vigil's half-open ones would differ by definition. Compared:

* the observed table: must be equal cell for cell;
* the expected table (mean of the replicas): equal within Monte Carlo error (both have their
  own random shuffles): the largest difference in units of the replicas' standard error;
* the cells significant at 5 % in each.

p-values differ by convention: Vigil's ``(1 + #replicas >= observed) / (1 + n)`` (Davison &
Hinkley; never 0), open_cp's ``#replicas >= observed / (1 + n)``; both are shown.

Speed: Vigil on all 102,853 Chicago assaults of 2010-2016, 4 distance x 5 time bands, 99
replicas, ``--runs`` times (median), against the previous implementation (commit 2ee8bfd and
before: the close pairs listed by a KD-tree, then one numba pass over the pair list per replica)
run in the same process on the same data: :func:`previous_knox` keeps it here as the baseline,
and its table must equal the new one. open_cp cannot run that (``pdist`` of 100k points needs
40 GB), so only its time on the slice is shown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from numba import njit, prange  # noqa: E402
from readme_section import code_version, publish  # noqa: E402
from scipy.spatial import cKDTree  # noqa: E402

from vigil.data import datasets  # noqa: E402
from vigil.forecast._common import to_days  # noqa: E402
from vigil.forecast.near_repeat import knox  # noqa: E402
from vigil.geo.projection import with_xy  # noqa: E402

CHICAGO_CRS = "EPSG:32616"
#: metres and days, nudged off round values so no pair sits exactly on an edge
D_EDGES = (0.0, 100.01, 200.01, 400.01, 800.01)
T_EDGES = (0.0, 3 + 30 / 86400, 7 + 30 / 86400, 14 + 30 / 86400, 28 + 30 / 86400)


def chicago_slice(half_side: float = 1500.0) -> pd.DataFrame:
    df = with_xy(datasets.load_chicago(years=(2016, 2016)), CHICAGO_CRS)[0]
    cx, cy = df.x.median(), df.y.median() - 5000
    box = (abs(df.x - cx) < half_side) & (abs(df.y - cy) < half_side)
    return df[box].sort_values("time").reset_index(drop=True)


def opencp_table(df: pd.DataFrame, replicas: int) -> dict:
    """open_cp's Knox table on the same events (last distance band: the rest of the table)."""
    sys.path.insert(0, os.environ.get("OPENCP", "/tmp/opencp"))
    import open_cp.data
    import open_cp.knox

    np.object = object  # type: ignore[attr-defined]  # open_cp predates numpy 2
    times = pd.to_datetime(df["time"]).to_numpy("datetime64[ms]")
    k = open_cp.knox.Knox()
    k.data = open_cp.data.TimedPoints.from_coords(times, df.x.to_numpy(), df.y.to_numpy())
    # open_cp bands are inclusive [min, max]: the half-open [lo, hi) of Vigil, as no pair sits
    # on an edge; the last time band is Vigil's "beyond" column
    k.space_bins = [(D_EDGES[i], D_EDGES[i + 1]) for i in range(len(D_EDGES) - 1)]
    bins = [(T_EDGES[i], T_EDGES[i + 1]) for i in range(len(T_EDGES) - 1)] + [(T_EDGES[-1], 1e5)]
    k.set_time_bins(bins, unit="days")
    t0 = time.perf_counter()
    res = k.calculate(iterations=replicas)
    seconds = time.perf_counter() - t0
    n_d, n_t = len(k.space_bins), len(bins)
    observed = np.array([[res.statistic(i, j) for j in range(n_t)] for i in range(n_d)])
    dist = [[np.asarray(res.distribution(i, j), float) for j in range(n_t)] for i in range(n_d)]
    return {
        "observed": observed,
        "expected": np.array([[d.mean() for d in row] for row in dist]),
        "sd": np.array([[d.std(ddof=1) for d in row] for row in dist]),
        "p_value": np.array([[res.pvalue(i, j) for j in range(n_t)] for i in range(n_d)]),
        "seconds": seconds,
    }


def reference(replicas: int) -> dict:
    df = chicago_slice()
    knox(df.iloc[:50], D_EDGES, T_EDGES, n_replicas=2)  # compile first
    t0 = time.perf_counter()
    ours = knox(df, D_EDGES, T_EDGES, n_replicas=replicas, seed=1)
    ours_s = time.perf_counter() - t0
    ref = opencp_table(df, replicas)
    # standard error of the difference of two replica means
    se = np.sqrt(2.0 * ref["sd"] ** 2 / replicas)
    z = np.abs(ours.expected - ref["expected"]) / np.where(se > 0, se, np.inf)
    return {
        "n_events": int(len(df)),
        "replicas": replicas,
        "observed_equal": bool(np.array_equal(ours.observed, ref["observed"])),
        "observed": ours.observed.tolist(),
        "observed_opencp": ref["observed"].astype(int).tolist(),
        "expected": np.round(ours.expected, 1).tolist(),
        "expected_opencp": np.round(ref["expected"], 1).tolist(),
        "max_expected_z": float(z.max()),
        "p_value": ours.p_value.tolist(),
        "p_value_opencp": ref["p_value"].tolist(),
        "significant": (ours.p_value <= 0.05).astype(int).tolist(),
        "significant_opencp": (ref["p_value"] <= 0.05).astype(int).tolist(),
        "distance_labels": ours.distance_labels(),
        "time_labels": ours.time_labels(),
        "vigil_s": ours_s,
        "opencp_s": ref["seconds"],
        "proposal": ours.proposal(),
    }


@njit(cache=True)
def _pair_table(a, b, dband, t, edges, n_d):  # type: ignore[no-untyped-def]
    out = np.zeros((n_d, edges.size), np.int64)
    for p in range(a.size):
        dt = abs(t[a[p]] - t[b[p]])
        k = 0
        while k < edges.size - 1 and dt >= edges[k + 1]:
            k += 1
        out[dband[p], k] += 1
    return out


@njit(cache=True, parallel=True)
def _replica_tables(a, b, dband, t, edges, n_d, perms):  # type: ignore[no-untyped-def]
    out = np.zeros((perms.shape[0], n_d, edges.size), np.int64)
    for r in prange(perms.shape[0]):
        out[r] = _pair_table(a, b, dband, t[perms[r]], edges, n_d)
    return out


def previous_knox(df: pd.DataFrame, replicas: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The implementation before this benchmark's speed work, kept as the baseline: the close
    pairs listed once by a KD-tree (int32 indices, int16 band), then one pass over the whole
    list per replica. Returns (observed, replica tables), the same draws as ``knox``."""
    d_edges, t_edges = np.asarray(D_EDGES), np.asarray(T_EDGES)
    x, y = df["x"].to_numpy(float), df["y"].to_numpy(float)
    t = np.asarray(to_days(pd.to_datetime(df["time"])), float)
    block = float(d_edges[-1])
    order = np.lexsort((np.floor(x / block), np.floor(y / block)))
    x, y, t = x[order], y[order], t[order]
    pairs = cKDTree(np.c_[x, y]).query_pairs(np.nextafter(block, 0), output_type="ndarray")
    a, b = pairs[:, 0].astype(np.int32), pairs[:, 1].astype(np.int32)
    dband = np.searchsorted(d_edges, np.hypot(x[a] - x[b], y[a] - y[b]), side="right") - 1
    keep = (dband >= 0) & (dband < d_edges.size - 1)
    a, b, dband = a[keep], b[keep], dband[keep].astype(np.int16)
    n_d = d_edges.size - 1
    observed = _pair_table(a, b, dband, t, t_edges, n_d)
    rng = np.random.default_rng(int(seed))
    perms = np.stack([rng.permutation(t.size) for _ in range(replicas)]).astype(np.int32)
    return observed, _replica_tables(a, b, dband, t, t_edges, n_d, perms)


def speed(replicas: int, runs: int, baseline_runs: int) -> dict:
    df = with_xy(datasets.load_chicago(years=(2010, 2016)), CHICAGO_CRS)[0]
    # compile both first (numba caches to disk; a first run would time the compiler)
    knox(df.iloc[:2000], D_EDGES, T_EDGES, n_replicas=2)
    previous_knox(df.iloc[:2000], 2, 0)
    times, cpu = [], []
    for r in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        res = knox(df, D_EDGES, T_EDGES, n_replicas=replicas, seed=r)
        if r == 0:
            first = res
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        print(f"knox run {r}: {times[-1]:.1f} s, {cpu[-1]:.1f} CPU s", flush=True)
    base, base_cpu, same = [], [], True
    for r in range(baseline_runs):
        t0, c0 = time.perf_counter(), time.process_time()
        observed, reps = previous_knox(df, replicas, 0)  # the draws of the first run
        base.append(time.perf_counter() - t0)
        base_cpu.append(time.process_time() - c0)
        print(f"previous run {r}: {base[-1]:.1f} s, {base_cpu[-1]:.1f} CPU s", flush=True)
        same &= bool(
            np.array_equal(first.observed, observed)
            and np.array_equal(first.expected, reps.mean(axis=0))
        )
    out = {
        "n_events": int(len(df)),
        "n_pairs": int(res.params["n_pairs"]),
        "replicas": replicas,
        "runs_s": times,
        "runs_cpu_s": cpu,
        "median_s": float(np.median(times)),
        "median_cpu_s": float(np.median(cpu)),
        "load_average": os.getloadavg(),
    }
    if base:
        out |= {
            "previous_runs_s": base,
            "previous_median_s": float(np.median(base)),
            "previous_median_cpu_s": float(np.median(base_cpu)),
            "same_tables_as_previous": same,
        }
    return out


def markdown(res: dict) -> str:
    lines = [
        "## Near-repeat (Knox) analysis",
        "",
        f"Run: `nice -n 10 python benchmarks/bench_forecast_knox.py`. Code: {res['code']}. "
        "Machine: 2 CPUs shared with other sessions (wall times are upper bounds; CPU seconds "
        "say what the work costs).",
        "",
    ]
    r = res.get("reference")
    if r:
        lines += [
            f"Against open_cp `knox.Knox` (QuantCrimAtLeeds/PredictCode, run side by side): "
            f"Chicago aggravated assaults of 2016 in a 3 km square of the South Side, "
            f"{r['n_events']} events, {r['replicas']} replicas each.",
            "",
            "- Observed pair table equal in every cell: "
            f"**{'yes' if r['observed_equal'] else 'no'}**.",
            f"- Expected tables (each from its own shuffles): largest difference "
            f"{r['max_expected_z']:.1f} standard errors of the difference.",
            f"- Seconds: Vigil {r['vigil_s']:.2f}, open_cp {r['opencp_s']:.1f}.",
            f"- Proposed reactive deployment from Vigil's table: {r['proposal']}.",
            "",
            "| distance | time | observed (Vigil / open_cp) | expected (Vigil / open_cp) "
            "| p (Vigil / open_cp) |",
            "|---|---|---|---|---|",
        ]
        for i, d in enumerate(r["distance_labels"]):
            for j, t in enumerate(r["time_labels"]):
                lines.append(
                    f"| {d} | {t} | {r['observed'][i][j]} / {r['observed_opencp'][i][j]} | "
                    f"{r['expected'][i][j]:.1f} / {r['expected_opencp'][i][j]:.1f} | "
                    f"{r['p_value'][i][j]:.3f} / {r['p_value_opencp'][i][j]:.3f} |"
                )
        lines.append("")
    s = res.get("speed")
    if s:
        load = ", ".join(f"{v:.1f}" for v in s.get("load_average", ()))
        met = "met" if s["median_s"] < 10 else "**not met**"
        lines += [
            f"Speed: all {s['n_events']} Chicago assaults 2010-2016 ({s['n_pairs']} pairs within "
            f"{D_EDGES[-1]:g} m), {s['replicas']} replicas: median {s['median_s']:.1f} s wall, "
            f"{s.get('median_cpu_s', float('nan')):.1f} CPU s, of {len(s['runs_s'])} runs "
            f"({', '.join(f'{v:.1f}' for v in s['runs_s'])} s); load average {load} at the end "
            f"(target: seconds; well under 10 s: {met}).",
        ]
        if "previous_median_s" in s:
            lines += [
                "",
                f"Previous implementation (KD-tree pair list, one pass per replica), same run: "
                f"median {s['previous_median_s']:.1f} s wall, "
                f"{s['previous_median_cpu_s']:.1f} CPU s of {len(s['previous_runs_s'])} run(s): "
                f"the new one is {s['previous_median_s'] / s['median_s']:.1f}x faster in wall "
                f"time, {s['previous_median_cpu_s'] / s['median_cpu_s']:.1f}x in CPU time; "
                f"identical tables (same draws): "
                f"**{'yes' if s['same_tables_as_previous'] else 'no'}**.",
            ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--replicas", type=int, default=99)
    ap.add_argument("--runs", type=int, default=5, help="timed runs of the new implementation")
    ap.add_argument("--baseline-runs", type=int, default=1, help="timed runs of the previous")
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    # a part not run this time keeps its last measurement
    stored = HERE / "results" / "knox.json"
    res: dict = json.loads(stored.read_text()) if stored.exists() else {}
    res["code"] = code_version()
    if not args.skip_reference:
        res["reference"] = reference(args.replicas)
    res["speed"] = speed(args.replicas, args.runs, args.baseline_runs)
    publish("knox", res, markdown(res))


if __name__ == "__main__":
    main()
