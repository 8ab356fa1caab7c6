"""The case file: everything about one deployment case, for the authorising officer and oversight.

It carries the case, the evidence map (the frozen forecast the decision rested on), the community
impact assessment summary, consultations, authorisations and extensions, notifications to
oversight, the debrief, every outcome evaluation run, and a digest of the case's audit trail with
a check that the whole chain is intact. Producing it is itself a disclosure of case content, so
it is written to the audit log when an actor is given.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.audit.log import Category, append, entries_for_case
from vigil.audit.verify import verify_chain
from vigil.cases.evidence import EvidenceError, thaw
from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.cases.policy import default_policy
from vigil.cases.queries import whole_case
from vigil.cases.states import effective_status
from vigil.clock import as_utc
from vigil.db.cases import Case
from vigil.db.outcomes import OutcomeEvaluation
from vigil.impact.figure import figure_in_words
from vigil.reports import maps
from vigil.reports.document import Report, ReportError, report
from vigil.roles import Actor


def _cia_summary(case: Case) -> dict[str, Any] | None:
    if not case.assessments:
        return None
    rec = case.assessments[-1]
    c = rec.content or {}
    risks = c.get("risks") or []
    return {
        "version": rec.version,
        "status": rec.status,
        "missing": rec.missing or [],
        "reviewed_at": rec.reviewed_at,
        "reviewer_role": rec.reviewer_role,
        "tension": (c.get("tension") or {}).get("rating"),
        "tension_evidenced": (c.get("tension") or {}).get("evidenced"),
        "consulted": [(x.get("body"), x.get("position")) for x in (c.get("consultations") or [])],
        "risks": [
            (r.get("id"), r.get("description"), r.get("likelihood", 0) * r.get("impact", 0))
            for r in risks
        ],
        "mitigations": [m.get("description") for m in (c.get("mitigations") or [])],
    }


def build_case_file(
    session: Session,
    case_id: int,
    now: datetime,
    *,
    actor: Actor | None = None,
    guardrails: GuardrailPolicy | None = None,
) -> Report:
    """The case file for ``case_id``; with ``actor``, its production is audited. The frozen
    exceptional figure is shown beside the surge test of ``guardrails`` (default: the packaged
    policy's), in the words of the case page (vigil.impact.figure)."""
    case = session.execute(
        select(Case).where(Case.id == case_id).options(*whole_case())
    ).scalar_one_or_none()
    if case is None:
        raise ReportError(f"case {case_id} does not exist")
    now = as_utc(now)
    status = effective_status(case, now)
    area = maps.parse_area(case.area_wkt)
    evidence_map = None
    evidence_note = None
    figure: dict[str, Any] | None = None
    if case.evidence_json:
        try:
            surface = thaw(case.evidence_json, case.evidence_digest)
            evidence_map = maps.evidence_map(surface, area)
            # the one exceptional figure, frozen into the evidence (vigil.app.exceptional)
            frozen_figure = surface.params.get("exceptional")
            figure = frozen_figure if isinstance(frozen_figure, dict) else None
            evidence_note = (
                f"{surface.model} forecast for {surface.start:%d %b %Y %H:%M} – "
                f"{surface.end:%d %b %Y %H:%M}; snapshot digest {case.evidence_digest}"
            )
        except EvidenceError as exc:
            evidence_note = f"EVIDENCE DOES NOT MATCH ITS DIGEST: {exc}"
    evaluations = list(
        session.execute(
            select(OutcomeEvaluation)
            .where(OutcomeEvaluation.case_id == case_id)
            .order_by(OutcomeEvaluation.id)
        ).scalars()
    )
    latest = evaluations[-1] if evaluations else None
    latest_detail = json.loads(latest.result_json) if latest else None
    trail = entries_for_case(session, case_id)
    chain = verify_chain(session)
    # the requester's "why this is exceptional", as recorded when the case was opened
    justification = next((e.justification for e in trail if e.action == "case.open"), "")
    facts: dict[str, Any] = {
        "case_id": case.id,
        "status": status.value,
        "borough": case.borough,
        "authorisations": len(case.authorisations),
        "extensions": len(case.extensions),
        "consultations": len(case.consultations),
        "audit_entries": len(trail),
        "chain_ok": chain.ok,
        "justification": justification,
        "verdict": None if latest is None else latest.verdict,
        "rate_ratio": None if latest is None else latest.rate_ratio,
    }
    from vigil.outcomes.detectable import against_plan
    from vigil.outcomes.plan import plan_history

    plans = plan_history(session, case.id)
    # what the evaluation can detect: measured when the case was opened (before authorisation)
    # and frozen with the first version of the plan
    frozen = plans[0] if plans else None
    facts["minimum_detectable_reduction"] = None if frozen is None else frozen.mdr_pct
    result_against_plan = None
    if (
        frozen is not None
        and latest is not None
        and latest.rate_ratio is not None
        and latest.ci_low is not None
        and latest.ci_high is not None
    ):
        result_against_plan = against_plan(
            frozen.mdr_pct, latest.rate_ratio, latest.ci_low, latest.ci_high
        )
    facts["result_against_plan"] = result_against_plan
    facts["evaluation_plan_versions"] = len(plans)
    facts["plan_changed_after_start"] = sum(p.after_window_start for p in plans)
    document = report(
        "case_file.html",
        f"Case file #{case.id}",
        now=now,
        facts=facts,
        case=case,
        status=status.value,
        evidence_map=evidence_map,
        evidence_note=evidence_note,
        figure=figure_in_words(figure, guardrails or default_policy().guardrails),
        cia=_cia_summary(case),
        evaluations=evaluations,
        latest=latest,
        latest_detail=latest_detail,
        trail=trail,
        justification=justification,
        chain=chain,
        frozen=frozen,
        result_against_plan=result_against_plan,
        plans=plans,
    )
    if actor is not None:
        append(
            session,
            actor=actor,
            action="report.case_file",
            category=Category.DISCLOSURE,
            at=now,
            case_id=case.id,
            justification="case file produced",
        )
    return document
