"""Replace one marked section of benchmarks/README.md, leaving every other part alone.

Several benchmark scripts write into the same README; each owns the text between its
``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers (appended at the end the first time).
"""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parent / "README.md"


def write_section(name: str, markdown: str, readme: Path = README) -> None:
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    readme.write_text(text)


def code_version(
    paths: tuple[str, ...] = (
        "src/vigil/evaluate",
        "src/vigil/forecast",
        "src/vigil/data",
        "src/vigil/geo",
    ),
) -> str:
    """The commit measured, and whether the measured code differed from it."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, cwd=README.parent
        ).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", *[str(README.parent.parent / p) for p in paths])
    return f"commit {head}" + (" plus uncommitted changes" if dirty else "")


def publish(name: str, result: dict, markdown: str) -> None:
    """Print ``markdown``, keep ``result`` as benchmarks/results/NAME.json and put the text in
    the README section NAME: what every benchmark does with what it measured."""
    import json

    print(markdown)
    out = README.parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(result, indent=1, default=str))
    write_section(name, markdown)
