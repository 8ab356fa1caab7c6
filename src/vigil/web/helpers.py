"""What every page template may call: London times, status tags, labels, the navigation.

Registered once on the Jinja environment (:func:`install`), so a template never formats a time
or names a status itself.
"""

from __future__ import annotations

from typing import Any

from jinja2 import Environment

from vigil.cases.policy import Policy
from vigil.localtime import london, london_date, london_input, offset_label

#: GOV.UK tag colour of each case status (presentation only: the states live in cases.states)
STATUS_TAGS = {
    "draft": "govuk-tag--grey",
    "submitted": "govuk-tag--light-blue",
    "consultation": "govuk-tag--light-blue",
    "awaiting_authorisation": "govuk-tag--yellow",
    "authorised": "govuk-tag--green",
    "active": "govuk-tag--orange",
    "expired": "govuk-tag--grey",
    "cancelled": "govuk-tag--red",
    "refused": "govuk-tag--red",
    "withdrawn": "govuk-tag--grey",
    "debriefed": "govuk-tag--purple",
    "closed": "govuk-tag--grey",
}


def label(value: Any) -> str:
    """'awaiting_authorisation' -> 'Awaiting authorisation'."""
    text = str(getattr(value, "value", value) or "").replace("_", " ")
    return text[:1].upper() + text[1:]


def plural(n: int, one: str, many: str | None = None) -> str:
    """'1 deployment', '3 deployments'."""
    return f"{n} {one if n == 1 else (many or one + 's')}"


def choice(value: Any) -> tuple[str, str]:
    """(value, label) of a radio or select option."""
    return (str(getattr(value, "value", value)), label(value))


def mapping_choice(name: str) -> tuple[str, str]:
    """A shipped column mapping as an upload option."""
    return (f"mapping:{name}", f"Mapping: {name}")


def install(env: Environment, policy: Policy) -> None:
    """Register the helpers; the navigation shows what ``policy``'s permission table allows."""
    from vigil.web.layout import nav_links

    env.globals.update(
        nav_links=lambda role: nav_links(role, policy),
        london=london,
        london_date=london_date,
        london_input=london_input,
        offset_label=offset_label,
        label=label,
        plural=plural,
        status_tags=STATUS_TAGS,
    )
    env.filters.update(
        london=london,
        london_date=london_date,
        label=label,
        choice=choice,
        mapping_choice=mapping_choice,
    )
