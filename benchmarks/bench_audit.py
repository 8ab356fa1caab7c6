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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=20000)
    ap.add_argument("--appends", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--pg-url", default=None)
    args = ap.parse_args()
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
