"""Load: many clients at once on PostgreSQL with several workers (issue 11).

    python benchmarks/bench_load.py                      # 50 clients, 30 s, 2 workers, + baseline
    python benchmarks/bench_load.py --clients 20 --seconds 15 --no-baseline

Each run: a private PostgreSQL 15 server (tests/db/pg_server.py), the app served as ``vigil
serve --workers N`` serves it (uvicorn workers over ``vigil.server.served_app``: JSON request
logs, multi-process metrics) on loopback, a real forecast saved where the map finds it
(NaiveCounts over London serious violence January-June 2022, tests/api/_fixtures), London 2022
street crime in the incident store (an area's history), a few cases opened over the API, then
an async httpx harness of C concurrent clients for S seconds on a mix of the case page (HTML,
audited), the case's evidence layer (what the case page's script fetches, audited), the map layer
(GeoJSON), the forecast's top areas and an area's detail, and a *bare route* added by this
script that reads one case row and nothing else (no authentication, no audit): the floor the
case page is compared with, in the same run.

The clients behave as a polling script or page does: each keeps the ETag of what it fetched and
sends it back (``If-None-Match``); a 304 is a success. They accept gzip.

Baseline in the same script: the same harness against the code of commit 913bb19 (extracted with
``git archive`` into a temporary folder), on its own fresh PostgreSQL database.

Afterwards: errors (any status other than 200 or 304), the audit chain verified by ``vigil
audit verify`` of the code measured, and the audit entries written during the measured seconds
by action, set against the audited requests answered.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

BASELINE = "913bb19"
#: request mix: (kind, weight)
MIX = [
    ("case_page", 3),
    ("case_evidence", 1),
    ("bare_case_row", 2),
    ("map_geojson", 1),
    ("top", 2),
    ("area", 1),
]
#: the audit action each audited request writes (with today's code: one entry per request)
AUDITED = {
    "case_page": "case.read",
    "case_evidence": "case.evidence.read",
    "map_geojson": "forecast.read",
    "top": "forecast.read",
    "area": "forecast.read",
}


# ---------------------------------------------------------------------------- the served app
def bench_app():  # type: ignore[no-untyped-def]
    """The real app plus ``GET /bench/case-row/{case_id}``: one case row, no auth, no audit
    (uvicorn ``--factory``; used for both the current code and the baseline)."""
    from vigil.db.cases import Case

    try:
        from vigil.server import served_app as create_app  # what `vigil serve` runs
    except ImportError:  # the baseline's code: the app lived in vigil.api then
        from vigil.api import create_app  # type: ignore[attr-defined,no-redef]

    app = create_app()
    ctx = app.state.ctx

    def case_row(case_id: int) -> dict[str, Any]:
        with ctx.session_factory() as s:
            case = s.get(Case, case_id)
            return {"id": case.id, "status": case.status} if case else {}

    app.add_api_route("/bench/case-row/{case_id}", case_row, methods=["GET"])
    return app


SETUP = """
import json, sys
from datetime import UTC, datetime
from vigil.clock import SystemClock
from vigil.db import migrate
from vigil.db.engine import make_engine, make_sessionmaker
from vigil.db.identity import IdentityStore
url = sys.argv[1]
migrate.upgrade(url)
ids = IdentityStore(make_sessionmaker(make_engine(url)), SystemClock())
out = {}
for name, role in (("analyst", "analyst"), ("oversight", "oversight")):
    user = ids.create_user(name, "correct horse battery staple", role)
    out[name] = ids.issue_token(user, "bench")
print(json.dumps(out))
"""


def _env(src: Path, url: str, data_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": f"{src}{os.pathsep}{ROOT}",
        "VIGIL_DATABASE_URL": url,
        "VIGIL_DATA_DIR": str(data_dir),
        "VIGIL_SWEEP_SECONDS": "60",
        # as `vigil serve --workers N` sets it: every worker's metrics in one folder
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="vigil-load-metrics-"),
    }


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---------------------------------------------------------------------------- the harness
async def _client(
    base: str, tokens: dict[str, str], targets: dict[str, Any], until: float, rec: dict
) -> None:
    import httpx

    kinds = [k for k, w in MIX for _ in range(w)]
    auth = {"Authorization": f"Bearer {tokens['oversight']}"}
    etags: dict[str, str] = {}  # what this client holds, by URL
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < until:
            kind = random.choice(kinds)
            case_id = random.choice(targets["cases"])
            if kind == "case_page":
                req = ("GET", f"/cases/{case_id}", {**auth, "Accept": "text/html"})
            elif kind == "case_evidence":
                req = ("GET", f"/api/cases/{case_id}/evidence", auth)
            elif kind == "bare_case_row":
                req = ("GET", f"/bench/case-row/{case_id}", {})
            elif kind == "map_geojson":
                req = ("GET", "/api/forecasts/current/geojson", auth)
            elif kind == "top":
                req = ("GET", "/api/forecasts/current/top?k=20", auth)
            else:
                req = (
                    "GET",
                    f"/api/forecasts/current/areas/{random.choice(targets['areas'])}",
                    auth,
                )
            headers = dict(req[2])
            if req[1] in etags:
                headers["If-None-Match"] = etags[req[1]]
            t0 = time.perf_counter()
            try:
                r = await client.request(req[0], req[1], headers=headers)
                status = r.status_code
                if status == 200 and "etag" in r.headers:
                    etags[req[1]] = r.headers["etag"]
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            rec[kind].append(time.perf_counter() - t0)
            if status == 304:
                rec["not_modified"].append(1.0)
            if status not in (200, 304):
                rec["errors"].append(f"{kind} {status}")
            else:
                rec[f"ok:{kind}"].append(1.0)


def _client_process(
    base: str, tokens: dict[str, str], targets: dict[str, Any], n: int, seconds: float
) -> tuple[dict[str, list], float]:
    """``n`` concurrent clients for ``seconds`` in this process: what they recorded and the
    CPU seconds this process spent."""
    rec: dict[str, list] = defaultdict(list)
    own0 = time.process_time()

    async def everyone() -> None:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_client(base, tokens, targets, until, rec) for _ in range(n)))

    asyncio.run(everyone())
    return dict(rec), time.process_time() - own0


def _clients(
    args: argparse.Namespace,
    base: str,
    tokens: dict[str, str],
    targets: dict[str, Any],
    seconds: float,
) -> tuple[dict[str, list], float]:
    """``args.clients`` clients spread over ``args.client_processes`` processes: one Python
    process of httpx clients spends about 2 ms of CPU a request, so on a shared machine a
    single one, not the server, capped the faster code's throughput (a harness that cannot
    keep up measures itself). Their records merged, and their CPU seconds summed."""
    from concurrent.futures import ProcessPoolExecutor

    procs = max(1, min(args.client_processes, args.clients))
    shares = [args.clients // procs + (i < args.clients % procs) for i in range(procs)]
    rec: dict[str, list] = defaultdict(list)
    cpu = 0.0
    with ProcessPoolExecutor(procs) as pool:
        runs = [pool.submit(_client_process, base, tokens, targets, n, seconds) for n in shares]
        for run in runs:
            part, spent = run.result()
            cpu += spent
            for key, values in part.items():
                rec[key].extend(values)
    return rec, cpu


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def _audit_count(url: str) -> int:
    """The highest audit sequence number (or row count where the table has no ``seq``)."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("audit_log")}
        key = "seq" if "seq" in cols else "id"
        n = conn.execute(sa.text(f"SELECT coalesce(max({key}), 0) FROM audit_log")).scalar_one()
    engine.dispose()
    return int(n)


def _audit_actions(url: str, after: int) -> dict[str, int]:
    """Audit entries written after sequence number ``after``, by action."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        cols = {c["name"] for c in sa.inspect(conn).get_columns("audit_log")}
        key = "seq" if "seq" in cols else "id"
        rows = conn.execute(
            sa.text(f"SELECT action, count(*) FROM audit_log WHERE {key} > :a GROUP BY action"),
            {"a": after},
        ).all()
    engine.dispose()
    return {str(a): int(n) for a, n in rows}


def _postmaster(pg: Any) -> int | None:
    """The PostgreSQL server's main process (its backends are its children)."""
    try:
        return int((Path(pg.datadir) / "postmaster.pid").read_text().split()[0])
    except (OSError, TypeError, ValueError, IndexError):
        return None


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of ``pids`` and all their descendants (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = defaultdict(list)
    stats: dict[int, list[str]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = fields
            children[int(fields[1])].append(int(entry))
    total, todo, seen = 0.0, list(pids), set()
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        f = stats[pid]
        total += (int(f[11]) + int(f[12])) / tick  # utime, stime
        todo.extend(children[pid])
    return total


def run_target(
    label: str,
    src: Path,
    surface_file: Path,
    args: argparse.Namespace,
    pg: Any,
    server_options: tuple[str, ...] = (),
) -> dict[str, Any]:
    import httpx

    url = pg.url_for(pg.create_database())
    data_dir = Path(tempfile.mkdtemp(prefix=f"vigil-load-{label}-"))
    (data_dir / "forecasts").mkdir()
    (data_dir / "forecasts" / surface_file.name).write_bytes(surface_file.read_bytes())
    shutil.copytree(surface_file.parent / "store", data_dir / "store")
    env = _env(src, url, data_dir)
    tokens = json.loads(
        subprocess.run(
            [sys.executable, "-c", SETUP, url], env=env, check=True, capture_output=True, text=True
        ).stdout
    )
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "benchmarks.bench_load:bench_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
            "--log-level", "warning", "--no-access-log", *server_options,
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{label}: the server did not start")
            time.sleep(0.5)
        analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
        top = httpx.get(f"{base}/api/forecasts/current/top?k=40", headers=analyst, timeout=60)
        areas = [a["area_id"] for a in top.json()]
        cases = []
        for i in range(5):
            now = time.time()
            body = {
                "cells": areas[i * 3 : i * 3 + 3],
                "start": _iso(now + 3600),
                "end": _iso(now + 8 * 3600),
                "resources": "Officers on foot",
                "objectives": "Prevent serious violence",
                "success_measures": ["No knife injuries"],
            }
            r = httpx.post(f"{base}/api/cases", json=body, headers=analyst, timeout=60)
            r.raise_for_status()
            cases.append(r.json()["id"])
        targets = {"cases": cases, "areas": areas}

        # warm-up, not recorded: each worker thread builds its caches on first use
        _clients(args, base, tokens, targets, args.warmup)
        audit_before = _audit_count(url)
        spy = _profiler(args, label, server.pid)
        pg_pid = _postmaster(pg)
        cpu0 = (_cpu_seconds([server.pid]), _cpu_seconds([pg_pid]) if pg_pid else 0.0)
        t0 = time.perf_counter()
        rec, client_cpu = _clients(args, base, tokens, targets, args.seconds)
        elapsed = time.perf_counter() - t0
        cpu = {
            "server": _cpu_seconds([server.pid]) - cpu0[0],
            "postgres": (_cpu_seconds([pg_pid]) - cpu0[1]) if pg_pid else float("nan"),
            "clients": client_cpu,
        }
        if spy is not None:
            spy.wait(timeout=120)
        actions = _audit_actions(url, audit_before)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    verify = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
    )
    kinds = [k for k, _ in MIX]
    total = sum(len(rec[k]) for k in kinds)
    audited = {k: len(rec[f"ok:{k}"]) for k in AUDITED}
    expected: dict[str, int] = defaultdict(int)
    for kind, action in AUDITED.items():
        expected[action] += audited[kind]
    return {
        "label": label,
        "requests": total,
        "seconds": round(elapsed, 1),
        "throughput": round(total / elapsed, 1),
        "errors": len(rec["errors"]),
        "error_examples": sorted(set(rec["errors"]))[:5],
        "not_modified": len(rec["not_modified"]),
        "p50_ms": {k: round(_pct(rec[k], 0.5), 1) for k, _ in MIX},
        "p95_ms": {k: round(_pct(rec[k], 0.95), 1) for k, _ in MIX},
        "counts": {k: len(rec[k]) for k, _ in MIX},
        "audited_requests": sum(audited.values()),
        "audit_entries": sum(actions.values()),
        "audit_by_action": actions,
        "audit_expected_by_action": dict(expected),
        "one_entry_per_audited_request": actions == {a: n for a, n in expected.items() if n},
        "audit_entries_per_case_page": round(
            actions.get("case.read", 0) / max(audited["case_page"], 1), 2
        ),
        "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "chain_ok": verify.returncode == 0,
        "load_average_1min": round(os.getloadavg()[0], 1),
        "verify_output": (verify.stdout + verify.stderr).strip()[-300:],
    }


def _profiler(args: argparse.Namespace, label: str, pid: int) -> subprocess.Popen | None:
    """py-spy sampling every worker of the server for the measured seconds (``--profile DIR``):
    collapsed stacks, one line per stack and its sample count, for ``profile_summary.py``."""
    if args.profile is None:
        return None
    args.profile.mkdir(parents=True, exist_ok=True)
    out = args.profile / f"{label.split()[0]}.txt"
    return subprocess.Popen(
        ["py-spy", "record", "--pid", str(pid), "--subprocesses", "--rate", "50", "--format",
         "raw", "--duration", str(int(args.seconds)), "--output", str(out), "--nonblocking",
         *(["--gil"] if args.gil else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _iso(ts: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")


def _save_surface(folder: Path) -> Path:
    """The forecast the map shows, and beside it (``folder/store``) the incident store holding
    London 2022 street crime, where an area's history comes from."""
    from tests.api import _fixtures

    from vigil.data.datasets import LONDON_2022_FILE
    from vigil.data.store import IncidentStore

    surface = _fixtures.surface()
    store = IncidentStore(folder / "store")
    store.import_file(_fixtures.SHARED / LONDON_2022_FILE, "met-street-2022")
    return Path(surface.to_json(folder / "naive-bench.json"))


def _baseline_src(commit: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix=f"vigil-{commit}-"))
    archive = folder / "src.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), commit, "src"], cwd=ROOT, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder / "src"


def _cpu_per_request(r: dict[str, Any]) -> float:
    """Milliseconds of the server processes' CPU per request answered in the measured run."""
    return 1000 * r["cpu_s"]["server"] / max(r["requests"], 1)


def _table(results: list[dict[str, Any]]) -> str:
    rows = [
        "| code | clients | req/s | case page p50 / p95 ms | bare case row p50 / p95 ms | "
        "case p95 / bare p95 | evidence p95 ms | map p95 ms | top p95 ms | area p95 ms | "
        "304s | errors | audit entries / audited requests | case.read per case view | "
        "CPU s server / postgres / clients | server CPU ms / request | uvicorn | chain |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        p50, p95 = r["p50_ms"], r["p95_ms"]
        ratio = p95["case_page"] / p95["bare_case_row"] if p95["bare_case_row"] else float("nan")
        cpu = r["cpu_s"]
        rows.append(
            f"| {r['label']} | {r['clients']} | {r['throughput']} | "
            f"{p50['case_page']:.0f} / {p95['case_page']:.0f} | "
            f"{p50['bare_case_row']:.0f} / {p95['bare_case_row']:.0f} | {ratio:.1f}x | "
            f"{p95['case_evidence']:.0f} | {p95['map_geojson']:.0f} | {p95['top']:.0f} | "
            f"{p95['area']:.0f} | {r['not_modified']} | {r['errors']} | "
            f"{r['audit_entries']} / {r['audited_requests']} | "
            f"{r['audit_entries_per_case_page']} | "
            f"{cpu['server']} / {cpu['postgres']} / {cpu['clients']} | "
            f"{_cpu_per_request(r):.1f} | {r.get('server_options', '?')} | "
            f"{'verifies' if r['chain_ok'] else 'FAILS'} |"
        )
    return "\n".join(rows)


def _section(args: argparse.Namespace, results: list[dict[str, Any]], speedup: float | None) -> str:
    """The README section of a run: the command, the setting, the table and the targets."""
    cpus = os.cpu_count()
    this = results[0]
    p95 = this["p95_ms"]
    ratio = p95["case_page"] / p95["bare_case_row"] if p95["bare_case_row"] else float("nan")
    checks = [
        f"case page p95 / bare route p95 = {ratio:.2f}x (target at most 3x: "
        f"{'met' if ratio <= 3 else '**not met**'})",
        f"errors: {this['errors']} (target 0: {'met' if this['errors'] == 0 else '**not met**'})",
        f"audit chain afterwards: {'verifies' if this['chain_ok'] else '**FAILS**'}; "
        f"{this['audit_entries']} entries written for {this['audited_requests']} audited "
        f"requests answered, by action {this['audit_by_action']} (target: exactly one per "
        f"audited request: {'met' if this['one_entry_per_audited_request'] else '**not met**'})",
    ]
    if speedup:
        base = results[1]
        checks.insert(
            0,
            f"throughput {speedup:.2f}x the baseline's in the same run (target at least 10x: "
            f"{'met' if speedup >= 10 else '**not met**'}); server CPU per request "
            f"{_cpu_per_request(this):.1f} ms against {_cpu_per_request(base):.1f} ms "
            f"({_cpu_per_request(base) / max(_cpu_per_request(this), 1e-9):.1f}x less)",
        )
    return (
        "## Load (issue 11): `benchmarks/bench_load.py`\n\n"
        f"`nice -n 10 python benchmarks/bench_load.py --clients {args.clients} --seconds "
        f"{args.seconds:g} --workers {args.workers} --warmup {args.warmup:g} "
        f"--client-processes {args.client_processes}` (after "
        f"{args.warmup:g} s of unrecorded "
        "warm-up): PostgreSQL 15 (private server), the app as "
        f"`vigil serve --workers {args.workers}` runs it, an async httpx harness on loopback "
        f"({args.clients} clients over {args.client_processes} processes, sending back the "
        "ETags they hold), "
        f"{cpus} CPU cores shared with the server, the database and other work. Mix (weights): "
        + ", ".join(f"{k} {w}" for k, w in MIX)
        + ". The bare case row is a route this script adds (one `SELECT` of a case, no "
        "authentication, no audit): the floor for the case page in the same run.\n\n"
        + _table(results)
        + "\n\n"
        + "\n".join(f"- {c}" for c in checks)
        + "\n\nLoad average (1 min) of the machine at the end of each run: "
        + ", ".join(f"{r['label']} {r.get('load_average_1min', '?')}" for r in results)
        + f" on {cpus} cores: a comparison within the run, not a capacity figure. CPU s: "
        "user + system seconds during the measured run of the server's processes, PostgreSQL's "
        "and the harness's."
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--client-processes", type=int, default=4, help="processes the clients are spread over"
    )
    parser.add_argument("--warmup", type=float, default=10, help="seconds, not recorded")
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--baseline-server",
        choices=("shipped", "same"),
        default="shipped",
        help="shipped: the baseline on h11 and asyncio's loop, as its dependencies ran it; "
        "same: on whatever uvicorn picks here (httptools and uvloop when installed)",
    )
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument(
        "--profile", type=Path, default=None, help="folder for py-spy stacks of the server"
    )
    parser.add_argument(
        "--gil",
        action="store_true",
        help="with --profile: sample only the thread holding the GIL (where CPU goes, not waits)",
    )
    args = parser.parse_args()

    from readme_section import write_section
    from tests.db.pg_server import start_server

    work = Path(tempfile.mkdtemp(prefix="vigil-load-"))
    surface_file = _save_surface(work)
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    targets: list[tuple[str, Path, tuple[str, ...]]] = [(f"this commit ({head})", ROOT / "src", ())]
    if not args.no_baseline:
        # the baseline as it shipped: its dependencies had neither httptools nor uvloop, so
        # uvicorn ran h11 on asyncio's loop (``--baseline-server same``: whatever is installed)
        shipped = (
            ("--http", "h11", "--loop", "asyncio") if args.baseline_server == "shipped" else ()
        )
        targets.append((f"baseline {args.baseline}", _baseline_src(args.baseline), shipped))
    pg = start_server()
    results = []
    try:
        for label, src, options in targets:
            print(f"running {label} ...", flush=True)
            result = run_target(label, src, surface_file, args, pg, options)
            result["server_options"] = " ".join(options) or "uvicorn's defaults"
            result["clients"] = args.clients
            print(json.dumps(result, indent=2), flush=True)
            results.append(result)
    finally:
        pg.stop()
    if len(results) == 2 and results[1]["throughput"]:
        speedup = results[0]["throughput"] / results[1]["throughput"]
        print(f"throughput vs baseline: {speedup:.2f}x")
    else:
        speedup = None
    if not args.no_readme:
        write_section("bench_load", _section(args, results, speedup))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
