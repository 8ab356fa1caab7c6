"""Accounts, managed by administrators, with privilege under maker-checker: a privileged role
or a rank is *requested* by one administrator and approved by another (never the requester,
never the account itself), and every step is audited by the identity store."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vigil.api.routers.auth import UserOut
from vigil.app.audit import record_account_list
from vigil.app.context import AppContext
from vigil.app.text import RequestModel
from vigil.cases.policy import Action
from vigil.db.identity import Grant
from vigil.http.deps import Principal, RequirePolicy, check_step_up, get_ctx
from vigil.http.errors import NotFound
from vigil.roles import Role

router = APIRouter(prefix="/api/users", tags=["users"])


class UserIn(RequestModel):
    username: str = Field(min_length=2, max_length=63)
    password: str = Field(
        min_length=12, max_length=1024, description="issued password: changed at first sign-in"
    )
    role: Role
    rank: str = Field(default="none", description="police rank, e.g. superintendent")
    borough: str | None = Field(default=None, max_length=64)
    display_name: str = Field(default="", max_length=128, description="a role title, not a name")
    reason: str = Field(default="", max_length=500, description="why a privileged grant is needed")


class ChangeIn(RequestModel):
    role: Role | None = None
    rank: str | None = Field(default=None, max_length=40)
    borough: str | None = Field(default=None, max_length=64)
    reason: str = Field(default="", max_length=500)


class PasswordResetIn(RequestModel):
    password: str = Field(min_length=12, max_length=1024)


class DecisionIn(RequestModel):
    reason: str = Field(default="", max_length=500)


class GrantOut(BaseModel):
    id: str
    user_id: str
    username: str
    kind: str
    role: str
    rank: str
    borough: str | None
    previous_role: str | None
    previous_rank: str | None
    reason: str
    requested_by: str
    requested_at: datetime
    request_expires_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None

    @classmethod
    def of(cls, g: Grant) -> GrantOut:
        return cls(
            id=g.id,
            user_id=g.user_id,
            username=g.username,
            kind=g.kind,
            role=g.role.value,
            rank=g.rank.name.lower(),
            borough=g.borough,
            previous_role=g.previous_role,
            previous_rank=None if g.previous_rank is None else g.previous_rank.name.lower(),
            reason=g.reason,
            requested_by=g.requested_by,
            requested_at=g.requested_at,
            request_expires_at=g.request_expires_at,
            status=g.status,
            decided_by=g.decided_by,
            decided_at=g.decided_at,
        )


class AccountOut(BaseModel):
    """An account, and the grant request it is waiting for (if privilege was asked for)."""

    user: UserOut
    grant: GrantOut | None = None


@router.get("", response_model=list[UserOut])
def list_users(
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS), ctx: AppContext = Depends(get_ctx)
) -> list[UserOut]:
    """Every account (the list is itself logged: who holds which role and rank)."""
    users = [UserOut.of(u) for u in ctx.identity.list_users()]
    record_account_list(ctx, principal.actor, [u.id for u in users], "api")
    return users


@router.post("", response_model=AccountOut, status_code=201)
def add_user(
    body: UserIn,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> AccountOut:
    """Create an account. A privileged one is created disabled, with a grant request that a
    second administrator approves at ``POST /api/users/grants/{id}/approve``."""
    user, grant = ctx.identity.request_account(
        principal.actor,
        body.username,
        body.password,
        body.role,
        rank=body.rank,
        borough=body.borough,
        display_name=body.display_name,
        reason=body.reason,
    )
    return AccountOut(user=UserOut.of(user), grant=None if grant is None else GrantOut.of(grant))


@router.get("/grants", response_model=list[GrantOut])
def list_grants(
    pending: bool = False,
    _: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> list[GrantOut]:
    """Grant requests, newest first (``?pending=true``: only those awaiting a decision)."""
    return [GrantOut.of(g) for g in ctx.identity.list_grants(pending_only=pending)]


@router.post("/grants/{grant_id}/approve", response_model=GrantOut)
def approve_grant(
    grant_id: str,
    body: DecisionIn | None = None,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> GrantOut:
    """The second administrator approves a grant of privilege (time-bound); it needs a recent
    authentication (step-up) like any decision."""
    check_step_up(ctx, principal, "grant", "/admin/users")
    reason = "" if body is None else body.reason
    grant = ctx.identity.decide_grant(principal.actor, grant_id, approve=True, reason=reason)
    return GrantOut.of(grant)


@router.post("/grants/{grant_id}/refuse", response_model=GrantOut)
def refuse_grant(
    grant_id: str,
    body: DecisionIn | None = None,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> GrantOut:
    reason = "" if body is None else body.reason
    grant = ctx.identity.decide_grant(principal.actor, grant_id, approve=False, reason=reason)
    return GrantOut.of(grant)


def _known(ctx: AppContext, user_id: str) -> None:
    if ctx.identity.get_user(user_id) is None:
        raise NotFound(f"no account with id '{user_id}'")


@router.patch("/{user_id}", response_model=AccountOut)
def change_user(
    user_id: str,
    body: ChangeIn,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> AccountOut:
    """Change role, rank or borough: lowering takes effect at once; raising privilege files a
    grant request for a second administrator."""
    _known(ctx, user_id)
    user, grant = ctx.identity.change_account(
        principal.actor,
        user_id,
        role=body.role,
        rank=body.rank,
        borough=body.borough,
        reason=body.reason,
    )
    return AccountOut(user=UserOut.of(user), grant=None if grant is None else GrantOut.of(grant))


@router.post("/{user_id}/password", status_code=204)
def reset_password(
    user_id: str,
    body: PasswordResetIn,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> None:
    """Issue a new password: the account's sessions and tokens end, and its next sign-in must
    choose its own password."""
    _known(ctx, user_id)
    ctx.identity.set_password(user_id, body.password, by=principal.actor, must_change=True)


@router.post("/{user_id}/disable", response_model=UserOut)
def disable_user(
    user_id: str,
    principal: Principal = RequirePolicy(Action.MANAGE_ACCOUNTS),
    ctx: AppContext = Depends(get_ctx),
) -> UserOut:
    """Disable an account: its sessions end, its tokens are revoked, its pending grants are
    cancelled."""
    _known(ctx, user_id)
    ctx.identity.set_active(user_id, False, by=principal.actor)
    user = ctx.identity.get_user(user_id)
    assert user is not None
    return UserOut.of(user)
