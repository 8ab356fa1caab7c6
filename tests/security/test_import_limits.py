"""Issue 10: input limits on incident imports. A 0.9 MB zip expanded to 4.1 M rows (2.1 GiB), a
3.6 MB zip peaked at 7.5 GB from the command line, and a 1 GiB line crashed with an uncaught
``_csv.Error``. Now an import has caps on decompressed bytes, rows and line length
(``ImportLimits``, settings ``VIGIL_IMPORT_MAX_*``), each refused with a clear message, with
nothing stored and memory bounded (measured as a subprocess's peak RSS)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from tests.api.conftest import app_env, bearer, client, real_surface, tokens  # noqa: F401
from vigil.data.csvio import ImportLimits, LimitExceeded
from vigil.data.store import IncidentStore
from vigil.errors import DataError

STREET = "2016-01-city-of-london-street.csv"


def _street_text(shared_data: Path) -> bytes:
    return (shared_data / "city-of-london-2016-2017" / "2016-01" / STREET).read_bytes()


def _gzip_bomb(path: Path, body: bytes, header: bytes, mib: int) -> Path:
    """A multi-member gzip: the header, then one 1 MiB block of rows compressed once and
    repeated ``mib`` times (gzip readers join the members): ~100x smaller than it expands."""
    unit = b"".join(body.splitlines(keepends=True)[:100])  # repeats within deflate's window
    block = (unit * (1 + (1 << 20) // len(unit)))[: 1 << 20]
    block = block[: block.rfind(b"\n") + 1]
    member = gzip.compress(block, compresslevel=9)
    with open(path, "wb") as fh:
        fh.write(gzip.compress(header))
        for _ in range(mib):
            fh.write(member)
    return path


def _split(data: bytes) -> tuple[bytes, bytes]:
    header, body = data.split(b"\n", 1)
    return header + b"\n", body


def _peak_import(path: Path, store: Path, env: dict[str, str]) -> tuple[int, str, float]:
    """Import ``path`` in a fresh process; its peak RSS in MiB, its output, seconds."""
    code = textwrap.dedent(
        f"""
        import sys
        from vigil.data.store import IncidentStore
        from vigil.errors import DataError
        try:
            IncidentStore({str(store)!r}).import_file({str(path)!r}, dataset="bomb")
            print("IMPORTED")
        except DataError as exc:
            print("REFUSED", exc)
        # VmHWM: this program's own high-water mark (ru_maxrss would carry over the RSS of
        # the forked pytest worker across exec)
        hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0]
        print("PEAK", int(hwm.split()[1]) // 1024)
        """
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
    )
    out, _ = proc.communicate(timeout=600)
    seconds = time.perf_counter() - t0
    text = out.decode()
    peak = int(text.rsplit("PEAK", 1)[1].split()[0])  # the child's own peak RSS, in MiB
    return peak, text, seconds


@pytest.fixture
def city_street(shared_data: Path) -> Path:
    return shared_data / "city-of-london-2016-2017"


@pytest.fixture
def street(shared_data: Path) -> bytes:
    return _street_text(shared_data)


def test_zip_bomb_refused_from_declared_size_before_decompressing(tmp_path, street):
    header, body = _split(street)
    bomb = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("2016-01-x-street.csv", "w", force_zip64=True) as fh,
    ):
        fh.write(header)
        block = b"".join(body.splitlines(keepends=True)[:100])  # repeats within deflate's window
        for _ in range(40 * (1 << 20) // len(block)):
            fh.write(block)
    assert bomb.stat().st_size < 4 << 20  # a few MiB on the wire
    store = IncidentStore(tmp_path / "store")
    with pytest.raises(LimitExceeded, match=r"expands to more than 32 MiB.*nothing was read"):
        store.import_file(bomb, dataset="bomb", limits=ImportLimits(max_bytes=32 << 20))
    assert store.summary().total == 0 and store.datasets() == []
    # and from a fresh process (the command line), with its peak memory measured
    peak, out, _ = _peak_import(bomb, tmp_path / "store2", {"VIGIL_IMPORT_MAX_BYTES": "33554432"})
    assert "REFUSED" in out and "expands to more than 32 MiB" in out, out
    assert peak < 300, f"peak RSS {peak} MiB"
    assert IncidentStore(tmp_path / "store2").summary().total == 0


def test_gzip_bomb_refused_while_streaming_with_bounded_memory(tmp_path, street):
    """No declared size to trust: the byte cap is enforced as the stream is read, with memory
    bounded by the chunk size, not by the expansion (peak RSS of a fresh process)."""
    header, body = _split(street)
    bomb = _gzip_bomb(tmp_path / "2016-01-x-street.csv.gz", body, header, mib=300)
    assert bomb.stat().st_size < 4 << 20
    store = tmp_path / "store"
    env = {"VIGIL_IMPORT_MAX_BYTES": str(128 << 20), "VIGIL_IMPORT_MAX_ROWS": str(10**9)}
    peak, out, _ = _peak_import(bomb, store, env)
    assert "REFUSED" in out and "larger than 128 MiB" in out and "nothing was stored" in out, out
    assert peak < 300, f"peak RSS {peak} MiB"
    assert IncidentStore(store).summary().total == 0


def test_row_cap_refused_with_nothing_stored_and_bounded_memory(tmp_path, street):
    header, body = _split(street)
    bomb = _gzip_bomb(tmp_path / "2016-01-x-street.csv.gz", body, header, mib=300)
    store = tmp_path / "store"
    env = {"VIGIL_IMPORT_MAX_ROWS": "500000"}
    peak, out, _ = _peak_import(bomb, store, env)
    assert "REFUSED" in out and "more than 500,000 data rows" in out, out
    assert peak < 300, f"peak RSS {peak} MiB"
    assert IncidentStore(store).summary().total == 0


def test_row_cap_spans_the_files_of_one_import(tmp_path, city_street):
    store = IncidentStore(tmp_path / "store")
    with pytest.raises(LimitExceeded, match="more than 5,000 data rows"):
        store.import_file(city_street, format="police-uk", limits=ImportLimits(max_rows=5_000))
    assert store.summary().total == 0


@pytest.mark.parametrize("gz", [False, True])
def test_overlong_line_is_refused_cleanly(tmp_path, street, gz):
    header, body = _split(street)
    lines = body.splitlines(keepends=True)
    huge = b"x" * (3 << 20)  # 3 MiB in one field of row 5
    data = header + b"".join(lines[:4]) + huge + b"," * 11 + b"\n" + b"".join(lines[4:])
    path = tmp_path / (STREET + (".gz" if gz else ""))
    path.write_bytes(gzip.compress(data) if gz else data)
    store = IncidentStore(tmp_path / "store")
    for skip in (False, True):
        with pytest.raises(LimitExceeded) as err:
            store.import_file(path, format="police-uk", dataset="long", skip_bad_rows=skip)
        assert "line 6 (counting the header as 1) is longer than 65,536 bytes" in str(err.value)
        assert STREET in str(err.value)
    assert store.summary().total == 0


def test_overlong_field_under_a_larger_cap_is_a_located_error_not_a_crash(tmp_path, street):
    """The old crash: csv's own field limit raised ``_csv.Error`` on the error-location pass."""
    header, body = _split(street)
    lines = body.splitlines(keepends=True)
    bad = b'"' + b"y" * (2 << 20) + b'",1,2\n'  # 3 fields instead of 12, 2 MiB long
    path = tmp_path / STREET
    path.write_bytes(header + b"".join(lines[:2]) + bad + b"".join(lines[2:]))
    store = IncidentStore(tmp_path / "store")
    limits = ImportLimits(max_line_bytes=8 << 20)
    with pytest.raises(DataError, match=r"row 3.*expected 12 fields, found 3"):
        store.import_file(path, format="police-uk", limits=limits)
    assert store.summary().total == 0


def test_upload_bomb_refused_by_the_api_with_nothing_stored(client, tokens, app_env, street):  # noqa: F811
    app, _, _ = app_env
    app.state.ctx.settings.import_max_bytes = 16 << 20
    header, body = _split(street)
    buf = Path(app.state.ctx.settings.data_dir) / "bomb.zip"
    with (
        zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
        zf.open("2016-01-x-street.csv", "w") as fh,
    ):
        fh.write(header)
        block = b"".join(body.splitlines(keepends=True)[:100])
        for _ in range(20 * (1 << 20) // len(block)):
            fh.write(block)
    h = {**bearer(tokens, "analyst"), "Content-Type": "application/octet-stream"}
    r = client.post(
        "/api/incidents/uploads",
        params={"filename": "bomb.zip", "dataset": "bomb"},
        content=buf.read_bytes(),
        headers=h,
    )
    assert r.status_code == 202, r.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = client.get(f"/api/incidents/uploads/{r.json()['id']}", headers=h).json()
        if job["state"] in ("done", "failed"):
            break
        time.sleep(0.2)
    assert job["state"] == "failed" and "expands to more than 16 MiB" in job["error"], job
    r = client.get("/api/incidents/summary", headers=bearer(tokens, "oversight"))
    assert r.json()["total"] == 0
