"""Holding the case rows to the log: the replay half of ``vigil audit verify``.

Every change to a case goes through :mod:`vigil.cases.workflow`, whose audit entry carries the
digest of the case's state *after* the change (:func:`vigil.cases.workflow.case_state`: status,
window, authorisations, extensions, consultations, debriefs...). Replaying the log therefore
tells, for each case, the exact state it must be in now: the ``after_digest`` of its last
change. A row edited in the database (``UPDATE cases SET "end" = "end" + 3 days`` on a live
case, a widened authorisation, a deleted extension) no longer hashes to it; a case row with no
entry was inserted behind Vigil's back; a case the log opened but whose row is gone was erased.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.canonical import digest
from vigil.audit.verify import VerifyReport
from vigil.clock import as_utc
from vigil.db.audit import AuditEntry
from vigil.db.cases import Case


def _fmt(value: object) -> str:
    return "-" if value is None else as_utc(value).strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[arg-type]


def replay_cases(session: Session, report: VerifyReport) -> VerifyReport:
    """Add to ``report`` every case row that differs from the state the log implies."""
    from vigil.cases.queries import whole_case
    from vigil.cases.workflow import case_state

    last: dict[int, tuple[int, str, str]] = {}
    rows = session.execute(
        select(AuditEntry.case_id, AuditEntry.seq, AuditEntry.action, AuditEntry.after_digest)
        .where(
            AuditEntry.case_id.is_not(None),
            AuditEntry.after_digest.is_not(None),
            AuditEntry.action.like("case.%"),
        )
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=5000)
    )
    for case_id, seq, action, after in rows:
        if case_id is not None:
            last[case_id] = (seq, action, str(after))
    seen = 0
    cases = session.execute(
        select(Case).options(*whole_case()).order_by(Case.id).execution_options(yield_per=500)
    ).scalars()
    for case in cases:
        seen += 1
        logged = last.pop(case.id, None)
        if logged is None:
            report.problems.append(
                f"case {case.id} ({case.status}) has no change in the audit log: it was "
                "inserted into the database directly, or its entries were erased"
            )
            continue
        seq, action, after = logged
        if digest(case_state(case)) != after:
            report.problems.append(
                f"case {case.id} differs from the state its last logged change left it in "
                f"({action}, entry {seq}); the row now says {case.status}, window "
                f"{_fmt(case.start)} to {_fmt(case.end)}, {len(case.authorisations)} "
                f"authorisation(s), {len(case.extensions)} extension(s): it was edited in the "
                "database, not through Vigil"
            )
    for case_id, (seq, action, _) in sorted(last.items()):
        report.problems.append(
            f"case {case_id} was last changed by entry {seq} ({action}) but its row is gone: "
            "erased from the database"
        )
    report.cases_checked = seen
    return report
