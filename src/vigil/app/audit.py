"""The audit trail of a case as people and scripts read it (the read is itself audited by the
case service)."""

from __future__ import annotations

from typing import Any

from vigil.app.context import AppContext
from vigil.audit.log import entry_payload
from vigil.roles import Actor


def trail(ctx: AppContext, actor: Actor, case_id: int) -> list[dict[str, Any]]:
    entries = ctx.cases.audit_trail(actor, case_id)
    return [{**entry_payload(e), "hash": e.hash} for e in entries]
