"""The small facts the case pages read from a frozen evidence snapshot, parsed once a snapshot.

A snapshot is immutable and named by its digest (``Case.evidence_digest``), so what a page
shows from it (the exceptional figure frozen with it, the period its forecast covered) is kept
by that digest, beside the evidence map layer (``app.forecasts.evidence_layer``), which is kept
the same way. Keeping it by the text instead held up to 256 multi-megabyte snapshot texts alive
in each of two caches (the figure and the period), and hashed the whole text on every view.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from vigil.app.exceptional import FIGURE_KEY

__all__ = ["SnapshotFacts", "snapshot_facts"]


@dataclass(frozen=True)
class SnapshotFacts:
    #: the exceptional figure frozen with the evidence (``app.exceptional.freeze_figure``)
    figure: dict[str, Any] | None
    #: (start, end) of the forecast the evidence froze, as stored
    period: tuple[str, str] | None


NONE = SnapshotFacts(None, None)
_FACTS: OrderedDict[str, SnapshotFacts] = OrderedDict()
_MAX = 256
_LOCK = threading.Lock()


def snapshot_facts(evidence_json: str | None, digest: str | None) -> SnapshotFacts:
    """The figure and period of the snapshot ``evidence_json`` whose digest is ``digest``;
    parsed the first time its digest is seen, then read from the cache."""
    if not evidence_json:
        return NONE
    key = digest or ""
    with _LOCK:
        hit = _FACTS.get(key) if digest else None
        if hit is not None:
            _FACTS.move_to_end(key)
            return hit
    facts = _parse(evidence_json)
    if digest:
        with _LOCK:
            _FACTS[key] = facts
            while len(_FACTS) > _MAX:
                _FACTS.popitem(last=False)
    return facts


def _parse(evidence_json: str) -> SnapshotFacts:
    snapshot = json.loads(evidence_json)
    if not isinstance(snapshot, dict):
        return NONE
    figure = (snapshot.get("params") or {}).get(FIGURE_KEY)
    surface = snapshot.get("surface", snapshot)
    period = None
    if isinstance(surface, dict) and surface.get("start") and surface.get("end"):
        period = (str(surface["start"]), str(surface["end"]))
    return SnapshotFacts(figure if isinstance(figure, dict) else None, period)
