"""Finding and opening the bags `sohoa archive import` is given, as a hostile sender's input
(docs/preservation.md, "Importing packages from others").

A zip is inspected from its central directory before anything is written: a name that could
leave the extraction folder (`..`, absolute, a drive, a backslash), a symlink entry, or a
name outside any bag refuses the whole zip. Each bag is then bounded before it is extracted:
its number of files (MAX_BAG_FILES), its declared size against the free disk, and each
entry's compression ratio (a zip bomb); extraction streams each entry, and `zipfile` stops
at the declared size and checks the CRC, so a lying header fails as that bag's refusal.
A bag folder is walked without following links: a symlink anywhere in it refuses it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from schemas.errors import InputNotFound, SohoaError

# A sohoa bag holds, per document, about 8 files and one per page: a dossier of 2,000
# ten-page documents fits; a bag of 100,000 tiny files is refused before any is hashed.
MAX_BAG_FILES = 50_000
# Deflate reaches ~1000:1 on runs of one byte; the JSON and XML sohoa writes stay under 50:1
# and PDFs and scans are stored. Only entries declaring more than MIN_RATIO_CHECK are judged.
MAX_RATIO = 200
MIN_RATIO_CHECK = 1024 * 1024
DISK_MARGIN = 64 * 1024 * 1024  # left free after a bag is extracted
CHUNK = 1024 * 1024


class BadPackage(SohoaError):
    """A bag that failed validation or is not one of ours: refused, named in the report."""

    code = "bad_package"
    exit_code = 1
    http_status = 422


def unsafe_name(name: str) -> str:
    """Why a zip entry name could escape the extraction folder ("" when it cannot)."""
    if "\\" in name:
        return "a backslash"
    if "\x00" in name:
        return "a NUL byte"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "an absolute path"
    parts = name.rstrip("/").split("/")
    if any(p in ("", ".", "..") for p in parts):
        return "a '.', '..' or empty path segment"
    return ""


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _zip_bags(archive: zipfile.ZipFile, source: Path) -> dict[str, list[zipfile.ZipInfo]]:
    """The zip's entries by bag (first path segment), every name checked first."""
    by_bag: dict[str, list[zipfile.ZipInfo]] = {}
    for info in archive.infolist():
        why = unsafe_name(info.filename)
        if why:
            raise BadPackage(f"{source.name}: the entry {info.filename!r} has {why}: refused")
        if _is_symlink(info):
            raise BadPackage(f"{source.name}: the entry {info.filename!r} is a symlink: refused")
        parts = PurePosixPath(info.filename).parts
        if info.is_dir():
            continue
        if len(parts) < 2:
            raise BadPackage(f"{source.name}: the entry {info.filename!r} is in no bag folder")
        by_bag.setdefault(parts[0], []).append(info)
    return by_bag


def _bounded(name: str, members: list[zipfile.ZipInfo], near: Path) -> None:
    """Refuse a bag whose entries are too many, too large for the disk, or a bomb."""
    if len(members) > MAX_BAG_FILES:
        raise BadPackage(f"{len(members)} files: more than the {MAX_BAG_FILES} a bag may hold")
    declared = sum(i.file_size for i in members)
    free = shutil.disk_usage(near).free
    if declared + DISK_MARGIN > free:
        raise BadPackage(
            f"declares {declared / 1e6:.0f} MB uncompressed, more than the "
            f"{max(free - DISK_MARGIN, 0) / 1e6:.0f} MB free to extract it"
        )
    for info in members:
        if info.file_size > MIN_RATIO_CHECK and info.file_size > MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise BadPackage(
                f"{info.filename} expands {info.compress_size} bytes to {info.file_size}: "
                "a zip bomb, not a package"
            )


def _folder_bounded(folder: Path) -> None:
    """Refuse a bag folder holding a symlink (anything it names must be its own bytes) or
    more files than a bag may hold; walked without following links, stopping early."""
    if folder.is_symlink():
        raise BadPackage(f"{folder} is a symlink")
    count = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                raise BadPackage(f"{path.relative_to(folder)} is a symlink: refused")
        count += len(files)
        if count > MAX_BAG_FILES:
            raise BadPackage(f"more than the {MAX_BAG_FILES} files a bag may hold")


@contextlib.contextmanager
def _checked_folder(folder: Path) -> Iterator[Path]:
    _folder_bounded(folder)
    yield folder


@contextlib.contextmanager
def _extracted(
    archive: zipfile.ZipFile, name: str, members: list[zipfile.ZipInfo], near: Path
) -> Iterator[Path]:
    """One bag of the zip in a temporary folder, each entry streamed to its checked name."""
    _bounded(name, members, near)
    work = Path(tempfile.mkdtemp(prefix=".sohoa-import-", dir=near))
    try:
        for info in members:
            target = work / info.filename  # every name was checked by unsafe_name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, target.open("xb") as dst:
                    while chunk := src.read(CHUNK):
                        dst.write(chunk)
            except (zipfile.BadZipFile, EOFError, NotImplementedError) as e:
                raise BadPackage(f"{info.filename}: {e}") from e
            except FileExistsError as e:
                raise BadPackage(f"{info.filename} is in the zip twice") from e
        yield work / name
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bag_folders(folder: Path) -> list[Path]:
    if (folder / "bagit.txt").is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / "bagit.txt").is_file())


def iter_bags(source: Path) -> Iterator[tuple[str, contextlib.AbstractContextManager[Path]]]:
    """(name, a context giving the bag's checked folder) for each bag of a folder or zip;
    a context raises BadPackage for that bag alone, iter_bags itself for a hostile zip."""
    if source.is_dir():
        for folder in _bag_folders(source):
            yield folder.name, _checked_folder(folder)
        return
    if not source.is_file():
        raise InputNotFound(f"no such folder or zip file: {source}")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as e:
        raise BadPackage(f"{source.name} is not a readable zip file: {e}") from e
    with archive:
        by_bag = _zip_bags(archive, source)
        for name in sorted(by_bag):
            yield name, _extracted(archive, name, by_bag[name], source.parent)
