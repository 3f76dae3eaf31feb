"""Searchable PDF output: page image with an invisible text layer, marked PDF/A-2b.

Every page entering an output is sanitised first (pipeline.hygiene): no active content, no
embedded files. An output that still holds something PDF/A forbids (a font that could not be
embedded, CMYK colour) is written without the PDF/A identification, and `assemble` says why.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image, ImageCms

from pipeline import hygiene

JPEG_QUALITY = 85
A4_PT = (595.0, 842.0)
# What a PDF page may measure (ISO 32000 Annex C; img2pdf refuses anything else).
MIN_PAGE_PT, MAX_PAGE_PT = 3.0, 14400.0


def _page_layout(width_px: int, height_px: int, dpi: tuple[float, float]) -> tuple[float, ...]:
    """img2pdf layout: the image at its real size, scaled (aspect kept) only as far as needed
    to make a page PDF allows: a 2×2 px scan at 300 dpi is 0.5 pt wide, below PDF's minimum of
    3 pt, yet still a page of the record. An extreme strip (1×20000 px) is fitted inside the
    maximum and its page padded to the minimum, the image centred."""
    width, height = img2pdf.px_to_pt(width_px, dpi[0]), img2pdf.px_to_pt(height_px, dpi[1])
    scale = max(1.0, MIN_PAGE_PT / min(width, height))
    scale = min(scale, MAX_PAGE_PT / max(width, height))
    width, height = width * scale, height * scale
    return max(width, MIN_PAGE_PT), max(height, MIN_PAGE_PT), width, height


def page_pdf(display: Image.Image, dpi: int, text_pdf: bytes | None) -> bytes:
    """One PDF page: the page image at its real size, with the OCR text laid invisibly over it."""
    encoded = io.BytesIO()
    display.save(encoded, format="JPEG", quality=JPEG_QUALITY, dpi=(dpi, dpi), optimize=True)
    image_pdf = img2pdf.convert(
        encoded.getvalue(), rotation=img2pdf.Rotation.ifvalid, layout_fun=_page_layout
    )
    if not text_pdf:
        return image_pdf
    with pikepdf.open(io.BytesIO(image_pdf)) as pdf, pikepdf.open(io.BytesIO(text_pdf)) as text:
        pdf.pages[0].add_overlay(text.pages[0])
        out = io.BytesIO()
        pdf.save(out)
        return out.getvalue()


@dataclass(frozen=True)
class PagePart:
    """Where the finished page comes from: a one-page PDF, or a page of the original PDF;
    no path: a blank A4 page standing in for a page that could not be read, so that page N of
    the output is still page N of the record."""

    pdf_path: Path | None
    page_index: int = 0


@lru_cache(maxsize=1)
def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def mark_pdfa(pdf: pikepdf.Pdf, title: str) -> None:
    """XMP identification and an sRGB output intent, as PDF/A-2b asks."""
    _mark_title(pdf, title, pdfa=True)
    icc = pdf.make_stream(_srgb_icc())
    icc.N = 3
    intent = pikepdf.Dictionary(
        Type=pikepdf.Name.OutputIntent,
        S=pikepdf.Name.GTS_PDFA1,
        OutputConditionIdentifier="sRGB",
        DestOutputProfile=icc,
    )
    pdf.Root.OutputIntents = pdf.make_indirect(pikepdf.Array([intent]))


def _mark_title(pdf: pikepdf.Pdf, title: str, pdfa: bool) -> None:
    with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
        meta["dc:title"] = title
        if pdfa:
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
        meta["xmp:CreatorTool"] = "sohoa"


@dataclass(frozen=True)
class Assembled:
    """A written output: its page count, and why it is not PDF/A-2b (empty when it is)."""

    pages: int
    not_pdfa: tuple[str, ...] = ()

    @property
    def pdfa(self) -> bool:
        return not self.not_pdfa


MAX_OPEN_SOURCES = 200  # well under the usual 1024 open files per process


def assemble(
    parts: Iterable[PagePart], out_path: Path, title: str, *, from_pdfa_output: bool = False
) -> Assembled:
    """Join sanitised pages into one searchable PDF at `out_path`, marked PDF/A-2b if it is.

    Sources stay open until the write ends: qpdf copies page streams lazily from them, so a long
    document is never held in memory whole. Past MAX_OPEN_SOURCES files, pages are first merged
    in chunks, so the number of open files stays bounded too. `from_pdfa_output`: every source
    is a PDF/A output of sohoa (a part cut from a scan), whose content streams need no second
    check (hygiene.clean, contents_checked).
    """
    parts = list(parts)
    if len({p.pdf_path for p in parts}) <= MAX_OPEN_SOURCES:
        return _merge(parts, out_path, title, from_pdfa_output)
    with tempfile.TemporaryDirectory(prefix="sohoa-chunks-", dir=out_path.parent) as tmp:
        chunks = []
        for start in range(0, len(parts), MAX_OPEN_SOURCES):
            chunk = Path(tmp) / f"{start:06d}.pdf"
            chunk_parts = parts[start : start + MAX_OPEN_SOURCES]
            count = _merge(chunk_parts, chunk, None, from_pdfa_output).pages
            chunks.extend(PagePart(chunk, i) for i in range(count))
        return assemble(chunks, out_path, title, from_pdfa_output=from_pdfa_output)


def _merge(
    parts: list[PagePart], out_path: Path, title: str | None, from_pdfa_output: bool = False
) -> Assembled:
    with ExitStack() as stack:
        out = stack.enter_context(pikepdf.new())
        opened: dict[Path, pikepdf.Pdf] = {}
        for part in parts:
            if part.pdf_path is None:
                out.add_blank_page(page_size=A4_PT)
                continue
            if part.pdf_path not in opened:
                opened[part.pdf_path] = stack.enter_context(pikepdf.open(part.pdf_path))
            source = opened[part.pdf_path]
            if part.page_index >= len(source.pages):
                # A page PDFium counted (the page tree's /Count) but that is not there: it
                # failed, and a blank page keeps the page numbers true.
                out.add_blank_page(page_size=A4_PT)
                continue
            out.pages.append(source.pages[part.page_index])
        # Chunks are sanitised too (so a page is never held unsanitised), and checked again as
        # pages of the final output, which alone says whether it is PDF/A.
        hidden = [h for source in opened.values() for h in hygiene.layers_hidden_in(out, source)]
        problems = hygiene.clean(out, hidden, contents_checked=from_pdfa_output)
        if title is not None and not problems:
            mark_pdfa(out, title)
        elif title is not None:
            _mark_title(out, title, pdfa=False)
        out.save(out_path, fix_metadata_version=title is not None)
        return Assembled(len(out.pages), tuple(problems))
