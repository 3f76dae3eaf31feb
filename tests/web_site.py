"""A real `sohoa serve` and Debian's chromium for the browser tests (tests/test_web_*browser.py,
scripts/screenshots.py): one way to start, wait for and stop the server, one way to log in."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, TEST_PASSWORD


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`sohoa serve` on a free port over `data_dir` (one worker thread; `env`: the whole
    environment, e.g. the servers' SOHOA_* settings), its output in `data_dir/serve.log`:
    yields its URL once /health answers, and stops it after."""
    port = free_port()
    env = env or {**os.environ, "SOHOA_DATA_DIR": str(data_dir), "SOHOA_WORKERS": "1"}
    with (data_dir / "serve.log").open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(url, server)
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)


def wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, "sohoa serve exited"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("sohoa serve did not answer /health within 60 s")


@contextmanager
def chromium() -> Iterator:
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no chromium: scripts/setup.sh installs Debian's package", False)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def log_in(browser, url: str, login: str, viewport: dict | None = None):  # noqa: ANN001, ANN201
    """A new browser context (its own cookies) logged in through the login page, with every
    dialog (alert) recorded in `page.dialogs`."""
    size = viewport or {"width": 1280, "height": 800}
    context = browser.new_context(viewport=size, locale="vi-VN")  # the default language
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}/")
    assert "/login?next=" in page.url
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.keyboard.press("Enter")  # the keyboard alone
    page.wait_for_url(f"{url}/")
    return page
