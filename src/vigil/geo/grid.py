"""Regular square grids clipped to a boundary.

Models, metrics and cases share one notion of "area" for grids: the *active* cells (those that
touch the boundary), numbered 0..n-1 in row-major order. Each active cell knows what fraction of
it lies inside the boundary, because hit-rate-per-area metrics (PAI) must be computed over the
clipped area, not over squares that are half river or half outside the city.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True, eq=False)
class Grid:
    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    crs: str
    #: flat (row-major over ny x nx) indices of active cells, ascending
    active: np.ndarray = field(repr=False)
    #: fraction of each active cell inside the boundary, in (0, 1]
    coverage: np.ndarray = field(repr=False)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_bounds(
        cls,
        xmin: float,
        ymin: float,
        xmax: float,
        ymax: float,
        cell: float,
        crs: str,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> Grid:
        """Every cell of the box is active, with full coverage."""
        if cell <= 0:
            raise ValueError(f"cell size must be positive, got {cell}")
        ox, oy = (offset[0] % cell), (offset[1] % cell)
        x0 = np.floor((xmin - ox) / cell) * cell + ox
        y0 = np.floor((ymin - oy) / cell) * cell + oy
        nx = max(1, int(np.ceil((xmax - x0) / cell)))
        ny = max(1, int(np.ceil((ymax - y0) / cell)))
        if (xmax - x0) == nx * cell:
            nx += 1
        if (ymax - y0) == ny * cell:
            ny += 1
        n = nx * ny
        return cls(float(x0), float(y0), float(cell), nx, ny, crs, np.arange(n), np.ones(n))

    @classmethod
    def from_boundary(
        cls,
        boundary: BaseGeometry,
        cell: float,
        crs: str,
        offset: tuple[float, float] = (0.0, 0.0),
    ) -> Grid:
        """Cells that intersect ``boundary`` (already in ``crs``), with their inside fraction."""
        xmin, ymin, xmax, ymax = boundary.bounds
        full = cls.from_bounds(xmin, ymin, xmax, ymax, cell=cell, crs=crs, offset=offset)
        boxes = full._boxes(full.active)
        shapely.prepare(boundary)
        inside = shapely.contains_properly(boundary, boxes)
        touching = shapely.intersects(boundary, boxes)
        coverage = np.where(inside, 1.0, 0.0)
        edge = touching & ~inside
        if edge.any():
            coverage[edge] = shapely.area(shapely.intersection(boxes[edge], boundary)) / cell**2
        keep = coverage > 0
        return cls(
            full.x0,
            full.y0,
            full.cell,
            full.nx,
            full.ny,
            crs,
            full.active[keep],
            np.clip(coverage[keep], 0.0, 1.0),
        )

    # ------------------------------------------------------------------ geometry
    @property
    def n_cells(self) -> int:
        return int(self.active.size)

    @property
    def cell_area(self) -> float:
        return self.cell * self.cell

    @property
    def clipped_area(self) -> np.ndarray:
        """Area inside the boundary of each active cell, in square metres."""
        return self.coverage * self.cell_area

    def rows_cols(self) -> tuple[np.ndarray, np.ndarray]:
        return np.divmod(self.active, self.nx)

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        r, c = self.rows_cols()
        return self.x0 + (c + 0.5) * self.cell, self.y0 + (r + 0.5) * self.cell

    def area_ids(self) -> np.ndarray:
        r, c = self.rows_cols()
        return np.char.add(np.char.add("r", r.astype(str)), np.char.add("c", c.astype(str)))

    def _boxes(self, flat: np.ndarray) -> np.ndarray:
        r, c = np.divmod(flat, self.nx)
        xmin = self.x0 + c * self.cell
        ymin = self.y0 + r * self.cell
        return shapely.box(xmin, ymin, xmin + self.cell, ymin + self.cell)

    def polygons(self) -> np.ndarray:
        """Square of each active cell (not clipped), in the grid's CRS."""
        return self._boxes(self.active)

    # ------------------------------------------------------------------ lookup
    def flat_index(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row-major index in the full ny x nx box, or -1 outside the box."""
        x = np.asarray(x, float)
        y = np.asarray(y, float)
        with np.errstate(invalid="ignore"):
            c = np.floor((x - self.x0) / self.cell)
            r = np.floor((y - self.y0) / self.cell)
        ok = np.isfinite(c) & np.isfinite(r) & (c >= 0) & (c < self.nx) & (r >= 0) & (r < self.ny)
        out = np.full(x.shape, -1, dtype=np.int64)
        out[ok] = (r[ok] * self.nx + c[ok]).astype(np.int64)
        return out

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Active-cell index (0..n_cells-1) of each point, or -1 outside the active cells."""
        flat = self.flat_index(x, y)
        lookup = np.full(self.nx * self.ny + 1, -1, dtype=np.int64)
        lookup[self.active] = np.arange(self.n_cells)
        return lookup[np.where(flat >= 0, flat, self.nx * self.ny)]

    def counts(self, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        """Number (or weighted sum) of points in each active cell."""
        idx = self.locate(x, y)
        ok = idx >= 0
        w = None if weights is None else np.asarray(weights, float)[ok]
        return np.bincount(idx[ok], weights=w, minlength=self.n_cells).astype(float)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "x0": self.x0,
            "y0": self.y0,
            "cell": self.cell,
            "nx": self.nx,
            "ny": self.ny,
            "crs": self.crs,
            "active": self.active.tolist(),
            "coverage": np.round(self.coverage, 6).tolist(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Grid:
        return cls(
            float(d["x0"]),
            float(d["y0"]),
            float(d["cell"]),
            int(d["nx"]),
            int(d["ny"]),
            str(d["crs"]),
            np.asarray(d["active"], dtype=np.int64),
            np.asarray(d["coverage"], dtype=float),
        )
