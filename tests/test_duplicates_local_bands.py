"""Near-duplicate band markers on a local folder (issue 17: born-digital CPU per page): one
SQLite file holds them, not a folder and a file per band and document (~0.3 ms of kernel CPU
each), and the look-alikes are found as before, markers an older sohoa wrote as files too."""

from __future__ import annotations

from pathlib import Path

from storage.duplicates import DuplicateBook, Fingerprints, PageFingerprint
from storage.local import LocalStore


def _three_pages(doc_id: str, offset: int) -> tuple[Fingerprints, dict[str, list[str]]]:
    pages = [PageFingerprint(page_no=n, text=list(range(n, n + 64))) for n in (1, 2, 3)]
    bands = [f"{b:02d}-{offset + n * 100 + b:x}" for n in (1, 2, 3) for b in range(16)]
    return Fingerprints(doc_id=doc_id, pages=pages), {"text": bands}


def test_a_local_folder_stores_a_documents_bands_in_a_few_files(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    book = DuplicateBook(store)
    prints, bands = _three_pages("a" * 64, 0)
    book.put_fingerprints(prints, bands)
    made = list((tmp_path / "fingerprints").rglob("*"))
    assert len(made) <= 4, f"{len(made)} files and folders for one document's 48 bands"
    assert book.sharing_bands("text", bands["text"][:5]) == {"a" * 64: 5}
    assert book.fingerprints("a" * 64) == prints


def test_bands_are_found_in_rows_and_in_files_an_older_sohoa_wrote(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes(f"fingerprints/text/00-1/{'b' * 64}", b"")  # the layout before the table
    store.put_bytes(f"fingerprints/text/01-2/{'b' * 64}", b"")
    book = DuplicateBook(store)
    book.put_fingerprints(Fingerprints(doc_id="c" * 64), {"text": ["00-1", "09-9"]})
    found = book.sharing_bands("text", ["00-1", "01-2", "09-9", "10-none"])
    assert found == {"b" * 64: 2, "c" * 64: 2}
    assert book.sharing_bands("image", ["00-1"]) == {}
