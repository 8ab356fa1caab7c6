"""The backtest report: one self-contained HTML file an analyst can attach to a case or email.

It shows what was compared and how (origins, horizon, grid, offsets, bootstrap unit), the mean
scores of every model, each model's difference from the best baseline with its interval, the
hit-rate-vs-area curves, and a risk map of the last forecast beside what then happened. Charts
are matplotlib PNGs embedded inline, so the file works offline and survives being archived.
"""

from __future__ import annotations

import base64
import io
from html import escape
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, select_autoescape
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from vigil.evaluate.backtest import BacktestResult
from vigil.evaluate.metrics import selection_weights
from vigil.geo.grid import Grid

_TEMPLATE = "templates/backtest_report.html"


def _png(fig: Figure) -> str:
    # a bare Figure (no pyplot): no global backend state, safe in worker threads and servers
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def curves_figure(curves: pd.DataFrame, fractions: tuple[float, ...]) -> str:
    """Mean hit rate against area share per model (log x), as base64 PNG."""
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    mean = curves.groupby(["model", "fraction"], sort=False)["hit_rate"].mean().reset_index()
    for model, g in mean.groupby("model", sort=False):
        ax.plot(100 * g["fraction"], 100 * g["hit_rate"], marker=".", label=str(model))
    x = np.geomspace(mean["fraction"].min(), mean["fraction"].max(), 50)
    ax.plot(100 * x, 100 * x, color="grey", ls=":", label="area share (random)")
    for f in fractions:
        ax.axvline(100 * f, color="#ddd", lw=0.8, zorder=0)
    ax.set_xscale("log")
    ax.set_xlabel("share of the area searched (%)")
    ax.set_ylabel("share of incidents captured (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    return _png(fig)


def _raster(grid: Grid, values: np.ndarray) -> np.ndarray:
    img = np.full(grid.nx * grid.ny, np.nan)
    img[grid.active] = values
    return img.reshape(grid.ny, grid.nx)


def risk_map_figure(
    grid: Grid, risk: np.ndarray, observed: np.ndarray, title: str, fraction: float = 0.05
) -> str:
    """Forecast beside what happened, per km^2 of cell on one log scale; top ``fraction`` outlined.

    Densities are per whole cell (not per clipped area) so that slivers at the boundary do not
    swamp the colour scale; the scale is clipped at the 99.9th percentile for the same reason.
    """
    per_km2 = 1e6 / grid.cell_area
    forecast = np.asarray(risk, float) * per_km2
    happened = np.asarray(observed, float) * per_km2
    positive = np.r_[forecast[forecast > 0], happened[happened > 0]]
    extent = (grid.x0, grid.x0 + grid.nx * grid.cell, grid.y0, grid.y0 + grid.ny * grid.cell)
    fig = Figure(figsize=(13, 6))
    axes = fig.subplots(1, 2, sharex=True, sharey=True)
    norm = None
    if positive.size:
        lo = float(np.quantile(positive, 0.02))
        hi = max(float(np.quantile(positive, 0.999)), lo * 10)
        norm = LogNorm(vmin=lo, vmax=hi)
    top = _raster(grid, (selection_weights(risk, grid.clipped_area, fraction) > 0).astype(float))
    xs = grid.x0 + (np.arange(grid.nx) + 0.5) * grid.cell
    ys = grid.y0 + (np.arange(grid.ny) + 0.5) * grid.cell
    im = None
    for ax, values, label in (
        (axes[0], forecast, title),
        (axes[1], happened, "what happened in that window"),
    ):
        ax.imshow(
            _raster(grid, np.ones(grid.n_cells)),
            origin="lower",
            extent=extent,
            cmap="Greys",
            vmin=0,
            vmax=6,
        )
        if norm is not None:
            im = ax.imshow(
                _raster(grid, np.where(values > 0, values, np.nan)),
                origin="lower",
                extent=extent,
                cmap="inferno_r",
                norm=norm,
                interpolation="nearest",
            )
        ax.contour(xs, ys, np.nan_to_num(top), levels=[0.5], colors="deepskyblue", linewidths=0.6)
        ax.set_title(label)
        ax.set_aspect("equal")
        ax.set_xlabel(f"x (m, {grid.crs})")
    axes[0].set_ylabel("y (m)")
    if im is not None:
        fig.colorbar(im, ax=list(axes), shrink=0.75, label="incidents per km²")
    return _png(fig)


def _summary_table(result: BacktestResult) -> str:
    s = result.summary()
    cols = ["model", "windows", "observed", "expected", "log_likelihood"]
    for f in result.fractions:
        cols += [f"hit_rate@{f:g}", f"pai@{f:g}", f"pei_star@{f:g}"]
    cols += [f"stability@{f:g}" for f in result.fractions if f"stability@{f:g}" in s]
    cols += ["fit_s", "predict_s"]
    return s[[c for c in cols if c in s]].to_html(
        index=False, float_format=lambda v: f"{v:.3g}", border=0
    )


def _comparison_table(result: BacktestResult) -> str:
    c = result.comparison
    if c.empty:
        return "<p>No baseline was run, so there is nothing to compare with.</p>"
    rows = []
    for rec in c.to_dict(orient="records"):
        v = {
            k: float(rec[k])
            for k in (
                "fraction",
                "model_mean",
                "baseline_mean",
                "diff",
                "diff_lo",
                "diff_hi",
                "rel",
                "rel_lo",
                "rel_hi",
            )
        }
        cls = "win" if v["diff_lo"] > 0 else ("lose" if v["diff_hi"] < 0 else "")
        rows.append(
            f'<tr class="{cls}"><td>{escape(str(rec["model"]))}</td>'
            f"<td>{100 * v['fraction']:g} %</td>"
            f"<td>{escape(str(rec['best_baseline']))}</td>"
            f"<td>{100 * v['model_mean']:.2f} %</td><td>{100 * v['baseline_mean']:.2f} %</td>"
            f"<td>{100 * v['diff']:+.2f} "
            f"[{100 * v['diff_lo']:+.2f}, {100 * v['diff_hi']:+.2f}]</td>"
            f"<td>{100 * v['rel']:+.1f} % [{100 * v['rel_lo']:+.1f}, {100 * v['rel_hi']:+.1f}]</td>"
            "</tr>"
        )
    head = (
        "<tr><th>model</th><th>area</th><th>best baseline</th><th>model hit rate</th>"
        "<th>baseline hit rate</th><th>difference (points) [95 % CI]</th>"
        "<th>relative [95 % CI]</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def best_model(result: BacktestResult, fraction: float = 0.01) -> str:
    """The model with the highest mean hit rate at ``fraction`` (first on ties)."""
    s = result.summary().set_index("model")[f"hit_rate@{fraction:g}"]
    return str(s.idxmax())


def render_html(result: BacktestResult, level: float = 0.95, map_fraction: float = 0.05) -> str:
    fractions = result.fractions
    map_model = best_model(result, fractions[min(1, len(fractions) - 1)])
    grid = result.grids[0]
    last_origin = pd.Timestamp(result.config["origins"][-1]).date().isoformat()
    env = Environment(autoescape=select_autoescape(default=True))
    template = (resources.files("vigil.evaluate") / _TEMPLATE).read_text(encoding="utf-8")
    return env.from_string(template).render(
        config=result.config,
        notes=result.notes,
        n_windows=int(result.summary()["windows"].max()),
        summary_html=_summary_table(result),
        comparison_html=_comparison_table(result),
        level=level,
        curves_png=curves_figure(result.curves, fractions),
        map_png=risk_map_figure(
            grid,
            result.last_risk[map_model],
            result.last_observed,
            f"{map_model}: forecast from {last_origin}",
            map_fraction,
        ),
        map_model=map_model,
        last_origin=last_origin,
        map_fraction_pct=f"{100 * map_fraction:g}",
    )


def write_report(result: BacktestResult, out_dir: str | Path) -> dict[str, Path]:
    """Write ``backtest.json``, ``results.csv`` and ``report.html`` into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": result.to_json(out / "backtest.json"),
        "csv": out / "results.csv",
        "html": out / "report.html",
    }
    result.frame.to_csv(paths["csv"], index=False, float_format="%.6g")
    paths["html"].write_text(render_html(result), encoding="utf-8")
    return paths
