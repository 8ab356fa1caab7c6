"""A small thread-safe least-recently-used mapping, for the per-process caches of the web app
(the case page's parts, signed-in tokens): bounded, so a long-running worker's memory does not
grow with the number of cases or accounts it has served."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, MutableMapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Lru(MutableMapping[K, V], Generic[K, V]):
    """At most ``size`` entries; reading an entry makes it the most recent; every method holds
    one lock, so worker threads can share it."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __getitem__(self, key: K) -> V:
        with self._lock:
            value = self._data[key]
            self._data.move_to_end(key)
            return value

    def get(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        with self._lock:
            value = self._data.get(key)
            if value is None:
                return default
            self._data.move_to_end(key)
            return value

    def __setitem__(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __delitem__(self, key: K) -> None:
        with self._lock:
            del self._data[key]

    def pop(self, key: K, default: V | None = None) -> V | None:  # type: ignore[override]
        with self._lock:
            return self._data.pop(key, default)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __iter__(self) -> Iterator[K]:
        with self._lock:
            return iter(list(self._data))

    def __len__(self) -> int:
        return len(self._data)
