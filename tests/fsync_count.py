"""Counting the file fsyncs a store makes (tests of batch durability, issue 17)."""

from __future__ import annotations

import os
import stat
import sys

import pytest

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="syncfs(2) is Linux's")


def count_fsyncs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The descriptors fsynced from now on, files only: a folder's fsync (the names renamed into
    it, synced after the renames) is not counted."""
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        if not stat.S_ISDIR(os.fstat(fd).st_mode):
            calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls
