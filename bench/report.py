"""Writing one benchmark's section of docs/benchmarks.md, leaving the others as they are."""

from __future__ import annotations

import re
from pathlib import Path

PREAMBLE = (
    "# Benchmarks\n\nMeasured numbers, each section written by the bench script it names "
    "(see `bench/README.md`). DESIGN §8 lists the targets.\n"
)


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the section headed `title` (up to the next `## `) with `section`, or append it."""
    text = path.read_text(encoding="utf-8") if path.exists() else PREAMBLE
    section = section.rstrip("\n") + "\n"
    start = text.find(title + "\n")
    if start >= 0:
        nxt = re.search(r"^## ", text[start + len(title) :], re.M)
        end = start + len(title) + nxt.start() if nxt else len(text)
        text = text[:start] + section + ("\n" if nxt else "") + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
