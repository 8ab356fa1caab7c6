"""Who am I, and API tokens for scripts. (Sign-in and sign-out are form pages in
``vigil.web.pages`` because they set the browser's session cookie.)"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vigil.api.context import AppContext
from vigil.api.deps import ANY_ROLE, Principal, Require, get_ctx
from vigil.db.identity import User

router = APIRouter(prefix="/api", tags=["auth"])


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    rank: str
    borough: str | None
    display_name: str
    active: bool

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
        )


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=64, description="what the token is for")


class TokenOut(BaseModel):
    name: str
    token: str = Field(description="shown once; store it safely")


@router.get("/me", response_model=UserOut)
def me(principal: Principal = Require(*ANY_ROLE)) -> UserOut:
    return UserOut.of(principal.user)


@router.post("/tokens", response_model=TokenOut, status_code=201)
def issue_token(
    body: TokenIn,
    principal: Principal = Require(*ANY_ROLE),
    ctx: AppContext = Depends(get_ctx),
) -> TokenOut:
    """A bearer token acting as the caller, for scripts."""
    return TokenOut(name=body.name, token=ctx.identity.issue_token(principal.user, body.name))
