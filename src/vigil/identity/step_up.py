"""Step-up: the decisions that need a recent authentication, and the one rule that decides
whether a caller's authentication is recent enough (issue 16).

A browser session carries the time of its last sign-in or step-up. The command line signed in
with a password has just authenticated. An API token proves only that someone once held it, so
by default (``step_up_tokens``) a token may not make these decisions at all: they are made in
the browser, where the provider or the password asks again, or from the command line with
``--user`` and the password. The time of the authentication goes into the decision's audit
entry (``auth_time``), wherever it was made.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from vigil.settings import Settings

#: decisions that need a recent authentication (step-up) before they are made
STEP_UP_ACTIONS = frozenset(
    {"authorise", "authorise_urgent", "extend", "ratify", "ratify_urgent", "override", "grant"}
)


def step_up_refusal(
    settings: Settings,
    now: datetime,
    action: str,
    authenticated_at: datetime | None,
    *,
    bearer: bool,
) -> str | None:
    """Why ``action`` may not be made now by a caller who last authenticated at
    ``authenticated_at`` (``bearer``: through an API token), or None when it may."""
    window = settings.step_up_minutes
    if action not in STEP_UP_ACTIONS or window <= 0:
        return None
    if bearer:
        if not settings.step_up_tokens:
            return None
        return (
            f"'{action}' needs a recent authentication, which an API token cannot show: make it "
            "in the browser, or on the command line with --user and your password"
        )
    if authenticated_at is None or now - authenticated_at > timedelta(minutes=window):
        return (
            f"'{action}' needs a recent authentication (within {window} minutes): confirm "
            "your password at /account/reauthenticate (or sign in again with your identity "
            "provider), then try again"
        )
    return None
