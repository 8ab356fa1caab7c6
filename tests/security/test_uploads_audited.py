"""Finding (round two): mapping uploads were not audited. Storing a column mapping sent as YAML
is now logged (who, its name, the content's SHA-256), and so are an incident file's upload and
its import's outcome; a refused mapping logs nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.security._identity import Env, build
from tests.security.test_mapping_file_read import FILE

SHIPPED = Path(__file__).parents[2] / "src/vigil/data/mappings/police-uk-street.yaml"


@pytest.fixture
def env(db_url, clock, tmp_path) -> Env:
    return build(db_url, clock, tmp_path)


def test_mapping_and_incident_uploads_are_audited(env: Env) -> None:
    c = TestClient(env.app)
    yaml = {**env.bearer("analyst"), "Content-Type": "application/yaml"}
    before = env.audit_actions()
    r = c.post("/api/incidents/mappings", content=b"name: x\n  bad: [", headers=yaml)
    assert r.status_code == 400
    assert env.audit_actions() == before  # nothing stored, nothing logged

    text = SHIPPED.read_text().replace("name: police-uk-street", "name: my-force-street").encode()
    r = c.post("/api/incidents/mappings", content=text, headers=yaml)
    assert r.status_code == 201, r.text
    [entry] = env.audit("incidents.mapping.upload")
    assert entry.actor_id == env.user_ids["analyst"] and entry.category == "collection"
    detail = json.loads(entry.detail)
    assert detail == {
        "name": "my-force-street",
        "bytes": len(text),
        "sha256": hashlib.sha256(text).hexdigest(),
    }

    r = c.post(
        "/api/incidents/uploads",
        params={"filename": FILE.name, "dataset": "city", "mapping": "my-force-street"},
        content=FILE.read_bytes(),
        headers={**env.bearer("analyst"), "Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    [upload] = env.audit("incidents.upload")
    assert json.loads(upload.detail)["mapping"] == "my-force-street"
    assert json.loads(upload.detail)["bytes"] == FILE.stat().st_size
    deadline = time.monotonic() + 120
    while c.get(f"/api/incidents/uploads/{job}", headers=env.bearer("analyst")).json()[
        "state"
    ] not in {"done", "failed"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    deadline = time.monotonic() + 10
    while not env.audit("incidents.import"):  # written as the import thread finishes
        assert time.monotonic() < deadline
        time.sleep(0.1)
    [done] = env.audit("incidents.import")
    outcome = json.loads(done.detail)
    assert outcome["job"] == job and outcome["state"] == "done", outcome
    assert outcome["rows_imported"] > 0 and done.actor_id == env.user_ids["analyst"]
