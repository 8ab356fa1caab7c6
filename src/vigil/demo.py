"""The demo the README's first command runs: each step is a real `vigil` command.

The demo runs on the embedded defaults (DuckDB/Parquet store, SQLite case database) under
``VIGIL_DATA_DIR``; it stops at the first failing step with that step's exit status.

Among its steps, ``vigil demo season`` (:mod:`vigil.season`) seeds a past season of cases through
the real workflow by the demo accounts, so the case list, the inbox, the oversight dashboard and
the reports have something true to show at first sign-in (issue 12: the demo created no cases).
"""

from __future__ import annotations

import os
import subprocess
import sys

#: the evidence of the demo season's cases: a forecast made for July 2022
SEASON_FORECAST = "{data}/season/forecast-2022-07"


def _forecast(at: str, *more: str) -> list[str]:
    """`vigil forecast` for the month from ``at``: the default model on 250 m cells."""
    args = ["forecast", "--cell", "250", "--horizon", "1M", "--at", at]
    return [*args, "--dataset", "met-street-2022", *more]


STEPS: list[tuple[str, list[str]]] = [
    ("Import London 2022 street crime", ["data", "import-demo"]),
    ("Summarise the store", ["data", "summary"]),
    (
        "Forecast serious violence in London for December 2022 (default model, 250 m cells)",
        _forecast("2022-12-01"),
    ),
    (
        "Community impact indicators for Coldharbour ward, Lambeth",
        ["impact", "indicators", "--ward", "E05000420"],
    ),
    ("Create or upgrade the case database", ["db", "upgrade"]),
    ("Demo accounts, one per role (passwords printed once, new on every run)", ["users", "demo"]),
    (
        "Forecast for July 2022: the evidence the demo season's cases freeze",
        _forecast("2022-07-01", "--out", SEASON_FORECAST),
    ),
    (
        "A past season of cases (July-September 2022), every step by the account whose job it is",
        ["demo", "season", "--forecast", SEASON_FORECAST + ".json"],
    ),
    ("Check the audit log", ["audit", "verify"]),
    (
        "Force-wide statistics 2022: serious violence, knife crime, homicide by borough",
        ["report", "stats", "--year", "2022", "--pdf", "{data}/stats-2022.pdf"],
    ),
]


#: the last step: serve the web app (skipped with --no-serve, e.g. in CI-like runs)
SERVE_STEPS: list[tuple[str, list[str]]] = [
    ("Serve the web app at http://127.0.0.1:8000 (Ctrl-C to stop)", ["serve"]),
]


def main(argv: list[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else argv
    unknown = [a for a in args_in if a != "--no-serve"]
    if unknown:
        print(f"usage: python -m vigil.demo [--no-serve]; unknown: {' '.join(unknown)}")
        return 2
    steps = list(STEPS) + SERVE_STEPS
    if "--no-serve" in args_in:
        steps = [s for s in steps if s[1] != ["serve"]]
    serving = "--no-serve" not in args_in
    data = os.environ.get("VIGIL_DATA_DIR") or "vigil-data"  # files stay under the data dir
    for title, template in steps:
        args = [a.replace("{data}", data) for a in template]
        print(f"\n=== {title}: vigil {' '.join(args)}", flush=True)
        if serving:
            rc = subprocess.call([sys.executable, "-m", "vigil.cli", *args])
        else:  # nothing will be served: do not tell anyone to sign in to it
            done = subprocess.run(
                [sys.executable, "-m", "vigil.cli", *args], capture_output=True, text=True
            )
            for line in done.stdout.splitlines():
                if "sign in at http" not in line:
                    print(line)
            sys.stderr.write(done.stderr)
            rc = done.returncode
        if rc != 0:
            print(f"demo step failed: vigil {' '.join(args)} (exit {rc})", file=sys.stderr)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())
