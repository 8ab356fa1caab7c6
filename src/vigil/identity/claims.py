"""From the identity provider's claims to a Vigil role, rank and borough.

A force keeps who-is-what in its identity provider (group membership in Entra ID or Keycloak).
The mapping file says which group (or other claim value) gives which Vigil role, rank and
borough; it is validated when the app starts and read again at every sign-in, so an officer who
moves borough or is demoted has the new rights at their next session and one removed from every
mapped group has none.

    claim: groups                 # the ID token claim holding the groups (a list or a string)
    username_claim: preferred_username
    rules:                        # first match wins: list the most privileged first
      - value: vigil-authorisers-ac
        role: authorising_officer
        rank: assistant_commissioner
      - value: vigil-commanders-westminster
        role: local_commander
        rank: superintendent
        borough: Westminster
      - value: vigil-analysts
        role: analyst
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from vigil.errors import VigilError
from vigil.roles import Rank, Role


class ClaimsMappingError(VigilError):
    """The claims mapping file is missing or invalid (named with the rule at fault)."""


class Rule(BaseModel):
    value: str = Field(min_length=1, max_length=256)
    role: Role
    rank: str = "none"
    borough: str | None = None

    @field_validator("rank")
    @classmethod
    def _rank(cls, value: str) -> str:
        Rank.parse(value)
        return value

    @model_validator(mode="after")
    def _role_rules(self) -> Rule:
        if self.role is Role.AUTHORISING_OFFICER and Rank.parse(self.rank) is Rank.NONE:
            raise ValueError("an authorising_officer rule needs a rank")
        if self.role is Role.LOCAL_COMMANDER and not self.borough:
            raise ValueError("a local_commander rule needs a borough")
        return self


class ClaimsMapping(BaseModel):
    claim: str = Field(default="groups", min_length=1)
    username_claim: str = Field(default="preferred_username", min_length=1)
    rules: list[Rule] = Field(min_length=1)

    def grant_for(self, claims: dict[str, Any]) -> Rule | None:
        """The first rule whose value the claims carry, or None: no access."""
        held = claims.get(self.claim)
        values = {held} if isinstance(held, str) else set(held or [])
        return next((rule for rule in self.rules if rule.value in values), None)

    def username_for(self, claims: dict[str, Any]) -> str:
        """A Vigil username from the claims: the username claim (or ``sub``), lower-cased, with
        characters outside a-z 0-9 . _ - replaced, prefixed so it cannot take a local name."""
        raw = str(claims.get(self.username_claim) or claims["sub"]).strip().lower()
        slug = re.sub(r"[^a-z0-9._-]+", "-", raw.split("@")[0]).strip("-._")[:50] or "user"
        return f"idp.{slug}"


def load_claims_mapping(path: Path | str) -> ClaimsMapping:
    """Read and validate the mapping file; a bad one is refused naming the file and rule."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ClaimsMappingError(f"claims mapping file {path} does not exist") from None
    except yaml.YAMLError as exc:
        raise ClaimsMappingError(f"claims mapping file {path} is not valid YAML: {exc}") from None
    try:
        return ClaimsMapping.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ClaimsMappingError(f"claims mapping file {path}: {problems}") from None
