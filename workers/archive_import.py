"""`sohoa archive import`: bags written by `archive export` restored into this installation
(docs/preservation.md), with no OCR: the records, originals, PDFs, page results, owners and
grants, dossiers as they were, then the index.

A package comes from elsewhere and may lie (docs/preservation.md, "Importing packages from
others"). Each bag is opened bounded (workers/archive_unpack.py), validated by `bagit` (every
file in the manifest, every byte as hashed), then every document it names is checked before
anything is written: ids, originals against their SHA-256, paths inside the payload, owner
and grants naming organs of the registry, pages within the record's, dossier members among
the bag's documents. One lie refuses the whole bag, named; the others go on. A record
already here is never overwritten: left as it is, reported as a conflict when the bag's
copy differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from pydantic import ValidationError

from schemas.models import Document, DocumentStatus, Dossier
from storage.access import GRANT_KINDS, Grant
from storage.digest import sha256_file
from storage.dossiers import DossierStore
from storage.keys import original_key, page_key, pages_prefix, pdf_key
from workers.archive_export import FORMAT, PACKAGE_INDEX, audit_log
from workers.archive_unpack import BadPackage, iter_bags
from workers.services import Services

__all__ = ["BadPackage", "ImportReport", "ImportedBag", "import_packages", "iter_bags"]


@dataclass
class ImportedBag:
    name: str
    restored: list[str] = field(default_factory=list)  # document ids written
    present: list[str] = field(default_factory=list)  # already here, the same: left as they were
    conflicts: list[str] = field(default_factory=list)  # already here, different: ours kept
    refused: str = ""  # why the whole bag was refused ("" when it was not)


@dataclass
class ImportReport:
    bags: list[ImportedBag] = field(default_factory=list)

    @property
    def refused(self) -> list[ImportedBag]:
        return [b for b in self.bags if b.refused]

    @property
    def conflicts(self) -> list[str]:
        return [i for b in self.bags for i in b.conflicts]


ImportProgress = Callable[[ImportedBag], None]


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


# ------------------------------------------------------------------ checking what a bag claims

DOC_ID = re.compile(r"^[0-9a-f]{64}$")
ACCESS_NAME = re.compile(r"^(owner|public|organs/[\w.\-]{1,80})$")


@dataclass
class _Planned:
    """One document of the bag, every claim checked, nothing written yet."""

    doc: Document
    original: Path | None
    pdf: Path | None
    pages: list[tuple[int, Path]]
    access: dict[str, str]


def _inside(data: Path, relative: object) -> Path:
    """A path the package index names, refused unless it stays inside the bag's payload."""
    if not isinstance(relative, str) or not relative:
        raise BadPackage(f"the package index names {relative!r} as a file")
    path = (data / relative).resolve()
    if not path.is_relative_to(data.resolve()) or not path.is_file():
        raise BadPackage(f"the package index names {relative!r}, which is not in the bag")
    return path


def _organ(services: Services, organ_id: object, what: str) -> str:
    if not isinstance(organ_id, str) or services.organs().get(organ_id) is None:
        raise BadPackage(f"{what} names the organ {organ_id!r}, which is not in the registry")
    return organ_id


def _check_access(services: Services, doc_id: str, access: object, claimed: object) -> None:
    """Owner and grants as stored objects: each names an organ of this registry, the owner
    the one the package index says."""
    if not isinstance(access, dict):
        raise BadPackage(f"the access objects of {doc_id} are not a mapping")
    for rest, body in access.items():
        if not isinstance(rest, str) or not ACCESS_NAME.match(rest) or not isinstance(body, str):
            raise BadPackage(f"{rest!r} is not an access object of {doc_id}")
        value = json.loads(body)
        if rest == "owner":
            owner = _organ(services, value.get("organ"), f"the owner of {doc_id}")
            if claimed and owner != claimed:
                raise BadPackage(
                    f"the owner of {doc_id} is {owner} in its access objects but {claimed} "
                    "in the package index"
                )
        elif rest.startswith("organs/"):
            grant = Grant.model_validate(value)
            _organ(services, grant.organ, f"a grant of {doc_id}")
            if grant.organ != rest.removeprefix("organs/") or grant.via not in GRANT_KINDS:
                raise BadPackage(f"the grant {rest!r} of {doc_id} does not match its object")


def _check_pages(data: Path, doc: Document, pages: object) -> list[tuple[int, Path]]:
    if not isinstance(pages, list):
        raise BadPackage(f"the page results of {doc.id} are not a list")
    last = max(doc.page_count, len(doc.pages), 1)
    found = []
    for page in pages:
        stem = PurePosixPath(str(page)).stem
        if not stem.isdigit() or not 1 <= int(stem) <= last:
            raise BadPackage(f"the package index names {page!r} as a page result of {doc.id}")
        found.append((int(stem), _inside(data, page)))
    return found


PAGE_RESULT_NAME = re.compile(r"[0-9]{4}\.json")


def _check_result_keys(doc: Document) -> None:
    """A page summary names where its words are stored (workers/pages.py): the document's own
    page results, or those of the scan it was cut from; never another document's, nor any
    other object of this installation."""
    cut_from = doc.source_id if doc.source_id and DOC_ID.match(doc.source_id) else None
    own = {pages_prefix(doc.id)} | ({pages_prefix(cut_from)} if cut_from else set())
    for page in doc.pages:
        key = page.result_key
        if key is None:
            continue
        prefix, _, name = key.rpartition("/")
        if f"{prefix}/" not in own or not PAGE_RESULT_NAME.fullmatch(name):
            raise BadPackage(
                f"page {page.page_no} of {doc.id} names {key!r} as its page result: "
                "not a page result of the document or of the scan it was cut from"
            )


def _check_document(services: Services, data: Path, entry: object) -> _Planned:
    if not isinstance(entry, dict):
        raise BadPackage(f"the package index holds {entry!r} as a document")
    doc_id = entry.get("id")
    if not isinstance(doc_id, str) or not DOC_ID.match(doc_id):
        raise BadPackage(f"the package index names {doc_id!r} as a document id")
    doc = Document.model_validate_json(_inside(data, entry.get("record")).read_bytes())
    if doc.id != doc_id:
        raise BadPackage(f"{entry['record']} holds the record of {doc.id}, not of {doc_id}")
    _check_result_keys(doc)
    original = None
    if entry.get("original"):
        original = _inside(data, entry["original"])
        if sha256_file(original) != doc_id:  # an original's address is its SHA-256, always
            raise BadPackage(f"{entry['original']} is not the original of document {doc_id}")
    elif doc.source_id is None and not services.store.exists(original_key(doc_id)):
        raise BadPackage(f"document {doc_id} comes without its original")
    pdf = _inside(data, entry["pdf"]) if entry.get("pdf") else None
    if pdf is not None:
        with pdf.open("rb") as head:
            if head.read(5) != b"%PDF-":
                raise BadPackage(f"{entry['pdf']} is not a PDF")
    access = json.loads(_inside(data, entry.get("access")).read_text())
    _check_access(services, doc_id, access, entry.get("owner"))
    pages = _check_pages(data, doc, entry.get("pages", []))
    return _Planned(doc, original, pdf, pages, access)


def _check_dossier(data: Path, index: dict[str, Any], members: set[str]) -> Dossier | None:
    path = data / "metadata/other/dossier.json"
    if not path.is_file():
        return None
    dossier = Dossier.model_validate_json(path.read_bytes())
    if dossier.file_code != index.get("dossier"):
        raise BadPackage(
            f"metadata/other/dossier.json is dossier {dossier.file_code!r}, the package "
            f"index says {index.get('dossier')!r}"
        )
    strangers = [d for d in dossier.documents if d not in members]
    if strangers:  # it would file documents of this installation into the bag's dossier
        raise BadPackage(f"dossier {dossier.file_code} lists {strangers[0]}, not in the bag")
    return dossier


def _check_bag(services: Services, data: Path) -> tuple[list[_Planned], Dossier | None]:
    try:
        index = json.loads((data / PACKAGE_INDEX).read_text())
        if not isinstance(index, dict) or not isinstance(index.get("documents"), list):
            raise BadPackage(f"{PACKAGE_INDEX} is not a package index")
        if int(index.get("format", 0)) > FORMAT:
            raise BadPackage(f"package format {index['format']} is newer than this sohoa reads")
        planned = [_check_document(services, data, e) for e in index["documents"]]
        dossier = _check_dossier(data, index, {p.doc.id for p in planned})
    except ValidationError as e:
        raise BadPackage(f"a record does not read: {e.errors()[0].get('msg', e)}") from e
    except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError) as e:
        raise BadPackage(f"{PACKAGE_INDEX} or a record it names does not read: {e}") from e
    return planned, dossier


# ------------------------------------------------------------------ restoring


def _write_document(services: Services, planned: _Planned) -> None:
    doc, store = planned.doc, services.store
    if planned.original is not None and not store.exists(original_key(doc.id)):
        store.put_file(original_key(doc.id), planned.original)
    if planned.pdf is not None:
        store.put_file(pdf_key(doc.id), planned.pdf)
    for page_no, path in planned.pages:
        store.put_file(page_key(doc.id, page_no), path)
    for rest, body in planned.access.items():  # owner first-come, grants one object each
        store.create(f"access/{doc.id}/{rest}", body.encode())
    services.records.put(doc)  # last: a record is only seen once all it names is there


def _write_dossier(services: Services, dossier: Dossier | None) -> None:
    if dossier is None:
        return
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
    planned, dossier = _check_bag(services, folder / "data")
    restored: list[Document] = []
    for item in planned:
        here = services.records.get(item.doc.id)
        if here is not None:  # never overwritten; told apart when the bag's copy differs
            same = here.model_dump() == item.doc.model_dump()
            (result.present if same else result.conflicts).append(item.doc.id)
            continue
        _write_document(services, item)
        restored.append(item.doc)
        result.restored.append(item.doc.id)
    _write_dossier(services, dossier)
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
    log = audit_log(services)  # one for the whole import: a new one lists the log per bag
    for name, opened in iter_bags(source):
        try:
            with opened as folder:
                result = restore_bag(services, name, folder)
        except BadPackage as e:
            result = ImportedBag(name, refused=e.message)
        log.append(
            "-",
            "archive_import",
            name,
            restored=len(result.restored),
            present=len(result.present),
            conflicts=result.conflicts or None,
            refused=result.refused or None,
        )
        report.bags.append(result)
        if on_bag is not None:
            on_bag(result)
    return report
