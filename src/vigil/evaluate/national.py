"""Backtests of many forces at once: one rolling-origin backtest per force, the forces run in
parallel (a local process pool, or Dask: a ``LocalCluster`` here, a real cluster by address).

A national police.uk set (``YYYY-MM-<force>-street.csv`` files of the 43 forces of England and
Wales, imported as one dataset) holds every force in one table; the force is in each row's
``source_file``. :func:`incidents_by_force` splits the target categories of a window into one
small table per force in one pass of the store; :func:`backtest_forces` then runs the same
:func:`vigil.evaluate.backtest.backtest` on each, serially inside a task, so a force is the unit
of work: 43 tasks of similar shape, none needing another's data. The forces' results are the
same whatever runs them (serial, pool or Dask), which the tests check.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from vigil.data.store import IncidentStore
from vigil.evaluate.backtest import backtest
from vigil.evaluate.parallel import run_tasks

#: ``2023-01-avon-and-somerset-street.csv`` (optionally .gz): the force's slug
_POLICE_UK_FILE = re.compile(r"^\d{4}-\d{2}-(?P<force>[a-z0-9-]+?)-street\.csv(?:\.gz)?$")


def force_of(source_file: str) -> str | None:
    """The force slug of a police.uk street file name, or None for any other file."""
    m = _POLICE_UK_FILE.match(source_file.rsplit("/", 1)[-1])
    return m["force"] if m else None


def incidents_by_force(
    store: IncidentStore,
    dataset: str,
    categories: Sequence[str],
    start: date | datetime | str,
    end: date | datetime | str,
) -> dict[str, pd.DataFrame]:
    """The located incidents of ``categories`` in ``[start, end)``, one table per force.

    Only the columns a backtest reads are kept (time, precision, category, lon, lat), so the
    national table of the window is never held with its text columns.
    """
    table = store.query(dataset=dataset, categories=list(categories), start=start, end=end)
    table = table.dropna(subset=["lon", "lat"])
    files = table["source_file"].astype(str)
    forces = files.map({f: force_of(f) for f in files.unique()})
    keep = table[["time", "precision", "category", "lon", "lat"]]
    out = {
        str(force): part.reset_index(drop=True)
        for force, part in keep.groupby(forces.to_numpy(), sort=True)
        if force is not None
    }
    return out


@dataclass(frozen=True)
class ForceTask:
    """One force's backtest: its incidents and what to run on them."""

    force: str
    incidents: pd.DataFrame
    models: tuple[str, ...]
    start: str
    end: str
    step: str
    cell: float
    n_boot: int


def _run_force(task: ForceTask, _: pd.DataFrame) -> dict[str, Any]:
    """Backtest one force serially (the parallelism is across forces); a compact summary."""
    t0 = time.perf_counter()
    result = backtest(
        task.incidents,
        list(task.models),
        start=task.start,
        end=task.end,
        step=task.step,
        cell=task.cell,
        workers=1,
        n_boot=task.n_boot,
    )
    summary = result.summary()
    return {
        "force": task.force,
        "incidents": len(task.incidents),
        "origins": len(result.config["origins"]),
        "cells": int(result.config["n_cells"][0]),
        "wall_s": time.perf_counter() - t0,
        "models": {
            str(row["model"]): {k: float(v) for k, v in row.items() if k != "model" and pd.notna(v)}
            for row in summary.to_dict("records")
        },
    }


def backtest_forces(
    frames: dict[str, pd.DataFrame],
    models: Sequence[str],
    *,
    start: str,
    end: str,
    step: str = "1M",
    cell: float = 500.0,
    n_boot: int = 200,
    workers: int | None = None,
    scheduler: Any = None,
) -> list[dict[str, Any]]:
    """A rolling-origin backtest of every force in ``frames`` (origins every ``step`` in
    ``[start, end)``), forces in parallel: ``workers`` local processes (1: serially, here), or
    the Dask ``scheduler`` (an address or a ``distributed.Client``). Results in force order.

    The largest forces go first so that a small pool is not left waiting on the biggest one.
    """
    order = sorted(frames, key=lambda f: -len(frames[f]))
    tasks = [ForceTask(f, frames[f], tuple(models), start, end, step, cell, n_boot) for f in order]
    results = run_tasks(_run_force, tasks, pd.DataFrame(), workers=workers, scheduler=scheduler)
    return sorted(results, key=lambda r: str(r["force"]))
