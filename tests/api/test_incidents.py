"""Incident uploads stream to disk and import in the background through the store; a real
police.uk file (City of London, /work/shared/data/city-of-london-2016-2017/2016-01) is used."""

from __future__ import annotations

import time

from tests.api import _fixtures
from tests.api.conftest import bearer

FILE = (
    _fixtures.SHARED / "city-of-london-2016-2017" / "2016-01" / "2016-01-city-of-london-street.csv"
)


def _wait(client, tokens, job_id, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/incidents/uploads/{job_id}", headers=bearer(tokens, "analyst"))
        job = job.json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError(f"import job {job_id} did not finish in {timeout} s")


def _chunks(data: bytes, size: int = 4096):
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_upload_streams_and_imports_a_real_police_uk_file(client, tokens):
    data = FILE.read_bytes()
    rows = data.count(b"\n") - 1
    r = client.post(
        "/api/incidents/uploads?filename=2016-01-city-of-london-street.csv&dataset=col-2016",
        content=_chunks(data),
        headers={**bearer(tokens, "analyst"), "Content-Type": "application/octet-stream"},
    )
    assert r.status_code == 202, r.text
    assert r.json()["bytes_received"] == len(data)
    job = _wait(client, tokens, r.json()["id"])
    assert job["state"] == "done", job["error"]
    res = job["result"]
    assert res["rows_read"] == rows
    assert (
        res["rows_imported"]
        + res["rows_rejected"]
        + res["rows_dropped_outside_region"]
        + (res["rows_duplicate"])
        == rows
    )
    summary = client.get(
        "/api/incidents/summary?dataset=col-2016", headers=bearer(tokens, "oversight")
    ).json()
    assert summary["total"] == res["rows_imported"] > 0


def test_bad_uploads_are_refused_with_the_reason(client, tokens):
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/octet-stream"}
    r = client.post(
        "/api/incidents/uploads?filename=../etc/passwd&dataset=x", content=b"a", headers=h
    )
    assert r.status_code == 400 and "file name" in r.json()["detail"]
    r = client.post("/api/incidents/uploads?filename=a.csv&dataset=x", content=b"", headers=h)
    assert r.status_code == 400 and "empty" in r.json()["detail"]
    r = client.post(
        "/api/incidents/uploads?filename=junk.csv&dataset=junk",
        content=b"not,a,police,file\n1,2,3,4\n",
        headers=h,
    )
    job = _wait(client, tokens, r.json()["id"])
    assert job["state"] == "failed" and job["error"]
