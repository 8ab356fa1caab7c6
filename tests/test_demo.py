"""The first run (issue 12): the demo created no cases, so every oversight view and the README's
report examples were empty; with --no-serve it still told people to sign in; its passwords were
called one-time. The tests run the real `vigil` commands, as the demo does, on fresh data dirs:
one run of the demo itself (``demo_run``) serves the season and the --no-serve tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.api import _fixtures
from vigil.demo import SEASON_FORECAST

ENV_DROP = ("VIGIL_DATABASE_URL", "VIGIL_TOKEN", "VIGIL_USERNAME")
#: the demo's steps the tests run (by command): the database, the accounts, the season and the
#: statistics PDF; not the London import and the forecasts (the season's evidence is written
#: where the demo's July forecast step writes it), nor `audit verify` and serving
DEMO_STEPS = ("db", "users", "demo", "report")


def vigil(data: Path, *args: str, stdin: str | None = None, **env: str) -> str:
    """``vigil ARGS`` in a fresh process over the data dir ``data``; its output (fails loudly)."""
    full = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    full.update(VIGIL_DATA_DIR=str(data), **env)
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", *args],
        env=full,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"vigil {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


def passwords(output: str) -> dict[str, str]:
    """username -> password from `vigil users demo`'s table."""
    rows = [ln.split() for ln in output.splitlines()[1:]]
    return {r[0]: r[-1] for r in rows if len(r) >= 5}


def step_output(demo_out: str, command: str) -> str:
    """What the demo printed for its step `vigil COMMAND ...` (from the line after the step's
    ``=== title: vigil COMMAND`` header to the next header)."""
    lines = demo_out.splitlines()
    start = next(
        i for i, ln in enumerate(lines) if ln.startswith("=== ") and f": vigil {command}" in ln
    )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("=== ")), len(lines))
    return "\n".join(lines[start + 1 : end])


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`python -m vigil.demo --no-serve` over a fresh data dir, with the steps of DEMO_STEPS:
    the demo accounts and the demo's season seeded on a real forecast (the web tests' one:
    NaiveCounts over January-June 2022, predicting July). The data dir and the demo's output."""
    data = tmp_path_factory.mktemp("demo") / "data"
    forecast = Path(SEASON_FORECAST.replace("{data}", str(data)) + ".json")
    forecast.parent.mkdir(parents=True)
    forecast.write_text(json.dumps(_fixtures.surface().to_dict()))
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env["VIGIL_DATA_DIR"] = str(data)
    code = (
        "import sys, vigil.demo as d\n"
        f"d.STEPS = [s for s in d.STEPS if s[1][0] in {DEMO_STEPS!r}]\n"
        "sys.exit(d.main(['--no-serve']))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return data, done.stdout


def test_demo_season_fills_the_oversight_report(demo_run, tmp_path):
    data, demo_out = demo_run
    out = step_output(demo_out, "demo season")
    accounts = passwords(step_output(demo_out, "users demo"))
    states = {ln.split()[0]: re.findall(r"#(\d+)", ln) for ln in out.splitlines() if "#" in ln}
    # two rounds of the plan: several cases in most states (an earlier round's live ones have
    # ended by the end of the season), one live deployment
    for state in ("closed", "debriefed", "expired", "cancelled", "refused", "withdrawn", "draft"):
        assert len(states.get(state, [])) >= 2, f"not several {state} cases: {out}"
    assert len(states["active"]) == 1
    assert sorted(states["evaluated"]) == sorted(states["closed"] + states["debriefed"])
    # the README's example, signed in as the oversight account with its printed password
    html = tmp_path / "oversight.html"
    report = vigil(
        data,
        "report",
        "oversight",
        "--quarter",
        "2022Q3",
        "--html",
        str(html),
        "--user",
        "oversight",
        stdin=accounts["oversight"] + "\n",
    )
    text = html.read_text()
    # every authorised case is listed (the live one has expired by today); each round put six
    # deployments on the ground (two closed, debriefed, expired, cancelled, active)
    listed = ("closed", "debriefed", "expired", "cancelled", "active")
    for cid in [i for s in listed for i in states[s]]:
        assert f"#{cid}" in text
    assert "deployments: 12" in report
    assert f"evaluated: {len(states['evaluated'])}" in report
    # run twice, seeded once
    forecast = SEASON_FORECAST.replace("{data}", str(data)) + ".json"
    again = vigil(data, "demo", "season", "--forecast", forecast)
    assert "already holds cases" in again


def test_demo_season_outside_the_checkout_says_where_the_data_are_missing(tmp_path):
    """Run from elsewhere, the shared data are not found: the season said "no forecast area of
    naive lies in Westminster"; it names the missing boundaries and what to do."""
    data = tmp_path / "data"
    forecast = tmp_path / "forecast.json"
    forecast.write_text(json.dumps(_fixtures.surface().to_dict()))
    vigil(data, "users", "demo")
    env = {k: v for k, v in os.environ.items() if k not in (*ENV_DROP, "VIGIL_SHARED_DATA")}
    env["VIGIL_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-m", "vigil.cli", "demo", "season", "--forecast", str(forecast)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no London borough boundaries" in done.stderr + done.stdout
    assert "VIGIL_SHARED_DATA" in done.stderr + done.stdout


def test_demo_without_serving_names_no_sign_in_and_keeps_files_in_the_data_dir(demo_run):
    """`python -m vigil.demo --no-serve` (the steps after the import): no sign-in URL, no
    "one-time" passwords, the PDF under VIGIL_DATA_DIR."""
    data, out = demo_run
    assert "vigil users demo" in out and "vigil report stats" in out
    assert "http" not in out and "sign in" not in out.lower()
    assert "one-time" not in out
    assert (data / "stats-2022.pdf").read_bytes()[:5] == b"%PDF-"
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "one-time" not in readme
