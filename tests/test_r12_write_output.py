"""`write_output` (app/terminal.py), the one writer of every file the CLI is asked for: a
failure part-way leaves the file as it was before (not a half-written one, not none), and a
success writes where the user's path leads (a symlink's target, a device)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from app.terminal import write_output
from schemas.errors import OutputNotWritable


class BrokenStream(io.RawIOBase):
    """A source that gives one piece, then fails (an S3 read cut, a disk error)."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            raise OSError(5, "Input/output error")
        self.sent = True
        return b"%PDF-1.7 half of a new export"


def test_a_failed_write_keeps_the_file_that_was_there(tmp_path: Path) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"%PDF-1.7 last week's complete export")
    with pytest.raises(OutputNotWritable, match=r"cannot write .*report\.pdf: Input/output error"):
        write_output(target, BrokenStream())
    assert target.read_bytes() == b"%PDF-1.7 last week's complete export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.pdf"]  # nothing left over


def test_a_failed_new_file_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(OutputNotWritable):
        write_output(tmp_path / "new.pdf", BrokenStream())
    assert list(tmp_path.iterdir()) == []


def test_a_write_follows_the_users_symlink_and_keeps_modes(tmp_path: Path) -> None:
    real = tmp_path / "real.pdf"
    real.write_bytes(b"old")
    real.chmod(0o640)
    link = tmp_path / "link.pdf"
    link.symlink_to(real)
    assert write_output(link, io.BytesIO(b"new content")) == len(b"new content")
    assert link.is_symlink() and real.read_bytes() == b"new content"
    assert real.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.pdf"
    write_output(fresh, b"x")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fresh.pdf", "link.pdf", "real.pdf"]


def test_a_device_is_written_in_place() -> None:
    assert write_output(Path("/dev/null"), b"abc") == 3
    with pytest.raises(OutputNotWritable, match="No space left on device"):
        write_output(Path("/dev/full"), b"abc")
