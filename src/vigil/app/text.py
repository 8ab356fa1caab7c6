"""Text as every shell accepts it: no NUL character anywhere in a request body.

PostgreSQL's text type cannot hold ``\\x00`` (psycopg refuses the whole statement), so a NUL
typed or pasted into a free-text field used to surface as a 500 from deep inside a transaction.
Every request model of the API, the web forms and the command line derives from
:class:`RequestModel`, which refuses it up front, naming the field, on every database alike.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, field_validator

NUL_MESSAGE = "contains a NUL character (\\x00), which cannot be stored: remove it"


def has_nul(value: Any) -> bool:
    """Whether a NUL is in ``value``: a string, or strings inside lists and mappings."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    return False


class RequestModel(BaseModel):
    """A request body whose text fields may not hold a NUL character."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if has_nul(value):
            raise ValueError(NUL_MESSAGE)
        return value
