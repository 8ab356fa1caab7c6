"""The map's colour classes: fixed bands of the force's area, so only the exceptional is dark.

Forecast counts are heavily skewed: most cells expect a fraction of an incident, a few dozen
expect many. Quintiles of the cells with any risk (what the map used) painted a fifth of London
dark red. Here each band is a share of all the cells, highest first: the highest 0.5 %, the
next to 1 %, to 5 %, to 20 %, then every other cell with any risk; cells with none are not
drawn. 0.5 %, 1 % and 5 % are the shares of area the backtests score (hit rate at 1 % of the
area), so the legend and the accuracy figure speak of the same thing.

The breaks are counts (``mapclassify.UserDefined``); ties at a break fall into the lower band,
so a band never holds more than its share of cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: (upper share of cells, fill colour), highest band first; ColorBrewer OrRd, dark = high
BANDS: tuple[tuple[float, str], ...] = (
    (0.005, "#b30000"),
    (0.01, "#e34a33"),
    (0.05, "#fc8d59"),
    (0.20, "#fdcc8a"),
    (1.0, "#fef0d9"),
)


@dataclass(frozen=True)
class Band:
    """One colour of the map, as the legend says it."""

    #: 0 is the highest band
    index: int
    colour: str
    #: the share of all cells this band reaches down to (0.005 = the highest 0.5 %)
    share: float
    #: the band holds cells expecting more than this (None for the lowest: any risk at all)
    above: float | None
    #: cells in the band
    cells: int

    @property
    def words(self) -> str:
        """What the colour means, for the legend: which share of the area it marks."""
        if self.above is None:
            return "Every other area where any incident is expected"
        if self.index == 0:
            return f"The highest {100 * self.share:g}% of the area"
        return f"The rest of the highest {100 * self.share:g}% of the area"


def classify(risk: np.ndarray) -> tuple[np.ndarray, list[Band]]:
    """Band index per cell (0 highest; -1 for cells expecting nothing) and the bands."""
    # counts equal but for float noise (sums of the same rates in another order) are ties
    risk = np.round(np.asarray(risk, float), 9)
    n = risk.size
    if n == 0:
        return np.full(0, -1), []
    ordered = np.sort(risk)[::-1]
    # the value a cell must exceed to be in the top `share`: ties at the break fall below it
    breaks = []
    for share, _ in BANDS[:-1]:
        k = int(np.floor(share * n))
        breaks.append(float(ordered[k]) if k < n else float(ordered[-1]))
    # mapclassify: a cell goes into the first class whose upper bound it does not exceed, so
    # with the breaks ascending (lowest band's first) and the top value last, class c is band
    # len(BANDS) - 1 - c; a break repeated (ties) leaves the band above it empty
    bins = [*breaks[::-1], float(ordered[0])]
    # imported here: mapclassify compiles a numba kernel on import (about 5 s of CPU), which
    # every process importing the app paid (each `vigil serve`, each test worker) before it
    # drew any map
    import mapclassify

    classes = np.asarray(mapclassify.UserDefined(risk, bins=bins).yb)
    band = len(BANDS) - 1 - classes
    band[risk <= 0] = -1
    out = [
        Band(
            i,
            colour,
            share,
            breaks[i] if i < len(breaks) else None,
            int(np.count_nonzero(band == i)),
        )
        for i, (share, colour) in enumerate(BANDS)
    ]
    return band, out
