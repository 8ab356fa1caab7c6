"""The security suite reuses the case fixtures (a real Lambeth evidence surface, the service
over ``db_url``: SQLite and PostgreSQL) and the API fixtures (an app with one account per role)."""

from __future__ import annotations

from tests.api.conftest import app_env, client, real_surface, tokens  # noqa: F401
from tests.cases.conftest import (  # noqa: F401
    hot_area_wkt,
    hot_cells,
    lambeth_surface,
    open_case,
    ready_case,
    service,
)
