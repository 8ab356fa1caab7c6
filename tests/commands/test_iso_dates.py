"""Dates typed on the command line are ISO only: 12/01/2022 is 12 January to a Londoner and
1 December to pandas, and `vigil forecast --at 12/01/2022` used to be read as the latter."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from vigil.cli import app
from vigil.errors import VigilError

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["forecast", "--model", "naive", "--at", "12/01/2022"],
        ["report", "public", "--quarter", "2022Q3", "--at", "12/01/2022"],
        ["impact", "fairness", "--since", "12/01/2022", "--until", "2022-08-01"],
    ],
)
def test_ambiguous_dates_are_refused_with_an_example(args, tmp_path, monkeypatch):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    res = runner.invoke(app, args)
    assert isinstance(res.exception, VigilError), res.output
    message = str(res.exception)
    assert "'12/01/2022' is not an ISO date" in message
    assert "2022-01-12" in message and "2022-12-01" in message  # both readings, spelled out
    assert "--at" in message or "--since" in message  # says which option
