"""Self-authorisation in the strict sense: under a policy that lets authorising officers request
deployments too (a copy of the packaged policy with that one change), the officer who requested
a case still cannot authorise it (maker-checker), and a second officer can take the decision."""

from __future__ import annotations

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.api.conftest import bearer, build_app, open_case


@pytest.fixture(scope="module")
def env(tmp_path_factory, real_surface):
    from importlib import resources

    tmp = tmp_path_factory.mktemp("mc")
    policy = yaml.safe_load(
        resources.files("vigil.cases").joinpath("default_policy.yaml").read_text()
    )
    policy["version"] = "test-ao-may-request"
    policy["permissions"]["open"]["roles"].append("authorising_officer")
    policy["permissions"]["submit"]["roles"].append("authorising_officer")
    policy["permissions"]["submit"]["own_cases_only"].append("authorising_officer")
    policy["permissions"]["request_authorisation"]["roles"].append("authorising_officer")
    path = tmp / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    app, clock, tokens = build_app(tmp, real_surface, policy_file=path)
    with TestClient(app) as client:
        yield client, clock, tokens


def test_requesting_officer_cannot_authorise_own_case(env):
    client, clock, tokens = env
    case = open_case(client, tokens, clock, "ao", hours=7)
    cid = case["id"]
    assert case["policy_version"] == "test-ao-may-request"
    for user, path, body in [
        ("ao", "submit", {}),
        (
            "lead",
            "consultations",
            {"consultee": "community", "position": "concur", "reasons": "Supported."},
        ),
    ]:
        r = client.post(f"/api/cases/{cid}/{path}", json=body, headers=bearer(tokens, user))
        assert r.status_code == 200, r.text
    # the top hotspot of the real July 2022 forecast is in the test commander's borough
    assert client.get(f"/api/cases/{cid}", headers=bearer(tokens, "ao")).json()["borough"] == (
        "Westminster"
    )
    r = client.post(
        f"/api/cases/{cid}/consultations",
        json={"consultee": "local_commander", "position": "concur", "reasons": "Agreed."},
        headers=bearer(tokens, "commander"),
    )
    assert r.status_code == 200, r.text
    r = client.post(f"/api/cases/{cid}/request-authorisation", headers=bearer(tokens, "ao"))
    assert r.status_code == 200, r.text

    r = client.post(
        f"/api/cases/{cid}/authorise", json={"conditions": "mine"}, headers=bearer(tokens, "ao")
    )
    assert r.status_code in (403, 409), r.text
    assert "request" in r.json()["detail"].lower() or "own" in r.json()["detail"].lower()
    # the other officer is past the maker-checker rule and meets the next one: the CIA
    r = client.post(
        f"/api/cases/{cid}/authorise", json={"conditions": "theirs"}, headers=bearer(tokens, "ao2")
    )
    assert r.status_code == 409 and "impact assessment" in r.json()["detail"]
