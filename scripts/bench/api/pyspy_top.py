"""Summarise a py-spy raw (collapsed stacks) profile from ``scripts/bench_api.py --profile``:
the functions with the most samples, inclusive and self, and the samples below given
functions.

    python scripts/bench/api/pyspy_top.py PROFILE.txt [--top 40] [--under verify_hash]
"""

from __future__ import annotations

import argparse
import collections
from pathlib import Path

IDLE = ("Condition.wait", "EpollSelector.select", "Queue.get", "Event.wait")


def _name(frame: str) -> str:
    """``func (file:line)`` → ``func (short file)``."""
    if " (" not in frame:
        return frame
    function, where = frame.split(" (", 1)
    where = where.rstrip(")").rsplit(":", 1)[0]
    where = where.split("site-packages/")[-1].split("/main/")[-1]
    return f"{function} ({where})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", action="append", default=[], help="Function name to break down.")
    parser.add_argument("--keep-idle", action="store_true", help="Count threads that wait.")
    args = parser.parse_args()
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    below: dict[str, collections.Counter[str]] = {u: collections.Counter() for u in args.under}
    total = idle = 0
    for line in args.profile.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rstrip().rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        names = [_name(f) for f in stack.split(";")]
        if not args.keep_idle and any(names[-1].startswith(i) for i in IDLE):
            idle += count
            continue
        total += count
        for name in set(names):
            inclusive[name] += count
        own[names[-1]] += count
        for under in args.under:
            for i, name in enumerate(names):
                if name.startswith(under + " ") and i + 1 < len(names):
                    below[under][names[i + 1]] += count
                    break
    print(f"{total} busy samples ({idle} idle left out)")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"== {title}")
        for name, count in counter.most_common(args.top):
            print(f"{100 * count / total:5.1f}% {name}")
    for under, counter in below.items():
        print(f"== directly below {under}")
        for name, count in counter.most_common(args.top):
            print(f"{100 * count / total:5.1f}% {name}")


if __name__ == "__main__":
    main()
