"""Everything a request handler needs, built once per app: settings, the clock, the database,
the identity layer and the sources of the intelligence picture.

Handlers reach these through dependencies (``vigil.http.deps``), never through globals, so a test
can build an app over its own database and a FixedClock it advances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from vigil.cases.service import CaseService
from vigil.clock import Clock
from vigil.db.identity import IdentityProvider, IdentityStore
from vigil.forecast.surface import RiskSurface
from vigil.identity.pool import HashPool
from vigil.settings import Settings

#: returns the current risk surface, or None when no forecast has been made yet
SurfaceSource = Callable[[], RiskSurface | None]
#: monthly incident counts of one area of a surface: [{"month": "2022-01", "count": 3}, ...]
HistorySource = Callable[[RiskSurface, int], list[dict[str, Any]]]
#: the outcome incidents (victim-reported serious violence, projected to the surface's CRS)
#: known before a surface's window, for what an evaluation will be able to detect; may be empty
IncidentSource = Callable[[RiskSurface], Any]


@dataclass
class AppContext:
    settings: Settings
    clock: Clock
    session_factory: sessionmaker[Session]
    identity: IdentityStore
    provider: IdentityProvider
    cases: CaseService
    surface_source: SurfaceSource
    history_source: HistorySource | None = None
    #: the few threads that check passwords, so failing sign-ins cannot starve other requests
    signin_pool: HashPool = field(default_factory=HashPool)
    #: the OpenID Connect relying party, when an identity provider is configured
    oidc: Any = None
    #: small per-process caches (borough outlines, map GeoJSON) keyed by name
    cache: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def cached(self, key: str, build: Callable[[], Any]) -> Any:
        with self.lock:
            if key not in self.cache:
                self.cache[key] = build()
            return self.cache[key]

    def forget(self, prefix: str) -> None:
        with self.lock:
            for key in [k for k in self.cache if k.startswith(prefix)]:
                del self.cache[key]
