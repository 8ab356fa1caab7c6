"""The "waiting for you" inbox: the cases whose next step the permission table gives to this
account, each with what that step is, and a count per kind of step.

Whose turn it is follows from two things only: the workflow's table of which states allow an
action (``cases.workflow.ALLOWED_FROM``) and the policy's table of who may do it (with rank and
borough scope, ``Policy.permits``). Nothing here decides an action: the workflow re-checks when
the step is taken."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.app.context import AppContext
from vigil.app.views import CaseDetail, case_detail
from vigil.cases.policy import Action
from vigil.cases.states import Status
from vigil.cases.workflow import ALLOWED_FROM
from vigil.roles import Actor

#: the steps the inbox lists, in case order, with how each is said
STEPS: tuple[tuple[Action, str], ...] = (
    (Action.SUBMIT, "submit the draft"),
    (Action.REQUEST_AUTHORISATION, "request authorisation"),
    (Action.AUTHORISE, "authorise or refuse"),
    (Action.ACTIVATE, "activate the deployment"),
    (Action.DEBRIEF, "record the debrief"),
    (Action.CLOSE, "close the case"),
)


@dataclass
class Inbox:
    #: (the case as JSON, the steps waiting on this account)
    items: list[tuple[CaseDetail, list[str]]] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """How many cases wait for each kind of step."""
        out: dict[str, int] = {}
        for _, steps in self.items:
            for step in steps:
                out[step] = out.get(step, 0) + 1
        return out


def _steps(ctx: AppContext, actor: Actor, view: Any) -> list[str]:
    policy = ctx.cases.policy
    record = view.record
    status = view.status
    mine: list[str] = []
    consulted = {c.consultee for c in view.consultations}
    consulting = status in ALLOWED_FROM["consult"] and status is not Status.DRAFT
    if consulting and policy.permits(actor, Action.CONSULT, record):
        for key in policy.consultees_for(actor):
            if key not in consulted:
                mine.append(f"record the {key.replace('_', ' ')} consultation")
    consulted_all = set(policy.consultations.required).issubset(consulted)
    for action, what in STEPS:
        if status not in ALLOWED_FROM[action.value]:
            continue
        if action is Action.REQUEST_AUTHORISATION and not consulted_all:
            continue
        if policy.permits(actor, action, record):
            mine.append(what)
    # ratification waits for the required consultations and a reviewed impact assessment,
    # and is never the urgent authoriser's own (the workflow refuses each of these too)
    gave_it = any(a.kind == "urgent" and a.actor_id == actor.user_id for a in view.authorisations)
    cia = view.assessments[-1] if view.assessments else None
    reviewed = cia is not None and cia.status == "reviewed"
    unratified = record.urgent and not record.ratified_at and consulted_all and reviewed
    unratified = unratified and not gave_it
    if (
        unratified
        and status in ALLOWED_FROM["ratify"]
        and policy.permits(actor, Action.RATIFY, record)
    ):
        mine.append("ratify the urgent authorisation")
    if (
        cia is not None
        and cia.status == "complete"
        and status in ALLOWED_FROM["review_assessment"]
        and policy.permits(actor, Action.REVIEW_ASSESSMENT, record)
    ):
        mine.append("review the impact assessment")
    return mine


def waiting_for(ctx: AppContext, actor: Actor) -> Inbox:
    """Every case ``actor`` may read whose next step is theirs."""
    inbox = Inbox()
    for view in ctx.cases.list_cases(actor, purpose="waiting for you"):
        steps = _steps(ctx, actor, view)
        if steps:
            inbox.items.append((case_detail(view), steps))
    return inbox
