"""The version string has one home, ``vigil.__version__``: the package metadata reads it from
there (pyproject's dynamic version) and the API states it from there."""

from __future__ import annotations

import tomllib
from pathlib import Path

import vigil

ROOT = Path(__file__).resolve().parents[1]


def test_the_version_is_written_once() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vigil.__version__"}
    literal = f'"{vigil.__version__}"'
    restated = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "src" / "vigil").rglob("*.py")
        if literal in path.read_text() and path.name != "__init__.py"
    ]
    assert restated == []
