"""The deployment policy: a versioned YAML file, validated here, and the only place its rules
live. The workflow reads every limit from a :class:`Policy`; nothing is hard-coded elsewhere.

Who may do what is one table, ``permissions:`` in the YAML (:class:`Permission` per
:class:`Action`): the roles, the minimum rank, whether borough-scoped accounts (local commanders)
act only on cases whose area touches their borough, and which roles act only on cases they
requested. The workflow, the API's dependencies, the web pages and the command line all ask
:meth:`Policy.check` / :meth:`Policy.permits` / :meth:`Policy.roles_for`; none restates it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from vigil.cases.guardrail_policy import GuardrailPolicy
from vigil.errors import PermissionDenied, VigilError
from vigil.roles import Actor, Rank, Role

TRIGGERS = ("proactive", "reactive")
#: what a consultee may say of a case (the workflow refuses anything else; forms offer these)
POSITIONS = ("concur", "object", "abstain")


class PolicyFileError(VigilError):
    """The policy file is missing, not YAML, or breaks the schema."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _rank(value: Any) -> Rank:
    return Rank.parse(value)


class AuthorisationRules(_Strict):
    maker_checker: bool = True
    #: the authorised window may not start more than this long before the decision (it lies
    #: within the requested window, so a request whose start has just passed can still be
    #: authorised from "now" without the officer re-typing it)
    start_tolerance_minutes: float = Field(default=10, ge=0)


#: hours computed from datetimes carry float error: a window this close to a limit is within it
HOURS_TOLERANCE = 1e-9


def over_limit(hours: float, limit: float) -> bool:
    """Whether ``hours`` exceeds ``limit`` by more than float error: every window limit's test."""
    return hours > limit + HOURS_TOLERANCE


class WindowRules(_Strict):
    initial_max_hours: float = Field(default=15, gt=0)
    extensions_max_hours: tuple[float, ...] = (9, 15)
    total_max_hours: float = Field(default=39, gt=0)

    def initial_too_long(self, hours: float) -> bool:
        """Whether a first window of ``hours`` breaks ``initial_max_hours`` (the one test used
        when a case is submitted and when it is authorised)."""
        return over_limit(hours, self.initial_max_hours)

    def extension_too_long(self, number: int, hours: float) -> bool:
        """Whether extension ``number`` (0 = the first) of ``hours`` breaks its limit."""
        return over_limit(hours, self.extensions_max_hours[number])

    def total_too_long(self, hours: float) -> bool:
        """Whether a window of ``hours`` in all, extensions included, breaks ``total_max_hours``."""
        return over_limit(hours, self.total_max_hours)

    @model_validator(mode="after")
    def _consistent(self) -> WindowRules:
        if any(h <= 0 for h in self.extensions_max_hours):
            raise ValueError("window.extensions_max_hours: every extension must be > 0 hours")
        if self.initial_max_hours > self.total_max_hours:
            raise ValueError("window.initial_max_hours exceeds window.total_max_hours")
        return self


class UrgentRules(_Strict):
    triggers: tuple[str, ...] = ("reactive",)
    ratify_within_hours: float = Field(default=2, gt=0)

    @field_validator("triggers")
    @classmethod
    def _known(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in v if t not in TRIGGERS]
        if bad:
            raise ValueError(f"unknown trigger(s) {bad}; expected {list(TRIGGERS)}")
        return v


_RECORDERS: dict[str, tuple[Role, ...]] = {
    "local_commander": (Role.LOCAL_COMMANDER,),
    "community": (Role.COMMUNITY_LEAD,),
}


class ConsultationRules(_Strict):
    required: tuple[str, ...] = ("local_commander", "community")
    recorded_by: dict[str, tuple[Role, ...]] = Field(default_factory=lambda: dict(_RECORDERS))

    @model_validator(mode="after")
    def _every_required_has_recorders(self) -> ConsultationRules:
        missing = [c for c in self.required if c not in self.recorded_by]
        if missing:
            raise ValueError(f"consultations.recorded_by has no roles for {missing}")
        return self


class DebriefRules(_Strict):
    within_hours: float = Field(default=72, gt=0)


class Action(StrEnum):
    """Everything an account can do that the policy rules on. Case actions name the workflow
    transition; the others are reads and operator work."""

    OPEN = "open"
    SUBMIT = "submit"
    WITHDRAW = "withdraw"
    CONSULT = "consult"
    ASSESS = "assess"
    REVIEW_ASSESSMENT = "review_assessment"
    REQUEST_AUTHORISATION = "request_authorisation"
    AUTHORISE = "authorise"
    AUTHORISE_URGENT = "authorise_urgent"
    RATIFY = "ratify"
    REFUSE = "refuse"
    NOTIFY_OVERSIGHT = "notify_oversight"
    ACTIVATE = "activate"
    EXTEND = "extend"
    CANCEL = "cancel"
    OVERRIDE = "override"
    DEBRIEF = "debrief"
    CLOSE = "close"
    CHANGE_PLAN = "change_plan"
    READ = "read"
    READ_NOTIFICATIONS = "read_notifications"
    READ_DASHBOARD = "read_dashboard"
    READ_OVERSIGHT_REPORT = "read_oversight_report"
    EVALUATE = "evaluate"
    VERIFY_AUDIT = "verify_audit"
    READ_AUDIT = "read_audit"
    UPLOAD_INCIDENTS = "upload_incidents"
    MANAGE_ACCOUNTS = "manage_accounts"
    OPERATE = "operate"

    @property
    def phrase(self) -> str:
        """What the action does, for refusals ("may not <phrase>")."""
        return _PHRASES.get(self, self.value.replace("_", " "))


_PHRASES: dict[Action, str] = {
    Action.OPEN: "open a case",
    Action.SUBMIT: "submit a case",
    Action.WITHDRAW: "withdraw a case",
    Action.CONSULT: "record a consultation",
    Action.ASSESS: "write an impact assessment",
    Action.REVIEW_ASSESSMENT: "review an impact assessment",
    Action.AUTHORISE_URGENT: "give an urgent authorisation",
    Action.RATIFY: "ratify an urgent authorisation",
    Action.REFUSE: "refuse a case",
    Action.ACTIVATE: "activate a deployment",
    Action.EXTEND: "extend a deployment",
    Action.CANCEL: "cancel a deployment",
    Action.OVERRIDE: "override the guardrails",
    Action.DEBRIEF: "debrief a deployment",
    Action.CLOSE: "close a case",
    Action.READ: "read cases",
    Action.READ_NOTIFICATIONS: "read oversight notifications",
    Action.READ_DASHBOARD: "open the oversight dashboard",
    Action.READ_OVERSIGHT_REPORT: "read the oversight report",
    Action.EVALUATE: "evaluate deployments",
    Action.CHANGE_PLAN: "change a case's evaluation plan",
    Action.VERIFY_AUDIT: "verify the audit log",
    Action.READ_AUDIT: "search the audit log",
    Action.UPLOAD_INCIDENTS: "upload incidents",
    Action.MANAGE_ACCOUNTS: "manage accounts",
    Action.OPERATE: "operate the service",
}

#: actions that change a case (the rest read, or are not about one case)
CASE_CHANGES: frozenset[Action] = frozenset(
    {
        Action.OPEN,
        Action.SUBMIT,
        Action.WITHDRAW,
        Action.CONSULT,
        Action.ASSESS,
        Action.REVIEW_ASSESSMENT,
        Action.REQUEST_AUTHORISATION,
        Action.AUTHORISE,
        Action.AUTHORISE_URGENT,
        Action.RATIFY,
        Action.REFUSE,
        Action.NOTIFY_OVERSIGHT,
        Action.ACTIVATE,
        Action.EXTEND,
        Action.CANCEL,
        Action.OVERRIDE,
        Action.DEBRIEF,
        Action.CLOSE,
        Action.CHANGE_PLAN,
    }
)


class Permission(_Strict):
    """One row of the table: who may do an action."""

    roles: tuple[Role, ...] = Field(min_length=1)
    min_rank: Rank = Rank.NONE
    #: borough-scoped accounts (``Policy.borough_scoped_roles``) act only on cases whose area
    #: touches their borough; false for reads and force-wide work
    borough_scope: bool = True
    #: roles that may do it only on cases they requested themselves
    own_cases_only: tuple[Role, ...] = ()

    _parse_rank = field_validator("min_rank", mode="before")(_rank)

    @model_validator(mode="after")
    def _own_is_subset(self) -> Permission:
        extra = [r.value for r in self.own_cases_only if r not in self.roles]
        if extra:
            raise ValueError(f"own_cases_only names roles not in roles: {extra}")
        return self


class ScopedCase(Protocol):
    """What a permission check reads of a case (a ``Case`` row or a ``CaseView``)."""

    @property
    def id(self) -> int: ...

    @property
    def boroughs(self) -> Sequence[str] | None: ...

    @property
    def requester_id(self) -> str: ...


def _actions_complete(table: dict[Action, Permission]) -> dict[Action, Permission]:
    missing = [a.value for a in Action if a not in table]
    if missing:
        raise ValueError(f"no row for action(s) {missing}")
    return table


class Policy(_Strict):
    version: str = Field(min_length=1)
    #: who may do what: one row per Action (see default_policy.yaml)
    permissions: dict[Action, Permission]
    #: roles whose accounts are tied to one borough (the account's ``borough``)
    borough_scoped_roles: tuple[Role, ...] = (Role.LOCAL_COMMANDER,)
    #: the owner recorded for an area outside every borough; None: such an area is refused
    force_wide_owner: str | None = None
    authorisation: AuthorisationRules = Field(default_factory=AuthorisationRules)
    window: WindowRules = Field(default_factory=WindowRules)
    urgent: UrgentRules = Field(default_factory=UrgentRules)
    consultations: ConsultationRules = Field(default_factory=ConsultationRules)
    oversight_notification_required: bool = True
    success_measures_required: bool = True
    evidence_required_for: tuple[str, ...] = ("proactive",)
    debrief: DebriefRules = Field(default_factory=DebriefRules)
    guardrails: GuardrailPolicy = Field(default_factory=GuardrailPolicy)

    _complete = field_validator("permissions")(_actions_complete)

    @model_validator(mode="after")
    def _recorders_may_consult(self) -> Policy:
        allowed = set(self.permissions[Action.CONSULT].roles)
        stray = sorted(
            {r.value for roles in self.consultations.recorded_by.values() for r in roles}
            - {r.value for r in allowed}
        )
        if stray:
            raise ValueError(
                f"consultations.recorded_by names role(s) {stray} that permissions.consult "
                "does not admit"
            )
        return self

    # ------------------------------------------------------------------ who may do what
    def rule(self, action: Action | str) -> Permission:
        return self.permissions[Action(action)]

    def roles_for(self, action: Action | str) -> frozenset[Role]:
        """The roles that may do ``action`` at all (before rank, scope and ownership)."""
        return frozenset(self.rule(action).roles)

    def refusal(
        self, actor: Actor, action: Action | str, case: ScopedCase | None = None
    ) -> str | None:
        """Why ``actor`` may not do ``action`` (on ``case``), or None when the table allows it.
        Without a case only role and rank are checked (a route's gate, a menu)."""
        action = Action(action)
        rule = self.rule(action)
        what = action.phrase
        on = "" if case is None or not case.id else f"case {case.id}: "
        if actor.role not in rule.roles:
            allowed = ", ".join(r.value for r in rule.roles)
            return (
                f"{on}role '{actor.role.value}' of account {actor.user_id} may not {what} under "
                f"policy {self.version}; needs one of: {allowed}"
            )
        if actor.rank < rule.min_rank:
            return (
                f"{on}account {actor.user_id} holds rank {actor.rank.name.lower()}; to {what} the "
                f"policy requires {rule.min_rank.name.lower()} or above"
            )
        if case is None:
            return None
        if actor.role in rule.own_cases_only and actor.user_id != case.requester_id:
            return (
                f"{on}a {actor.role.value} may {what} only if they requested it; account "
                f"{actor.user_id} is not its requester"
            )
        if rule.borough_scope and actor.role in self.borough_scoped_roles:
            boroughs = list(case.boroughs or ())
            if actor.borough is None:
                return f"{on}account {actor.user_id} has no borough, so it may not {what}"
            if actor.borough not in boroughs:
                where = ", ".join(boroughs) if boroughs else "no borough"
                return (
                    f"{on}account {actor.user_id} commands {actor.borough}; the case area is in "
                    f"{where}, so it may not {what}"
                )
        return None

    def permits(self, actor: Actor, action: Action | str, case: ScopedCase | None = None) -> bool:
        return self.refusal(actor, action, case) is None

    def check(self, actor: Actor, action: Action | str, case: ScopedCase | None = None) -> None:
        """Raise :class:`PermissionDenied` naming the rule unless the table allows it."""
        reason = self.refusal(actor, action, case)
        if reason is not None:
            raise PermissionDenied(reason)

    def consultees_for(self, actor: Actor) -> list[str]:
        """The consultees whose position ``actor``'s role records."""
        return sorted(k for k, v in self.consultations.recorded_by.items() if actor.role in v)

    def table(self) -> list[dict[str, Any]]:
        """The permission table as rows (docs, ``vigil policy``)."""
        return [
            {
                "action": a.value,
                "roles": [r.value for r in p.roles],
                "min_rank": p.min_rank.name.lower(),
                "borough_scope": p.borough_scope,
                "own_cases_only": [r.value for r in p.own_cases_only],
            }
            for a, p in self.permissions.items()
        ]


def parse_policy(data: Any, source: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyFileError(f"{source}: expected a mapping at the top level")
    if "version" not in data:
        raise PolicyFileError(f"{source}: missing required field 'version'")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"field '{'.'.join(str(p) for p in err['loc'])}': {err['msg']}" for err in exc.errors()
        )
        raise PolicyFileError(f"{source}: {problems}") from None
    except ValueError as exc:
        raise PolicyFileError(f"{source}: {exc}") from None


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy from ``path``, or the packaged default (section 60 / 2014 scheme values)."""
    if path is None:
        return default_policy()
    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"policy file {path} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise PolicyFileError(f"policy file {path}: not valid YAML ({exc})") from None
    return parse_policy(data, source=f"policy file {path}")


@lru_cache(maxsize=1)
def default_policy() -> Policy:
    text = resources.files("vigil.cases").joinpath("default_policy.yaml").read_text()
    return parse_policy(yaml.safe_load(text), source="default_policy.yaml")
