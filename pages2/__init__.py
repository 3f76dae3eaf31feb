"""A second, independent set of scanned ND30 pages with ground truth, to measure OCR on pages
that the pipeline was not tuned on.

Written apart from `corpus/` (imports none of it, nor `pipeline/`): its own texts
(`texts.py`), fonts (`fonts.py`: FreeSerif, Noto Serif), layout (`layout.py`), signatures and
seals (`marks.py`) and scanner model (`degrade.py`). See pages2/README.md.

    from pages2 import iter_pages, write_scanned_pdf, write_set

    for image, truth in iter_pages(8, seed=0, level="light"): ...     # PIL "L", PageTruth
    entry = write_scanned_pdf(path, 8, seed=0, level="light")         # FileEntry
    manifest = write_set(out_dir, pages=8, seed=0)                    # PDFs + truth.json
"""

from pages2.degrade import LEVELS
from pages2.manifest import TRUTH_FILENAME, FileEntry, Manifest, PageTruth
from pages2.pages import FORMATS, ScannedPage, iter_pages, scan_pages, write_scanned_pdf, write_set

__all__ = [
    "FORMATS",
    "LEVELS",
    "TRUTH_FILENAME",
    "FileEntry",
    "Manifest",
    "PageTruth",
    "ScannedPage",
    "iter_pages",
    "scan_pages",
    "write_scanned_pdf",
    "write_set",
]
