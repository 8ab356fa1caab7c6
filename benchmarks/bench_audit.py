"""Audit log speed: appending hash-chained entries and verifying the chain (SQLite; PostgreSQL
with --pg-url). Writes the "audit" section of benchmarks/README.md.

Targets (one force's case database):
- verify >= 10,000 entries/s, so a year of audited reads and changes (~1M entries) verifies in
  under 2 minutes;
- one audited change (its own transaction) costs at most 3x a plain INSERT in its own
  transaction (the baseline), i.e. the chain head lock and hash are not the bottleneck.

Baselines run in the same script on the same database engine: the same one-row transaction
(same session machinery) into an unchained table, so the ratio is the cost of the chain itself
(head row lock, hash, two more statements); and hashing the same payloads in memory.

Run: python benchmarks/bench_audit.py [--entries 20000] [--appends 1000] [--pg-url URL]

``--compare REV`` (issue 10's "no worse than 20 %" check) measures, on PostgreSQL, the audited
append and a case-page view (``GET /cases/{id}`` through the ASGI app) of the code at git
revision REV (checked out into a temporary worktree) and of this checkout, interleaved in the
same run, each in a fresh process on a fresh database; it writes the "audit-compare" section.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from readme_section import write_section  # noqa: E402

from vigil.audit.canonical import canonical_json  # noqa: E402
from vigil.audit.log import Category, append, entry_payload  # noqa: E402
from vigil.audit.verify import verify_chain  # noqa: E402
from vigil.db.audit import AuditEntry  # noqa: E402
from vigil.db.engine import make_engine, make_sessionmaker  # noqa: E402
from vigil.db.migrate import upgrade  # noqa: E402
from vigil.roles import Actor, Role  # noqa: E402

ACTOR = Actor("u-bench", Role.OVERSIGHT)
T0 = datetime(2022, 7, 1, tzinfo=UTC)


def bench(url: str, entries: int, appends: int, repeats: int) -> dict[str, float]:
    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_plain (id INTEGER PRIMARY KEY, at VARCHAR(40), "
            "actor_id VARCHAR(128), action VARCHAR(64), detail TEXT)"
        )

    # appends, one transaction each (an audited read), vs plain inserts one per transaction
    def chained(n: int, offset: int) -> float:
        t = time.perf_counter()
        for i in range(n):
            with sf() as s, s.begin():
                append(
                    s,
                    actor=ACTOR,
                    action="case.read",
                    category=Category.CONSULTATION,
                    at=T0 + timedelta(seconds=offset + i),
                    case_id=1 + i % 50,
                    detail={"i": offset + i},
                )
        return time.perf_counter() - t

    def plain(n: int, offset: int) -> float:
        t = time.perf_counter()
        for i in range(n):
            with sf() as conn, conn.begin():
                conn.execute(
                    sa.text(
                        "INSERT INTO bench_plain (id, at, actor_id, action, detail) "
                        "VALUES (:id, :at, :a, 'case.read', :d)"
                    ),
                    {"id": offset + i, "at": str(T0), "a": ACTOR.user_id, "d": f'{{"i":{i}}}'},
                )
        return time.perf_counter() - t

    chain_t, plain_t = [], []
    for r in range(repeats):
        chain_t.append(chained(appends, r * appends) / appends)
        plain_t.append(plain(appends, r * appends) / appends)

    # grow the log to `entries` in batches (same chain, fewer commits), then verify
    done = appends * repeats
    while done < entries:
        batch = min(1000, entries - done)
        with sf() as s, s.begin():
            for i in range(batch):
                append(
                    s,
                    actor=ACTOR,
                    action="case.read",
                    category=Category.CONSULTATION,
                    at=T0 + timedelta(seconds=done + i),
                    case_id=1,
                    detail={"i": done + i},
                )
        done += batch

    verify_t, ok = [], True
    for _ in range(repeats):
        with sf() as s:
            t = time.perf_counter()
            report = verify_chain(s)
            verify_t.append(time.perf_counter() - t)
            ok = ok and report.ok and report.entries == done

    # baseline: hashing the same payloads in memory, no database
    with sf() as s:
        payloads = [canonical_json(entry_payload(e)) for e in s.query(AuditEntry)]
    hash_t = []
    for _ in range(repeats):
        t = time.perf_counter()
        for p in payloads:
            hashlib.sha256(p.encode()).hexdigest()
        hash_t.append(time.perf_counter() - t)
    engine.dispose()
    return {
        "entries": done,
        "append_ms": statistics.median(chain_t) * 1000,
        "plain_ms": statistics.median(plain_t) * 1000,
        "verify_s": statistics.median(verify_t),
        "hash_s": statistics.median(hash_t),
        "ok": float(ok),
    }


HEADER = (
    "| database | entries | verify s | verify entries/s (target >= 10,000) "
    "| baseline: hash only s | append ms | baseline: unchained insert ms "
    "| append / plain (target <= 3x) | chain ok |"
)


# ---------------------------------------------------------------- before/after comparison
AREA = "POLYGON((534200 176300,534600 176300,534600 176700,534200 176700,534200 176300))"


def measure_impl(url: str, appends: int, views: int) -> dict[str, float]:
    """Per-operation medians of the implementation importable as ``vigil`` (a child process
    runs this with PYTHONPATH pointing at the code measured): one audited append in its own
    transaction, and one case-page view through the ASGI app, on a fresh database."""
    from fastapi.testclient import TestClient

    from vigil.cases.service import CaseService

    try:  # today: the server assembles the app; at 913bb19 the API package did
        from vigil.server import create_app
    except ImportError:
        from vigil.api import create_app  # type: ignore[attr-defined,no-redef]
    from vigil.clock import FixedClock
    from vigil.roles import Rank
    from vigil.settings import Settings

    upgrade(url)
    engine = make_engine(url)
    sf = make_sessionmaker(engine)
    clock = FixedClock(T0)
    svc = CaseService(sf, clock, guardrail_check=lambda *a: [])
    case = svc.open_case(
        Actor("u-analyst", Role.ANALYST, Rank.NONE),
        trigger="reactive",
        area_wkt=AREA,
        window=(T0 + timedelta(hours=1), T0 + timedelta(hours=5)),
        resources="one crew",
        objectives="patrol after an assault",
        success_measures=["no repeat"],
    )

    def one_append(i: int) -> float:
        t = time.perf_counter()
        with sf() as s, s.begin():
            append(
                s,
                actor=ACTOR,
                action="case.read",
                category=Category.CONSULTATION,
                at=T0 + timedelta(seconds=i),
                case_id=case.id,
                detail={"i": i},
            )
        return time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            Settings(data_dir=Path(tmp), database_url=url), clock, sf, surface_source=lambda: None
        )
        ids = app.state.ctx.identity
        user = ids.create_user("oversight", "benchmark password 1", "oversight")
        headers = {
            "Authorization": f"Bearer {ids.issue_token(user, 'bench')}",
            "Accept": "text/html",
        }
        with TestClient(app) as client:

            def one_view() -> float:
                t = time.perf_counter()
                r = client.get(f"/cases/{case.id}", headers=headers)
                elapsed = time.perf_counter() - t
                assert r.status_code == 200, r.text[:300]
                return elapsed

            for i in range(20):  # warm up: templates, pool, caches
                one_append(-1 - i)
                one_view()
            append_t = [one_append(i) for i in range(appends)]
            view_t = [one_view() for _ in range(views)]
    with sf() as s:
        ok = verify_chain(s).ok
    engine.dispose()
    return {
        "append_ms": statistics.median(append_t) * 1000,
        "view_ms": statistics.median(view_t) * 1000,
        "ok": float(ok),
    }


def compare(rev: str, appends: int, views: int, rounds: int, pg_url: str | None) -> None:
    """Run :func:`measure_impl` for ``rev`` and for this checkout, alternately, ``rounds``
    times each, on fresh PostgreSQL databases; write medians and ratios to the README."""
    import json
    import os
    import subprocess

    repo = Path(__file__).resolve().parent.parent
    server = None
    if pg_url is None:
        sys.path.insert(0, str(repo))
        from tests.db.pg_server import start_server

        server = start_server()
    results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old), rev],
            cwd=repo,
            check=True,
            capture_output=True,
        )
        commit = subprocess.run(
            ["git", "rev-parse", "--short", rev], cwd=repo, capture_output=True, text=True
        ).stdout.strip()
        try:
            for r in range(rounds):
                for label, src in (("before", old / "src"), ("after", repo / "src")):
                    url = server.url_for(server.create_database()) if server else pg_url
                    env = {**os.environ, "PYTHONPATH": str(src)}
                    out = subprocess.run(
                        [
                            sys.executable,
                            __file__,
                            "--child",
                            url,
                            "--appends",
                            str(appends),
                            "--views",
                            str(views),
                        ],
                        env=env,
                        capture_output=True,
                        text=True,
                        check=False,
                    )
                    if out.returncode != 0:
                        raise SystemExit(f"{label} run failed:\n{out.stderr[-3000:]}")
                    res = json.loads(out.stdout.strip().splitlines()[-1])
                    results[label].append(res)
                    print(label, r, res, flush=True)
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(old)], cwd=repo, capture_output=True
            )
            if server is not None:
                server.stop()

    def med(label: str, key: str) -> float:
        return statistics.median(x[key] for x in results[label])

    rows = []
    for key, what in (
        ("append_ms", "audited append (own transaction)"),
        ("view_ms", "case page view"),
    ):
        b, a = med("before", key), med("after", key)
        ratio = a / b
        rows.append(
            f"| {what} | {b:.2f} | {a:.2f} | {ratio:.2f}x "
            f"({'met' if ratio <= 1.2 else '**not met**'}) |"
        )
    chains = "yes" if all(x["ok"] for v in results.values() for x in v) else "NO"
    per_round = "; ".join(
        f"{what} "
        + ", ".join(
            f"{a[key] / b[key]:.2f}x"
            for b, a in zip(results["before"], results["after"], strict=True)
        )
        for key, what in (("append_ms", "append"), ("view_ms", "page"))
    )
    results_file = repo / "benchmarks" / "results" / "audit_compare.json"
    results_file.write_text(json.dumps({"rev": commit, **results}, indent=1) + "\n")
    md = f"""## Audit log: before/after (issue 10, PostgreSQL)

Run: `python benchmarks/bench_audit.py --compare {rev}` (starts a private PostgreSQL 15 unless
`--pg-url` is given). Before = the code at commit {commit} (checked out into a temporary
worktree), after = this checkout; each round runs both in fresh processes on fresh databases,
alternately; medians over {rounds} rounds of per-operation medians ({appends} appends and {views}
case-page views per round, after a warm-up). Machine: 2 CPUs shared with other work while
measured (1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after: absolute
times are inflated by the load, the interleaved ratio much less). Target: after <= 1.2x before.
Chains verified after every run: {chains}. Per-round ratios (after / before): {per_round}.
Raw per-round medians: `benchmarks/results/audit_compare.json`.

| operation | before ms | after ms | after / before (target <= 1.20x) |
|---|---|---|---|
{chr(10).join(rows)}
"""
    print(md)
    write_section("audit-compare", md)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=20000)
    ap.add_argument("--appends", type=int, default=500)
    ap.add_argument("--views", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg-url", default=None)
    ap.add_argument("--compare", metavar="REV", default=None)
    ap.add_argument("--child", metavar="URL", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        import json

        print(json.dumps(measure_impl(args.child, args.appends, args.views)))
        return
    if args.compare:
        compare(args.compare, args.appends, args.views, args.repeats, args.pg_url)
        return
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite (file, WAL)", f"sqlite:///{tmp}/bench.db")]
        if args.pg_url:
            targets.append(("PostgreSQL 15", args.pg_url))
        for name, url in targets:
            r = bench(url, args.entries, args.appends, args.repeats)
            rate = r["entries"] / r["verify_s"]
            ratio = r["append_ms"] / r["plain_ms"]
            rows.append(
                f"| {name} | {int(r['entries']):,} | {r['verify_s']:.2f} | {rate:,.0f} "
                f"({'met' if rate >= 10000 else '**not met**'}) | {r['hash_s']:.3f} | "
                f"{r['append_ms']:.2f} | {r['plain_ms']:.2f} | {ratio:.2f}x "
                f"({'met' if ratio <= 3 else '**not met**'}) | {'yes' if r['ok'] else 'NO'} |"
            )
            print(rows[-1], flush=True)
    md = f"""## Audit log (hash chain)

Run: `python benchmarks/bench_audit.py` (add `--pg-url postgresql+psycopg://...` for
PostgreSQL). Medians of {args.repeats} runs; {args.appends} single-transaction appends per run.
Machine: 2 CPUs shared with other work while measured.

{HEADER}
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
"""
    write_section("audit", md)


if __name__ == "__main__":
    main()
