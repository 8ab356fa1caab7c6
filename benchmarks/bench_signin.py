"""Sign-in under attack: another user's request while 30 failing sign-ins run (issue 10).

    python benchmarks/bench_signin.py           # 30 attackers, 40 probes, writes the README section

The real app is served by uvicorn on a loopback port (SQLite, real argon2 with argon2-cffi's
default cost). A probe is ``GET /api/me`` with a bearer token, the cheapest authenticated call,
sent one after another; latency is its median. Four runs in this script: quiet (no attack);
the baseline, where sign-in checks run on a 40-thread pool as they did on the server's shared
thread pool before the fix; the fix, the bounded sign-in pool (``signin_workers``, default
half the cores, queue 16, 503 beyond); and quiet again. Attackers each loop on wrong
passwords for unknown names from threads of another process (as from other machines: the CPUs
are shared, the server's interpreter lock is not), with the per-address throttle (all come
from 127.0.0.1) lifted so that every attempt costs a password check: the pool, not the
throttle, is what is measured.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from readme_section import code_version, write_section  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _attack(base: str, csrf: str, n: int, stop: Any, by_status: Any) -> None:
    """``n`` threads posting wrong passwords for unknown names until ``stop``; answers are
    counted by status class into ``by_status``."""
    import httpx

    def one(i: int) -> None:
        with httpx.Client(timeout=120) as c:
            k = 0
            while not stop.is_set():
                r = c.post(
                    f"{base}/login",
                    data={"username": f"x{i}-{k}", "password": "wrong guess", "csrf_token": csrf},
                    cookies={"vigil_login_csrf": csrf},
                )
                with by_status.get_lock():
                    by_status[r.status_code // 100] += 1
                k += 1

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(150)


def _run(
    pool_workers: int | None, queue: int, attackers: int, probes: int
) -> tuple[float, int, int]:
    """Median probe latency (ms) and the attackers' sign-ins answered 4xx (refused after a
    password check or by the throttle) and 5xx (503: the sign-in pool was full)."""
    import httpx
    import uvicorn

    from vigil.clock import FixedClock
    from vigil.db import migrate
    from vigil.db.engine import make_engine, make_sessionmaker
    from vigil.identity.pool import HashPool
    from vigil.server import create_app
    from vigil.settings import Settings

    tmp = Path(tempfile.mkdtemp())
    url = f"sqlite:///{tmp / 'vigil.db'}"
    migrate.upgrade(url)
    clock = FixedClock(datetime(2022, 7, 1, 9, 0, tzinfo=UTC))
    app = create_app(
        Settings(data_dir=tmp, database_url=url),
        clock,
        make_sessionmaker(make_engine(url)),
        surface_source=lambda: None,
    )
    ctx = app.state.ctx
    user = ctx.identity.create_user("analyst", "benchmark pass phrase", "analyst")
    headers = {"Authorization": f"Bearer {ctx.identity.issue_token(user, 'bench')}"}
    if pool_workers is not None:
        ctx.signin_pool = HashPool(pool_workers, queue=queue)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    csrf = httpx.get(f"{base}/login").cookies["vigil_login_csrf"]
    # the attackers run in another process, as they would on other machines: they share the
    # CPUs with the server (the machine has 2) but not its interpreter lock
    mp = multiprocessing.get_context("spawn")
    stop = mp.Event()
    by_status = mp.Array("i", 6)  # answers by status class: index 4 = 4xx, 5 = 5xx
    attackers_proc = None
    if attackers:
        attackers_proc = mp.Process(target=_attack, args=(base, csrf, attackers, stop, by_status))
        attackers_proc.start()
        time.sleep(3)
    times = []
    with httpx.Client(timeout=120) as c:
        for _ in range(probes):
            t0 = time.perf_counter()
            r = c.get(f"{base}/api/me", headers=headers)
            times.append(time.perf_counter() - t0)
            assert r.status_code == 200, r.text
    stop.set()
    if attackers_proc is not None:
        attackers_proc.join(180)
    server.should_exit = True
    thread.join(10)
    return 1000 * statistics.median(times), by_status[4], by_status[5]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--attackers", type=int, default=30)
    parser.add_argument("--probes", type=int, default=40)
    args = parser.parse_args(argv)
    from vigil.identity.pool import default_workers
    from vigil.identity.throttle import ADDRESS_RULE

    # the attackers share 127.0.0.1: lift the address rule so every attempt is hashed
    object.__setattr__(ADDRESS_RULE, "free", 10**9)
    object.__setattr__(ADDRESS_RULE, "lockout_after", 10**9)
    idle, _, _ = _run(None, 16, 0, args.probes)
    base, base_4, base_5 = _run(40, 0, args.attackers, args.probes)
    ours, ours_4, ours_5 = _run(None, 16, args.attackers, args.probes)
    idle2, _, _ = _run(None, 16, 0, args.probes)
    quiet = statistics.median([idle, idle2])
    load = os.getloadavg()[0]
    version = code_version(("src/vigil/identity", "src/vigil/api", "src/vigil/web"))
    lines = [
        "## Sign-in under attack",
        "",
        f"`python benchmarks/bench_signin.py --attackers {args.attackers} --probes "
        f"{args.probes}` ({version}). Median latency of another user's `GET /api/me` "
        f"(uvicorn, loopback, SQLite, real argon2) while {args.attackers} threads of another "
        "process send failing sign-ins without pause. The quiet baseline is the median of a run "
        "before and a run after the attacks, in the same invocation "
        f"({idle:.1f} and {idle2:.1f} ms; 1-minute load average {load:.1f} at the end).",
        "",
        "| run | median ms | x quiet | attackers' sign-ins refused (4xx) | turned away (503) |",
        "|---|---:|---:|---:|---:|",
        f"| quiet, no attack | {quiet:.1f} | 1.0 | - | - |",
        f"| baseline: checks on a 40-thread pool (as before) | {base:.1f} | {base / quiet:.1f} "
        f"| {base_4} | {base_5} |",
        f"| bounded sign-in pool ({default_workers()} workers, queue 16, 503 beyond) | "
        f"{ours:.1f} | {ours / quiet:.1f} | {ours_4} | {ours_5} |",
        "",
        "Measured on the shared 2-core machine: absolute times move with its load, ratios less so.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("signin", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
