"""ObjectStore contract: LocalStore and MinioStore behave the same."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from schemas import Document, DocumentStatus
from schemas.errors import NotFound, StorageError
from storage import LocalStore, RecordStore
from storage.digest import sha256_file


def test_put_get_list_and_delete(store) -> None:
    store.put_bytes("derived/abc/pages/0001.json", b"{}")
    store.put_bytes("derived/abc/pages/0002.json", b"[]")
    store.put_bytes("records/abc.json", b"x")
    assert store.get_bytes("derived/abc/pages/0002.json") == b"[]"
    assert list(store.list("derived/abc/")) == [
        "derived/abc/pages/0001.json",
        "derived/abc/pages/0002.json",
    ]
    assert list(store.list("derived/zzz/")) == []
    store.delete("records/abc.json")
    assert not store.exists("records/abc.json")
    with pytest.raises(NotFound):
        store.get_bytes("records/abc.json")


def test_large_file_streams_in_and_out_intact(store, tmp_path: Path) -> None:
    source = tmp_path / "scan.tif"
    with source.open("wb") as f:
        for i in range(40):  # 40 MiB, several multipart parts on MinIO
            f.write(bytes([i]) * (1024 * 1024))
    digest = sha256_file(source)
    store.put_file(f"originals/{digest}", source)
    with store.local_path(f"originals/{digest}") as path:
        assert sha256_file(path) == digest
    with store.open(f"originals/{digest}") as body:
        first = body.read(1024 * 1024 + 1)
    assert first == bytes([0]) * (1024 * 1024) + bytes([1])


def test_content_addressed_objects_are_never_overwritten_with_other_bytes(store) -> None:
    key = "originals/" + "0" * 64
    store.put_bytes(key, b"the original")
    store.put_bytes(key, b"the original")  # the same bytes again: fine, nothing changes
    with pytest.raises(StorageError, match="different bytes"):
        store.put_bytes(key, b"something else")
    assert store.get_bytes(key) == b"the original"


def test_create_writes_once_and_only_one_of_racing_writers_wins(store) -> None:
    assert store.create("exchange/claims/m1", b"first")
    assert not store.create("exchange/claims/m1", b"second")
    assert store.get_bytes("exchange/claims/m1") == b"first"
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda n: store.create("exchange/claims/m2", b"%d" % n), range(8)))
    assert won.count(True) == 1
    assert store.get_bytes("exchange/claims/m2") == b"%d" % won.index(True)
    assert list(store.list("exchange/claims/")) == ["exchange/claims/m1", "exchange/claims/m2"]


def test_records_are_updated_in_place(store) -> None:
    store.put_bytes("records/x.json", b"1")
    store.put_bytes("records/x.json", b"2")
    assert store.get_bytes("records/x.json") == b"2"


def test_records_round_trip_nfc_and_resolve_prefix(store) -> None:
    records = RecordStore(store)
    doc = Document(
        id="ab" * 32,
        source_name="Quye\u0302\u0301t định.pdf",
        media_type="application/pdf",
        size_bytes=3,
    )
    doc.record_status(DocumentStatus.received, "stored")
    records.put(doc)
    again = records.require(records.resolve("abab"))
    assert again.source_name == "Quyết định.pdf"
    assert [h.status for h in again.history] == [DocumentStatus.received]
    with pytest.raises(NotFound):
        records.resolve("ff")


def test_local_writes_leave_no_temp_files(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"\x01" * (3 * 1024 * 1024 + 7))
    store = LocalStore(tmp_path / "s")
    store.put_file("originals/x", source)
    assert [p.name for p in (tmp_path / "s" / "originals").iterdir()] == ["x"]


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/etc/passwd", "", "a//b"])
def test_path_tricks_in_local_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError):
        LocalStore(tmp_path / "s").put_bytes(key, b"x")
    assert not (tmp_path / "escape").exists()
