"""Sign-in under attack: another user's request while 30 failing sign-ins run (issue 10).

    python benchmarks/bench_signin.py           # 30 attackers, 40 probes, writes the README section

The real app is served by uvicorn on a loopback port (SQLite, real argon2 with argon2-cffi's
default cost). A probe is ``GET /api/me`` with a bearer token, the cheapest authenticated call,
sent one after another; latency is its median. Three runs in this script: idle (no attack);
the baseline, where sign-in checks run on a 40-thread pool as they did on the server's shared
thread pool before the fix; and the fix, the bounded sign-in pool (``signin_workers``, default
half the cores, queue 16, 503 beyond). Attackers each loop on wrong passwords for unknown
names from their own thread, so the per-address throttle (all come from 127.0.0.1) is reset
between runs and spread across addresses is not what is measured.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from readme_section import code_version, write_section  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(pool_workers: int | None, queue: int, attackers: int, probes: int) -> tuple[float, int]:
    """Median probe latency (ms) and how many sign-in attempts the attackers got answered."""
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
    stop = threading.Event()
    answered = [0]

    def attack(i: int) -> None:
        with httpx.Client(timeout=120) as c:
            n = 0
            while not stop.is_set():
                c.post(
                    f"{base}/login",
                    data={"username": f"x{i}-{n}", "password": "wrong guess", "csrf_token": csrf},
                    cookies={"vigil_login_csrf": csrf},
                )
                answered[0] += 1
                n += 1

    workers = [threading.Thread(target=attack, args=(i,), daemon=True) for i in range(attackers)]
    for w in workers:
        w.start()
    time.sleep(2 if attackers else 0)
    times = []
    with httpx.Client(timeout=120) as c:
        for _ in range(probes):
            t0 = time.perf_counter()
            c.get(f"{base}/api/me", headers=headers)
            times.append(time.perf_counter() - t0)
    stop.set()
    for w in workers:
        w.join(120)
    server.should_exit = True
    thread.join(10)
    return 1000 * statistics.median(times), answered[0]


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
    idle, _ = _run(None, 16, 0, args.probes)
    base, base_n = _run(40, 0, args.attackers, args.probes)
    ours, ours_n = _run(None, 16, args.attackers, args.probes)
    version = code_version(("src/vigil/identity", "src/vigil/api", "src/vigil/web"))
    lines = [
        "## Sign-in under attack",
        "",
        f"`python benchmarks/bench_signin.py --attackers {args.attackers} --probes "
        f"{args.probes}` ({version}). Median latency of another user's `GET /api/me` "
        f"(uvicorn, loopback, SQLite, real argon2) while {args.attackers} threads send "
        "failing sign-ins without pause.",
        "",
        "| run | median ms | x idle | sign-in attempts answered |",
        "|---|---:|---:|---:|",
        f"| idle, no attack | {idle:.1f} | 1.0 | - |",
        f"| baseline: checks on a 40-thread pool (as before) | {base:.1f} | {base / idle:.1f} "
        f"| {base_n} |",
        f"| bounded sign-in pool ({default_workers()} workers, queue 16, 503 beyond) | "
        f"{ours:.1f} | {ours / idle:.1f} | {ours_n} |",
        "",
        "Measured on the shared 2-core machine: absolute times move with its load, ratios less so.",
    ]
    text = "\n".join(lines)
    print(text)
    write_section("signin", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
