"""Signed checkpoints: the RFC 6962 Merkle tree and consistency proofs, the Ed25519 key and
the production-mode refusal, checkpoints written by the running server, and the API's verify
route checking signatures (and logging that it read everything)."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vigil.audit.checkpoint import write_checkpoint
from vigil.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    leaf_hash,
    root_of,
    verify_consistency,
)
from vigil.audit.signing import DEV_KEY_NAME, Signer, SigningKeyError, generate
from vigil.cases.service import CaseService
from vigil.clock import FixedClock
from vigil.db.audit import AuditEntry
from vigil.roles import Actor, Rank, Role
from vigil.server import create_app
from vigil.settings import Settings

ANALYST = Actor("u-analyst-7", Role.ANALYST, Rank.NONE)
AREA = "POLYGON((534200 176300,534600 176300,534600 176700,534200 176700,534200 176300))"
LEAVES = [leaf_hash(hashlib.sha256(str(i).encode()).hexdigest()) for i in range(40)]


def test_merkle_root_matches_rfc6962_shape() -> None:
    assert root_of([]).hex() == EMPTY_ROOT
    a, b, c = LEAVES[:3]
    node = hashlib.sha256
    ab = node(b"\x01" + a + b).digest()
    assert root_of([a, b, c]) == node(b"\x01" + ab + c).digest()
    cr = CompactRange()
    for n, leaf in enumerate(LEAVES, 1):
        cr.append(leaf)
        assert cr.root() == root_of(LEAVES[:n])
        again = CompactRange.from_json(n, cr.to_json())
        assert again.root() == cr.root()


def test_consistency_proofs_accept_extensions_and_refuse_rewrites() -> None:
    for n in range(1, 25):
        for m in range(1, n + 1):
            proof = consistency_proof(LEAVES[:n], m)
            old, new = root_of(LEAVES[:m]), root_of(LEAVES[:n])
            assert verify_consistency(m, n, old, new, proof), (m, n)
            rewritten = list(LEAVES[:n])
            rewritten[m - 1] = leaf_hash("ab" * 32)
            if m < n:
                assert not verify_consistency(
                    m, n, old, root_of(rewritten), consistency_proof(rewritten, m)
                ), (m, n)


def test_production_refuses_to_start_without_a_real_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    prod = Settings(data_dir=tmp_path, database_url=url, mode="production")
    with pytest.raises(SigningKeyError, match="vigil audit keygen"):
        create_app(prod)
    dev_key = generate(tmp_path / DEV_KEY_NAME).path
    with pytest.raises(SigningKeyError, match="development key"):
        create_app(prod.model_copy(update={"audit_key_file": dev_key}))
    real = generate(tmp_path / "prod.pem").path
    app = create_app(prod.model_copy(update={"audit_key_file": real}))
    assert app.state.ctx.settings.audit_key_file == real


def test_development_generates_a_key_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from vigil.audit.signing import signer_from_settings

    settings = Settings(data_dir=tmp_path)
    signer = signer_from_settings(settings)
    assert signer.path == tmp_path / DEV_KEY_NAME and "development audit signing key" in caplog.text
    assert signer_from_settings(settings).key_id == signer.key_id  # reused, not regenerated
    assert (tmp_path / DEV_KEY_NAME).stat().st_mode & 0o077 == 0


def _open_case(sf: sessionmaker[Session], clock: FixedClock) -> int:
    svc = CaseService(sf, clock, guardrail_check=lambda *a: [])
    now = clock.now()
    return svc.open_case(
        ANALYST,
        trigger="reactive",
        area_wkt=AREA,
        window=(now, now + timedelta(hours=4)),
        resources="one crew",
        objectives="patrol after an assault",
        success_measures=["no repeat"],
    ).id


def test_api_verify_checks_signatures_and_is_itself_audited(
    session_factory: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    signer = generate(tmp_path / "audit.pem")
    settings = Settings(
        data_dir=tmp_path,
        database_url=db_url,
        audit_key_file=signer.path,
        audit_witness_dir=tmp_path / "witness",
    )
    _open_case(session_factory, clock)
    with session_factory() as s, s.begin():
        write_checkpoint(s, signer, clock.now(), settings.witness_dir)
    app = create_app(settings, clock, session_factory, surface_source=lambda: None)
    ids = app.state.ctx.identity
    user = ids.create_user("mopac", "a long oversight passphrase", "oversight")
    headers = {"Authorization": f"Bearer {ids.issue_token(user, 'tests')}"}
    client = TestClient(app)
    r = client.get("/api/audit/verify", headers=headers).json()
    assert r["ok"], r["problems"]
    assert r["proven_to"] == 1 and r["cases_checked"] == 1
    with session_factory() as s:
        last = s.execute(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).scalar_one()
        assert last.action == "audit.verify" and last.actor_id == user.id
    # a checkpoint row altered in the database: its signature no longer holds
    with session_factory() as s, s.begin():
        from vigil.db.audit import AuditCheckpoint

        s.query(AuditCheckpoint).update({"root": "0" * 64})
    r = client.get("/api/audit/verify", headers=headers).json()
    assert not r["ok"] and any("bad signature" in p for p in r["problems"])


def test_the_running_server_writes_and_exports_checkpoints(
    session_factory: sessionmaker[Session], db_url: str, tmp_path: Path
) -> None:
    _open_case(session_factory, FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC)))
    key = generate(tmp_path / "audit.pem").path
    settings = Settings(
        data_dir=tmp_path,
        database_url=db_url,
        audit_key_file=key,
        audit_witness_dir=tmp_path / "witness",
    )
    app = create_app(settings, None, session_factory, surface_source=lambda: None)
    with TestClient(app):  # the lifespan's scheduler runs
        deadline = time.monotonic() + 30
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            time.sleep(0.2)
            files = list((tmp_path / "witness" / "checkpoints").glob("*.json"))
    assert len(files) == 1
    assert Signer.load(key).key_id in files[0].name
