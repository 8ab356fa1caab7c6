"""Verifying the audit log: the chain, the Merkle tree against signed checkpoints, and (in
:mod:`vigil.cases.replay`) the case rows against what the log says happened.

:func:`verify_chain` walks the log in sequence order and reports every break: a changed entry
(its hash no longer matches its fields), a missing one (a gap in the sequence), a reordered or
spliced one (its ``prev_hash`` is not its predecessor's hash), and a head row that disagrees
with the last entry.

A chain alone proves nothing to someone who does not trust the database: whoever can write to
it can edit an entry and recompute every hash after it, or cut the tail and fix the head, and
the chain is again self-consistent. What they cannot do is sign. So the walk also rebuilds the
Merkle tree of RFC 6962 and, for every signed checkpoint (from the database, and above all from
a witness outside it), checks the signature with a trusted public key and that the tree of the
checkpoint's size still has the signed root: the current log *extends* the checkpoint
(consistency). Any rewrite of an entry up to the latest witnessed checkpoint, any erased entry
and any cut tail is then a reported problem, rehashed or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.checkpoint import Checkpoint, stored_checkpoints
from vigil.audit.log import GENESIS_HASH, entry_hash
from vigil.audit.merkle import CompactRange, leaf_hash
from vigil.audit.signing import Verifier
from vigil.db.audit import AuditEntry, AuditHead

__all__ = [
    "Checkpoint",
    "VerifyReport",
    "stored_checkpoints",
    "verify_chain",
]


@dataclass
class VerifyReport:
    entries: int
    head_seq: int
    head_hash: str
    root: str = ""
    problems: list[str] = field(default_factory=list)
    #: facts worth telling that are not failures (e.g. signatures that could not be checked)
    notes: list[str] = field(default_factory=list)
    checkpoints_checked: int = 0
    #: the largest tree size a valid signed checkpoint covers: everything up to it is proven
    proven_to: int = 0
    cases_checked: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chain(
    session: Session,
    *,
    checkpoints: list[Checkpoint] | None = None,
    verifiers: list[Verifier] | None = None,
) -> VerifyReport:
    """Every break in the chain, and every checkpoint it fails; ``report.ok`` when none.

    With ``verifiers`` each checkpoint's signature is checked too (without, the report notes
    that signatures were not checked)."""
    checkpoints = list(checkpoints or [])
    want = {cp.seq for cp in checkpoints}
    problems: list[str] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    by_seq: dict[int, tuple[str, str]] = {}  # checkpointed seq -> (entry hash, tree root)
    tree = CompactRange()
    if 0 in want:
        by_seq[0] = (GENESIS_HASH, tree.root().hex())
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
        tree.append(leaf_hash(entry.hash))
        if tree.size in want:
            by_seq[tree.size] = (entry.hash, tree.root().hex())
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
    proven_to = 0
    unsigned = 0
    for cp in checkpoints:
        signed_ok = True
        if verifiers is not None:
            bad = cp.verify(verifiers)
            if bad is not None:
                problems.append(bad)
                signed_ok = False
        else:
            unsigned += 1
        found = by_seq.get(cp.seq)
        if found is None:
            problems.append(
                f"checkpoint signed at {cp.at} covers entry {cp.seq}, which is no longer in the "
                f"log (it ends at entry {last_seq}): the tail was cut off"
            )
            continue
        entry_h, root = found
        if entry_h != cp.hash or (cp.root and root != cp.root):
            problems.append(
                f"the log's first {cp.seq} entries differ from the checkpoint signed at {cp.at} "
                f"(Merkle root {root[:12]}..., signed {cp.root[:12] or cp.hash[:12]}...): the log "
                "was rewritten up to that entry (edited, erased or reordered, then rehashed)"
            )
        elif signed_ok and verifiers is not None and cp.root:
            proven_to = max(proven_to, cp.seq)
    notes = []
    if unsigned:
        notes.append(f"{unsigned} checkpoint signature(s) not checked: no public key given")
    if checkpoints and proven_to < last_seq:
        notes.append(
            f"entries {proven_to + 1}-{last_seq} are after the latest valid signed checkpoint: "
            "the chain links them, but only the next checkpoint will prove them"
        )
    return VerifyReport(
        entries=count,
        head_seq=head_seq,
        head_hash=head_hash,
        root=tree.root().hex(),
        problems=problems,
        notes=notes,
        checkpoints_checked=len(checkpoints),
        proven_to=proven_to,
    )
