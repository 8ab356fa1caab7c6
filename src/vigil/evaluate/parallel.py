"""Running independent backtest tasks: in-process, on a local process pool, or on Dask.

Each task (one origin on one grid offset, all models) is independent, so a backtest is
embarrassingly parallel. The incident table is the only large input and is the same for every
task, so it is shipped to each worker once (a pool initialiser, or a Dask broadcast scatter)
rather than with every task.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

import pandas as pd

from vigil.errors import VigilError

T = TypeVar("T")
R = TypeVar("R")

_SHARED: dict[str, Any] = {}

#: Modules the forkserver imports before forking workers (nothing in them starts threads).
PRELOAD: tuple[str, ...] = ("pandas", "vigil.evaluate.backtest", "vigil.forecast.registry")


class SchedulerError(VigilError):
    """The Dask scheduler given cannot be reached or used."""


def _init_worker(data: pd.DataFrame) -> None:
    _SHARED["data"] = data


def _call_with_shared(fn: Callable[[T, pd.DataFrame], R], task: T) -> R:
    return fn(task, _SHARED["data"])


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_tasks(
    fn: Callable[[T, pd.DataFrame], R],
    tasks: Sequence[T],
    data: pd.DataFrame,
    *,
    workers: int | None = None,
    scheduler: Any = None,
    connect_timeout: str = "10s",
) -> list[R]:
    """``[fn(task, data) for task in tasks]``, in order, computed in parallel.

    ``scheduler`` is a Dask scheduler address (``tcp://host:8786``) or a ``distributed.Client``;
    without one, a local process pool of ``workers`` processes (default: one per CPU) runs the
    tasks, and ``workers=1`` runs them here, which is easiest to debug and profile.
    """
    if scheduler is not None:
        return _run_dask(fn, tasks, data, scheduler, connect_timeout)
    n = min(len(tasks), workers or default_workers())
    if n <= 1:
        return [fn(t, data) for t in tasks]
    # forkserver, not fork: a forked child inherits a parent's OpenMP (LightGBM) or numba thread
    # state and can hang; the forkserver starts clean workers and gets the data once each
    context = multiprocessing.get_context("forkserver")
    # the server imports the heavy modules once; each worker forks from it already loaded
    context.set_forkserver_preload(list(PRELOAD))
    with ProcessPoolExecutor(
        max_workers=n, mp_context=context, initializer=_init_worker, initargs=(data,)
    ) as pool:
        futures = [pool.submit(_call_with_shared, fn, t) for t in tasks]
        return [f.result() for f in futures]


def _run_dask(
    fn: Callable[[T, pd.DataFrame], R],
    tasks: Sequence[T],
    data: pd.DataFrame,
    scheduler: Any,
    connect_timeout: str,
) -> list[R]:
    from distributed import Client

    own = not isinstance(scheduler, Client)
    try:
        client = Client(scheduler, timeout=connect_timeout) if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {scheduler!r}: {exc}. Start one with "
            "`dask scheduler` and `dask worker ADDRESS`, or leave --scheduler out to use a "
            "local process pool"
        ) from exc
    try:
        # hash=False: a fresh key each run, so a client reused for a second run never gets the
        # key of data the first run has just released (its tasks then fail: lost dependencies)
        shared = client.scatter(data, broadcast=True, hash=False)
        futures = client.map(fn, list(tasks), [shared] * len(tasks), pure=False)
        return list(client.gather(futures))
    finally:
        if own:
            client.close()
