"""The direction of dependency, enforced.

docs/ARCHITECTURE.md draws Vigil as layers: the pure library at the bottom, the domain over the
database, the application layer of use cases, and the shells (API, web pages, command line) on
top. A package may import its own layer or the layers below it, never one above, and the shells
never import one another. This test reads every ``import`` of ``src/vigil`` (lazy imports inside
functions included: a cycle hidden in a function body is still a cycle) and fails naming the
file, the line and the rule broken, so the picture cannot silently rot.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "vigil"

#: lowest first. A package may import packages of its own row only where ``SIBLINGS`` says so.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors",),  # the one exception hierarchy
    ("clock", "roles", "settings", "localtime", "pdf", "lru"),  # core: time, roles, settings, PDFs
    ("geo",),
    ("data",),
    ("forecast",),
    ("evaluate",),  # the pure library ends here: no database, no web
    ("db",),
    ("audit",),
    ("identity",),  # accounts, sign-in defences, tokens (they write to the audit log)
    ("cases",),
    ("impact",),
    ("outcomes",),
    ("reports",),
    ("app",),  # use cases over the domain: what every shell calls
    ("http",),  # HTTP plumbing shared by the API and the pages: identity, errors, middleware
    ("api", "web", "commands"),  # the shells: thin, and never calling one another
    ("server", "demo", "season", "cli", "__init__", "__main__"),  # composition and entry points
)

#: packages of one row that may import one another (none: each shell stands alone)
SIBLINGS: frozenset[tuple[str, str]] = frozenset()

#: modules that belong to another layer than their folder's. The account store still lives in
#: db/identity.py beside its tables, but it writes account events to the audit log, so it is
#: part of the identity layer (above audit); nothing in db imports it.
MODULE_LAYER: dict[str, str] = {"db.identity": "identity"}


def _layer_of(dotted: str) -> str:
    """The layer of a module given by its dotted path below ``vigil``."""
    for prefix, layer in MODULE_LAYER.items():
        if dotted == prefix or dotted.startswith(prefix + "."):
            return layer
    return dotted.split(".")[0]


@dataclass(frozen=True)
class Breach:
    file: str
    line: int
    importer: str
    imported: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.importer} imports {self.imported}"


def _rank() -> dict[str, int]:
    return {pkg: i for i, row in enumerate(LAYERS) for pkg in row}


def _imported_packages(tree: ast.AST, package: str, module_parts: tuple[str, ...]):
    """(line, top-level vigil package) for every import in a module, relative ones resolved."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "vigil" and len(parts) > 1:
                    yield node.lineno, ".".join(parts[1:])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module_parts[: len(module_parts) - node.level]
                parts = [*base, *(node.module or "").split(".")] if node.module else list(base)
                parts = [p for p in parts if p]
                if parts:
                    yield node.lineno, ".".join(parts)
                elif node.level and not base:
                    for alias in node.names:
                        yield node.lineno, alias.name
            elif node.module and node.module.split(".")[0] == "vigil":
                parts = node.module.split(".")
                if len(parts) > 1:
                    yield node.lineno, ".".join(parts[1:])
                else:  # from vigil import x
                    for alias in node.names:
                        yield node.lineno, alias.name


def breaches(root: Path) -> list[Breach]:
    """Every import in the tree under ``root`` (a ``vigil`` package) that points upwards or
    sideways between shells, or names a package the layer table does not know."""
    rank = _rank()
    found: list[Breach] = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        module_parts = rel.with_suffix("").parts
        if module_parts[-1] == "__init__":
            module_parts = module_parts[:-1]
        package = _layer_of(".".join(module_parts)) if module_parts else "__init__"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, dotted in _imported_packages(tree, package, module_parts):
            target = _layer_of(dotted)
            if target == package:
                continue
            if package not in rank or target not in rank:
                found.append(Breach(str(rel), line, package, f"{target} (not in LAYERS)"))
                continue
            upward = rank[target] > rank[package]
            sideways = rank[target] == rank[package] and (package, target) not in SIBLINGS
            if upward or sideways:
                found.append(Breach(str(rel), line, package, target))
    return found


def test_every_import_points_down() -> None:
    found = breaches(SRC)
    assert not found, "imports against the layering (docs/ARCHITECTURE.md):\n" + "\n".join(
        map(str, found)
    )


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "vigil"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # the domain reaching up into a shell, lazily inside a function
        (
            {"cases/workflow.py": "def f():\n    from vigil.api.deps import Require\n"},
            ("cases", "api"),
        ),
        # the library importing the database
        ({"forecast/base.py": "import vigil.db.engine\n"}, ("forecast", "db")),
        # one shell calling another
        ({"web/pages.py": "from vigil.api.routers import cases\n"}, ("web", "api")),
        # a relative import climbing out of its package
        ({"geo/grid.py": "from ..cases import policy\n"}, ("geo", "cases")),
    ],
)
def test_a_wrong_import_is_caught(tmp_path: Path, files: dict[str, str], expected) -> None:
    found = breaches(_tree(tmp_path, files))
    assert [(b.importer, b.imported) for b in found] == [expected]
    assert str(found[0]).startswith(next(iter(files)))


def test_imports_downwards_and_within_a_package_pass(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "cases/workflow.py": "from vigil.cases import policy\nfrom vigil.db import cases\n",
            "api/routers/cases.py": "from vigil.app import context\nfrom .. import deps\n",
            "cli.py": "from vigil.commands import case\n",
        },
    )
    assert breaches(root) == []
