"""Accounts, managed by administrators only."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from vigil.api.context import AppContext
from vigil.api.deps import Principal, Require, get_ctx
from vigil.api.errors import NotFound
from vigil.api.routers.auth import UserOut
from vigil.roles import Role

router = APIRouter(prefix="/api/users", tags=["users"])


class UserIn(BaseModel):
    username: str = Field(min_length=2, max_length=63)
    password: str = Field(min_length=12, max_length=1024)
    role: Role
    rank: str = Field(default="none", description="police rank, e.g. superintendent")
    borough: str | None = Field(default=None, max_length=64)
    display_name: str = Field(default="", max_length=128, description="a role title, not a name")


@router.get("", response_model=list[UserOut])
def list_users(
    _: Principal = Require(Role.ADMINISTRATOR), ctx: AppContext = Depends(get_ctx)
) -> list[UserOut]:
    return [UserOut.of(u) for u in ctx.identity.list_users()]


@router.post("", response_model=UserOut, status_code=201)
def add_user(
    body: UserIn, _: Principal = Require(Role.ADMINISTRATOR), ctx: AppContext = Depends(get_ctx)
) -> UserOut:
    user = ctx.identity.create_user(
        body.username,
        body.password,
        body.role,
        rank=body.rank,
        borough=body.borough,
        display_name=body.display_name,
    )
    return UserOut.of(user)


@router.post("/{user_id}/disable", response_model=UserOut)
def disable_user(
    user_id: str, _: Principal = Require(Role.ADMINISTRATOR), ctx: AppContext = Depends(get_ctx)
) -> UserOut:
    if ctx.identity.get_user(user_id) is None:
        raise NotFound(f"no account with id '{user_id}'")
    ctx.identity.set_active(user_id, False)
    user = ctx.identity.get_user(user_id)
    assert user is not None
    return UserOut.of(user)
