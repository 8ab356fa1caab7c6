"""Every module that logs has its own logger, named for the module (``vigil.<package>.<module>``),
so an operator can raise or silence one part; ``configure_logging`` alone names the package's
root logger, to attach the JSON handler below it."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"
CONFIGURES_THE_ROOT = {"http/observability.py"}


def _named_loggers(path: Path) -> list[tuple[int, str]]:
    """(line, source) of each ``getLogger(...)`` call not given ``__name__``."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "getLogger":
            args = node.args
            if not (len(args) == 1 and isinstance(args[0], ast.Name) and args[0].id == "__name__"):
                out.append((node.lineno, ast.unparse(node)))
    return out


def test_every_logger_is_named_for_its_module() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC).as_posix()
        for line, call in _named_loggers(path):
            if rel in CONFIGURES_THE_ROOT and call == "logging.getLogger('vigil')":
                continue
            wrong.append(f"src/vigil/{rel}:{line}: {call}")
    assert wrong == [], "use logging.getLogger(__name__):\n" + "\n".join(wrong)


def test_the_check_catches_a_logger_named_by_hand(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('import logging\nlog = logging.getLogger("vigil.jobs")\n')
    assert _named_loggers(bad) == [(2, "logging.getLogger('vigil.jobs')")]
