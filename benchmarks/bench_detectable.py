"""Is the minimum detectable reduction stated at opening steady? (issue 17)

Run: ``nice -n 10 python benchmarks/bench_detectable.py [--london-per-month 40]
[--chicago-per-month 20]``. Writes the "detectable" section of benchmarks/README.md and
benchmarks/results/detectable.json. About a minute.

The placebo deployments of benchmarks/bench_placebo.py (London 2022 month, Chicago 2016 day).
For each, the figure a case would state at opening (:mod:`vigil.outcomes.detectable`: the
window shape laid over the history before the deployment, donors matched on the last before
periods in place of the forecast) is computed from the most recent placement of the window
alone (as before) and with the power averaged over up to 3 and 6 placements, one after-window
apart (:func:`vigil.outcomes.detectable.history_windows`). On the same placebos it reports:

* against the figure from the evaluation's own donors at deployment time: correlation and
  median absolute difference (that figure is itself a second-smallest of 79 donors: noisy);
* retest: the same estimator from windows further back that share no after window (the
  most recent K against the K before them): correlation and the spread of the difference;
* power at the stated figure: the placebo's own after count thinned by the stated reduction
  (one binomial draw each, seed 0) and called a reduction by the evaluation's test, with a
  95 % Clopper-Pearson interval. It should be about 80 %.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_placebo import chicago_data, london_data  # noqa: E402
from readme_section import write_section  # noqa: E402

from vigil.outcomes import placebo as pl  # noqa: E402
from vigil.outcomes.calibrate import PlaceboYear, clopper_pearson, placebo_year  # noqa: E402
from vigil.outcomes.detectable import (  # noqa: E402
    BEFORE_MONTHS,
    history_windows,
    prepare_placement,
)
from vigil.outcomes.did import Verdict  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "detectable.json"
KS = (1, 3, 6)


def num(v: float | None, scale: float = 1.0, fmt: str = ".2f") -> str:
    return "n/a" if v is None else format(scale * v, fmt)


def stated(setup: PlaceboYear, seed: int = 0) -> list[dict[str, Any]]:
    """Each placebo's figures (fractions; None where none is stated) and calls at them."""
    cube, rng = setup.cube, np.random.default_rng(seed)
    monthly = setup.settings["resolution"] == "M"
    out = []
    for p in setup.placements:
        w = p.window
        a0, a1 = w.after
        n_after, n_before = a1 - a0, w.before[1] - w.before[0]
        if monthly:
            n_before = min(n_before, BEFORE_MONTHS)
        excluded = cube.near(w.areas, max(setup.exclusion_m, setup.buffer_m))
        own = pl.prepare(cube, w, excluded, risk=p.risk)
        spans = history_windows(a0, n_before, n_after, windows=2 * max(KS))

        preps = [prepare_placement(cube, w.areas, excluded, s) for s in spans]
        row: dict[str, Any] = {"own": pl.detectable_reduction(own), "windows": len(spans)}
        for k in KS:
            row[f"k{k}"] = pl.detectable_reduction(*preps[:k]) if preps else None
            far = preps[k : 2 * k]
            row[f"k{k}_retest"] = pl.detectable_reduction(*far) if len(far) == k else None
        for key in ["own"] + [f"k{k}" for k in KS]:
            m = row[key]
            if m is None or own.refusal:
                row[f"call_{key}"] = None
                continue
            a = int(rng.binomial(own.after, 1 - m))
            t = replace(own, after=a, stat=float(np.log((a + 0.5) / (own.before + 0.5))))
            row[f"call_{key}"] = pl.single_result(t).verdict is Verdict.REDUCTION
        out.append(row)
    return out


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """On the placebos where every estimator states a figure (with a retest): the comparison."""
    keys = ["own"] + [f"k{k}" for k in KS]
    same = [r for r in rows if all(r[k] is not None for k in keys)]
    own = np.array([r["own"] for r in same])
    res: dict[str, Any] = {"placebos": len(rows), "compared": len(same)}
    for k in KS:
        v = np.array([r[f"k{k}"] for r in same])
        pairs = np.array([(r[f"k{k}"], r[f"k{k}_retest"]) for r in same
                          if r[f"k{k}_retest"] is not None]).reshape(-1, 2)  # fmt: skip
        windows = np.array([min(r["windows"], k) for r in same])
        calls = [bool(r[f"call_k{k}"]) for r in same if r[f"call_k{k}"] is not None]
        lo, hi = clopper_pearson(sum(calls), len(calls))
        res[f"k{k}"] = {
            "median": float(np.median(v)),
            "corr_own": float(np.corrcoef(v, own)[0, 1]),
            "mad_own": float(np.median(np.abs(v - own))),
            "mean_windows": float(windows.mean()),
            "retest_n": len(pairs),
            "corr_retest": float(np.corrcoef(pairs.T)[0, 1]) if len(pairs) > 2 else None,
            "sd_retest": float(np.std(pairs[:, 0] - pairs[:, 1])) if len(pairs) > 2 else None,
            "power": sum(calls) / len(calls),
            "power_ci": [lo, hi],
            "power_n": len(calls),
        }
    calls = [bool(r["call_own"]) for r in same if r["call_own"] is not None]
    res["own"] = {"median": float(np.median(own)), "power": sum(calls) / len(calls),
                  "power_n": len(calls)}  # fmt: skip
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--london-per-month", type=int, default=40)
    ap.add_argument("--chicago-per-month", type=int, default=20)
    args = ap.parse_args()
    results: dict[str, Any] = {}
    settings = [
        ("London 2022 (month)", london_data, args.london_per_month),
        ("Chicago 2016 (day)", chicago_data, args.chicago_per_month),
    ]
    for name, data, per in settings:
        t0 = time.perf_counter()
        df, grid, year = data()
        results[name] = summary(stated(placebo_year(df, grid, year, per_start=per)))
        results[name]["seconds"] = round(time.perf_counter() - t0, 1)
        print(name, json.dumps(results[name]), flush=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    lines = [
        "## Minimum detectable reduction stated before deploying (issue 17)",
        "",
        f"Command: `nice -n 10 python benchmarks/bench_detectable.py --london-per-month "
        f"{args.london_per_month} --chicago-per-month {args.chicago_per_month}` "
        f"({time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC). The figure a case states at "
        "opening, from the most recent placement of its window over history alone (k = 1, "
        "as before) or with the power averaged over up to k placements one after-window apart "
        "(k = 6 is what Vigil states; where the history is shorter it uses fewer). Same placebos "
        "in every row: those where every estimator states a figure. Retest: the same "
        "estimator from the windows after the first k, where the history holds them. "
        '"own" is the figure from the evaluation\'s own donors at deployment time.',
        "",
        "| data | up to k | placebos compared | median stated | mean windows used | "
        "corr. with own | median abs. diff. from own | retest: corr. / sd of diff. | "
        "power at stated [95 % CI] |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        for k in KS:
            s = r[f"k{k}"]
            lo, hi = s["power_ci"]
            lines.append(
                f"| {name} | {k} | {r['compared']} of {r['placebos']} | {100 * s['median']:.0f}% | "
                f"{s['mean_windows']:.1f} | {s['corr_own']:.2f} | {100 * s['mad_own']:.1f} pts | "
                f"{num(s['corr_retest'])} / {num(s['sd_retest'], 100, '.1f')} pts of "
                f"{s['retest_n']} | {100 * s['power']:.1f}% of {s['power_n']} "
                f"[{100 * lo:.0f}, {100 * hi:.0f}] |"
            )
        o = r["own"]
        lines.append(
            f"| {name} | own | {r['compared']} | {100 * o['median']:.0f}% | 1 | | | | "
            f"{100 * o['power']:.1f}% of {o['power_n']} |"
        )
    write_section("detectable", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
