"""Charts for the reports, rendered by matplotlib to inline PNG data URIs.

Inline images keep every report one self-contained file: the HTML can be emailed or archived and
WeasyPrint needs no file access to turn it into a PDF.
"""

from __future__ import annotations

import base64
import io
import numbers
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator, StrMethodFormatter  # noqa: E402

ACCENT = "#1f4e79"
MUTED = "#9aa7b4"
#: the lines after the first, each told apart in the legend by shade and dash (not colour alone)
OTHERS = (
    ("#6b7b8c", "--"),
    ("#9aa7b4", "-."),
    ("#b9a36b", ":"),
    ("#7a7a7a", (0, (5, 1, 1, 1, 1, 1))),
    ("#c2c9d1", "-"),
)


def data_uri(fig: Figure, dpi: int = 130) -> str:
    """The figure as a ``data:image/png;base64,...`` URI; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    width: float = 6.5,
) -> str:
    """Horizontal bars, largest at the top (borough names read better across than down)."""
    pairs = sorted(zip(labels, values, strict=True), key=lambda p: p[1])
    height = max(1.6, 0.28 * len(pairs) + 0.8)
    fig, ax = plt.subplots(figsize=(width, height))
    if pairs:
        ax.barh([p[0] for p in pairs], [p[1] for p in pairs], color=ACCENT)
        for i, (_, v) in enumerate(pairs):
            ax.text(v, i, f" {v:,.0f}", va="center", fontsize=8)
    else:
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_xlabel(xlabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return data_uri(fig)


def line_chart(
    x: Sequence[Any],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    highlight: tuple[Any, Any] | None = None,
) -> str:
    """One line per series; ``highlight`` shades an x-range (e.g. the quarter reported on).

    Whole numbers on x (years) get whole-number ticks: matplotlib would otherwise mark 2002.5.
    Refuses to draw nothing: an empty chart gets a meaningless -0.04..0.04 axis, so a caller
    with no points says so in words instead (issue 12)."""
    if not any(len(ys) for ys in series.values()):
        raise ValueError(f"chart '{title}': no points to draw; say so in words instead")
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    for i, (name, ys) in enumerate(series.items()):
        colour, style = (ACCENT, "-") if i == 0 else OTHERS[(i - 1) % len(OTHERS)]
        ax.plot(list(x), list(ys), label=name, color=colour, ls=style, lw=1.6)
    if highlight is not None:
        ax.axvspan(highlight[0], highlight[1], color="#f2c14e", alpha=0.3, lw=0)
    if x and all(isinstance(v, numbers.Integral) for v in x):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:.0f}"))
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    if len(series) > 1:
        ax.legend(fontsize=8, frameon=False)
    return data_uri(fig)


def interval_chart(
    labels: Sequence[str],
    estimates: Sequence[float],
    lows: Sequence[float],
    highs: Sequence[float],
    *,
    title: str,
) -> str:
    """Rate ratios with 95 % intervals on a log axis, a line at 1 (no change)."""
    n = len(labels)
    fig, ax = plt.subplots(figsize=(6.5, max(1.4, 0.35 * n + 0.8)))
    ys = list(range(n))[::-1]
    for y, e, lo, hi in zip(ys, estimates, lows, highs, strict=True):
        colour = ACCENT if hi < 1 or lo > 1 else MUTED
        ax.plot([lo, hi], [y, y], color=colour, lw=2)
        ax.plot([e], [y], "o", color=colour)
    ax.axvline(1.0, color="black", lw=0.8, ls="--")
    ax.set_xscale("log")
    lo_all = min([*lows, 0.5])
    hi_all = max([*highs, 2.0])
    ticks = [
        t for t in (0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 4, 10) if lo_all * 0.9 <= t <= hi_all * 1.1
    ]
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set_yticks(ys, list(labels), fontsize=8)
    ax.set_xlabel("rate ratio against control areas (log scale; 1 = no change)", fontsize=9)
    ax.set_title(title, fontsize=10, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    return data_uri(fig)
