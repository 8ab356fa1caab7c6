"""Who am I, my password, and API tokens for scripts: issue, list, revoke, sign out. (Sign-in
and sign-out of browsers are form pages in ``vigil.web.pages`` because they set the session
cookie.)"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from vigil.app.context import AppContext
from vigil.app.text import RequestModel
from vigil.cases.policy import Action
from vigil.db.identity import IdentityError, TokenInfo, User
from vigil.http.deps import (
    ANY_ROLE,
    SESSION_COOKIE,
    Principal,
    Require,
    RequirePolicy,
    client_address,
    get_ctx,
)

router = APIRouter(prefix="/api", tags=["auth"])


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    rank: str
    borough: str | None
    display_name: str
    active: bool
    must_change_password: bool = False
    grant_expires_at: datetime | None = None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(
            id=user.id,
            username=user.username,
            role=user.role.value,
            rank=user.rank.name.lower(),
            borough=user.borough,
            display_name=user.display_name,
            active=user.active,
            must_change_password=user.must_change_password,
            grant_expires_at=user.grant_expires_at,
        )


class TokenIn(RequestModel):
    name: str = Field(min_length=1, max_length=64, description="what the token is for")
    days: int | None = Field(
        default=None,
        ge=1,
        le=366,
        description="how many days the token lasts (default: the server's token lifetime; "
        "never more than its maximum)",
    )
    hours: int | None = Field(
        default=None,
        ge=1,
        le=366 * 24,
        description="how many hours the token lasts, instead of days (never more than the "
        "server's maximum)",
    )


class TokenOut(BaseModel):
    id: str
    name: str
    token: str = Field(description="shown once; store it safely")
    expires_at: datetime | None


class TokenInfoOut(BaseModel):
    id: str
    name: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool

    @classmethod
    def of(cls, info: TokenInfo) -> TokenInfoOut:
        return cls(
            id=info.id,
            name=info.name,
            created_at=info.created_at,
            expires_at=info.expires_at,
            revoked=info.revoked,
        )


class PasswordIn(RequestModel):
    current: str = Field(min_length=1, max_length=1024)
    new: str = Field(min_length=1, max_length=1024)


@router.get("/me", response_model=UserOut)
def me(principal: Principal = Require(*ANY_ROLE)) -> UserOut:
    return UserOut.of(principal.user)


@router.post("/me/password", status_code=204)
async def change_password(
    body: PasswordIn,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> None:
    """Change one's own password (proving the current one). Every session ends and every API
    token of the account is revoked, this one included."""
    await ctx.signin_pool.run(ctx.identity.change_password, principal.user, body.current, body.new)


class ReauthIn(RequestModel):
    password: str = Field(min_length=1, max_length=1024)


class ReauthOut(BaseModel):
    authenticated_at: datetime


@router.post("/me/reauthenticate", response_model=ReauthOut)
async def reauthenticate(
    body: ReauthIn,
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> ReauthOut:
    """Step-up for a browser session: prove the password again before a decision."""
    if principal.via != "session":
        raise IdentityError("step-up is for browser sessions; an API token cannot step up")
    at = await ctx.signin_pool.run(
        ctx.identity.reauthenticate,
        request.cookies.get(SESSION_COOKIE, ""),
        body.password,
        client_address(request),
    )
    return ReauthOut(authenticated_at=at)


def _lifetime(body: TokenIn) -> timedelta | None:
    """What the caller asked for (hours over days); none: the server's default."""
    if body.hours is not None:
        return timedelta(hours=body.hours)
    return None if body.days is None else timedelta(days=body.days)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def issue_token(
    body: TokenIn,
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> TokenOut:
    """A bearer token acting as the caller, for scripts; it expires, and one issued from a
    browser session is revoked when that session signs out."""
    session = request.cookies.get(SESSION_COOKIE) if principal.via == "session" else None
    raw, info = ctx.identity.issue_token_info(
        principal.user,
        body.name,
        lifetime=_lifetime(body),
        session_token=session,
    )
    return TokenOut(id=info.id, name=info.name, token=raw, expires_at=info.expires_at)


@router.get("/tokens", response_model=list[TokenInfoOut])
def list_tokens(
    all: bool = False,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> list[TokenInfoOut]:
    """The caller's tokens (live ones; ``?all=true`` adds revoked and expired)."""
    tokens = ctx.identity.list_tokens(principal.user.id, include_ended=all)
    return [TokenInfoOut.of(t) for t in tokens]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(
    token_id: str,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> None:
    """Revoke one of the caller's tokens."""
    ctx.identity.revoke_token_id(token_id, owner=principal.user.id, by=principal.actor)


@router.post("/logout", status_code=204)
async def logout(
    request: Request,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> None:
    """Sign out: a bearer token is revoked; a browser session ends with the tokens it issued."""
    if principal.via == "token":
        raw = request.headers.get("authorization", "").partition(" ")[2].strip()
        await run_in_threadpool(ctx.identity.revoke_token, raw, by=principal.actor)
    else:
        await run_in_threadpool(ctx.identity.end_session, request.cookies.get(SESSION_COOKIE, ""))


class NoticeOut(BaseModel):
    id: int
    kind: str
    user_id: str | None
    message: str
    created_at: datetime


@router.get("/identity/notices", response_model=list[NoticeOut])
def identity_notices(
    # the audit readers (oversight, administrators) see the account events oversight must see
    _: Principal = RequirePolicy(Action.VERIFY_AUDIT),
    ctx: AppContext = Depends(get_ctx),
) -> list[NoticeOut]:
    """Account events oversight must see: break-glass sign-ins with a local password, and
    authorising powers granted through the identity provider."""
    return [
        NoticeOut(
            id=n.id, kind=n.kind, user_id=n.user_id, message=n.message, created_at=n.created_at
        )
        for n in ctx.identity.list_notices()
    ]
