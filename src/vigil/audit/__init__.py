"""The append-only, hash-chained audit log, its signed checkpoints and their verification.

Write with :func:`vigil.audit.log.append` inside the transaction that makes the change; sign
checkpoints with :mod:`vigil.audit.checkpoint` (the background scheduler calls
:func:`write_checkpoint_if_due`); verify with :func:`vigil.cases.audit_check.verify_log` (chain,
Merkle consistency with the witness's checkpoints, replay of the case rows).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from vigil.settings import Settings


def write_checkpoint_if_due(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime
) -> Any:
    """The background scheduler's job (``vigil.api.background``): sign and export a checkpoint
    when ``settings.audit_checkpoint_entries`` entries or ``audit_checkpoint_minutes`` minutes
    have passed since the last one; the :class:`~vigil.audit.checkpoint.Checkpoint` or None."""
    from vigil.audit.checkpoint import write_checkpoint_from_settings

    return write_checkpoint_from_settings(session_factory, settings, now)
