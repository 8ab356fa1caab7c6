"""Shared fixtures: where the real data live, and an injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from vigil.clock import FixedClock
from vigil.settings import _find_shared_data

SHARED = _find_shared_data()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED / "met-street-2022").is_dir():
        pytest.fail(f"real data not found at {SHARED}; clone beside shared/data")
    return SHARED


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
