"""Pages of the set, deterministic by seed: compose → lay out → sign and stamp → scan → write.

Page `index` of seed `seed` is the same document at every level (only the scan differs), so
levels can be compared page for page. Each page is one document of one page.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import img2pdf
from PIL import Image

from pages2.degrade import LEVELS, scan
from pages2.fonts import DPI
from pages2.layout import Sheet, draw_look, organ_lines, render
from pages2.manifest import FileEntry, Manifest, PageTruth
from pages2.marks import sign_and_stamp
from pages2.texts import Document, compose

FORMATS = ("pdf", "png")
STAMPED_SHARE = 0.75
# The first pages of every seed are drawn as they always were (the OCR benchmark's pages and
# their numbers stay comparable across rounds); later pages draw organs of every level before
# and after the 2025 reform (`texts.compose(wide=True)`).
PINNED_PAGES = 8


@dataclass(frozen=True)
class ScannedPage:
    image: Image.Image  # "L", 300 dpi, as the scanner delivered it
    jpeg: bytes | None  # the scanner's JPEG file (None on clean pages)
    truth: PageTruth
    metadata: dict[str, Any]


def derive_seed(*parts: object) -> int:
    """A stable 64-bit seed from any parts (independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw_page(seed: int, index: int, purpose: str = "page") -> tuple[Sheet, Document]:
    """The clean, signed (and usually stamped) page `index` of `seed`."""
    rng = random.Random(derive_seed("pages2", purpose, seed, index))
    doc = compose(rng, wide=index >= PINNED_PAGES)
    sheet = render(doc, draw_look(rng))
    stamped = rng.random() < STAMPED_SHARE
    sign_and_stamp(sheet.image, sheet.signature_box, doc.organ.name, rng, stamped=stamped)
    return sheet, doc


def metadata(doc: Document, sheet: Sheet) -> dict[str, Any]:
    """The document's fields as printed (AdminMetadata names, as in corpus truth.json)."""
    lines = organ_lines(doc, sheet.look)
    return {
        "organ_parent": lines[0][0] if len(lines) > 1 else "",
        "organ_name": lines[-1][0],
        "organ_level": doc.organ.level,  # province | district | commune
        "organ_id": "",  # these organs are not rows of organs/organs.csv
        "organ_full_name": doc.organ.name,  # the organ's name in mixed case, as a registry has it
        "organ_valid_from": doc.organ.valid_from,  # "" = before this set's first date
        "organ_valid_to": doc.organ.valid_to,  # "" = exists today
        "code_number": doc.number,
        "code_notation": doc.notation,
        "issued_place": doc.organ.place,
        "issued_date": f"{doc.year:04d}-{doc.month:02d}-{doc.day:02d}",
        "type_name": doc.title or "Công văn",
        "subject": doc.subject,
        "signer_competence": doc.spell(doc.competence),
        "signer_position": doc.spell(doc.position),
        "signer_name": doc.signer,
        "recipients": list(doc.recipients),
        "page_amount": 1,
        "language": "vi",
    }


def scan_pages(count: int, *, seed: int, level: str) -> Iterator[ScannedPage]:
    """`count` pages scanned at `level`; another page of the set shows through each back."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    for index in range(count):
        yield scan_page(index, seed=seed, level=level)


def scan_page(index: int, *, seed: int, level: str) -> ScannedPage:
    """Page `index` of `seed` alone, scanned at `level` (as `scan_pages` yields it)."""
    sheet, doc = draw_page(seed, index)
    back = None if level == "clean" else draw_page(seed, index, purpose="back")[0].image
    scanned = scan(sheet.image, back, level, derive_seed("scan", seed, index, level))
    truth = PageTruth(
        page_no=index + 1,
        text="\n".join(sheet.lines),
        level=level,
        skew_deg=scanned.rotation_deg,
        doc_index=index,
    )
    return ScannedPage(scanned.image, scanned.jpeg, truth, metadata(doc, sheet))


def iter_pages(count: int, *, seed: int, level: str) -> Iterator[tuple[Image.Image, PageTruth]]:
    """(image, truth) pairs, as `corpus.iter_pages` gives them."""
    for page in scan_pages(count, seed=seed, level=level):
        yield page.image, page.truth


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", dpi=(DPI, DPI), compress_level=6)
    return buffer.getvalue()


def _entry(path: Path, fmt: str, level: str, pages: Sequence[ScannedPage]) -> FileEntry:
    data = path.read_bytes()
    compression = "png" if fmt == "png" else ("flate" if level == "clean" else "jpeg")
    return FileEntry(
        file=path.name,
        format="pdf_scanned" if fmt == "pdf" else "png",
        level=level,
        media_type="application/pdf" if fmt == "pdf" else "image/png",
        pages=[p.truth for p in pages],
        documents=[p.metadata for p in pages],
        compression=compression,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )


def write_scanned_pdf(path: Path, count: int, *, seed: int, level: str) -> FileEntry:
    """One image-only PDF of `count` pages, each at 300 dpi (A4): clean pages lossless, the
    others with the scanner's own JPEG bytes embedded as they are (no second compression)."""
    pages = list(scan_pages(count, seed=seed, level=level))
    layout = img2pdf.get_fixed_dpi_layout_fun((DPI, DPI))
    images = [p.jpeg if p.jpeg is not None else _png(p.image) for p in pages]
    # the internal engine: pikepdf would draw a random /ID, and the bytes must repeat
    pdf = img2pdf.convert(images, layout_fun=layout, nodate=True, engine=img2pdf.Engine.internal)
    path.write_bytes(pdf)
    return _entry(path, "pdf", level, pages)


def write_pngs(folder: Path, count: int, *, seed: int, level: str) -> list[FileEntry]:
    """One greyscale PNG per page, `pages2_<level>_NNN.png`."""
    entries = []
    for page in scan_pages(count, seed=seed, level=level):
        path = folder / f"pages2_{level}_{page.truth.page_no:03d}.png"
        path.write_bytes(_png(page.image))
        alone = replace(page, truth=replace(page.truth, page_no=1, doc_index=0))
        entries.append(_entry(path, "png", level, [alone]))
    return entries


def write_set(
    out_dir: Path, *, pages: int, seed: int, levels: Sequence[str] = LEVELS, fmt: str = "pdf"
) -> Manifest:
    """The set in `out_dir`: per level one PDF (`pages2_<level>.pdf`) or one PNG per page,
    and `truth.json` beside them."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = {"pages": pages, "levels": list(levels), "format": fmt, "generator": "pages2"}
    manifest = Manifest(seed=seed, params=params)
    for level in levels:
        if fmt == "pdf":
            path = out_dir / f"pages2_{level}.pdf"
            manifest.files.append(write_scanned_pdf(path, pages, seed=seed, level=level))
        else:
            manifest.files += write_pngs(out_dir, pages, seed=seed, level=level)
    manifest.write(out_dir)
    return manifest
