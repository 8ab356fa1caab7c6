"""The whole verification, as ``vigil audit verify`` and ``GET /api/audit/verify`` run it:
the chain, every signed checkpoint (the database's and the witness's) checked for its signature
and Merkle consistency, and the replay of the case rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from vigil.audit.checkpoint import Checkpoint, stored_checkpoints, witnessed
from vigil.audit.signing import Verifier, trusted_verifiers
from vigil.audit.verify import VerifyReport, verify_chain
from vigil.cases.replay import replay_cases
from vigil.settings import Settings


def verify_log(
    session: Session,
    settings: Settings,
    *,
    witness: Path | None = None,
    checkpoints: list[Checkpoint] | None = None,
    public_keys: list[Path] | None = None,
    replay: bool = True,
) -> VerifyReport:
    """Verify with the trusted keys (``public_keys``, the configured signing key's public half,
    the keys published in the witness directory) against the stored checkpoints, those of the
    witness directory (``witness`` or the configured one) and ``checkpoints``."""
    witness = witness if witness is not None else settings.witness_dir
    extra = list(checkpoints or [])
    verifiers = trusted_verifiers(settings, list(public_keys or []))
    if witness is not None and Path(witness).is_dir():
        extra += witnessed(Path(witness))
        for p in sorted((Path(witness) / "keys").glob("*.pub")):
            v = Verifier.load(p)
            if all(v.key_id != w.key_id for w in verifiers):
                verifiers.append(v)
    report = verify_chain(
        session, checkpoints=stored_checkpoints(session) + extra, verifiers=verifiers
    )
    if witness is None:
        report.notes.append(
            "no witness directory (VIGIL_AUDIT_WITNESS_DIR): only the database's own "
            "checkpoints were checked, which whoever edits the database can delete"
        )
    if replay:
        replay_cases(session, report)
    return report
