"""A document's life as PREMIS events, from what the record and its access objects hold:
ingest, text (OCR or the PDF's own text layer), PDF/A, people's corrections, exchange
deliveries, and the fixity check made while packing (docs/preservation.md)."""

from __future__ import annotations

from datetime import datetime
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from schemas.models import Document, DocumentStatus, PageSource, utcnow
from storage.access import Grant
from workers.archive_xml import Agent, Event, PackedFile

SOFTWARE_AGENT = "agent/sohoa"
ENGINE_AGENT = "agent/tesseract"
VERAPDF_AGENT = "agent/verapdf"
FINISHED = (DocumentStatus.done, DocumentStatus.partial, DocumentStatus.failed)


def sohoa_version() -> str:
    try:
        return package_version("sohoa")
    except PackageNotFoundError:  # a checkout run without installing
        return "unknown"


def ocr_engine() -> str:
    """The Tesseract of the machine that packs (the record does not keep the one that read
    it): imported on use so that only packing pays for loading it."""
    from pipeline.ocr import zone_engine

    return zone_engine()


def agents(doc: Document, owner: str) -> list[Agent]:
    """Everyone the events name: the software, the owner organ, the people who corrected it."""
    found = [
        Agent(SOFTWARE_AGENT, "sohoa", "software", sohoa_version()),
        Agent(ENGINE_AGENT, "Tesseract OCR (on the packing machine)", "software", ocr_engine()),
    ]
    if owner:
        found.append(Agent(f"organ/{owner}", owner, "organization"))
    editors = dict.fromkeys(c.editor for c in doc.history if c.editor)
    found.extend(Agent(f"person/{e}", e, "person") for e in editors if e)
    return found


def _ingest(doc: Document, original: PackedFile | None, owner: str) -> Event:
    objects = (original.path,) if original else ()
    who = (SOFTWARE_AGENT, f"organ/{owner}") if owner else (SOFTWARE_AGENT,)
    return Event(
        "ingestion",
        doc.created_at,
        f"original received as {doc.source_name} ({doc.size_bytes} bytes, {doc.media_type}); "
        "its SHA-256 is the document id",
        "success",
        objects=objects,
        agents=who,
    )


def _text(doc: Document, at: datetime, status: DocumentStatus, files: tuple[str, ...]) -> Event:
    ocr = sum(1 for p in doc.pages if p.source == PageSource.ocr)
    layer = sum(1 for p in doc.pages if p.source == PageSource.text_layer)
    detail = (
        f"text of {len(doc.pages)} page(s): {ocr} by OCR (Tesseract, language vie), {layer} "
        f"from the PDF's own text layer; sohoa pipeline {doc.pipeline_version or 'unknown'}"
    )
    outcome = "success" if status == DocumentStatus.done else status.value
    note = doc.failed_pages_note() if status == DocumentStatus.partial else ""
    who = (SOFTWARE_AGENT, ENGINE_AGENT) if ocr else (SOFTWARE_AGENT,)
    return Event("creation", at, detail, outcome, note, objects=files, agents=who)


def _pdfa(doc: Document, at: datetime, pdf: PackedFile) -> Event:
    if doc.pdfa:
        return Event(
            "validation",
            at,
            "PDF/A-2b conformance of the searchable PDF (sohoa's own checks when writing it)",
            "success",
            "PDF/A-2b",
            (pdf.path,),
            (SOFTWARE_AGENT,),
        )
    why = "; ".join(doc.not_pdfa) or "not claimed"
    return Event(
        "validation",
        at,
        "PDF/A-2b conformance of the searchable PDF (sohoa's own checks when writing it)",
        "failure",
        why,
        (pdf.path,),
        (SOFTWARE_AGENT,),
    )


def verapdf_agent(version: str) -> Agent:
    return Agent(VERAPDF_AGENT, "veraPDF (run by sohoa pdfa check)", "software", version)


def verapdf_event(
    at: datetime, profile: str, passed: bool, rules: list[str], pdf: PackedFile
) -> Event:
    """The operator's `sohoa pdfa check` of the searchable PDF (workers/pdfa_check.py)."""
    note = profile if passed else f"{profile}: " + "; ".join(rules or ["not compliant"])
    return Event(
        "validation",
        at,
        f"{profile} validation of the searchable PDF by veraPDF",
        "pass" if passed else "fail",
        note,
        (pdf.path,),
        (VERAPDF_AGENT,),
    )


def _delivery(grant: Grant) -> Event:
    return Event(
        "transfer",
        grant.at,
        f"delivered to organ {grant.organ} by edXML exchange message {grant.ref or '(unknown)'}",
        "success",
        agents=(SOFTWARE_AGENT,),
    )


def fixity_event(packed: PackedFile, expected: str | None) -> Event:
    """The check made while copying the file into the package: its SHA-256 against its
    content address (`expected`), or only computed when nothing records what it should be."""
    if expected is None:
        return Event(
            "message digest calculation",
            utcnow(),
            "SHA-256 while packing",
            "success",
            packed.sha256,
            (packed.path,),
            (SOFTWARE_AGENT,),
        )
    ok = packed.sha256 == expected
    return Event(
        "fixity check",
        utcnow(),
        "SHA-256 of the stored bytes against the content address, while packing",
        "success" if ok else "failure",
        "" if ok else f"expected {expected}, found {packed.sha256}",
        (packed.path,),
        (SOFTWARE_AGENT,),
    )


def document_events(
    doc: Document,
    owner: str,
    grants: list[Grant],
    original: PackedFile | None,
    pdf: PackedFile | None,
    fixity: list[Event],
    checks: list[Event] | None = None,
) -> list[Event]:
    """Events in the order they happened (fixity checks of this packing last); `checks`:
    validations made since, e.g. by veraPDF."""
    events = [_ingest(doc, original, owner)]
    outputs = tuple(f.path for f in (pdf,) if f is not None)
    for change in doc.history:
        if change.editor:
            events.append(
                Event(
                    "metadata modification",
                    change.at,
                    change.note or "metadata corrected",
                    "success",
                    agents=(f"person/{change.editor}",),
                )
            )
        elif change.status in FINISHED:
            events.append(_text(doc, change.at, change.status, outputs))
    if pdf is not None and doc.pdfa is not None:
        events.append(_pdfa(doc, doc.updated_at, pdf))
    events.extend(_delivery(g) for g in grants if g.via == "delivery")
    events.extend(checks or [])
    events.sort(key=lambda e: e.at)
    return events + fixity
