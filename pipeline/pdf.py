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


# Pages merged by pikepdf at a time. pikepdf copies a page's stream data (its image) into
# memory when it copies the page into another PDF, so a merge holds every page it merges until
# it is written (~0.9 MiB a scanned page: 440 MiB for 500 pages, measured). Longer documents
# are merged in chunks of this many pages, each sanitised and written to a file, and the
# chunks joined by qpdf's own page job, which reads each stream from its file as it writes.
CHUNK_PAGES = 32
# Marks, in a chunk, an optional content group its source hid by default: a join keeps the
# groups (the pages use them) but not the chunks' catalogs that said so.
_HIDDEN_MARK = "/SohoaHiddenLayer"


def assemble(
    parts: Iterable[PagePart], out_path: Path, title: str, *, from_pdfa_output: bool = False
) -> Assembled:
    """Join sanitised pages into one searchable PDF at `out_path`, marked PDF/A-2b if it is.

    Memory stays bounded whatever the length: at most CHUNK_PAGES pages are held at a time,
    and at most one chunk's worth of files is open (qpdf closes page sources past its own
    threshold). `from_pdfa_output`: every source is a PDF/A output of sohoa (a part cut from a
    scan), whose content streams need no second check (hygiene.clean, contents_checked).
    """
    parts = list(parts)
    if len(parts) <= CHUNK_PAGES:
        return _merge(parts, out_path, title, from_pdfa_output)
    with tempfile.TemporaryDirectory(prefix="sohoa-chunks-", dir=out_path.parent) as tmp:
        chunks, any_hidden = [], False
        for start in range(0, len(parts), CHUNK_PAGES):
            chunk = Path(tmp) / f"{start:07d}.pdf"
            chunk_parts = parts[start : start + CHUNK_PAGES]
            any_hidden |= _merge_chunk(chunk_parts, chunk, from_pdfa_output)
            chunks.append(chunk)
        joined = Path(tmp) / "joined.pdf"
        _join(chunks, joined)
        with pikepdf.open(joined) as pdf:
            hidden = _marked_hidden_layers(pdf) if any_hidden else []
            # Checked again as pages of the final output, which alone says whether it is PDF/A
            # (page numbers of its problems are the output's).
            return _seal(pdf, hidden, out_path, title, from_pdfa_output)


def _join(chunks: list[Path], out_path: Path) -> None:
    """The chunks' pages, in order, in one file, as `qpdf --empty --pages ...` makes it:
    stream data is copied from file to file as it is written, never all held at once."""
    job = {
        "empty": "",
        "outputFile": str(out_path),
        "pages": [{"file": str(chunk)} for chunk in chunks],
        "removeUnreferencedResources": "no",  # every page as it was merged and checked
    }
    pikepdf.Job(job).run()


def _marked_hidden_layers(pdf: pikepdf.Pdf) -> list[pikepdf.Object]:
    hidden = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and _HIDDEN_MARK in obj:
            del obj[_HIDDEN_MARK]
            hidden.append(obj)
    return hidden


def _merge(
    parts: list[PagePart], out_path: Path, title: str, from_pdfa_output: bool = False
) -> Assembled:
    with ExitStack() as stack:
        out = stack.enter_context(pikepdf.new())
        hidden = _copy_pages(parts, out, stack)
        return _seal(out, hidden, out_path, title, from_pdfa_output)


def _merge_chunk(parts: list[PagePart], out_path: Path, from_pdfa_output: bool) -> bool:
    """A chunk of a long output, sanitised (a page is never held unsanitised) but not marked;
    the layers its sources hid are marked for the join (_HIDDEN_MARK). True if there are."""
    with ExitStack() as stack:
        out = stack.enter_context(pikepdf.new())
        hidden = _copy_pages(parts, out, stack)
        hygiene.clean(out, hidden, contents_checked=from_pdfa_output)
        for layer in hidden:
            layer[_HIDDEN_MARK] = True
        out.save(out_path)
        return bool(hidden)


def _copy_pages(parts: list[PagePart], out: pikepdf.Pdf, stack: ExitStack) -> list[pikepdf.Object]:
    """Copy the parts' pages into `out` (their sources stay open on `stack`); returns the
    optional content groups the sources hide by default, as copied."""
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
    # The chunks' mark found in an input is none of sohoa's: kept, a forged one on a shown
    # layer hid that layer's text in a long output (and stayed in a short one).
    for obj in out.objects:
        if isinstance(obj, pikepdf.Dictionary) and _HIDDEN_MARK in obj:
            del obj[_HIDDEN_MARK]
    return [h for source in opened.values() for h in hygiene.layers_hidden_in(out, source)]


def _seal(
    pdf: pikepdf.Pdf,
    hidden: list[pikepdf.Object],
    out_path: Path,
    title: str,
    from_pdfa_output: bool,
) -> Assembled:
    """Sanitise the whole output, mark it PDF/A-2b unless something forbids it, write it."""
    problems = hygiene.clean(pdf, hidden, contents_checked=from_pdfa_output)
    if not problems:
        mark_pdfa(pdf, title)
    else:
        _mark_title(pdf, title, pdfa=False)
    pdf.save(out_path, fix_metadata_version=True)
    return Assembled(len(pdf.pages), tuple(problems))
