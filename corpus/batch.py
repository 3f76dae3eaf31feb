"""Batches of synthetic scans and born-digital PDFs with their ground truth."""

from __future__ import annotations

import hashlib
import itertools
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PIL import Image

from corpus.degrade import LEVELS, degrade, rotate_page, seed_to_int
from corpus.formats import (
    EXTENSIONS,
    MEDIA_TYPES,
    write_jpeg,
    write_pdf_digital,
    write_pdf_scanned,
    write_png,
    write_tiff,
)
from corpus.manifest import FileEntry, Manifest, PageTruth
from corpus.nd30 import SyntheticDocument, make_document

FORMATS = ("tiff", "jpeg", "png", "pdf_scanned", "pdf_digital")
SCANNED_FORMATS = ("tiff", "jpeg", "png", "pdf_scanned")
MULTI_PAGE_FORMATS = ("pdf_scanned", "tiff")  # in order of preference for the rotated page


def _rng(seed: int, *parts: object) -> random.Random:
    # str seeds are hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
    return random.Random(":".join(["sohoa-corpus", str(seed), *map(str, parts)]))


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class PlannedFile:
    index: int
    format: str
    level: str
    docs: tuple[SyntheticDocument, ...]
    rotate: dict[int, int] | None = None  # page_no -> degrees counter-clockwise

    @property
    def name(self) -> str:
        stem = f"{self.index:03d}_{self.format}"
        if self.format != "pdf_digital":
            stem += f"_{self.level}"
        return f"{stem}.{EXTENSIONS[self.format]}"

    @property
    def page_count(self) -> int:
        return sum(len(doc.pages) for doc in self.docs)


def _format_level_pairs(formats: Sequence[str], levels: Sequence[str]) -> list[tuple[str, str]]:
    """Every (format, level) pair, ordered so that the first len(formats) files already cover
    every format and the first len(levels) files every level."""
    nf, nl = len(formats), len(levels)
    return [(formats[k % nf], levels[(k % nf + k // nf) % nl]) for k in range(nf * nl)]


def _plan_scanned(
    pages: int, seed: int, levels: Sequence[str], formats: Sequence[str], rotate_one: bool
) -> list[tuple[str, str, int]]:
    rng = _rng(seed, "plan")
    pairs = _format_level_pairs(formats, levels)
    plan: list[tuple[str, str, int]] = []
    used = 0
    for k in itertools.count():
        if used >= pages and k >= max(len(formats), len(levels)):
            break
        fmt, level = pairs[k % len(pairs)]
        n = rng.choice((1, 2, 3)) if fmt in MULTI_PAGE_FORMATS else 1
        plan.append((fmt, level, max(1, min(n, pages - used))))
        used += plan[-1][2]
    if rotate_one and not any(f in MULTI_PAGE_FORMATS and n > 1 for f, _, n in plan):
        for i, (fmt, level, _) in enumerate(plan):
            if fmt in MULTI_PAGE_FORMATS:
                plan[i] = (fmt, level, 2)
                break
    return plan


def _choose_rotation(files: list[PlannedFile], seed: int) -> list[PlannedFile]:
    """Turn page 2 of the first multi-page, single-document scanned PDF (else TIFF, else a
    multi-document file, else any scan) sideways."""
    multi_page = [
        f for fmt in MULTI_PAGE_FORMATS for f in files if f.format == fmt and f.page_count > 1
    ]
    candidates = [f for f in multi_page if len(f.docs) == 1]
    candidates += multi_page + [f for f in files if f.format in SCANNED_FORMATS]
    if not candidates:
        return files
    target = candidates[0]
    page_no = 2 if target.page_count > 1 else 1
    degrees = _rng(seed, "rotate").choice((90, 270))
    return [replace(f, rotate={page_no: degrees}) if f is target else f for f in files]


def plan_batch(
    pages: int = 20,
    seed: int = 0,
    levels: Sequence[str] = LEVELS,
    formats: Sequence[str] = FORMATS,
    rotate_one: bool = True,
    multi_document: bool = False,
) -> list[PlannedFile]:
    """Decide every file of a batch (documents laid out, nothing rendered yet)."""
    _check(levels, formats)
    scanned = [f for f in formats if f in SCANNED_FORMATS]
    plan = _plan_scanned(pages, seed, levels, scanned, rotate_one) if scanned else []
    files = [
        PlannedFile(i, fmt, level, (make_document(_rng(seed, "doc", i), n),))
        for i, (fmt, level, n) in enumerate(plan)
    ]
    if multi_document and "pdf_scanned" in scanned:
        i = len(files)
        rng = _rng(seed, "multi", i)
        docs = tuple(
            make_document(_rng(seed, "doc", i, j), rng.choice((1, 2)))
            for j in range(rng.choice((2, 3)))
        )
        files.append(PlannedFile(i, "pdf_scanned", levels[i % len(levels)], docs))
    if "pdf_digital" in formats:
        digital_pages = pages if not scanned else max(2, pages // 5)
        used = 0
        while used < digital_pages:
            i = len(files)
            doc = make_document(_rng(seed, "doc", i), min(3, digital_pages - used))
            files.append(PlannedFile(i, "pdf_digital", "clean", (doc,)))
            used += len(doc.pages)
    return _choose_rotation(files, seed) if rotate_one else files


def _check(levels: Sequence[str], formats: Sequence[str]) -> None:
    if not levels or any(level not in LEVELS for level in levels):
        raise ValueError(f"levels must be a non-empty subset of {LEVELS}, got {levels!r}")
    if not formats or any(fmt not in FORMATS for fmt in formats):
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {formats!r}")


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class ScannedPage:
    image: Image.Image
    truth: PageTruth


def scan_pages(
    docs: Sequence[SyntheticDocument], level: str, seed: int, rotate: dict[int, int] | None = None
) -> Iterator[ScannedPage]:
    """Render, degrade and (where asked) turn the pages of consecutive documents."""
    page_no = 0
    for doc_index, doc in enumerate(docs):
        for layout_page, clean in zip(doc.pages, doc.images(), strict=True):
            page_no += 1
            degraded = degrade(clean, level, seed_to_int(seed, page_no))
            degrees = (rotate or {}).get(page_no, 0)
            image = rotate_page(degraded.image, degrees) if degrees else degraded.image
            yield ScannedPage(
                image,
                PageTruth(
                    page_no=page_no,
                    text=layout_page.text,
                    rotated=bool(degrees),
                    level=level,
                    rotation_deg=degrees,
                    skew_deg=degraded.skew_deg,
                    doc_index=doc_index,
                ),
            )


def _write_scanned(path: Path, fmt: str, level: str, images: list[Image.Image]) -> str:
    """Write the images; returns the compression used."""
    if fmt == "tiff":
        write_tiff(path, images, bilevel=level == "clean")
        return "group4" if level == "clean" else "tiff_deflate"
    if fmt == "pdf_scanned":
        write_pdf_scanned(path, images, lossless=level == "clean")
        return "flate" if level == "clean" else "jpeg"
    if len(images) != 1:
        raise ValueError(f"{fmt} holds exactly one page, got {len(images)}")
    if fmt == "jpeg":
        write_jpeg(path, images[0])
        return "jpeg"
    write_png(path, images[0])
    return "png"


def write_planned(out_dir: Path, planned: PlannedFile, seed: int) -> FileEntry:
    path = Path(out_dir) / planned.name
    if planned.format == "pdf_digital":
        (doc,) = planned.docs
        write_pdf_digital(path, doc.pages, title=doc.spec.subject, author=doc.spec.organ.name)
        pages = [PageTruth(page_no=p.page_no, text=p.text) for p in doc.pages]
        compression = "text"
    else:
        scans = list(
            scan_pages(
                planned.docs, planned.level, seed_to_int(seed, planned.index), planned.rotate
            )
        )
        compression = _write_scanned(path, planned.format, planned.level, [s.image for s in scans])
        pages = [s.truth for s in scans]
    data = path.read_bytes()
    return FileEntry(
        file=planned.name,
        format=planned.format,
        level=planned.level,
        media_type=MEDIA_TYPES[planned.format],
        pages=pages,
        documents=[doc.metadata for doc in planned.docs],
        born_digital=planned.format == "pdf_digital",
        compression=compression,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
    )


# --------------------------------------------------------------------------- public API


def generate_batch(
    out_dir: Path,
    *,
    pages: int = 20,
    seed: int = 0,
    levels: Sequence[str] = LEVELS,
    formats: Sequence[str] = FORMATS,
    rotate_one: bool = True,
    multi_document: bool = False,
) -> Manifest:
    """Write a mixed batch into `out_dir` plus `out_dir/truth.json`; return its manifest.

    About `pages` scanned pages spread over 1–3 page documents, every requested format and
    level at least once; born-digital PDFs (about pages/5 pages, at least 2) come on top. With
    `rotate_one`, page 2 of a multi-page scan is turned a quarter turn. With `multi_document`,
    one extra scanned PDF holds 2–3 documents back to back.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = plan_batch(pages, seed, levels, formats, rotate_one, multi_document)
    manifest = Manifest(
        seed=seed,
        params={
            "pages": pages,
            "levels": list(levels),
            "formats": list(formats),
            "rotate_one": rotate_one,
            "multi_document": multi_document,
        },
    )
    manifest.files = [write_planned(out, planned, seed) for planned in files]
    manifest.write(out)
    return manifest


def iter_pages(
    n: int, seed: int = 0, level: str = "clean"
) -> Iterator[tuple[Image.Image, PageTruth]]:
    """`n` scanned pages (image, truth), one at a time, from consecutive 1–3 page documents."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    produced = 0
    for doc_index in itertools.count():
        doc = make_document(_rng(seed, "pages", doc_index))
        for page in scan_pages([doc], level, seed_to_int(seed, "pages", doc_index)):
            if produced == n:
                return
            page.truth.doc_index = doc_index
            yield page.image, page.truth
            produced += 1
        if produced == n:
            return


def generate_pages(
    n: int, seed: int = 0, level: str = "clean"
) -> list[tuple[Image.Image, PageTruth]]:
    """Like `iter_pages`, as a list (each page is ~8.7 MB in memory)."""
    return list(iter_pages(n, seed, level))


def make_documents(n: int, seed: int = 0, pages: int | None = None) -> list[SyntheticDocument]:
    """`n` laid-out documents (not rendered), e.g. for `write_multi_document_pdf`."""
    return [make_document(_rng(seed, "docs", i), pages) for i in range(n)]


def write_multi_document_pdf(
    path: Path, docs: Iterable[SyntheticDocument], *, level: str = "clean", seed: int = 0
) -> Path:
    """Several documents scanned back to back into one image-only PDF."""
    scans = list(scan_pages(list(docs), level, seed))
    return write_pdf_scanned(Path(path), [s.image for s in scans], lossless=level == "clean")
