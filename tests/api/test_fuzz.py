"""Schemathesis fuzzes every operation of the OpenAPI schema in-process (ASGI), each as a role
the operation admits, and no generated request may make the server fail (5xx). Example counts are
bounded (derandomised, ``EXAMPLES`` per operation) so the run takes well under a minute."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.api._fixtures import USER_OF
from tests.api.conftest import bearer
from vigil.http.deps import allowed_roles, api_routes
from vigil.roles import Role

EXAMPLES = 8
#: prefer the role whose calls reach deepest into the domain
PREFERENCE = [
    Role.ANALYST,
    Role.AUTHORISING_OFFICER,
    Role.COMMUNITY_LEAD,
    Role.LOCAL_COMMANDER,
    Role.OVERSIGHT,
    Role.ADMINISTRATOR,
]
#: operations that would change what the other operations see for everyone (the shared clock)
SKIP = {("POST", "/api/testing/clock")}


def bounded(examples: int) -> settings:
    """Hypothesis settings for a fuzz run that must stay short and repeatable: ``examples`` per
    operation, derandomised, no deadline, no example database, no health checks."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def test_no_server_errors(app_env):
    app, _, tokens = app_env
    policy = app.state.ctx.cases.policy
    roles = {
        (r.path, m.upper()): allowed_roles(r, policy) for r in api_routes(app) for m in r.methods
    }
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    fuzzed = 0
    for result in schema.get_all_operations():
        op = result.ok()
        method, path = op.method.upper(), op.path
        if (method, path) in SKIP:
            continue
        allowed = roles[(path, method)]
        role = next(r for r in PREFERENCE if r in allowed)
        run = _fuzzer(op, role, bearer(tokens, USER_OF[role]), failures)
        run()
        fuzzed += 1
    assert fuzzed >= 8
    assert not failures, "\n".join(failures[:20])


def _fuzzer(op, role: Role, headers: dict[str, str], failures: list[str]):  # type: ignore[no-untyped-def]  # noqa: E501
    @given(case=op.as_strategy())
    @bounded(EXAMPLES)
    def run(case) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{case.method} {case.formatted_path} as {role.value}: "
                f"{response.status_code} {response.text[:300]}"
            )

    return run
