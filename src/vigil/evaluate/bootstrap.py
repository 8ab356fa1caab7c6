"""Is a model really better than the best baseline? A paired bootstrap over origins.

The resampling unit is the *origin*: all grid offsets of one origin stay together, because they
score the same incidents and are far from independent; treating origins x offsets as separate
draws would make intervals too narrow. Windows are paired: every model is scored on the same
resampled origins. The "best baseline" is chosen again in every resample (the baseline with the
highest mean hit rate there), so the interval also carries the uncertainty of which baseline is
best, and a model cannot win just because the baseline was picked on a lucky sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

COMPARISON_COLUMNS = [
    "metric",
    "fraction",
    "model",
    "best_baseline",
    "model_mean",
    "baseline_mean",
    "diff",
    "diff_lo",
    "diff_hi",
    "rel",
    "rel_lo",
    "rel_hi",
    "p_not_better",
    "n_origins",
]


def origin_matrix(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Origins x models: each model's ``column`` averaged over the grid offsets of an origin."""
    table = frame.pivot_table(index="origin", columns="model", values=column, aggfunc="mean")
    return table.dropna(axis=0, how="any")


def compare_to_baselines(
    frame: pd.DataFrame,
    baselines: Sequence[str],
    fractions: Sequence[float],
    *,
    metric: str = "hit_rate",
    n_boot: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each model's difference from the best baseline at each fraction, with percentile intervals.

    ``diff`` is the difference of mean ``metric`` (model minus best baseline), ``rel`` the
    relative difference (model mean / best-baseline mean - 1); ``*_lo``/``*_hi`` bound the
    ``level`` percentile bootstrap interval; ``p_not_better`` is the share of resamples in which
    the model did not beat the best baseline.
    """
    rows: list[dict[str, object]] = []
    if not baselines or frame.empty:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    rng = np.random.default_rng(seed)
    alpha = (1.0 - level) / 2.0
    for f in fractions:
        col = f"{metric}@{f:g}"
        table = origin_matrix(frame, col)
        if table.empty:
            continue
        models = list(table.columns)
        base_cols = [models.index(b) for b in baselines if b in models]
        if not base_cols:
            continue
        values = table.to_numpy(float)
        n = values.shape[0]
        means = values.mean(axis=0)
        best_pos = base_cols[int(np.argmax(means[base_cols]))]
        idx = rng.integers(0, n, size=(n_boot, n))
        boot = values[idx].mean(axis=1)  # n_boot x models
        boot_best = boot[:, base_cols].max(axis=1)
        for j, model in enumerate(models):
            d = boot[:, j] - boot_best
            with np.errstate(divide="ignore", invalid="ignore"):
                r = boot[:, j] / boot_best - 1.0
            base_mean = means[best_pos]
            rows.append(
                {
                    "metric": metric,
                    "fraction": float(f),
                    "model": model,
                    "best_baseline": models[best_pos],
                    "model_mean": float(means[j]),
                    "baseline_mean": float(base_mean),
                    "diff": float(means[j] - base_mean),
                    "diff_lo": float(np.quantile(d, alpha)),
                    "diff_hi": float(np.quantile(d, 1 - alpha)),
                    "rel": float(means[j] / base_mean - 1.0) if base_mean > 0 else float("nan"),
                    "rel_lo": float(np.nanquantile(r, alpha)),
                    "rel_hi": float(np.nanquantile(r, 1 - alpha)),
                    "p_not_better": float((d <= 0).mean()),
                    "n_origins": int(n),
                }
            )
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
