"""Verifying the audit chain, and signed checkpoints for an outside witness.

:func:`verify_chain` walks the log in sequence order and reports every break: a changed entry
(its hash no longer matches its fields), a missing one (a gap in the sequence), a reordered or
spliced one (its ``prev_hash`` is not its predecessor's hash), and a head row that disagrees
with the last entry.

A chain alone cannot show that its *tail* was cut off: delete the last entries and fix the head
row, and what is left is a valid, shorter chain. Hence checkpoints: the head's sequence number
and hash, signed (HMAC-SHA256 with a key the database does not hold) and handed to a witness
outside the system (oversight). Verifying against a checkpoint requires that entry to still be
there with that hash.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.canonical import canonical_json
from vigil.audit.log import GENESIS_HASH, AuditError, entry_hash
from vigil.clock import as_utc
from vigil.db.audit import AuditCheckpoint, AuditEntry, AuditHead

ALGORITHM = "HMAC-SHA256"


@dataclass
class VerifyReport:
    entries: int
    head_seq: int
    head_hash: str
    problems: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str
    key_id: str
    signature: str
    algorithm: str = ALGORITHM

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "checkpoint") -> Checkpoint:
        try:
            data = json.loads(text)
            return cls(**data)
        except (json.JSONDecodeError, TypeError) as exc:
            raise AuditError(f"{source}: not a Vigil audit checkpoint ({exc})") from exc

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        path = Path(path)
        if not path.is_file():
            raise AuditError(f"checkpoint file {path} does not exist")
        return cls.from_json(path.read_text(), source=str(path))


def key_id(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _signed_message(seq: int, hash_: str, at: str) -> bytes:
    return canonical_json({"seq": seq, "hash": hash_, "at": at}).encode()


def sign(seq: int, hash_: str, at: str, key: str) -> str:
    return hmac.new(key.encode(), _signed_message(seq, hash_, at), hashlib.sha256).hexdigest()


def create_checkpoint(session: Session, key: str, now: datetime) -> Checkpoint:
    """Sign the current head (in the caller's transaction) and record that it was signed."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one()
    at = as_utc(now).isoformat()
    cp = Checkpoint(
        seq=head.seq,
        hash=head.hash,
        at=at,
        key_id=key_id(key),
        signature=sign(head.seq, head.hash, at, key),
    )
    session.add(
        AuditCheckpoint(
            seq=cp.seq, hash=cp.hash, at=as_utc(now), key_id=cp.key_id, signature=cp.signature
        )
    )
    session.flush()
    return cp


def verify_chain(
    session: Session,
    *,
    checkpoints: list[Checkpoint] | None = None,
    key: str | None = None,
) -> VerifyReport:
    """Every break in the chain, and every checkpoint it fails; ``report.ok`` when none."""
    problems: list[str] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    by_seq: dict[int, str] = {}
    table = AuditEntry.__table__
    rows = session.execute(select(table).order_by(table.c.seq).execution_options(yield_per=5000))
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            if entry.seq > expected_seq:
                missing = (
                    f"entry {expected_seq}"
                    if entry.seq == expected_seq + 1
                    else f"entries {expected_seq}-{entry.seq - 1}"
                )
                problems.append(f"{missing} missing before entry {entry.seq} (deleted)")
            else:
                problems.append(f"entry {entry.seq} out of sequence (expected {expected_seq})")
        if entry.prev_hash != prev_hash:
            problems.append(
                f"entry {entry.seq} does not follow the entry before it "
                f"(prev_hash {entry.prev_hash[:12]}..., expected {prev_hash[:12]}...): "
                "entries were deleted, reordered or inserted"
            )
        actual = entry_hash(entry)
        if actual != entry.hash:
            problems.append(
                f"entry {entry.seq} ({entry.action}, case {entry.case_id}) was altered: "
                f"its fields hash to {actual[:12]}..., the chain says {entry.hash[:12]}..."
            )
        by_seq[entry.seq] = entry.hash
        expected_seq = entry.seq + 1
        prev_hash = entry.hash
    last_seq = expected_seq - 1
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        problems.append("audit_head row missing")
        head_seq, head_hash = last_seq, prev_hash
    else:
        head_seq, head_hash = head.seq, head.hash
        if head.seq != last_seq or head.hash != prev_hash:
            problems.append(
                f"the chain head records entry {head.seq} ({head.hash[:12]}...) but the log ends "
                f"at entry {last_seq} ({prev_hash[:12]}...): the tail was cut off or altered"
            )
    for cp in checkpoints or []:
        if key is not None:
            if cp.key_id != key_id(key):
                problems.append(f"checkpoint of entry {cp.seq} was signed with another key")
            elif not hmac.compare_digest(cp.signature, sign(cp.seq, cp.hash, cp.at, key)):
                problems.append(f"checkpoint of entry {cp.seq} has a bad signature (forged)")
        if cp.seq == 0:
            continue
        found = by_seq.get(cp.seq)
        if found is None:
            problems.append(
                f"checkpoint signed at {cp.at} covers entry {cp.seq}, which is no longer in the "
                f"log (it ends at entry {last_seq}): the tail was cut off"
            )
        elif found != cp.hash:
            problems.append(
                f"entry {cp.seq} differs from the checkpoint signed at {cp.at}: the log was "
                "rewritten"
            )
    return VerifyReport(
        entries=count,
        head_seq=head_seq,
        head_hash=head_hash,
        problems=problems,
        checkpoints_checked=len(checkpoints or []),
    )


def checkpoint_if_due(
    session: Session, key: str, now: datetime, every: timedelta = timedelta(hours=24)
) -> Checkpoint | None:
    """The scheduler's periodic checkpoint: signed when none was taken in ``every`` and the
    chain has grown since the last one; None otherwise."""
    last = session.execute(
        select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one()
    if last is not None and (as_utc(now) - as_utc(last.at) < every or last.seq == head.seq):
        return None
    return create_checkpoint(session, key, now)


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()
    return [
        Checkpoint(
            seq=r.seq,
            hash=r.hash,
            at=as_utc(r.at).isoformat(),
            key_id=r.key_id,
            signature=r.signature,
        )
        for r in rows
    ]


def report_dict(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "entries": report.entries,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
        "checkpoints_checked": report.checkpoints_checked,
        "problems": report.problems,
    }
