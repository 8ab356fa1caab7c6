"""Who acts in Vigil: roles, police ranks and the acting person.

An :class:`Actor` is a *user account* of the force or an oversight body, never a member of the
public or a subject of policing. Ranks are ordered so policy can say "chief officer or above".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum, StrEnum


class Role(StrEnum):
    ANALYST = "analyst"
    LOCAL_COMMANDER = "local_commander"
    COMMUNITY_LEAD = "community_lead"
    AUTHORISING_OFFICER = "authorising_officer"
    OVERSIGHT = "oversight"
    ADMINISTRATOR = "administrator"


class Rank(IntEnum):
    """Police ranks in order of seniority (Metropolitan Police names; others map onto them).

    ``COMMANDER`` and above are chief officer ranks (in other forces: assistant chief constable).
    ``NONE`` is for staff and oversight members who hold no police rank.
    """

    NONE = 0
    CONSTABLE = 1
    SERGEANT = 2
    INSPECTOR = 3
    CHIEF_INSPECTOR = 4
    SUPERINTENDENT = 5
    CHIEF_SUPERINTENDENT = 6
    COMMANDER = 7
    DEPUTY_ASSISTANT_COMMISSIONER = 8
    ASSISTANT_COMMISSIONER = 9
    DEPUTY_COMMISSIONER = 10
    COMMISSIONER = 11

    @classmethod
    def parse(cls, value: str | int | Rank) -> Rank:
        if isinstance(value, Rank):
            return value
        if isinstance(value, int):
            return cls(value)
        key = value.strip().upper().replace(" ", "_").replace("-", "_")
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(r.name.lower() for r in cls)
            raise ValueError(f"unknown rank '{value}'; expected one of: {names}") from None


@dataclass(frozen=True)
class Actor:
    """The account performing an action: its id, display name (a role title, not a person's
    name, in demos), role and rank. ``borough`` scopes a local commander to their borough."""

    user_id: str
    role: Role
    rank: Rank = Rank.NONE
    display_name: str = ""
    borough: str | None = None
    #: when the person last proved who they are (sign-in or step-up); None when unknown (API
    #: tokens, the scheduler). Written into the audit entries this actor makes.
    authenticated_at: datetime | None = None
