"""What the CLI shows: JSON objects for scripts, rich tables for people."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from schemas.models import Document, ErrorInfo
from search.base import SearchHit, SearchResults


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
        "errors": [e.model_dump() for e in doc.errors],
        "history": [h.model_dump(mode="json") for h in doc.history],
        "pages": page_json(doc),
    }


def ingest_json(
    path: str, outcome: str, doc: Document | None, error: ErrorInfo | None, seconds: float
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "path": path,
        "document_id": doc.id if doc else None,
        "status": outcome,
        "error": error.model_dump() if error else None,
        "seconds": round(seconds, 3),
    }
    if doc is not None:
        body.update(
            {k: v for k, v in document_json(doc).items() if k not in ("document_id", "status")}
        )
        body["document_status"] = doc.status.value
    return body


def hit_json(hit: SearchHit) -> dict[str, Any]:
    return {
        "document_id": hit.doc_id,
        "score": hit.score,
        "source_name": hit.source_name,
        "status": hit.status,
        "page_count": hit.page_count,
        "metadata": hit.metadata,
        "pages": [
            {"page_no": p.page_no, "snippet": p.snippet, "highlights": [list(s) for s in p.spans]}
            for p in hit.pages
        ],
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
        table.add_row(f"[bold]{label}[/]", value)
    meta = doc.metadata
    for name in type(meta).model_fields:
        if name == "needs_review":
            continue
        field = getattr(meta, name)
        if field.value not in (None, "", []):
            table.add_row(f"[bold]{name}[/]", f"{field.value}  [dim]({field.confidence:.2f})[/]")
    console.print(table)
    for error in doc.errors:
        console.print(f"[red]error[/] {error.code}: {error.message}")
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
