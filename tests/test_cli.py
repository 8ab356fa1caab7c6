"""The `vigil` entry point reaches every group and top-level command.

The entry point builds only the group being run (to keep start-up fast); a root holding a single
command must still accept that command's name (`vigil serve` once failed this way).
"""

from __future__ import annotations

import sys

import pytest

from vigil import cli


@pytest.mark.parametrize("name", sorted({*cli.GROUPS, *cli.TOP_LEVEL}))
def test_entry_point_reaches_each_command(name, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["vigil", name, "--help"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code == 0
    assert f"vigil {name}" in capsys.readouterr().out


def test_full_app_lists_every_command():
    import typer

    group = typer.main.get_command(cli.app)
    assert set(group.commands) == {*cli.GROUPS, *cli.TOP_LEVEL}  # type: ignore[attr-defined]


def test_unknown_command_is_refused(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["vigil", "deploy-everywhere"])
    with pytest.raises(SystemExit) as stop:
        cli.main()
    assert stop.value.code != 0
