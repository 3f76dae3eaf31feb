"""`sohoa archive export`: records out as BagIt bags laid out as E-ARK SIPs (docs/preservation.md).

One bag per dossier, and one per document outside any dossier. A bag is written one document
at a time, each file streamed from the store through SHA-256 into the bag's folder (the
original checked against its content address on the way), then `bagit.make_bag` moves it
under `data/` and writes the manifests. Into a .zip, each finished bag is added and its folder
removed before the next: memory holds one record, disk one bag.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

import bagit

from schemas.access import Viewer
from schemas.errors import NotFound, OutputNotWritable
from schemas.models import Document, Dossier
from storage.dossiers import DossierStore
from storage.keys import original_key, pages_prefix, pdf_key, record_key
from workers.archive_events import (
    agents,
    document_events,
    fixity_event,
    sohoa_version,
    verapdf_agent,
    verapdf_event,
)
from workers.archive_xml import MetsInput, PackedFile, PremisInput, mets, premis
from workers.archive_xml import document_description as describe_document
from workers.archive_xml import dossier_description as describe_dossier
from workers.pdfa_check import stored_check
from workers.services import Services

if TYPE_CHECKING:
    from exchange.audit import AuditLog

CHUNK = 1024 * 1024
FORMAT = 1  # of metadata/other/package.json; `archive import` refuses newer ones
PACKAGE_INDEX = "metadata/other/package.json"
SEARCH_PAGE = 200


@dataclass
class BagPlan:
    name: str  # the bag's folder name
    doc_ids: list[str]
    dossier: Dossier | None = None


@dataclass
class BagResult:
    name: str
    documents: int
    bytes: int
    problems: list[str] = field(default_factory=list)  # a fixity mismatch, a missing object


@dataclass
class ExportReport:
    bags: list[BagResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def documents(self) -> int:
        return sum(b.documents for b in self.bags)

    @property
    def bytes(self) -> int:
        return sum(b.bytes for b in self.bags)

    @property
    def problems(self) -> list[str]:
        return [f"{b.name}: {p}" for b in self.bags for p in b.problems]


ExportProgress = Callable[[int, int], None]  # (documents done, bytes done)


def audit_log(services: Services) -> AuditLog:
    """The installation's audit log (exchange/audit.py). One for a whole export: a new one
    lists every entry of the log to find its head, which made each bag cost more than the
    last (docs/benchmarks.md "At 1,000 and 10,000 documents"); one that appended remembers it."""
    from exchange.audit import AuditLog  # imported on use: cryptography stays out of the rest

    return AuditLog.for_options(services.store, services.exchange)


def audit(services: Services, action: str, target: str, **detail: object) -> None:
    """One entry of the installation's audit log by the operator."""
    audit_log(services).append("-", action, target, **detail)


# ------------------------------------------------------------------ what goes into which bag


def dossier_bag_name(file_code: str) -> str:
    return f"dossier-{file_code}"


def document_bag_name(doc_id: str) -> str:
    return f"document-{doc_id[:16]}"


def plan_dossier(services: Services, file_code: str) -> list[BagPlan]:
    dossier = DossierStore(services.store).require(file_code)
    return [BagPlan(dossier_bag_name(file_code), list(dossier.documents), dossier)]


def plan_query(services: Services, query: str) -> list[BagPlan]:
    """The documents a search finds (every record: the CLI is the operator), by dossier."""
    found: list[str] = []
    offset = 0
    while True:
        results = services.index.search(
            query, viewer=Viewer.everything(), limit=SEARCH_PAGE, offset=offset
        )
        found.extend(hit.doc_id for hit in results.hits)
        offset += SEARCH_PAGE
        if offset >= results.total or not results.hits:
            break
    if not found:
        raise NotFound(f"no document matches {query!r}")
    by_dossier: dict[str | None, list[str]] = {}
    for doc in services.records.readable(found):
        by_dossier.setdefault(doc.dossier, []).append(doc.id)
    plans = [BagPlan(document_bag_name(i), [i]) for i in by_dossier.pop(None, [])]
    dossiers = DossierStore(services.store)
    for file_code, ids in by_dossier.items():
        dossier = dossiers.get(file_code) if file_code else None
        plans.append(BagPlan(dossier_bag_name(str(file_code)), ids, dossier))
    return plans


def plan_all(services: Services) -> Iterator[BagPlan]:
    """Every dossier, then every record in none: ids only are held, never records."""
    filed: set[str] = set()
    for dossier in DossierStore(services.store).all():
        filed.update(dossier.documents)
        yield BagPlan(dossier_bag_name(dossier.file_code), list(dossier.documents), dossier)
    for doc_id in services.records.ids():
        if doc_id not in filed:
            yield BagPlan(document_bag_name(doc_id), [doc_id])


# ------------------------------------------------------------------ writing one bag


class _BagWriter:
    """Fills one bag's folder (before `make_bag`): files by path inside the package."""

    def __init__(self, services: Services, root: Path) -> None:
        self.services = services
        self.root = root
        self.files: list[PackedFile] = []
        self.problems: list[str] = []

    def copy(self, key: str, path: str, mime: str, doc_id: str, use: str) -> PackedFile | None:
        """The object `key` streamed to `path` through SHA-256; None if it is not stored."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with self.services.store.open(key) as src, target.open("wb") as dst:
                size, digest = _copy_hashing(src, dst)
        except NotFound:
            target.unlink(missing_ok=True)
            return None
        return self._add(PackedFile(path, size, digest, mime, doc_id, use))

    def write(self, path: str, data: bytes, mime: str, doc_id: str, use: str) -> PackedFile:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        return self._add(PackedFile(path, len(data), digest, mime, doc_id, use))

    def _add(self, packed: PackedFile) -> PackedFile:
        self.files.append(packed)
        return packed


def _copy_hashing(src: BinaryIO, dst: BinaryIO) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        digest.update(chunk)
        dst.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def _extension(doc: Document) -> str:
    suffix = PurePosixPath(doc.source_name).suffix.lower()
    if suffix and suffix[1:].isalnum() and len(suffix) <= 6:
        return suffix
    return mimetypes.guess_extension(doc.media_type) or ".bin"


def _access_objects(services: Services, doc_id: str) -> dict[str, str]:
    """The record's access objects as stored (owner, grants, public), by key under it."""
    prefix = f"access/{doc_id}/"
    found = {}
    for key in services.store.list(prefix):
        try:
            found[key.removeprefix(prefix)] = services.store.get_bytes(key).decode()
        except NotFound:  # revoked meanwhile
            continue
    return found


def _pack_document(
    writer: _BagWriter, doc: Document, raw_record: bytes, rep: str, order: int | None
) -> dict[str, object]:
    """One document's files and metadata into the bag; its entry of package.json."""
    services = writer.services
    data = f"representations/{rep}/data"
    original = writer.copy(
        original_key(doc.id),
        f"{data}/original{_extension(doc)}",
        doc.media_type,
        doc.id,
        "original",
    )
    pdf = writer.copy(pdf_key(doc.id), f"{data}/searchable.pdf", "application/pdf", doc.id, "pdfa")
    fixity = []
    if original is not None:
        expected = doc.id if doc.source_id is None else None  # a cut document has no original
        fixity.append(fixity_event(original, expected))
        if expected is not None and original.sha256 != expected:
            writer.problems.append(f"document {doc.id[:12]}: original does not match its id")
    elif doc.source_id is None:
        writer.problems.append(f"document {doc.id[:12]}: original missing from the store")
    if pdf is not None:
        fixity.append(fixity_event(pdf, None))
    pages = []
    for key, name in _page_results(services, doc):
        path = f"metadata/other/{doc.id}/pages/{name}"
        if writer.copy(key, path, "application/json", doc.id, "pages"):
            pages.append(path)
    other = f"metadata/other/{doc.id}"
    writer.write(f"{other}/record.json", raw_record, "application/json", doc.id, "record")
    access = _access_objects(services, doc.id)
    body = json.dumps(access, ensure_ascii=False, indent=1).encode()
    writer.write(f"{other}/access.json", body, "application/json", doc.id, "access")
    book = services.access
    owner = book.owner(doc.id)
    grants = list(book.grants(doc.id))
    desc = describe_document(doc, order)
    writer.write(f"metadata/descriptive/{doc.id}.xml", desc, "text/xml", doc.id, "descriptive")
    files = [f for f in (original, pdf) if f is not None]
    who = agents(doc, owner)
    checks = []
    checked = stored_check(services.store, doc.id) if pdf is not None else None
    # A result speaks for the bytes veraPDF read: not for a PDF made again since.
    if pdf is not None and checked is not None and checked.sha256 == pdf.sha256:
        at = datetime.fromisoformat(checked.checked_at)
        passed = checked.outcome == "pass"
        checks.append(verapdf_event(at, checked.profile, passed, checked.failed_rules, pdf))
        who.append(verapdf_agent(checked.version))
    events = document_events(doc, owner, grants, original, pdf, fixity, checks)
    xml = premis(PremisInput(doc, files, events, who))
    path = f"metadata/preservation/{doc.id}.premis.xml"
    writer.write(path, xml, "text/xml", doc.id, "preservation")
    return {
        "id": doc.id,
        "representation": rep,
        "original": original.path if original else None,
        "pdf": pdf.path if pdf else None,
        "pages": pages,
        "record": f"{other}/record.json",
        "access": f"{other}/access.json",
        "owner": owner,
    }


def _page_results(services: Services, doc: Document) -> list[tuple[str, str]]:
    """(store key, name in the bag) of the document's page results: its own, or for a part
    cut from a scan, the scan's results its pages name (workers/pages.py), under the part's
    page numbers, so its bag holds its words even without the scan's bag beside it."""
    own = [k for k in sorted(services.store.list(pages_prefix(doc.id))) if k.endswith(".json")]
    if own or doc.source_id is None:
        return [(key, key.rsplit("/", 1)[-1]) for key in own]
    named = [(p.result_key, f"{p.page_no:04d}.json") for p in doc.pages if p.result_key]
    return [(key, name) for key, name in named if services.store.exists(key)]


def _members(services: Services, plan: BagPlan, carry_sources: bool) -> list[str]:
    """The plan's documents, and (when asked) the scans documents were cut from, so a bag of
    a dossier of cut documents holds the originals they came from."""
    ids = list(dict.fromkeys(plan.doc_ids))
    if carry_sources:
        for doc in services.records.readable(list(ids)):
            if doc.source_id and doc.source_id not in ids:
                ids.append(doc.source_id)
    return ids


def write_bag(services: Services, plan: BagPlan, root: Path, carry_sources: bool) -> BagResult:
    """The bag `plan` in the (new) folder `root`; documents read one at a time."""
    root.mkdir(parents=True)
    writer = _BagWriter(services, root)
    entries, reps, owners = [], [], []
    for n, doc_id in enumerate(_members(services, plan, carry_sources), start=1):
        try:
            raw = services.store.get_bytes(record_key(doc_id))
        except NotFound:
            writer.problems.append(f"document {doc_id[:12]}: no record")
            continue
        doc = Document.model_validate_json(raw)
        order = n if plan.dossier is not None and doc.dossier == plan.dossier.file_code else None
        entry = _pack_document(writer, doc, raw, f"rep{n}", order)
        entries.append(entry)
        reps.append((str(entry["representation"]), doc.id))
        owners.append(str(entry["owner"]))
    if plan.dossier is not None:
        dossier = plan.dossier
        writer.write(
            "metadata/descriptive/dossier.xml",
            describe_dossier(dossier),
            "text/xml",
            "",
            "descriptive",
        )
        body = dossier.model_dump_json(indent=1).encode()
        writer.write("metadata/other/dossier.json", body, "application/json", "", "record")
    organs = sorted(set(owners) - {""})
    index = {
        "format": FORMAT,
        "dossier": plan.dossier.file_code if plan.dossier else None,
        "documents": entries,
    }
    writer.write(
        PACKAGE_INDEX, json.dumps(index, indent=1).encode(), "application/json", "", "record"
    )
    label = plan.dossier.title if plan.dossier else _label(services, plan)
    objid = plan.dossier.file_code if plan.dossier else plan.doc_ids[0]
    mets_xml = mets(
        MetsInput(objid, label, f"sohoa {sohoa_version()}", ", ".join(organs), reps, writer.files)
    )
    (root / "METS.xml").write_bytes(mets_xml)
    bag_info = {
        "Source-Organization": ", ".join(organs) or "unknown",
        "External-Identifier": objid,
        "External-Description": label,
        "Bag-Software-Agent": f"sohoa {sohoa_version()} with bagit-python",
        "Sohoa-Organ": ", ".join(organs),
        "Sohoa-Dossier": plan.dossier.file_code if plan.dossier else "",
        "Sohoa-Documents": str(len(entries)),
    }
    bagit.make_bag(str(root), bag_info, checksums=["sha256"])
    size = sum(f.size for f in writer.files) + len(mets_xml)
    return BagResult(plan.name, len(entries), size, writer.problems)


def _label(services: Services, plan: BagPlan) -> str:
    doc = services.records.get(plan.doc_ids[0])
    return doc.source_name if doc else plan.doc_ids[0]


# ------------------------------------------------------------------ the whole export


def export_packages(
    services: Services,
    plans: Iterator[BagPlan] | list[BagPlan],
    output: Path,
    *,
    carry_sources: bool = True,
    on_progress: ExportProgress | None = None,
) -> ExportReport:
    """Every plan as a bag in the folder `output`, or in the zip file `output` (*.zip)."""
    started = time.perf_counter()
    report = ExportReport()
    into_zip = output.suffix.lower() == ".zip"
    log = audit_log(services)
    with _Destination(output, into_zip) as dest:
        for plan in plans:
            if not plan.doc_ids:
                continue
            result = write_bag(services, plan, dest.folder_for(plan.name), carry_sources)
            dest.finish(plan.name)
            report.bags.append(result)
            log.append(
                "-",
                "archive_export",
                plan.name,
                documents=result.documents,
                bytes=result.bytes,
                problems=result.problems or None,
            )
            if on_progress is not None:
                on_progress(result.documents, result.bytes)
    report.seconds = time.perf_counter() - started
    return report


class _Destination:
    """Where finished bags go: folders under `output`, or entries of the zip `output`, each
    bag added (payload stored as is: PDFs and scans do not compress) and its folder removed."""

    def __init__(self, output: Path, into_zip: bool) -> None:
        self.output = output
        self.into_zip = into_zip
        self.work: Path | None = None
        self.zip: zipfile.ZipFile | None = None

    def __enter__(self) -> _Destination:
        try:
            if self.into_zip:
                if self.output.exists():
                    raise OutputNotWritable(f"{self.output} already exists")
                self.output.parent.mkdir(parents=True, exist_ok=True)
                self.work = Path(tempfile.mkdtemp(prefix=".sohoa-bag-", dir=self.output.parent))
                self.zip = zipfile.ZipFile(self.output, "x", allowZip64=True)
            else:
                self.output.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputNotWritable(f"cannot write {self.output}: {e.strerror or e}") from e
        return self

    def folder_for(self, name: str) -> Path:
        base = self.work if self.work is not None else self.output
        folder = base / name
        if folder.exists():
            raise OutputNotWritable(f"{folder} already exists: export into a new folder")
        return folder

    def finish(self, name: str) -> None:
        if self.zip is None or self.work is None:
            return
        folder = self.work / name
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            stored = path.suffix.lower() not in (".xml", ".json", ".txt")
            kind = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            arcname = f"{name}/{path.relative_to(folder).as_posix()}"
            self.zip.write(path, arcname, compress_type=kind)
        shutil.rmtree(folder)

    def __exit__(self, *exc: object) -> None:
        if self.zip is not None:
            self.zip.close()
        if self.work is not None:
            shutil.rmtree(self.work, ignore_errors=True)
        if exc[0] is not None and self.zip is not None:
            self.output.unlink(missing_ok=True)  # no half-written archive left behind
