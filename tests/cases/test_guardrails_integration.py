"""End to end with the impact team's real guardrails (vigil.impact.guardrails.check) reading
this package's deployment_windows: refusals name the rule; an assistant commissioner may
override, which is recorded and flagged to oversight."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.cases.conftest import ASSISTANT_COMMISSIONER, AUTHORISER
from vigil.cases.service import CaseService
from vigil.clock import FixedClock
from vigil.errors import PolicyViolation
from vigil.impact.case_service import case_service


def test_real_guardrails_refuse_then_allow_an_override(
    session_factory: sessionmaker[Session],
    clock: FixedClock,
    ready_case: Callable[..., int],
    service: CaseService,
) -> None:
    real = case_service(session_factory, clock)  # default guardrail check
    first = ready_case(hours=10)
    # the test surface has no long-run baseline, so exceptionality is not shown: refused
    with pytest.raises(PolicyViolation, match="guardrails.*evidence"):
        real.authorise(AUTHORISER, first, conditions="x")
    v = real.authorise(
        ASSISTANT_COMMISSIONER,
        first,
        conditions="x",
        override_reason="linked stabbings, intelligence graded reliable",
    )
    assert "evidence" in v.authorisations[-1].overridden_rules
    assert any(n.kind == "guardrail_override" for n in v.notifications)

    # a second case on the same hot spot soon after: cooling-off and area hours also breached
    clock.advance(timedelta(hours=12))
    second = ready_case(hours=10)
    with pytest.raises(PolicyViolation) as err:
        real.authorise(AUTHORISER, second, conditions="x")
    assert "cooling_off" in str(err.value) or "area_hours" in str(err.value)
