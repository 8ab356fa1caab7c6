"""A disk cache of tables parsed from large source files, shared by every process on a machine.

Parsing the bundled London files takes tens of seconds (849,170 street crimes through the
mapped-CSV reader, eleven stop-and-search files, two spreadsheet sheets), and each process paid
it again: every server worker before its first community impact assessment, every test worker.
A parsed table is written once as Parquet under the cache folder and read back in about a second.

A cached table is only ever the table the code would build now: its file name carries a digest
of each source file's path, size and modification time, and of the code that parses it (every
file of the packages named, by its path inside the package), so a changed source or a changed
reader builds afresh, and another checkout of the same code finds the same table. One process
builds while the others wait on a lock, then read its result; a cache folder that cannot be
written just means building in memory, as before.

``VIGIL_CACHE_DIR`` names the folder (default ``$XDG_CACHE_HOME/vigil`` or ``~/.cache/vigil``);
set it empty to switch the cache off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import pandas as pd

log = logging.getLogger(__name__)

CACHE_ENV = "VIGIL_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder, or None when switched off (``VIGIL_CACHE_DIR`` set empty)."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return Path(env) if env.strip() else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vigil"


#: versions of a table kept side by side (the newest used first): checkouts of different code
#: on one machine (a branch, main) each find theirs instead of rebuilding over one another
KEEP = 4


@lru_cache(maxsize=32)
def _files_digest(files: tuple[tuple[str, str], ...]) -> str:
    h = hashlib.sha256()
    for name, path in files:
        h.update(name.encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()


def _package_root(module: ModuleType) -> Path:
    """The folder the module's top-level package sits in (``src`` for ``vigil.data``)."""
    path = Path(str(module.__file__)).resolve()
    depth = module.__name__.count(".") + (path.name == "__init__.py")
    return path.parents[depth]


def code_digest(*code: ModuleType) -> str:
    """A digest of the code that builds a table: each module's file, or every ``.py`` and
    ``.yaml`` file of a package (its readers, mappings and taxonomy alike), and pandas' version.

    Files are named by their path inside the package (``vigil/data/readers.py``), not where
    the checkout lies, so two checkouts of the same code share one cached table."""
    files: set[tuple[str, str]] = set()
    for module in code:
        root = _package_root(module)
        path = Path(str(module.__file__)).resolve()
        found = (
            [p for ext in ("*.py", "*.yaml") for p in path.parent.rglob(ext)]
            if path.name == "__init__.py"
            else [path]
        )
        files.update((p.relative_to(root).as_posix(), str(p)) for p in found)
    return _files_digest(tuple(sorted(files))) + pd.__version__


def _key(name: str, sources: Sequence[Path], code: Sequence[ModuleType]) -> str:
    stats = []
    for src in sources:
        st = src.stat()
        stats.append([str(src.resolve()), st.st_size, st.st_mtime_ns])
    text = json.dumps([name, stats, code_digest(*code)])
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _read(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # a torn or foreign file: build again and replace it
        log.warning("cached table %s unreadable (%s); building it again", path.name, exc)
        return None


def cached_table(
    name: str,
    sources: Sequence[Path],
    build: Callable[[], pd.DataFrame],
    *,
    code: Sequence[ModuleType],
) -> pd.DataFrame:
    """``build()``, or the table it gave before for the same ``sources`` and ``code``.

    ``name`` names the table in the cache folder (when a new version is written, all but the
    ``KEEP`` most recently used are removed); ``sources`` are the files it is parsed from;
    ``code`` the modules or packages whose change must rebuild it.
    """
    root = cache_dir()
    if root is None:
        return build()
    path = root / f"{name}-{_key(name, sources, code)}.parquet"
    found = _read(path)
    if found is not None:
        with suppress(OSError):
            os.utime(path)  # recently used: the last to be pruned
        return found
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = open(root / f"{name}.lock", "a")  # noqa: SIM115 (held across the build)
    except OSError:
        return build()
    with lock:
        _exclusive(lock)
        found = _read(path)  # another process may have built it while this one waited
        if found is not None:
            return found
        table = build()
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            table.to_parquet(tmp)
            os.replace(tmp, path)
        except (OSError, ValueError, TypeError) as exc:
            log.warning("table %s not cached (%s)", name, exc)
            tmp.unlink(missing_ok=True)
            return table
        _prune(root, name)
    return table


def _prune(root: Path, name: str) -> None:
    """Remove all but the ``KEEP`` most recently used versions of the table ``name``."""
    versions = []
    for found in root.glob(f"{name}-*.parquet"):
        with suppress(OSError):
            versions.append((found.stat().st_mtime_ns, found))
    for _, old in sorted(versions, reverse=True)[KEEP:]:
        with suppress(OSError):
            old.unlink()


def _exclusive(lock: object) -> None:
    """Hold an exclusive lock on the open file until it is closed (POSIX; elsewhere none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: builds may then race, harmlessly
        return
    fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # type: ignore[attr-defined]
