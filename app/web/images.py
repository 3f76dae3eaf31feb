"""Page images for the document page: one page of the stored searchable PDF rendered to PNG at
a few fixed widths, kept in a local cache (a page is rendered once per width and version)."""

from __future__ import annotations

import os
import tempfile
from enum import StrEnum
from pathlib import Path

import pypdfium2

from schemas.errors import NotFound
from schemas.models import Document
from storage.base import ObjectStore
from storage.keys import pdf_key

MAX_HEIGHT_RATIO = 3  # a page taller than 3 widths (a hostile page size) is cut to that


class Size(StrEnum):
    """The widths offered: a fixed few, so the cache and the work per request stay bounded."""

    thumb = "thumb"
    page = "page"
    zoom = "zoom"

    @property
    def width(self) -> int:
        return {"thumb": 160, "page": 900, "zoom": 1800}[self.value]


class PageImages:
    def __init__(self, store: ObjectStore, cache_dir: Path) -> None:
        self.store = store
        self.cache_dir = cache_dir

    def png(self, doc: Document, page_no: int, size: Size) -> Path:
        """The PNG of page `page_no` of `doc`'s searchable PDF (NotFound for a page it does
        not have); rendered on first use, then served from the cache."""
        if not 1 <= page_no <= doc.page_count:
            raise NotFound(f"document {doc.id[:12]} has no page {page_no}")
        # The record's update time names the version: a PDF written again gets new images.
        version = int(doc.updated_at.timestamp())
        path = self.cache_dir / doc.id / f"{page_no:04d}-{size.value}-{version}.png"
        if not path.exists():
            self._render(doc, page_no, size.width, path)
        return path

    def _render(self, doc: Document, page_no: int, width: int, path: Path) -> None:
        with self.store.local_path(pdf_key(doc.id)) as local:
            pdf = pypdfium2.PdfDocument(local)
            try:
                if page_no > len(pdf):
                    raise NotFound(f"document {doc.id[:12]} has no page {page_no} in its PDF")
                page = pdf[page_no - 1]
                scale = width / page.get_width()
                scale = min(scale, MAX_HEIGHT_RATIO * width / page.get_height())
                image = page.render(scale=scale).to_pil()
            finally:
                pdf.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            image.save(out, format="PNG", optimize=True)
        Path(tmp).replace(path)  # whole or absent: two requests may render the same page
