"""Every size limit on input, in one place (docs/limits.md says why each value and what memory
it guarantees). They are checked from headers and dictionaries before anything is decoded, and
exceeding one is a per-file `too_large` error (schemas.errors.ImageTooLarge), never a crash."""

from __future__ import annotations

import warnings

import pikepdf.settings
from PIL import Image, PngImagePlugin

# Pixels of one image, TIFF frame, image inside a PDF, or rendered PDF page. A0 scanned at
# 300 dpi is 139 Mpx, A3 at 600 dpi 70 Mpx: the largest sheets an archive scans at a resolution
# worth OCR. The memory bound of docs/limits.md is computed for a page of this size.
MAX_PIXELS = 140_000_000

# Pages (or TIFF frames) of one file: a record keeps every page's words and boxes, and the
# assembler reads them all back; 2,000 pages is four archive boxes, split anything larger.
MAX_PAGES = 2_000

# Decoded bytes of one PDF stream that is not an image (page content, form, font, metadata,
# object and cross-reference streams). A dense born-digital page is well under 1 MiB and an
# embedded CJK font 20 MiB; PDFium holds a content stream whole and parses it into objects.
MAX_STREAM_BYTES = 64 * 1024 * 1024

# Decoded bytes of all streams of one PDF that are not images: the text, fonts and forms a
# file may make PDFium parse, page after page.
MAX_PDF_NON_IMAGE_BYTES = 1024 * 1024 * 1024

# What one page may make PDFium draw once its nested Form XObjects, tiling patterns, soft masks,
# Type3 glyph procedures and annotation appearances are expanded (pipeline.pdf_draws). PDFium
# parses a form's content again at every use: 1,000,000 drawn forms took 1.45 GB to load one
# page, and 64 MiB of content (5 million paths) 1.8 GB, measured. A letterhead drawn as a form,
# a page of Type3 text (a glyph procedure per character) or a map of symbols is a few thousand.
MAX_PAGE_DRAWS = 100_000
MAX_PAGE_CONTENT_BYTES = MAX_STREAM_BYTES  # a page parses no more than one largest stream
# Forms inside forms (or patterns, glyph procedures): real files nest a few levels; a cycle is
# refused as nesting without end.
MAX_DRAW_DEPTH = 16

# An image stream may hold at most this many bytes per declared pixel once decoded (CMYK at
# 16 bits per sample is 8; a PNG predictor adds one byte per row), so an image cannot carry
# more data than its declared size says.
MAX_IMAGE_BYTES_PER_PIXEL = 8

# A page is rendered at its scan's resolution, but never at more than this many dpi, nor at so
# many that the bitmap would exceed MAX_PIXELS; below MIN_RENDER_DPI the page is refused.
MAX_RENDER_DPI = 600
MIN_RENDER_DPI = 72

# What qpdf may inflate of one stream when it decodes one itself (cross-reference and object
# streams while a PDF is opened, before pipeline.pdf_limits has measured them): the largest
# 8-bit image the limits accept, in CMYK.
MAX_QPDF_DECODED_BYTES = MAX_PIXELS * 4

# PNG text and ICC profile chunks (Pillow's own defaults: 1 MiB each, 64 MiB in all).
MAX_TEXT_CHUNK_BYTES = 1024 * 1024
MAX_TEXT_BYTES = 8 * 1024 * 1024


def configure_libraries() -> None:
    """Pillow's and qpdf's own guards set from the limits above, so that every decoder agrees.
    Process-wide settings, made once when pipeline.load is imported, before any worker thread.

    Pillow warns above MAX_IMAGE_PIXELS and refuses above twice that; our own check
    (pipeline.load) refuses above MAX_PIXELS from the header, so the two never disagree.
    """
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    # Set once here, not per call: warnings.catch_warnings() swaps the process-wide filter list,
    # and two threads inside it at once restore each other's filters (an image past the warning
    # threshold was then sometimes refused, sometimes read: 2 of 6,000 opens from 4 threads).
    warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)
    PngImagePlugin.MAX_TEXT_CHUNK = MAX_TEXT_CHUNK_BYTES
    PngImagePlugin.MAX_TEXT_MEMORY = MAX_TEXT_BYTES
    pikepdf.settings.set_qpdf_limits(
        flate_max_memory=MAX_QPDF_DECODED_BYTES, run_length_max_memory=MAX_QPDF_DECODED_BYTES
    )
