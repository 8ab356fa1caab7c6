"""A case service with the community-impact rules wired in.

``vigil.cases`` sits below ``vigil.impact``: the workflow must not import the guardrails or the
assessment model, yet every real service must apply them. This module is where the two meet,
so the API, the web pages, the command line and the season simulator all build the same thing.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from vigil.cases.policy import Policy
from vigil.cases.service import CaseService, OpenHook
from vigil.cases.workflow import GuardrailCheck
from vigil.clock import Clock
from vigil.errors import PolicyViolation
from vigil.impact.assessment import CommunityImpactAssessment
from vigil.impact.guardrails import check as guardrail_check


def read_assessment(content: Any) -> tuple[dict[str, Any], list[str]]:
    """A ``CommunityImpactAssessment`` (or its JSON) as (JSON, required items missing); a
    malformed one is refused naming each bad field."""
    if isinstance(content, CommunityImpactAssessment):
        model = content
    else:
        try:
            model = CommunityImpactAssessment.model_validate(content)
        except ValidationError as exc:
            problems = "; ".join(
                f"field '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()
            )
            raise PolicyViolation(f"impact assessment: {problems}") from None
    return model.model_dump(mode="json"), model.missing()


def case_service(
    session_factory: sessionmaker[Session],
    clock: Clock,
    policy: Policy | None = None,
    *,
    check: GuardrailCheck = guardrail_check,
    on_open: OpenHook | None = None,
) -> CaseService:
    """The case service every entry point uses: the guardrails of ``vigil.impact.guardrails``
    (``check`` replaces them in tests) and the assessment model of ``vigil.impact.assessment``;
    ``on_open`` (from the entry points: the evaluation plan of ``vigil.outcomes.plan``) runs in
    the transaction that opens a case."""
    return CaseService(
        session_factory,
        clock,
        policy,
        guardrail_check=check,
        read_assessment=read_assessment,
        on_open=on_open,
    )
