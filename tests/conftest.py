import os
import subprocess
import sys
from pathlib import Path

import pytest

# Tesseract is started by our workers with one thread each; tests run the same way.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

ROOT = Path(__file__).resolve().parents[1]


def run_cli(data_dir: Path, *args: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run `sohoa` as a user would, in its own process."""
    env = {**os.environ, "SOHOA_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout_s,
    )


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from corpus import make_bad_inputs

    return make_bad_inputs(tmp_path_factory.mktemp("bad"))
