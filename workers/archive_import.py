"""`sohoa archive import`: bags written by `archive export` restored into this installation
(docs/preservation.md), with no OCR: the records, originals, PDFs, page results, owners and
grants, dossiers as they were, then the index.

Each bag is first validated by `bagit` (every file in the manifest, every byte as hashed); one
that fails is refused whole, naming the files, and the others go on. A bag inside a zip is
extracted alone into a temporary folder, validated, restored and removed before the next.
A record already in this store is left as it is (reported), never overwritten.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit

from schemas.errors import InputNotFound, SohoaError
from schemas.models import Document, DocumentStatus, Dossier
from storage.digest import sha256_file
from storage.dossiers import DossierStore
from storage.keys import original_key, page_key, pdf_key
from workers.archive_export import FORMAT, PACKAGE_INDEX, audit
from workers.services import Services


class BadPackage(SohoaError):
    """A bag that failed validation or is not one of ours: refused, named in the report."""

    code = "bad_package"


@dataclass
class ImportedBag:
    name: str
    restored: list[str] = field(default_factory=list)  # document ids written
    present: list[str] = field(default_factory=list)  # already here: left as they were
    refused: str = ""  # why the whole bag was refused ("" when it was not)


@dataclass
class ImportReport:
    bags: list[ImportedBag] = field(default_factory=list)

    @property
    def refused(self) -> list[ImportedBag]:
        return [b for b in self.bags if b.refused]


ImportProgress = Callable[[ImportedBag], None]


# ------------------------------------------------------------------ finding the bags


def _bag_folders(folder: Path) -> list[Path]:
    if (folder / "bagit.txt").is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if p.is_dir() and (p / "bagit.txt").is_file())


def iter_bags(source: Path) -> Iterator[tuple[str, contextlib.AbstractContextManager[Path]]]:
    """(name, a context giving the bag's folder) for each bag of a folder or a zip file."""
    if source.is_dir():
        for folder in _bag_folders(source):
            yield folder.name, contextlib.nullcontext(folder)
        return
    if not source.is_file():
        raise InputNotFound(f"no such folder or zip file: {source}")
    with zipfile.ZipFile(source) as archive:
        by_bag: dict[str, list[zipfile.ZipInfo]] = {}
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if len(parts) > 1 and not info.is_dir():
                by_bag.setdefault(parts[0], []).append(info)
        for name in sorted(by_bag):
            yield name, _extracted(archive, by_bag[name], source.parent)


@contextlib.contextmanager
def _extracted(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], near: Path):
    """One bag of the zip in a temporary folder (extract() keeps names inside it)."""
    work = Path(tempfile.mkdtemp(prefix=".sohoa-import-", dir=near))
    try:
        for info in members:
            archive.extract(info, work)
        yield work / PurePosixPath(members[0].filename).parts[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------ validating


def _missing_or_unexpected(bag: bagit.Bag, folder: Path) -> list[str]:
    """The files behind a count that does not add up (bagit's Payload-Oxum check stops
    before naming them): in the manifest but not there, or there but in no manifest."""
    listed = set(bag.entries)
    missing = [
        f"{p} is in the manifest but missing" for p in sorted(listed) if not (folder / p).is_file()
    ]
    present = (p.relative_to(folder).as_posix() for p in (folder / "data").rglob("*"))
    unexpected = [
        f"{p} is in no manifest"
        for p in sorted(present)
        if p not in listed and (folder / p).is_file()
    ]
    return missing + unexpected


def validation_problem(folder: Path) -> str:
    """ "" for a valid bag; else what failed, each failing file named."""
    try:
        bag = bagit.Bag(str(folder))
    except bagit.BagError as e:  # no bagit.txt, an unreadable tag file
        return str(e)
    try:
        bag.validate(processes=1)
    except bagit.BagValidationError as e:
        named = [str(d) for d in e.details] or _missing_or_unexpected(bag, folder)
        return "; ".join(named) if named else e.message
    except bagit.BagError as e:
        return str(e)
    index = folder / "data" / PACKAGE_INDEX
    if not index.is_file():
        return f"not a sohoa package: no data/{PACKAGE_INDEX}"
    return ""


# ------------------------------------------------------------------ restoring

DOC_ID = re.compile(r"^[0-9a-f]{64}$")
ACCESS_NAME = re.compile(r"^(owner|public|organs/[\w.\-]{1,80})$")


def _inside(data: Path, relative: str) -> Path:
    """A path the package index names, refused unless it stays inside the bag's payload."""
    path = (data / relative).resolve()
    if not path.is_relative_to(data.resolve()) or not path.is_file():
        raise BadPackage(f"the package index names {relative!r}, which is not in the bag")
    return path


def _restore_document(services: Services, data: Path, entry: dict[str, Any]) -> Document | None:
    """One document's objects into the store; None when the record is already here."""
    doc_id = str(entry["id"])
    if not DOC_ID.match(doc_id):
        raise BadPackage(f"the package index names {doc_id!r} as a document id")
    if services.records.get(doc_id) is not None:
        return None
    doc = Document.model_validate_json(_inside(data, entry["record"]).read_bytes())
    if doc.id != doc_id:
        raise BadPackage(f"{entry['record']} holds the record of {doc.id}, not of {doc_id}")
    store = services.store
    if entry.get("original"):
        path = _inside(data, entry["original"])
        if doc.source_id is None and sha256_file(path) != doc_id:
            raise BadPackage(f"{entry['original']} is not the original of document {doc_id}")
        if not store.exists(original_key(doc_id)):
            store.put_file(original_key(doc_id), path)
    if entry.get("pdf"):
        store.put_file(pdf_key(doc_id), _inside(data, entry["pdf"]))
    for page in entry.get("pages", []):
        stem = PurePosixPath(page).stem
        if not stem.isdigit():
            raise BadPackage(f"the package index names {page!r} as a page result")
        page_no = int(stem)
        store.put_file(page_key(doc_id, page_no), _inside(data, page))
    access = json.loads(_inside(data, entry["access"]).read_text())
    for rest, body in access.items():
        if not ACCESS_NAME.match(rest):
            raise BadPackage(
                f"{entry['access']}: {rest!r} is not an access object"
            )  # owner first-come, grants one object each: as stored
        store.create(f"access/{doc_id}/{rest}", body.encode())
    services.records.put(doc)  # last: a record is only seen once all it names is there
    return doc


def _restore_dossier(services: Services, data: Path) -> None:
    path = data / "metadata/other/dossier.json"
    if not path.is_file():
        return
    dossier = Dossier.model_validate_json(path.read_bytes())
    dossiers = DossierStore(services.store)
    here = dossiers.get(dossier.file_code)
    if here is None:
        dossiers.put(dossier)
        return
    missing = [d for d in dossier.documents if d not in here.documents]
    if missing:
        here.documents.extend(missing)
        dossiers.put(here)


def restore_bag(services: Services, name: str, folder: Path) -> ImportedBag:
    result = ImportedBag(name)
    result.refused = validation_problem(folder)
    if result.refused:
        return result
    data = folder / "data"
    index = json.loads((data / PACKAGE_INDEX).read_text())
    if int(index.get("format", 0)) > FORMAT:
        result.refused = f"package format {index['format']} is newer than this sohoa reads"
        return result
    restored: list[Document] = []
    for entry in index["documents"]:
        doc = _restore_document(services, data, entry)
        if doc is None:
            result.present.append(str(entry["id"]))
        else:
            restored.append(doc)
            result.restored.append(doc.id)
    _restore_dossier(services, data)
    searchable = [
        d
        for d in restored
        if d.status in (DocumentStatus.done, DocumentStatus.partial) and not d.parts
    ]
    if searchable:
        services.index.index(searchable)  # visibility attached from the restored objects
    return result


def import_packages(
    services: Services, source: Path, on_bag: ImportProgress | None = None
) -> ImportReport:
    report = ImportReport()
    for name, opened in iter_bags(source):
        with opened as folder:
            try:
                result = restore_bag(services, name, folder)
            except BadPackage as e:
                result = ImportedBag(name, refused=e.message)
        audit(
            services,
            "archive_import",
            name,
            restored=len(result.restored),
            present=len(result.present),
            refused=result.refused or None,
        )
        report.bags.append(result)
        if on_bag is not None:
            on_bag(result)
    return report
