"""Round 15, storage durability (issue 17): an object put in place one at a time (put_bytes,
put_file, a write-once create) has its name on disk when the call returns — its folder, and
any folder made for it, synced after the rename — not only its bytes; a crash right after an
accepted upload could otherwise lose the file. The kernel's version is read once per process,
not parsed again for every batch. The parts cut from a scan are stored together (one sync)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from app.compose import build_services
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from storage import local
from storage.keys import pdf_key, record_key, status_key
from storage.local import LocalStore, write_once
from tests.fsync_count import linux_only
from workers import describe, tasks
from workers.submit import accept


def _synced_folders(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """(device, inode) of every folder fsynced from now on (the real fsync still runs)."""
    folders: list[tuple[int, int]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            folders.append((info.st_dev, info.st_ino))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return folders


def _ids(*folders: Path) -> set[tuple[int, int]]:
    return {(f.stat().st_dev, f.stat().st_ino) for f in folders}


@linux_only
@pytest.mark.parametrize("how", ["put_bytes", "put_file", "create"])
def test_an_object_put_alone_has_its_name_and_new_folders_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    store = LocalStore(tmp_path / "store")
    source = tmp_path / "upload.pdf"
    source.write_bytes("%PDF-1.7 Độc lập - Tự do".encode())
    synced = _synced_folders(monkeypatch)
    key = "originals/ab/cd.pdf"
    if how == "put_bytes":
        store.put_bytes(key, source.read_bytes())
    elif how == "put_file":
        store.put_file(key, source)
    else:
        assert store.create(key, source.read_bytes()) is True
    root = store.root
    # the file's folder (its name), and the folders above each new folder (their names)
    assert set(synced) == _ids(root / "originals" / "ab", root / "originals", root)
    assert store.get_bytes(key) == source.read_bytes()
    assert not list(root.rglob(".tmp-*"))


@linux_only
def test_a_second_object_in_a_known_folder_syncs_that_folder_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_bytes("records/a.json", b"{}")
    synced = _synced_folders(monkeypatch)
    store.put_bytes("records/b.json", b"{}")
    assert synced == list(_ids(store.root / "records"))


@linux_only
def test_write_once_syncs_the_name_only_when_it_made_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "keys" / "signer.pem"
    synced = _synced_folders(monkeypatch)
    assert write_once(target, b"first") is True
    assert set(synced) == _ids(tmp_path / "keys", tmp_path)
    synced.clear()
    assert write_once(target, b"second") is False  # the racing loser: nothing to sync
    assert synced == [] and target.read_bytes() == b"first"


@linux_only
def test_the_kernel_version_is_read_once_per_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalStore(tmp_path / "store")
    store.put_many([("derived/x/0.json", b"{}"), ("derived/x/1.json", b"{}")])
    calls: list[int] = []
    real = os.uname

    def uname() -> os.uname_result:
        calls.append(1)
        return real()

    monkeypatch.setattr(os, "uname", uname)
    for n in range(3):
        store.put_many([(f"derived/y/{n}.json", b"{}"), (f"derived/z/{n}.json", b"{}")])
    assert calls == []
    assert local._syncfs_reports_errors() in (True, False)


def _ingest_three_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """Six born-digital pages, three documents of two pages in one PDF, through the three
    actors; returns the services, the scan's record and the keys of each put_many call."""
    docs = make_documents(3, seed=7, pages=2)
    source = write_pdf_digital(tmp_path / "three.pdf", [p for d in docs for p in d.pages])
    services = build_services(Settings(data_dir=tmp_path / "data", workers=1))
    doc_id = accept(services, source).doc_id
    tasks.start_document(services, doc_id, lambda *a: None, lambda *a: None)
    tasks.assemble_document(services, doc_id, lambda *a: None, "test")
    batches: list[list[str]] = []
    real = LocalStore.put_many

    def put_many(store: LocalStore, items: list[tuple[str, bytes]]) -> None:
        items = list(items)
        batches.append([key for key, _ in items])
        real(store, items)

    monkeypatch.setattr(LocalStore, "put_many", put_many)
    tasks.index_document(services, doc_id)
    return services, services.records.require(doc_id), batches


def test_the_parts_of_a_scan_are_stored_in_one_batch_each_pdf_before_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, scan, batches = _ingest_three_parts(tmp_path, monkeypatch)
    assert scan.status.value == "done" and len(scan.parts) == 3
    expected = [
        key for part in scan.parts for key in (pdf_key(part), record_key(part), status_key(part))
    ]
    assert expected in batches  # one batch (one sync), each part's PDF before its record
    assert batches[-1] == [record_key(scan.id), status_key(scan.id)]  # the scan's, last
    for part in map(services.records.require, scan.parts):
        assert services.records.intact(part.id, services.records.status(part.id)) is True
        pdf = services.store.get_bytes(pdf_key(part.id))
        assert pdf.startswith(b"%PDF-") and len(pdf) == part.size_bytes and part.pdfa
        assert part.metadata.subject  # read from the part's own pages


def test_parts_beyond_the_batch_size_are_stored_in_several_batches_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long scan's parts do not all wait in memory: past the size, a batch is written."""
    monkeypatch.setattr(describe, "PART_WRITES_BYTES", 1)
    services, scan, batches = _ingest_three_parts(tmp_path, monkeypatch)
    assert len(scan.parts) == 3
    for part in scan.parts:
        assert [pdf_key(part), record_key(part), status_key(part)] in batches
        assert services.records.intact(part, services.records.status(part)) is True
