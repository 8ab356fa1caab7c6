"""A small, bounded pool of threads for password hashing, so that sign-in never starves the
rest of the server.

argon2 is deliberately slow and memory-hard. Run on the request path (or on the server's
shared thread pool), thirty concurrent failing sign-ins took every worker thread and both CPU
cores, and other users' requests went from 22 ms to 4 s. Here at most ``workers`` hashes run at
once, at most ``queue`` more wait, and anything beyond is refused at once with
:class:`SignInBusy` (HTTP 503 with Retry-After) instead of queueing without bound.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from vigil.errors import VigilError

T = TypeVar("T")


class SignInBusy(VigilError):
    """Too many sign-ins are being checked at once; the caller should retry shortly."""

    retry_after = 2


def default_workers() -> int:
    """Half the CPU cores (at least one): the other half stays free for everyone else."""
    return max(1, (os.cpu_count() or 2) // 2)


class HashPool:
    """Runs password checks on a few dedicated threads with a bounded waiting line."""

    def __init__(self, workers: int | None = None, queue: int = 16) -> None:
        self.workers = workers or default_workers()
        self.queue = queue
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="vigil-hash")
        self._slots = threading.BoundedSemaphore(self.workers + queue)

    async def run(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` on the pool, awaited without blocking the event loop."""
        if not self._slots.acquire(blocking=False):
            raise SignInBusy("too many sign-ins at once: try again in a few seconds")
        try:
            job = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._slots.release()
            raise
        # the slot is freed when the work ends, not when the caller stops waiting for it
        job.add_done_callback(lambda _: self._slots.release())
        return await asyncio.wrap_future(job)

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
