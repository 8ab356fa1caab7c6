"""Model names -> classes: the one list the CLI, the backtests and the reports share."""

from __future__ import annotations

from typing import Any

from vigil.errors import ModelInputError
from vigil.forecast.base import Forecaster
from vigil.forecast.boosted import BoostedPoisson
from vigil.forecast.kde import KernelDensity
from vigil.forecast.naive import NaiveCounts
from vigil.forecast.prospective import ProspectiveHotspot
from vigil.forecast.recency import RecencyWeighted
from vigil.forecast.sepp import GridSEPP

MODELS: dict[str, type[Forecaster]] = {
    "naive": NaiveCounts,
    "kde": KernelDensity,
    "prospective": ProspectiveHotspot,
    "sepp": GridSEPP,
    "boosted": BoostedPoisson,
    "recency": RecencyWeighted,
}

#: What `vigil forecast` and the web map use when no model is named: the model that beat the
#: baselines on data it was not tuned on (benchmarks/README.md, Accuracy).
DEFAULT_MODEL = "recency"


def make_model(name: str, **params: Any) -> Forecaster:
    """A fresh, unfitted model by name, with ``params`` passed to its constructor."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise ModelInputError(
            f"unknown model {name!r}; choose one of {', '.join(sorted(MODELS))}"
        ) from None
    try:
        return cls(**params)
    except TypeError as exc:
        raise ModelInputError(f"bad parameters for model {name!r}: {exc}") from None
