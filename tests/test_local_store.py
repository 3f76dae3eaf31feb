from pathlib import Path

import pytest

from schemas import Document, DocumentStatus
from schemas.errors import NotFound, StorageError
from storage import LocalStore, RecordStore


def test_put_get_list_and_delete(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "s")
    store.put_bytes("derived/abc/pages/0001.json", b"{}")
    store.put_bytes("derived/abc/pages/0002.json", b"[]")
    store.put_bytes("records/abc.json", b"x")
    assert store.get_bytes("derived/abc/pages/0002.json") == b"[]"
    assert list(store.list("derived/abc/")) == [
        "derived/abc/pages/0001.json",
        "derived/abc/pages/0002.json",
    ]
    store.delete("records/abc.json")
    assert not store.exists("records/abc.json")
    with pytest.raises(NotFound):
        store.get_bytes("records/abc.json")


def test_put_file_streams_and_leaves_no_temp_files(tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(b"\x01" * (3 * 1024 * 1024 + 7))
    store = LocalStore(tmp_path / "s")
    store.put_file("originals/x", source)
    with store.local_path("originals/x") as path:
        assert path.stat().st_size == source.stat().st_size
    assert [p.name for p in (tmp_path / "s" / "originals").iterdir()] == ["x"]


@pytest.mark.parametrize("key", ["../escape", "a/../../b", "/etc/passwd", "", "a//b"])
def test_path_tricks_in_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(StorageError):
        LocalStore(tmp_path / "s").put_bytes(key, b"x")
    assert not (tmp_path / "escape").exists()


def test_records_round_trip_nfc_and_resolve_prefix(tmp_path: Path) -> None:
    records = RecordStore(LocalStore(tmp_path / "s"))
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
