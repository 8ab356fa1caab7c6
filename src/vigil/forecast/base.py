"""The forecaster contract (scikit-learn habits).

Parameters go in ``__init__`` and nothing else happens there. ``fit(incidents, until, grid)``
learns only from incidents whose whole time period ends by ``until``, on the areas of ``grid``;
``predict(start, end)`` returns a RiskSurface of expected counts for that window, which must not
start before ``until``. A model that needs exact times raises ModelInputError when given
month-only data instead of inventing precision.

``incidents`` is the canonical incident table (vigil.data.schema) with projected ``x``/``y``
columns added (vigil.geo.projection.with_xy), already filtered to the target categories.

As in scikit-learn: ``get_params``/``set_params`` read and write the constructor's parameters,
:func:`clone` makes an unfitted copy with the same parameters, ``repr`` shows the parameters that
differ from the defaults, fitted state lives in attributes ending in ``_`` (``check_is_fitted``
tests for them), and each model declares its parameters' constraints in
``_parameter_constraints``, checked at the start of ``fit``.
"""

from __future__ import annotations

import copy
import inspect
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from vigil.errors import ModelInputError
from vigil.forecast.surface import RiskSurface
from vigil.geo.grid import Grid

#: What a model accepts as a point in time (naive local time, or aware and then made naive).
TimeLike = pd.Timestamp | datetime | date | np.datetime64 | str


class NotFittedError(ModelInputError):
    """``predict`` (or anything needing a fit) was called on a model that was never fitted."""


# ------------------------------------------------------------------------ parameter constraints
@dataclass(frozen=True)
class Interval:
    """A real (or, with ``integer``, whole) number between ``low`` and ``high``.

    ``closed`` says which ends are allowed: "both", "left", "right" or "neither".
    """

    low: float | None = None
    high: float | None = None
    closed: str = "both"
    integer: bool = False

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        v = float(value)
        if not math.isfinite(v) or (self.integer and v != int(v)):
            return False
        lo_ok = self.low is None or (
            v >= self.low if self.closed in ("both", "left") else v > self.low
        )
        hi_ok = self.high is None or (
            v <= self.high if self.closed in ("both", "right") else v < self.high
        )
        return lo_ok and hi_ok

    def __str__(self) -> str:
        left = "[" if self.closed in ("both", "left") else "("
        right = "]" if self.closed in ("both", "right") else ")"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        kind = "a whole number" if self.integer else "a number"
        return f"{kind} in {left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class Options:
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def accepts(self, value: Any) -> bool:
        return value in self.values

    def __str__(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)


@dataclass(frozen=True)
class WindowSpec:
    """A history window: '90D', '12W', '3M', '2Y' or a positive number of days."""

    def accepts(self, value: Any) -> bool:
        from vigil.forecast._common import parse_window

        if isinstance(value, bool):
            return False
        try:
            parse_window(value, "window")
        except (ModelInputError, TypeError):
            return False
        return True

    def __str__(self) -> str:
        return "a window such as '90D', '12W', '3M' or a number of days"


Constraint = Interval | Options | WindowSpec | None


def _accepts(constraint: Constraint, value: Any) -> bool:
    return value is None if constraint is None else constraint.accepts(value)


def _describe(constraint: Constraint) -> str:
    return "None" if constraint is None else str(constraint)


# ------------------------------------------------------------------------ the base class
class Forecaster(ABC):
    #: short name used on the command line and in reports
    name: ClassVar[str] = "forecaster"
    #: coarsest time precision the model can use honestly ("month" accepts everything)
    requires_precision: ClassVar[str] = "month"
    #: parameter -> the constraints any one of which its value must meet (checked by ``fit``)
    _parameter_constraints: ClassVar[dict[str, list[Constraint]]] = {}

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        names = []
        for p in sig.parameters.values():
            if p.name == "self":
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise TypeError(f"{cls.__name__}.__init__ must name its parameters (no *args)")
            names.append(p.name)
        return names

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters and their current values."""
        return {p: getattr(self, p) for p in self._param_names()}

    def set_params(self, **params: Any) -> Self:
        """Change parameters (as the constructor would set them); unknown names are refused."""
        valid = self._param_names()
        for key, value in params.items():
            if key not in valid:
                raise ModelInputError(
                    f"{self.name}: unknown parameter {key!r}; its parameters are "
                    f"{', '.join(valid) or '(none)'}"
                )
            setattr(self, key, value)
        return self

    def _validate_params(self) -> None:
        """Check every parameter against ``_parameter_constraints``; the first failure is
        raised as ModelInputError naming the model, the parameter and what it must be."""
        for key, value in self.get_params().items():
            allowed = self._parameter_constraints.get(key)
            if allowed is None:
                continue
            if not any(_accepts(c, value) for c in allowed):
                must = " or ".join(_describe(c) for c in allowed)
                raise ModelInputError(f"{self.name} parameter {key} must be {must}, got {value!r}")

    def __repr__(self) -> str:
        sig = inspect.signature(type(self).__init__)
        shown = []
        for key, value in self.get_params().items():
            default = sig.parameters[key].default
            try:
                same = bool(value == default) if type(value) is type(default) else False
            except (TypeError, ValueError):
                same = False
            if not same:
                shown.append(f"{key}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_is_fitted__(self) -> bool:
        return any(k.endswith("_") and not k.startswith("__") for k in vars(self))

    @abstractmethod
    def fit(self, incidents: pd.DataFrame, until: TimeLike, grid: Grid) -> Self:
        """Learn from ``incidents`` ended by ``until`` on the areas of ``grid``."""

    @abstractmethod
    def predict(self, start: TimeLike, end: TimeLike) -> RiskSurface:
        """Expected counts per area for ``[start, end)``; ``start`` must not precede ``until``."""


def check_is_fitted(model: Forecaster) -> None:
    """Raise NotFittedError unless ``model`` has been fitted."""
    if not model.__sklearn_is_fitted__():
        raise NotFittedError(f"{model.name}: call fit() before predict()")


def clone(model: Forecaster) -> Forecaster:
    """A new, unfitted model of the same class with deep copies of the same parameters."""
    params = {k: copy.deepcopy(v) for k, v in model.get_params().items()}
    return type(model)(**params)
