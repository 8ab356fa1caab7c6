"""The case page's task list: what is done, what is outstanding, and whose turn it is.

Derived from the case as the API describes it and from the permission table (``Policy.roles_for``):
nothing here decides whether an action is allowed, only how far the case has come and who the
policy says acts next.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.app.views import CaseDetail
from vigil.cases.policy import Action, Policy
from vigil.roles import Role

ENDED_EARLY = {"refused", "withdrawn"}


@dataclass
class Task:
    title: str
    #: done | waiting | later | not_needed
    state: str
    #: the roles whose turn it is (for a waiting task)
    roles: tuple[Role, ...] = ()
    #: the form on the case page that does it
    anchor: str = ""
    you: bool = False

    @property
    def whose(self) -> str:
        return " or ".join(r.value.replace("_", " ") for r in self.roles)


def case_tasks(
    case: CaseDetail,
    policy: Policy,
    evaluated: bool,
    role: Role,
    can: dict[str, bool],
) -> list[Task]:
    """The steps of a case in order, each with its state for the case as it stands."""
    consultees = dict(policy.consultations.recorded_by)

    def roles(action: Action) -> tuple[Role, ...]:
        return tuple(sorted(policy.roles_for(action), key=lambda r: r.value))

    status = case["status"]
    stopped = status in ENDED_EARLY
    consulted = {c["consultee"] for c in case.get("consultations", [])}
    cia = case["assessments"][-1] if case.get("assessments") else None
    decided = bool(case.get("authorisations")) or status == "refused"
    activated = bool(case.get("activated_at"))
    ended = bool(case.get("ended_at")) or status in {"expired", "cancelled", "debriefed", "closed"}
    debriefed = bool(case.get("debriefs"))
    out: list[tuple[str, bool, tuple[Role, ...], str, bool]] = [
        # (title, done, whose turn, anchor, applies)
        ("Open the request", True, roles(Action.OPEN), "request", True),
        (
            "Submit for consultation",
            bool(case.get("submitted_at")),
            roles(Action.SUBMIT),
            "form-submit",
            True,
        ),
    ]
    for key, recorders in consultees.items():
        out.append(
            (
                f"Consult the {key.replace('_', ' ')}",
                key in consulted,
                recorders,
                "form-consult",
                True,
            )
        )
    out += [
        (
            "Complete the community impact assessment",
            bool(cia and cia["status"] in ("complete", "reviewed")),
            roles(Action.ASSESS),
            "cia",
            True,
        ),
        (
            "Review the community impact assessment",
            bool(cia and cia.get("reviewed_at")),
            roles(Action.REVIEW_ASSESSMENT),
            "cia",
            True,
        ),
        (
            "Request authorisation",
            status not in {"draft", "submitted", "consultation"} and not stopped,
            roles(Action.REQUEST_AUTHORISATION),
            "form-request",
            True,
        ),
        ("Authorise or refuse", decided, roles(Action.AUTHORISE), "authorisation", True),
        (
            "Ratify the urgent authorisation",
            bool(case.get("ratified_at")),
            roles(Action.RATIFY),
            "form-ratify",
            bool(case.get("urgent")),
        ),
        (
            "Deploy officers (activate)",
            activated,
            roles(Action.ACTIVATE),
            "form-activate",
            status != "refused",
        ),
        ("Debrief", debriefed, roles(Action.DEBRIEF), "form-debrief", status != "refused"),
        (
            "Evaluate: did it help?",
            evaluated,
            roles(Action.EVALUATE),
            "evaluation",
            activated,
        ),
        (
            "Close the case",
            status == "closed",
            roles(Action.CLOSE),
            "form-close",
            status != "refused",
        ),
    ]
    tasks: list[Task] = []
    for title, done, whose, anchor, applies in out:
        if done:
            tasks.append(Task(title, "done", anchor=anchor))
        elif not applies or stopped:
            tasks.append(Task(title, "not_needed", anchor=anchor))
        else:
            tasks.append(Task(title, "later", whose, anchor))
    # whose turn: the outstanding steps the case's state allows now
    live_now = {
        "Submit for consultation": can.get("submit_any", False),
        "Request authorisation": status in {"submitted", "consultation"},
        "Authorise or refuse": status in {"awaiting_authorisation"}
        or (bool(case.get("trigger") == "reactive") and status in {"submitted", "consultation"}),
        "Ratify the urgent authorisation": status in {"authorised", "active"},
        "Deploy officers (activate)": status == "authorised",
        "Debrief": ended,
        "Evaluate: did it help?": ended and debriefed,
        "Close the case": status == "debriefed",
    }
    for t in tasks:
        if t.state != "later":
            continue
        if t.title.startswith(("Consult the", "Complete the community", "Review the community")):
            ready = status not in {"draft"} and not ended
            if t.title.startswith("Review"):
                ready = ready and bool(cia and cia["status"] == "complete")
        elif t.title == "Submit for consultation":
            ready = status == "draft"
        else:
            ready = live_now.get(t.title, False)
        if ready:
            t.state = "waiting"
            t.you = role in t.roles
    return tasks
