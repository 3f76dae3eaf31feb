"""Every `sohoa` start pays for what `app.cli` imports (the suite starts it hundreds of times):
libraries that only some commands use are imported by those commands, not at start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Loaded only where used: the page pipeline and OpenCV by the commands that process pages (and
# the tasks and actors that run it), fontTools to subset a substitute font (pipeline/fontsub.py),
# redis with a redis:// broker (workers/runtime.py), fastapi by the API and duplicate listing,
# pyhanko by the exchange's certificate checks.
NOT_AT_START = (
    "cv2",
    "pipeline.page",
    "pipeline.ocr",
    "pipeline.metadata",
    "workers.tasks",
    "fontTools",
    "redis",
    "fastapi",
    "pyhanko_certvalidator",
    "dramatiq.brokers.redis",
    "app.duplicates_api",
)

PROBE = """
import json, sys
{run}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {names!r} or m in {names!r})))
"""


def loaded_by(run: str) -> tuple[list[str], str]:
    """The NOT_AT_START modules in sys.modules after `run`, in a fresh process; its stdout."""
    code = PROBE.format(run=run, names=NOT_AT_START)
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    *printed, modules = done.stdout.strip().splitlines()
    return json.loads(modules), "\n".join(printed)


def test_importing_the_cli_loads_no_page_pipeline_font_redis_or_web_library() -> None:
    modules, _ = loaded_by("import app.cli")
    assert modules == []


def test_sohoa_version_prints_it_without_loading_them() -> None:
    run = (
        "from app.cli import main\n"
        "sys.argv = ['sohoa', '--version']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )
    modules, printed = loaded_by(run)
    assert printed.startswith("sohoa ")
    assert modules == []
