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


def load_words(loads: list[float | None], cores: int | None) -> str:
    """The machine's load as measured (load averages over the run), not as assumed."""
    seen = [x for x in loads if x is not None]
    if not seen:
        return "load not measured"
    top, cores = max(seen), cores or 1
    shown = ", ".join(f"{x:.2f}" for x in seen)
    if top <= 0.5 * cores:
        return f"nearly quiet (load average {shown} on {cores} cores)"
    if top <= cores:
        return f"lightly shared (load average {shown} on {cores} cores)"
    return (
        f"shared with other jobs (load average {shown} on {cores} cores: more runnable"
        " work than cores)"
    )
