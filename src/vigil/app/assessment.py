"""Drafting the community impact assessment of a case: the automatic indicators for its area,
merged with what people already wrote. The API and the web pages both draft through here."""

from __future__ import annotations

from typing import Any

from vigil.app.context import AppContext
from vigil.app.views import Out
from vigil.cases.policy import Action
from vigil.cases.service import CaseView
from vigil.db.cases import ImpactAssessmentRecord
from vigil.roles import Actor


class AssessmentOut(Out):
    """The latest version of a case's community impact assessment: its version, whether it is
    complete or reviewed, what it still lacks, and the assessment itself."""

    version: int
    status: str
    missing: list[str]
    content: dict[str, Any]

    @classmethod
    def of(cls, record: ImpactAssessmentRecord) -> AssessmentOut:
        return cls(
            version=record.version,
            status=record.status,
            missing=list(record.missing or []),
            content=dict(record.content),
        )


def latest_content(view: CaseView) -> dict[str, Any] | None:
    return None if not view.assessments else dict(view.assessments[-1].content)


def draft_assessment(ctx: AppContext, actor: Actor, case_id: int) -> CaseView:
    """Version 1 (or a refreshed version) of the CIA with the area profile and the automatic
    indicators computed for the case's area; people complete the rest."""
    from vigil.app.evaluation_plan import plan_of
    from vigil.impact.indicators import indicators_for_record, start_assessment

    view = ctx.cases.get_case(actor, case_id, purpose="draft impact assessment")
    # refuse before the (costly) indicators: the attach below checks the same rule again
    ctx.cases.policy.check(actor, Action.ASSESS, view.record)
    with ctx.session_factory() as s:
        # the same figures as `vigil impact indicators --case`: the case's month, its frozen
        # evidence forecast and the deployments on record
        indicators = indicators_for_record(
            view.record,
            s,
            ctx.clock.now(),
            policy=ctx.cases.policy.guardrails,
            shared=ctx.settings.shared_data,
        )
        plan = plan_of(s, case_id)
    cia = start_assessment(indicators, case_id)
    cia.detectable = None if plan is None else plan.mdr_note
    previous = latest_content(view)
    if previous:
        # keep what people already wrote; refresh only the automatic parts
        merged = {
            **previous,
            "area_profile": cia.area_profile,
            "indicators": cia.indicators,
            "detectable": cia.detectable,
        }
        return ctx.cases.attach_impact_assessment(actor, case_id, merged)
    return ctx.cases.attach_impact_assessment(actor, case_id, cia)
