"""Run scripts/verapdf.sh once (one JVM start) over many files; each file's verdict block.

The script installs veraPDF from Maven Central on its first run (~10-60 s, then cached in
~/.cache/sohoa/verapdf). A failed install fails the calling test, with the script's message.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT
from workers.pdfa_check import verdict_blocks

SCRIPT = ROOT / "scripts" / "verapdf.sh"


def verdicts(files: dict[str, Path]) -> dict[str, str]:
    """key -> "PASS ..." or "FAIL ..." followed by the failed rules, for each file."""
    proc = subprocess.run(
        ["bash", str(SCRIPT), *map(str, files.values())],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = f"exit {proc.returncode}\n--- stdout:\n{proc.stdout}--- stderr:\n{proc.stderr}"
    if proc.returncode not in (0, 1):
        pytest.fail(f"scripts/verapdf.sh could not validate:\n{report}")
    asked = {str(p) for p in files.values()} | {str(p.resolve()) for p in files.values()}
    blocks = verdict_blocks(proc.stdout, asked)
    by_key = {}
    for key, path in files.items():
        lines = blocks.get(str(path)) or blocks.get(str(path.resolve()))
        assert lines, f"no verdict for {path}:\n{report}"
        by_key[key] = "\n".join(lines)
    return by_key
