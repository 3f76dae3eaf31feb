"""What the CLI shows: JSON objects for scripts, rich tables for people."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from schemas.models import Document, DocumentStatus, Dossier, ErrorInfo, page_ranges_text
from search.base import SearchHit, SearchResults
from workers.submit import Submission


def page_json(doc: Document) -> list[dict[str, Any]]:
    return [
        {
            "page_no": p.page_no,
            "status": p.status.value,
            "source": p.source.value,
            "text": p.text,
            "mean_confidence": p.mean_confidence,
            "rotation_deg": p.rotation_deg,
            "skew_deg": p.skew_deg,
            "quality_flags": p.quality_flags,
            "reason": p.reason,
        }
        for p in doc.pages
    ]


def failed_pages_json(doc: Document) -> list[dict[str, Any]]:
    return [{"page_no": p.page_no, "reason": p.reason} for p in doc.failed_pages]


def document_json(doc: Document) -> dict[str, Any]:
    return {
        "document_id": doc.id,
        "source_name": doc.source_name,
        "media_type": doc.media_type,
        "size_bytes": doc.size_bytes,
        "page_count": doc.page_count,
        "status": doc.status.value,
        "pipeline_version": doc.pipeline_version,
        "created_at": doc.created_at.isoformat(),
        "updated_at": doc.updated_at.isoformat(),
        "metadata": doc.metadata.model_dump(mode="json"),
        "dossier": doc.dossier,
        "rescan_of": doc.rescan_of,
        "source_id": doc.source_id,
        "page_range": list(doc.page_range) if doc.page_range else None,
        "parts": doc.parts,
        "pdfa": doc.pdfa,
        "not_pdfa": doc.not_pdfa,
        "fixity_failed": doc.fixity_failed,
        "errors": [e.model_dump() for e in doc.errors],
        "failed_pages": failed_pages_json(doc),
        "history": [h.model_dump(mode="json") for h in doc.history],
        "pages": page_json(doc),
    }


def ingest_json(
    sub: Submission, outcome: str, doc: Document | None, error: ErrorInfo | None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": sub.shown,  # safe text: a name that is not UTF-8 keeps its bytes as \xNN
        "document_id": doc.id if doc else None,
        "status": outcome,
        "error": error.model_dump() if error else None,
        "notes": sub.notes,
        "seconds": round(sub.seconds, 3),
    }
    if doc is not None:
        body.update(
            {k: v for k, v in document_json(doc).items() if k not in ("document_id", "status")}
        )
        body["document_status"] = doc.status.value
    return body


def hit_json(hit: SearchHit, score: bool = True) -> dict[str, Any]:
    return {
        "document_id": hit.doc_id,
        "score": hit.score if score else None,
        "source_name": hit.source_name,
        "status": hit.status,
        "failed_pages": hit.failed_pages,
        "page_count": hit.page_count,
        "metadata": hit.metadata,
        "pages": [
            {"page_no": p.page_no, "snippet": p.snippet, "highlights": [list(s) for s in p.spans]}
            for p in hit.pages
        ],
    }


def results_json(results: SearchResults, scores: bool = True) -> dict[str, Any]:
    """A search as both `sohoa search --json` and GET /search answer it. Without `scores`
    (restricted viewers) each hit's score is null: a BM25 score on the OpenSearch backend
    counts words of records the caller may not see (docs/access.md)."""
    return {
        "query": results.query,
        "total": results.total,
        "hits": [hit_json(h, scores) for h in results.hits],
        "facets": results.facets,
    }


def highlighted(snippet: str, spans: list[tuple[int, int]]) -> Text:
    text = Text(snippet)
    for a, b in spans:
        text.stylize("bold yellow", a, b)
    return text


def print_results(console: Console, results: SearchResults) -> None:
    if not results.hits:
        console.print(f"No documents match [bold]{results.query}[/].")
        return
    console.print(f"{results.total} document(s) match [bold]{results.query}[/]:\n")
    for rank, hit in enumerate(results.hits, 1):
        title = Text(f"{rank}. ", style="bold")
        title.append(hit.source_name, style="bold cyan")
        title.append(
            f"  {hit.doc_id[:12]}  {hit.page_count} page(s)  score {hit.score:.3g}", style="dim"
        )
        if hit.status != DocumentStatus.done:
            failed = page_ranges_text(hit.failed_pages)
            mark = f"  {hit.status}" + (f": page(s) {failed} failed" if failed else "")
            title.append(mark, style="bold yellow")
        console.print(title)
        for page in hit.pages:
            line = Text(f"   p.{page.page_no}: ", style="green")
            line.append_text(highlighted(page.snippet, page.spans))
            console.print(line)
    facets = {k: v for k, v in results.facets.items() if v}
    if facets:
        console.print()
        for name, counts in facets.items():
            shown = ", ".join(f"{value} ({n})" for value, n in list(counts.items())[:6])
            console.print(f"[dim]{name}:[/] {shown}")


def print_document(console: Console, doc: Document, with_text: bool) -> None:
    table = Table(show_header=False, box=None)
    for label, value in (
        ("id", doc.id),
        ("file", doc.source_name),
        ("type", doc.media_type),
        ("size", f"{doc.size_bytes:,} bytes"),
        ("pages", str(doc.page_count)),
        ("status", doc.status.value),
        ("pipeline", doc.pipeline_version),
        ("updated", doc.updated_at.isoformat(timespec="seconds")),
    ):
        table.add_row(f"[bold]{label}[/]", Text(value))  # a file name is not markup
    if doc.dossier:
        table.add_row("[bold]dossier[/]", doc.dossier)
    if doc.source_id and doc.page_range:
        first, last = doc.page_range
        table.add_row("[bold]cut from[/]", f"{doc.source_id[:12]}, pages {first}-{last}")
    if doc.parts:
        table.add_row(
            "[bold]documents[/]", f"{len(doc.parts)}: " + ", ".join(p[:12] for p in doc.parts)
        )
    if doc.pdfa is not None:
        table.add_row("[bold]PDF/A[/]", _pdfa_line(doc))
    console.print(table)
    if not doc.parts and doc.status in (DocumentStatus.done, DocumentStatus.partial):
        print_metadata(console, doc)
    for error in doc.errors:
        console.print(f"[red]error[/] {error.code}: {error.message}")
    if doc.failed_pages:
        console.print(
            Text("failed ", style="red").append(
                f"{doc.failed_pages_note()}\nRun the same `sohoa ingest` again to retry them.",
                style="default",
            )
        )
    pages = Table("page", "status", "source", "confidence", "rotation", "skew", "notes")
    for p in doc.pages:
        conf = "" if p.mean_confidence is None else f"{p.mean_confidence:.1f}"
        notes = ", ".join(p.quality_flags + ([p.reason] if p.reason else []))
        pages.add_row(
            str(p.page_no),
            p.status.value,
            p.source.value,
            conf,
            f"{p.rotation_deg}°",
            f"{p.skew_deg:.2f}°",
            notes,
        )
    if doc.pages:
        console.print(pages)
    if with_text:
        for p in doc.pages:
            console.rule(f"page {p.page_no}")
            console.print(p.text, markup=False, highlight=False)


def _pdfa_line(doc: Document) -> str:
    if doc.pdfa:
        return "yes (PDF/A-2b)"
    return escape("no: " + "; ".join(doc.not_pdfa))


def _shown(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def print_metadata(console: Console, doc: Document) -> None:
    """Every metadata field with the machine's confidence; unknown fields say so."""
    meta = doc.metadata
    table = Table("field", "value", "confidence", title="Metadata (Nghị định 30/2020)")
    table.columns[1].overflow = "fold"
    for name, field in meta.fields().items():
        if field.value in (None, "", []):
            table.add_row(name, "[dim]—[/]", "")
            continue
        style = "green" if field.confidence >= 0.8 else "yellow"
        table.add_row(name, _shown(field.value), f"[{style}]{field.confidence:.2f}[/]")
    console.print(table)
    if meta.needs_review:
        reasons = "; ".join(meta.review_reasons) or "key fields uncertain"
        console.print(f"[yellow]needs review:[/] {reasons}")
    else:
        console.print("[green]metadata complete[/]")


def review_json(doc: Document) -> dict[str, Any]:
    return {
        "document_id": doc.id,
        "source_name": doc.source_name,
        "needs_review": doc.metadata.needs_review,
        "review_reasons": doc.metadata.review_reasons,
        "metadata": {
            k: str(v) if not isinstance(v, list) else v for k, v in doc.metadata.values().items()
        },
        "page_count": doc.page_count,
    }


def print_review(console: Console, docs: list[Document], total: int) -> None:
    if not docs:
        console.print("No document needs review.")
        return
    table = Table("id", "file", "số/ký hiệu", "type", "reasons", title=f"{total} to review")
    table.columns[4].overflow = "fold"
    for doc in docs:
        meta = doc.metadata
        code = "/".join(str(v) for v in (meta.code_number.value, meta.code_notation.value) if v)
        table.add_row(
            doc.id[:12],
            Text(doc.source_name),
            code,
            str(meta.type_name.value or ""),
            "; ".join(meta.review_reasons),
        )
    console.print(table)


def print_dossier(console: Console, dossier: Dossier, docs: list[Document] | None = None) -> None:
    dates = " – ".join(str(d) for d in (dossier.start_date, dossier.end_date) if d) or "—"
    console.print(
        f"[bold]Dossier {dossier.file_code}[/]: {dossier.title}\n"
        f"{dossier.doc_total} document(s), {dossier.page_total} page(s), dates {dates}"
        + (f", organ {dossier.organ}" if dossier.organ else "")
    )
    if docs:
        table = Table("#", "id", "date", "số/ký hiệu", "trích yếu")
        table.columns[4].overflow = "fold"
        for n, doc in enumerate(docs, 1):
            meta = doc.metadata
            code = "/".join(str(v) for v in (meta.code_number.value, meta.code_notation.value) if v)
            table.add_row(
                str(n),
                doc.id[:12],
                str(meta.issued_date.value or ""),
                code,
                Text(str(meta.subject.value or doc.source_name)),
            )
        console.print(table)


def print_dossiers(console: Console, dossiers: list[Dossier]) -> None:
    if not dossiers:
        console.print("No dossiers yet: ingest with --dossier CODE --title TITLE.")
        return
    table = Table("code", "title", "documents", "pages", "from", "to")
    for d in dossiers:
        table.add_row(
            d.file_code,
            d.title,
            str(d.doc_total),
            str(d.page_total),
            str(d.start_date or ""),
            str(d.end_date or ""),
        )
    console.print(table)
