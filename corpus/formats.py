"""File writers. Each returns the path it wrote; all raster output declares 300 dpi.

Outputs are byte-for-byte reproducible (no timestamps), so a document's SHA-256 id is stable
across runs of the same seed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import img2pdf
from fpdf import FPDF
from PIL import Image

from corpus.fonts import DPI, FAMILY, Style, font_path, px_to_pt
from corpus.nd30 import PageLayout

FIXED_DATE = datetime(2024, 1, 1, tzinfo=UTC)
MEDIA_TYPES = {
    "tiff": "image/tiff",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "pdf_scanned": "application/pdf",
    "pdf_digital": "application/pdf",
}
EXTENSIONS = {
    "tiff": "tif",
    "jpeg": "jpg",
    "png": "png",
    "pdf_scanned": "pdf",
    "pdf_digital": "pdf",
}


def _bilevel(image: Image.Image) -> Image.Image:
    return image.convert("L").point(lambda v: 255 if v >= 160 else 0, mode="1")


def write_tiff(path: Path, images: Sequence[Image.Image], *, bilevel: bool = False) -> Path:
    """Multi-page TIFF: greyscale with Deflate, or bilevel (threshold 160) with CCITT Group 4."""
    if not images:
        raise ValueError("no pages")
    frames = [_bilevel(im) if bilevel else im.convert("L") for im in images]
    compression = "group4" if bilevel else "tiff_deflate"
    frames[0].save(
        path,
        "TIFF",
        save_all=True,
        append_images=frames[1:],
        compression=compression,
        dpi=(DPI, DPI),
    )
    return path


def write_jpeg(path: Path, image: Image.Image, *, quality: int = 90) -> Path:
    image.convert("L").save(path, "JPEG", quality=quality, dpi=(DPI, DPI))
    return path


def write_png(path: Path, image: Image.Image) -> Path:
    image.convert("L").save(path, "PNG", dpi=(DPI, DPI))
    return path


def _encoded(image: Image.Image, lossless: bool, quality: int) -> bytes:
    buffer = io.BytesIO()
    if lossless:
        image.convert("L").save(buffer, "PNG", dpi=(DPI, DPI), compress_level=6)
    else:
        image.convert("L").save(buffer, "JPEG", quality=quality, dpi=(DPI, DPI))
    return buffer.getvalue()


def write_pdf_scanned(
    path: Path, images: Sequence[Image.Image], *, lossless: bool = False, jpeg_quality: int = 85
) -> Path:
    """Image-only PDF, one 300-dpi image per page (so an upright page is exactly A4).

    Pages are embedded as JPEG (as most scanners do) or, with `lossless`, as Flate (PNG)."""
    if not images:
        raise ValueError("no pages")
    layout = img2pdf.get_fixed_dpi_layout_fun((DPI, DPI))
    pdf = img2pdf.convert(
        [_encoded(im, lossless, jpeg_quality) for im in images], layout_fun=layout, nodate=True
    )
    path.write_bytes(pdf)
    return path


class _DigitalPdf(FPDF):
    def __init__(self) -> None:
        super().__init__(orientation="P", unit="pt", format="A4")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.set_creation_date(FIXED_DATE)
        self.set_creator("sohoa corpus")
        for style in Style:
            self.add_font(FAMILY, style.fpdf, str(font_path(style)))


def write_pdf_digital(
    path: Path, pages: Sequence[PageLayout], *, title: str = "", author: str = ""
) -> Path:
    """Born-digital PDF with a real text layer: the same layout as the scans, drawn as text
    in embedded LiberationSerif (pdfplumber reads it back as Unicode)."""
    pdf = _DigitalPdf()
    if title:
        pdf.set_title(title)
    if author:
        pdf.set_author(author)
    for page in pages:
        pdf.add_page()
        for line in page.lines:
            for run in line.runs:
                pdf.set_font(FAMILY, run.style.fpdf, px_to_pt(run.px))
                pdf.text(px_to_pt(run.x), px_to_pt(run.y), run.text)
        for rule in page.rules:
            pdf.set_line_width(px_to_pt(rule.thickness))
            pdf.line(px_to_pt(rule.x0), px_to_pt(rule.y), px_to_pt(rule.x1), px_to_pt(rule.y))
    pdf.output(str(path))
    return path
