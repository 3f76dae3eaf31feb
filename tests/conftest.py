import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from schemas.redact import redact_url

# Tesseract is started by our workers with one thread each; tests run the same way.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")
# The tests' organ registry: the shipped national one with the 25 sample organs (their QCVN 102
# codes, organs/organs.csv) laid over it, as an operator's own file is (docs/registry.md).
os.environ.setdefault("SOHOA_ORGANS", "national+sample")

ROOT = Path(__file__).resolve().parents[1]


def unprivileged() -> list[str]:
    """The command prefix that runs a process as `nobody`, without root's power over file
    permissions (CI runs as root, whom a permission test could never stop). Empty when not
    root: permissions already apply. The checkout's Python must be reachable by that user."""
    if os.geteuid() != 0:
        return []
    import pwd

    try:
        user = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no unprivileged user 'nobody' to drop root privileges to")
    prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
    probe = subprocess.run(
        [*prefix, sys.executable, "-c", "import app.cli"], cwd=ROOT, capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.fail(f"'nobody' cannot run this checkout's Python: {probe.stderr[-500:]}", False)
    return prefix


def run_cli(data_dir: Path, *args: str, timeout_s: float = 600) -> subprocess.CompletedProcess:
    """Run `sohoa` as a user would, in its own process."""
    return cli_with_env({**os.environ, "SOHOA_DATA_DIR": str(data_dir)}, *args, timeout_s=timeout_s)


def search_hits(result: subprocess.CompletedProcess) -> list[dict]:
    """The hits of `sohoa search --json`: one JSON object with total, hits and facets."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["hits"]


def without_tesseract(tmp_path: Path) -> dict[str, str]:
    """Environment entries that leave no Tesseract to read with: no `tesseract` program on the
    PATH and no language data for the in-process libtesseract (TESSDATA_PREFIX, which both
    honour, names an empty folder). OCR fails whichever engine reads; text layers do not."""
    empty = tmp_path / "no-tools"
    empty.mkdir(exist_ok=True)
    return {"PATH": str(empty), "TESSDATA_PREFIX": str(empty)}


# A page's error then: the in-process engine cannot load the language data, or (no
# libtesseract on the machine) the `tesseract` program is missing.
NO_TESSERACT = re.compile(r"tesseract cannot load 'vie'|tesseract is not installed")


def cli_with_env(
    env: dict[str, str], *args: str, timeout_s: float = 600
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout_s,
    )


@contextmanager
def worker_process(env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen]:
    """`sohoa worker` in its own process group, stopped (then killed) at the end."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=log,
            stderr=log,
        )
        try:
            yield proc
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that needs the servers is `slow` (make test-fast leaves it out), whatever its
    file says. Fixtures that ask for them only for some parameters mark those parameters."""
    for item in items:
        if "servers" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from corpus import make_bad_inputs

    return make_bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="session")
def servers() -> dict[str, str]:
    """Real MinIO, search server and Redis on loopback, started by the project's own script.

    A server that cannot be had fails the tests that need it, with the script's own words:
    never a mock in its place.
    """
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "services.sh"), "up"],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/services.sh up failed:\n{result.stdout}\n{result.stderr}", False)
    settings = exported(result.stdout)
    for key in ("SOHOA_SEARCH", "SOHOA_STORAGE", "SOHOA_BROKER"):
        if key not in settings:
            shown = redact_url(result.stdout)
            pytest.fail(f"scripts/services.sh up printed no {key}:\n{shown}", False)
    return settings


def exported(script_output: str) -> dict[str, str]:
    """The `export KEY='VALUE'` lines that `scripts/services.sh up` prints for eval."""
    settings = {}
    for line in script_output.splitlines():
        words = shlex.split(line)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, value = words[1].split("=", 1)
            settings[key] = value
    return settings


TEST_ORGAN = "000.00.00.G09"  # an organ of the shipped sample registry
TEST_PASSWORD = "password-for-tests"


def api_headers(data: object, role: str = "admin", organ: str = TEST_ORGAN) -> dict[str, str]:
    """`Authorization` headers of a new API token of a user `test-<role>` (created on first
    use) in the data folder or Settings `data`: what an API test sends, as a script would."""
    from accounts.service import Accounts
    from app.compose import build_store
    from app.config import Settings
    from schemas.errors import BadAccount

    settings = data if isinstance(data, Settings) else Settings(data_dir=Path(str(data)))
    accounts = Accounts(build_store(settings))
    login = f"test-{role}"
    with contextlib.suppress(BadAccount):  # made by an earlier call
        accounts.add_user(login, role, organ, TEST_PASSWORD)
    return {"Authorization": f"Bearer {accounts.issue_token(login)}"}
