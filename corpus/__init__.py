"""Synthetic test corpus: ND30-style Vietnamese administrative documents with ground truth.

Main entry points::

    from corpus import generate_batch, load_manifest, generate_pages, make_bad_inputs

    manifest = generate_batch(tmp_path, pages=20, seed=0)   # files + truth.json
    for image, truth in generate_pages(10, seed=1, level="light"): ...
    bad = make_bad_inputs(tmp_path / "bad")                  # {"zero_byte.pdf": Path, ...}

See corpus/README.md for how samples are made and the truth.json format.
"""

from corpus.bad_inputs import (
    ENCRYPTED_USER_PASSWORD,
    make_bad_inputs,
    write_encrypted_pdf,
    write_png_bomb,
)
from corpus.batch import (
    FORMATS,
    SCANNED_FORMATS,
    generate_batch,
    generate_pages,
    iter_pages,
    make_documents,
    plan_batch,
    scan_pages,
    write_multi_document_pdf,
)
from corpus.degrade import LEVELS, Degraded, degrade, rotate_page, skew
from corpus.formats import (
    write_jpeg,
    write_pdf_digital,
    write_pdf_scanned,
    write_png,
    write_tiff,
)
from corpus.manifest import TRUTH_FILENAME, FileEntry, Manifest, PageTruth, load_manifest
from corpus.nd30 import PageLayout, SyntheticDocument, make_document, render_page

__all__ = [
    "ENCRYPTED_USER_PASSWORD",
    "FORMATS",
    "LEVELS",
    "SCANNED_FORMATS",
    "TRUTH_FILENAME",
    "Degraded",
    "FileEntry",
    "Manifest",
    "PageLayout",
    "PageTruth",
    "SyntheticDocument",
    "degrade",
    "generate_batch",
    "generate_pages",
    "iter_pages",
    "load_manifest",
    "make_bad_inputs",
    "make_document",
    "make_documents",
    "plan_batch",
    "render_page",
    "rotate_page",
    "scan_pages",
    "skew",
    "write_encrypted_pdf",
    "write_jpeg",
    "write_multi_document_pdf",
    "write_pdf_digital",
    "write_pdf_scanned",
    "write_png",
    "write_png_bomb",
    "write_tiff",
]
