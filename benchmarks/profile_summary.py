"""The functions a py-spy profile spends its time in (``bench_load.py --profile DIR``).

    python benchmarks/profile_summary.py /tmp/prof/this.txt [--top 30] [--match vigil]

Reads py-spy's raw (collapsed) stacks, ``frame;frame;...;frame count`` per line, and prints each
function's *inclusive* share (samples with the function anywhere on the stack) and *self* share
(samples where it is the innermost frame), so that both a slow leaf (JSON encoding) and a slow
caller (a route handler's whole cost) show up.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

#: py-spy's frame label: ``function (file:line)``; the line is dropped so a function is one row
_FRAME = re.compile(r"^(?P<fn>.*?) \((?P<file>[^:()]*)(?::\d+)?\)$")


def _name(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    file = m["file"]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{m['fn']} ({file})"


def summarise(path: Path) -> tuple[int, Counter[str], Counter[str]]:
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_name(f) for f in stack.split(";")]
        total += n
        for name in set(frames):
            inclusive[name] += n
        own[frames[-1]] += n
    return total, inclusive, own


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("profile", type=Path)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--match", default="", help="only functions whose label contains this")
    args = ap.parse_args()
    total, inclusive, own = summarise(args.profile)
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"\n{title}:")
        rows = [(k, v) for k, v in counter.most_common() if args.match in k][: args.top]
        for name, n in rows:
            print(f"{100 * n / max(total, 1):6.1f} %  {name}")


if __name__ == "__main__":
    main()
