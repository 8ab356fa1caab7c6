"""Case page cost by the number of logged reads, this tree against a base commit, in one run.

Why: the case page pages its audit trail (decisions only, reads counted) so that it does not grow
with its views; it must not pay for that with a fixed cost at zero reads (issue 11). Each tree is
measured in its own subprocess (its own ``src`` and ``tests`` first on the path; the base is a
``git worktree`` of the commit, removed afterwards): the app of tests/api/conftest.py on SQLite
over the real July 2022 forecast, GET /cases/N as oversight through TestClient, median of
``--views`` at 0 and 500 logged reads (``case.read`` entries written through CaseService).

    nice -n 10 python benchmarks/bench_case_page.py --base b9b6c87 --views 15
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READS = (0, 500)


def measure_here(views: int) -> dict[str, object]:
    """Run inside the tree under test (cwd = its root): medians by reads logged."""
    sys.path.insert(0, os.getcwd())
    from fastapi.testclient import TestClient
    from tests.api import _fixtures
    from tests.api.conftest import browser_login, build_app, open_case

    app, clock, tokens = build_app(Path(tempfile.mkdtemp()), _fixtures.surface())
    cid = open_case(TestClient(app), tokens, clock, hours=9)["id"]
    reader = browser_login(app, "oversight")
    ctx = app.state.ctx
    analyst = {u.username: u for u in ctx.identity.list_users()}["analyst"].actor()
    out: dict[str, object] = {}
    done = 0
    for target in READS:
        for _ in range(target - done):
            ctx.cases.get_case(analyst, cid, purpose="bench")
        done = target
        reader.get(f"/cases/{cid}", headers={"Accept": "text/html"})  # warm
        times, size = [], 0
        for _ in range(views):
            start = time.perf_counter()
            page = reader.get(f"/cases/{cid}", headers={"Accept": "text/html"})
            times.append(time.perf_counter() - start)
            assert page.status_code == 200, page.status_code
            size = len(page.content)
        out[str(target)] = {"median_ms": statistics.median(times) * 1000, "bytes": size}
    return out


def _run(tree: Path, views: int) -> dict[str, object]:
    from vigil.settings import shared_data_dir

    # a fresh worktree has no shared/ link: both trees read the same data
    env = {
        **os.environ,
        "PYTHONPATH": str(tree / "src"),
        "VIGIL_SHARED_DATA": str(shared_data_dir()),
    }
    # the child's stderr passes through: a failure shows its traceback and stops the run
    out = subprocess.check_output(
        [sys.executable, str(Path(__file__).resolve()), "--child", "--views", str(views)],
        cwd=tree,
        env=env,
        text=True,
    )
    return json.loads(out.strip().splitlines()[-1])


def _measure_commit(commit: str, views: int) -> dict[str, object]:
    """Measure ``commit`` from a temporary worktree (removed afterwards)."""
    from vigil.settings import shared_data_dir

    worktree = Path(tempfile.mkdtemp()) / "base"
    subprocess.run(["git", "worktree", "add", "-q", "--detach", str(worktree), commit], cwd=ROOT)
    (worktree / "shared").symlink_to(shared_data_dir().parent)  # as in every checkout
    try:
        return _run(worktree, views)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=ROOT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", nargs="+", default=["main"], help="commits to compare against")
    ap.add_argument("--views", type=int, default=15)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure_here(args.views)))
        return
    from readme_section import code_version, publish

    shas = [
        subprocess.run(
            ["git", "rev-parse", "--short", b], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        for b in args.base
    ]
    runs = {sha: _measure_commit(sha, args.views) for sha in shas}
    runs["this"] = _run(ROOT, args.views)
    version = code_version(("src/vigil",))
    lines = [
        "## Case page by logged reads (bench_case_page.py)",
        "",
        f"`nice -n 10 python benchmarks/bench_case_page.py --base {' '.join(args.base)}"
        f" --views {args.views}` (this: {version}; against {', '.join(shas)} in the same run;"
        " SQLite, TestClient, GET /cases/N as oversight, median ms of"
        f" {args.views} views, page bytes; load average {os.getloadavg()[0]:.1f} on 2 shared"
        " cores: whole-page medians move by 20 % between runs here).",
        "",
        "| reads logged | "
        + " | ".join(f"{k} ms" for k in runs)
        + " | "
        + " | ".join(f"this / {k}" for k in shas)
        + " | bytes (this) |",
        "|---:|" + "---:|" * (len(runs) + len(shas) + 1),
    ]
    for n in map(str, READS):
        ms = {k: float(v[n]["median_ms"]) for k, v in runs.items()}  # type: ignore[index]
        lines.append(
            f"| {n} | "
            + " | ".join(f"{m:.1f}" for m in ms.values())
            + " | "
            + " | ".join(f"{ms['this'] / ms[k]:.2f}" for k in shas)
            + f" | {runs['this'][n]['bytes']} |"  # type: ignore[index]
        )
    publish("case_page", {"this": version, "views": args.views, "by_reads": runs}, "\n".join(lines))


if __name__ == "__main__":
    main()
