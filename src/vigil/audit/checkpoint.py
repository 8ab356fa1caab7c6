"""Signed checkpoints (signed tree heads) and their export to a witness outside the database.

A checkpoint says: "the log's first ``seq`` entries have Merkle root ``root`` and the last of
them has chain hash ``hash``", signed with the Ed25519 key of :mod:`vigil.audit.signing`. The
running server writes one every ``VIGIL_AUDIT_CHECKPOINT_ENTRIES`` entries or
``VIGIL_AUDIT_CHECKPOINT_MINUTES`` minutes (:func:`write_checkpoint_if_due`, called by the
background scheduler), records it in ``audit_checkpoints`` with the compact range that lets
the next one be computed from the new entries only, and copies it to the witness directory:
one new file per checkpoint, created exclusively, never rewritten. Whoever holds those files
(oversight) can later prove with ``vigil audit verify --witness DIR`` that the log still
extends every one of them.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vigil.audit.canonical import canonical_json
from vigil.audit.log import GENESIS_HASH, AuditError, entry_hash
from vigil.audit.merkle import CompactRange, leaf_hash
from vigil.audit.signing import ALGORITHM, Signer, Verifier, public_pem, signer_from_settings
from vigil.clock import as_utc
from vigil.db.audit import AuditCheckpoint, AuditEntry, AuditHead
from vigil.settings import Settings

#: names the log a checkpoint belongs to, so a signature cannot be replayed onto another log
ORIGIN = "vigil-audit-log/v1"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head. ``seq`` is the tree size (entries 1..seq)."""

    seq: int
    hash: str
    root: str
    at: str
    key_id: str
    signature: str
    algorithm: str = ALGORITHM
    origin: str = ORIGIN

    def message(self) -> bytes:
        """The bytes signed: canonical JSON of everything but the signature."""
        return canonical_json(
            {
                "origin": self.origin,
                "seq": self.seq,
                "hash": self.hash,
                "root": self.root,
                "at": self.at,
                "key_id": self.key_id,
                "algorithm": self.algorithm,
            }
        ).encode()

    def verify(self, verifiers: list[Verifier]) -> str | None:
        """None when signed by one of ``verifiers``; else what is wrong."""
        if self.algorithm != ALGORITHM:
            return (
                f"checkpoint of entry {self.seq} ({self.at}) uses {self.algorithm}, not "
                f"{ALGORITHM}: it proves nothing to someone without the database"
            )
        match = [v for v in verifiers if v.key_id == self.key_id]
        if not match:
            return (
                f"checkpoint of entry {self.seq} ({self.at}) was signed with key {self.key_id}, "
                "which is not a trusted audit key (pass its public key with --public-key)"
            )
        if not match[0].verify(self.signature, self.message()):
            return (
                f"checkpoint of entry {self.seq} ({self.at}) has a bad signature: it was forged "
                "or altered after signing"
            )
        return None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str, source: str = "checkpoint") -> Checkpoint:
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            data.setdefault("root", "")
            if "algorithm" not in data:
                data["algorithm"] = "HMAC-SHA256"
            return cls(**data)
        except (json.JSONDecodeError, TypeError) as exc:
            raise AuditError(f"{source}: not a Vigil audit checkpoint ({exc})") from exc

    @classmethod
    def load(cls, path: str | Path) -> Checkpoint:
        path = Path(path)
        if not path.is_file():
            raise AuditError(f"checkpoint file {path} does not exist")
        return cls.from_json(path.read_text(), source=str(path))


# ---------------------------------------------------------------------- writing
def _last_row(session: Session) -> AuditCheckpoint | None:
    return session.execute(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.frontier.is_not(None))
        .order_by(AuditCheckpoint.seq.desc(), AuditCheckpoint.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _row_checkpoint(r: AuditCheckpoint) -> Checkpoint:
    return Checkpoint(
        seq=r.seq,
        hash=r.hash,
        root=r.root or "",
        at=as_utc(r.at).isoformat(),
        key_id=r.key_id,
        signature=r.signature,
        algorithm=r.algorithm or "HMAC-SHA256",
    )


def _start_from(session: Session, signer: Signer) -> tuple[CompactRange, int, str]:
    """The compact range of the last checkpoint this key signed, if it still checks out (its
    signature, its root and its head entry); else the empty tree (recomputed from entry 1)."""
    last = _last_row(session)
    if last is None or last.frontier is None:
        return CompactRange(), 0, GENESIS_HASH
    cp = _row_checkpoint(last)
    try:
        cr = CompactRange.from_json(last.seq, json.loads(last.frontier))
    except (ValueError, TypeError):
        cr = None
    still = session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == last.seq)
    ).scalar_one_or_none()
    if (
        cr is None
        or cp.verify([signer.verifier]) is not None
        or cr.root().hex() != cp.root
        or (last.seq > 0 and still != cp.hash)
    ):
        log.warning("last audit checkpoint does not check out; rebuilding the tree from entry 1")
        return CompactRange(), 0, GENESIS_HASH
    return cr, last.seq, cp.hash


def write_checkpoint(
    session: Session, signer: Signer, now: datetime, witness_dir: Path | None = None
) -> Checkpoint:
    """Sign the current head (in the caller's transaction, head row locked), record it with its
    compact range, and export it to ``witness_dir``. Refuses to sign a chain that is broken
    between the last checkpoint and the head."""
    head = session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()
    ).scalar_one_or_none()
    if head is None:
        raise AuditError("audit_head row missing: the database was not migrated (vigil db upgrade)")
    cr, seq, prev = _start_from(session, signer)
    table = AuditEntry.__table__
    rows = session.execute(
        select(table)
        .where(table.c.seq > seq, table.c.seq <= head.seq)
        .order_by(table.c.seq)
        .execution_options(yield_per=5000)
    )
    for entry in rows:
        if entry.seq != seq + 1 or entry.prev_hash != prev or entry_hash(entry) != entry.hash:
            raise AuditError(
                f"audit chain broken at entry {entry.seq}: refusing to sign a checkpoint "
                "(run `vigil audit verify`)"
            )
        cr.append(leaf_hash(entry.hash))
        seq, prev = entry.seq, entry.hash
    if seq != head.seq or prev != head.hash:
        raise AuditError(
            f"audit head records entry {head.seq} but the log ends at entry {seq}: refusing to "
            "sign a checkpoint (run `vigil audit verify`)"
        )
    at = as_utc(now).isoformat()
    unsigned = Checkpoint(
        seq=seq, hash=prev, root=cr.root().hex(), at=at, key_id=signer.key_id, signature=""
    )
    cp = Checkpoint(**{**asdict(unsigned), "signature": signer.sign(unsigned.message())})
    session.add(
        AuditCheckpoint(
            seq=cp.seq,
            hash=cp.hash,
            root=cp.root,
            frontier=json.dumps(cr.to_json()),
            at=as_utc(now),
            key_id=cp.key_id,
            signature=cp.signature,
            algorithm=cp.algorithm,
        )
    )
    session.flush()
    if witness_dir is not None:
        export(cp, witness_dir, signer.verifier)
    return cp


def write_checkpoint_if_due(
    session_factory: sessionmaker[Session],
    now: datetime,
    *,
    signer: Signer,
    witness_dir: Path | None,
    every_entries: int = 1000,
    every: timedelta = timedelta(minutes=10),
) -> Checkpoint | None:
    """The scheduler's job, in its own transaction: sign a checkpoint when ``every_entries``
    entries were appended since the last one, or when ``every`` has passed and the log grew at
    all (or there is none yet); None when not due. Safe to call from several processes at once
    (the head row lock serialises them; a second caller finds it no longer due)."""
    with session_factory() as s, s.begin():
        head = s.execute(
            select(AuditHead).where(AuditHead.id == 1).with_for_update()
        ).scalar_one_or_none()
        if head is None:
            raise AuditError("audit_head row missing: the database was not migrated")
        last = _last_row(s)
        if last is not None:
            grown = head.seq - last.seq
            if grown <= 0:
                return None
            if grown < every_entries and as_utc(now) - as_utc(last.at) < every:
                return None
        elif head.seq == 0:
            return None
        return write_checkpoint(s, signer, now, witness_dir)


def write_checkpoint_from_settings(
    session_factory: sessionmaker[Session], settings: Settings, now: datetime
) -> Checkpoint | None:
    """:func:`write_checkpoint_if_due` with the key, witness and thresholds of ``settings``."""
    return write_checkpoint_if_due(
        session_factory,
        now,
        signer=signer_from_settings(settings),
        witness_dir=settings.witness_dir,
        every_entries=settings.audit_checkpoint_entries,
        every=timedelta(minutes=settings.audit_checkpoint_minutes),
    )


# ---------------------------------------------------------------------- the witness
def export(cp: Checkpoint, witness_dir: Path, verifier: Verifier) -> Path:
    """Add ``cp`` to the witness directory as a new file (never replacing one) and publish the
    public key it was signed with (``keys/<key_id>.pub``) the first time that key is used."""
    witness_dir = Path(witness_dir)
    cps, keys = witness_dir / "checkpoints", witness_dir / "keys"
    try:
        cps.mkdir(parents=True, exist_ok=True)
        keys.mkdir(parents=True, exist_ok=True)
        pub = keys / f"{verifier.key_id}.pub"
        if not pub.exists():
            _write_new(pub, public_pem(verifier.key).encode())
        stamp = cp.at.replace(":", "").replace("-", "").replace("+0000", "Z")
        path = cps / f"{cp.seq:012d}-{stamp}-{cp.key_id}.json"
        if not path.exists():
            _write_new(path, cp.to_json().encode())
    except OSError as exc:
        raise AuditError(
            f"cannot export the checkpoint to the witness {witness_dir}: {exc}"
        ) from exc
    return path


def _write_new(path: Path, data: bytes) -> None:
    """Create ``path`` (failing if it exists), fsync it, then the directory: an append-only
    witness never has a half-written or replaced file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if path exists: nothing is ever replaced
    finally:
        tmp.unlink()
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def witnessed(witness_dir: Path) -> list[Checkpoint]:
    """Every checkpoint in a witness directory, in tree-size order."""
    d = Path(witness_dir) / "checkpoints"
    if not Path(witness_dir).is_dir():
        raise AuditError(f"witness directory {witness_dir} does not exist")
    if not d.is_dir():
        return []
    out = [Checkpoint.load(p) for p in sorted(d.glob("*.json"))]
    return sorted(out, key=lambda c: (c.seq, c.at))


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    """The checkpoints recorded in the database (a witness's copy counts more: these can be
    deleted by whoever can edit the database, but not forged)."""
    rows = session.execute(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).scalars()
    return [_row_checkpoint(r) for r in rows]
