"""The forecaster contract (scikit-learn habits).

Parameters go in ``__init__`` and nothing else happens there. ``fit(incidents, until)`` learns
only from incidents strictly before ``until``; ``predict(start, end)`` returns a RiskSurface of
expected counts for that window. A model that needs exact times raises ModelInputError when
given month-only data instead of inventing precision.

``incidents`` is the canonical incident table (vigil.data.schema) with projected ``x``/``y``
columns added (vigil.geo.projection.with_xy), already filtered to the target categories.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Self

import pandas as pd

from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid


class Forecaster(ABC):
    #: short name used on the command line and in reports
    name: str = "forecaster"
    #: coarsest time precision the model can use honestly ("month" accepts everything)
    requires_precision: str = "month"

    def get_params(self) -> dict[str, Any]:
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in sig.parameters if p != "self" and hasattr(self, p)}

    @abstractmethod
    def fit(self, incidents: pd.DataFrame, until: pd.Timestamp, grid: Grid) -> Self:
        """Learn from ``incidents`` strictly before ``until`` on the areas of ``grid``."""

    @abstractmethod
    def predict(self, start: pd.Timestamp, end: pd.Timestamp) -> RiskSurface:
        """Expected counts per area for ``[start, end)``."""
