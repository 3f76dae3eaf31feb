"""Open originals and hand out one page at a time, so long scans never sit in memory whole."""

from __future__ import annotations

import ctypes
import re
import threading
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, UnidentifiedImageError
from pydantic import TypeAdapter

from pipeline import legacy_pdf, legacy_text
from pipeline.detect import IMAGE_TYPES, PDF
from pipeline.limits import (
    MAX_PAGES,
    MAX_PIXELS,
    MAX_RENDER_DPI,
    MIN_RENDER_DPI,
    configure_libraries,
)
from pipeline.messages import library_text
from pipeline.pdf_limits import check_pdf, check_pixels
from schemas.errors import CorruptInput, EncryptedInput, ImageTooLarge, UnsupportedType
from schemas.models import Word

configure_libraries()

DEFAULT_DPI = 300
MIN_TEXT_CHARS = 16  # fewer visible characters than this: treat the page as scanned

# PDFium is not thread-safe: two threads inside it at once corrupt its state, and pages of
# unrelated files fail at random ("Data format error"). Every call into it, closing included,
# happens under this one lock, and every object it hands out is closed explicitly under the lock
# (never left to a finalizer, which may run on any thread at any time). Rendering and text
# extraction are a small share of a page's cost next to Tesseract, which runs outside the lock.
PDFIUM_LOCK = threading.RLock()


@dataclass
class PageInfo:
    """What is known of a page before any work: enough to plan the work."""

    page_no: int
    has_text_layer: bool
    dpi: int


@dataclass
class TextPage:
    page_no: int
    text: str
    words: list[Word]
    width_px: int
    height_px: int
    pdf: bytes | None = None  # the page as the searchable PDF carries it, when not as it came


@dataclass
class ImagePage:
    page_no: int
    image: Image.Image
    dpi: int
    extra: dict[str, str] = field(default_factory=dict)


def plan_pages(path: Path, media_type: str) -> list[PageInfo]:
    """One PageInfo per page; raises a specific error for corrupt, encrypted or huge inputs."""
    if media_type == PDF:
        return _plan_pdf(path)
    if media_type in IMAGE_TYPES:
        return _plan_image(path)
    raise UnsupportedType(f"cannot read {media_type}")


PILLOW_ERRORS = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    EOFError,
    ValueError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)


def _check_pages(count: int) -> None:
    if count > MAX_PAGES:
        raise ImageTooLarge(f"file has more than {MAX_PAGES:,} pages (the limit); split it")


def _pillow_error(e: Exception, what: str) -> Exception:
    """Pillow's own refusals of oversized data (it has no error class for them) as too_large."""
    if isinstance(e, Image.DecompressionBombError | Image.DecompressionBombWarning):
        found = re.search(r"\((\d+) pixels\)", str(e))  # Pillow tells the size only here
        size = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        return ImageTooLarge(
            f"{what} is {size}, above the limit of {MAX_PIXELS:,}; refused before decoding"
        )
    if isinstance(e, ValueError) and "MAX_TEXT" in str(e):
        return ImageTooLarge(
            f"{what} has text or colour-profile chunks too large to read: {library_text(e)}"
        )
    if isinstance(e, UnidentifiedImageError):
        return CorruptInput(f"{what} cannot be read: not an image format sohoa reads, or damaged")
    return CorruptInput(f"{what} cannot be read: {library_text(e)}")


@contextmanager
def _open_image(path: Path) -> Iterator[Image.Image]:
    """The image, its first frame's size checked; the file is ours, so a frame decoded from it
    outlives the block without being copied."""
    with path.open("rb") as file:
        try:
            # Pillow's warning between MAX_PIXELS and twice that is silenced once, process-wide
            # (limits.configure_libraries): check_pixels below refuses those with their exact
            # size, Pillow itself refuses anything larger.
            image = Image.open(file)
        except PILLOW_ERRORS as e:
            raise _pillow_error(e, "image") from e
        check_pixels(*image.size, "image")
        yield image


def _image_dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi")
    value = int(round(float(dpi[0]))) if dpi else 0
    return value if 70 <= value <= 1200 else DEFAULT_DPI


def _seek(image: Image.Image, index: int) -> bool:
    """Go to frame `index` (reading its header only); False past the last one."""
    try:
        image.seek(index)
    except EOFError:
        return False
    except PILLOW_ERRORS as e:
        raise _pillow_error(e, f"page {index + 1}") from e
    check_pixels(*image.size, f"page {index + 1}")
    return True


def _plan_image(path: Path) -> list[PageInfo]:
    """Every frame's size checked from its header, before any is decoded."""
    with _open_image(path) as image:
        pages: list[PageInfo] = []
        while _seek(image, len(pages)):
            pages.append(PageInfo(len(pages) + 1, False, _image_dpi(image)))
            _check_pages(len(pages))
        return pages


def load_image_page(path: Path, page_no: int) -> ImagePage:
    with _open_image(path) as image:
        if not _seek(image, page_no - 1):
            raise CorruptInput(f"page {page_no} is missing")
        dpi = _image_dpi(image)
        try:
            image.load()
        except PILLOW_ERRORS as e:
            raise _pillow_error(e, "page image") from e  # the page number is added by the caller
    return ImagePage(page_no, image, dpi)


@contextmanager
def _open_pdf(path: Path | bytes) -> Iterator[pdfium.PdfDocument]:
    """The document, open for the block. Callers hold PDFIUM_LOCK while they use it."""
    with PDFIUM_LOCK:
        try:
            doc = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as e:
            if getattr(e, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
                raise EncryptedInput("PDF is encrypted with a password; cannot be read") from e
            raise CorruptInput(f"PDF is damaged or truncated: {library_text(e, path)}") from e
    try:
        yield doc
    finally:
        with PDFIUM_LOCK:
            doc.close()


def _normalised(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


@contextmanager
def _page(doc: pdfium.PdfDocument, index: int) -> Iterator[pdfium.PdfPage]:
    """One page, closed at the end of the block (under the lock the caller holds)."""
    try:
        page = doc[index]
    except pdfium.PdfiumError as e:
        # E.g. a page tree whose /Count says more pages than it holds: PDFium counts them, then
        # finds nothing to load. Never retried: the file will not change.
        raise CorruptInput(  # the page number is added by the caller
            "page cannot be loaded: it is missing from the PDF's page tree, or damaged"
        ) from e
    try:
        yield page
    finally:
        page.close()


@contextmanager
def _textpage(page: pdfium.PdfPage) -> Iterator[pdfium.PdfTextPage]:
    textpage = page.get_textpage()
    try:
        yield textpage
    finally:
        textpage.close()


def _scan_dpi(page: pdfium.PdfPage) -> int:
    """Resolution of the largest embedded image, so a scan is rasterised at its real dpi."""
    best, best_area = DEFAULT_DPI, 0.0
    for image in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, bottom, right, top = image.get_bounds()
        width_pt, area = right - left, (right - left) * (top - bottom)
        src_w = image.get_px_size()[0]
        if width_pt > 0 and src_w and area > best_area:
            best, best_area = round(src_w / (width_pt / 72)), area
    return max(best, 150)  # at most MAX_RENDER_DPI: render_dpi


def render_dpi(width_pt: float, height_pt: float, dpi: int, what: str) -> int:
    """`dpi`, lowered as far as needed for the page's bitmap to stay within MAX_PIXELS."""
    area_in2 = max(width_pt, 1.0) * max(height_pt, 1.0) / 72**2
    fitting = int((MAX_PIXELS / area_in2) ** 0.5)
    chosen = min(dpi, MAX_RENDER_DPI, fitting)
    if chosen < MIN_RENDER_DPI:
        raise ImageTooLarge(
            f"{what} is {width_pt / 72:.0f}×{height_pt / 72:.0f} inches: even at "
            f"{MIN_RENDER_DPI} dpi its image would be above the limit of {MAX_PIXELS:,} pixels"
        )
    return chosen


def _plan_pdf(path: Path) -> list[PageInfo]:
    """Which pages carry a real text layer (taken as it is) and which are scans (OCR)."""
    return [info for info, _ in iter_planned_pages(path, PDF, lambda page_no: False)]


PAGES_PER_OPEN = 32


def iter_planned_pages(
    path: Path, media_type: str, take_text: Callable[[int], bool]
) -> Iterator[tuple[PageInfo, TextPage | CorruptInput | None]]:
    """plan_pages, one page at a time, with the text and word boxes of each text-layer page
    `take_text(page_no)` wants read in the same pass: the PDF is opened once and each page
    loaded once (planning, then reading, loaded every text page twice). The second item is
    None for a page not read, a page's error in its place (the next pages still come).

    Sizes are checked first (pipeline.pdf_limits), before PDFium decodes anything.
    pdfium reads the text layer: measured on generated born-digital pages it gives the same
    words as pdfplumber (0 % word error for both) in 3 ms per page instead of 60–90 ms.
    The lock is held for one page at a time, never while the caller works.
    """
    if media_type != PDF:
        yield from ((info, None) for info in plan_pages(path, media_type))
        return
    check_pdf(path)
    count, start = None, 0
    while count is None or start < count:
        # PDFium keeps what it parsed of every page it loaded (a scanned page's image, ~1 MiB)
        # until the document closes: reopened every PAGES_PER_OPEN pages, memory stays bounded
        # whatever the page count (500 pages held 540 MiB, measured)
        with _open_pdf(path) as doc:
            if count is None:
                with PDFIUM_LOCK:
                    count = len(doc)
                if count == 0:
                    raise CorruptInput("PDF has no pages")
                _check_pages(count)
            for index in range(start, min(start + PAGES_PER_OPEN, count)):
                with PDFIUM_LOCK:
                    info, read = _plan_pdf_page(doc, index, take_text)
                if isinstance(read, TextPage) and legacy_text.suspect(read.text):
                    read = _legacy_page(path, read)
                yield info, read
        start += PAGES_PER_OPEN


def _plan_pdf_page(
    doc: pdfium.PdfDocument, index: int, take_text: Callable[[int], bool]
) -> tuple[PageInfo, TextPage | CorruptInput | None]:
    page_no = index + 1
    try:
        with _page(doc, index) as page, _textpage(page) as textpage:
            raw = textpage.get_text_range()
            text = _normalised(raw)
            if len("".join(text.split())) < MIN_TEXT_CHARS:  # visible characters
                dpi = render_dpi(*page.get_size(), _scan_dpi(page), f"page {page_no}")
                return PageInfo(page_no, False, dpi), None
            info = PageInfo(page_no, True, 0)
            if not take_text(page_no):
                return info, None
            try:
                return info, _text_page(page, textpage, page_no, raw, text)
            except pdfium.PdfiumError as e:
                return info, _unreadable_text(e)
    except (CorruptInput, pdfium.PdfiumError):
        # Planned as a scan: loading it fails again, and the page is recorded as failed
        # with the reason (the document is then partial), the other pages go on.
        return PageInfo(page_no, False, DEFAULT_DPI), None


def _unreadable_text(e: Exception) -> CorruptInput:
    error = CorruptInput("text layer cannot be read: PDFium finds it damaged")
    error.__cause__ = e
    return error


def _text_page(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, page_no: int, raw: str, text: str
) -> TextPage:
    """Plain data only (no PDFium object escapes); sizes and word boxes in points (72 dpi)."""
    width_pt, height_pt = page.get_size()
    words = _words(textpage, raw, height_pt)
    return TextPage(page_no, text, words, round(width_pt), round(height_pt))


class _Boxes:
    """Boxes of a text page's characters, (left, bottom, right, top) in PDF space, through
    PDFium's own calls with four reused doubles (pypdfium2's `get_charbox` makes four new ones
    per character: a third of a born-digital page's text extraction)."""

    def __init__(self, textpage: pdfium.PdfTextPage) -> None:
        self._raw = textpage.raw
        self._left, self._bottom, self._right, self._top = (ctypes.c_double() for _ in range(4))
        # Passed by reference made once, not converted again on every call
        self._ltrb = tuple(
            ctypes.byref(v) for v in (self._left, self._top, self._right, self._bottom)
        )

    def _values(self) -> tuple[float, float, float, float]:
        return self._left.value, self._bottom.value, self._right.value, self._top.value

    def char(self, index: int) -> tuple[float, float, float, float]:
        ok = pdfium.raw.FPDFText_GetCharBox(  # PDFium's order: l, r, b, t
            self._raw, index, self._left, self._right, self._bottom, self._top
        )
        if not ok:
            raise pdfium.PdfiumError("Failed to get charbox.")
        return self._values()

    def span(self, start: int, end: int) -> tuple[float, float, float, float]:
        """The union of characters start..end-1: PDFium's rectangles of the span (one per
        line it crosses, usually one; the same boxes as the characters' union on every corpus
        and hostile page, 54k words, in about half the calls), or, where it makes none (no
        character with a box), the characters' own boxes."""
        count = _count_rects(self._raw, start, end - start)
        if count == 1:  # a word on one line: its one rectangle (no min/max to take)
            return self._rect(0)
        if count <= 0:
            return self._chars(start, end)
        boxes = [self._rect(k) for k in range(count)]
        return (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )

    def _rect(self, k: int) -> tuple[float, float, float, float]:
        if not _get_rect(self._raw, k, *self._ltrb):  # PDFium's order: l, t, r, b
            raise pdfium.PdfiumError("Failed to get rect.")
        return self._left.value, self._bottom.value, self._right.value, self._top.value

    def _chars(self, start: int, end: int) -> tuple[float, float, float, float]:
        left, bottom, right, top = self.char(start)
        for index in range(start + 1, end):
            c_left, c_bottom, c_right, c_top = self.char(index)
            left, bottom = min(left, c_left), min(bottom, c_bottom)
            right, top = max(right, c_right), max(top, c_top)
        return left, bottom, right, top


_count_rects, _get_rect = pdfium.raw.FPDFText_CountRects, pdfium.raw.FPDFText_GetRect
_NOT_SPACE = re.compile(r"\S+")  # \s is str.isspace: the same white space PDFium's text has
# A page's words validated in one call (~40 % less than one by one).
_WORDS = TypeAdapter(list[Word])


def _words(textpage: pdfium.PdfTextPage, text: str, page_height_pt: float) -> list[Word]:
    """Word boxes in points (origin top left) from character boxes (PDF space, origin bottom
    left); `text`: the page's text as PDFium gives it (get_text_range, one character per
    index)."""
    found: list[dict] = []
    boxes = _Boxes(textpage)
    for word in _NOT_SPACE.finditer(text):
        left, bottom, right, top = boxes.span(*word.span())
        found.append(
            {
                "text": word.group(),
                "left": round(left),
                "top": round(page_height_pt - top),
                "width": round(right - left),
                "height": round(top - bottom),
                "confidence": 100.0,
            }
        )
    return _WORDS.validate_python(found)


def text_page(doc: pdfium.PdfDocument, page_no: int) -> TextPage:
    """Plain data only (no PDFium object escapes), so the caller may use it outside the lock."""
    try:
        with PDFIUM_LOCK, _page(doc, page_no - 1) as page, _textpage(page) as textpage:
            raw = textpage.get_text_range()
            return _text_page(page, textpage, page_no, raw, _normalised(raw))
    except pdfium.PdfiumError as e:
        raise _unreadable_text(e) from e


def iter_text_pages(path: Path, page_nos: list[int]) -> Iterator[TextPage | CorruptInput]:
    """Born-digital pages of one PDF, opened once; the lock is not held between pages. A page
    that cannot be read comes as its error, in its place, and the next pages still come."""
    with _open_pdf(path) as doc:
        for page_no in page_nos:
            try:
                page = text_page(doc, page_no)
                yield _unicode_page(path, page) if legacy_text.suspect(page.text) else page
            except CorruptInput as e:
                yield e


def _legacy_page(path: Path, page: TextPage) -> TextPage | CorruptInput:
    """_unicode_page, its error in the page's place (the next pages still come)."""
    try:
        return _unicode_page(path, page)
    except CorruptInput as e:
        return e


def _unicode_page(path: Path, page: TextPage) -> TextPage:
    """A page whose fonts show TCVN3, VNI or VISCII, read again from its copy with those fonts
    mapped to Unicode (pipeline.legacy_pdf); the copy goes into the searchable PDF."""
    copy = legacy_pdf.unicode_copy(path, page.page_no - 1)
    if copy is None:
        return page
    with _open_pdf(copy) as doc:
        unicode = text_page(doc, 1)
    unicode.page_no, unicode.pdf = page.page_no, copy
    return unicode


def _full_page_image(page: pdfium.PdfPage) -> tuple[pdfium.PdfImage, float] | None:
    """The page's one image and its width in points, when it covers the page alone, upright."""
    if page.get_rotation() != 0:
        return None
    objects = list(page.get_objects(max_depth=1))
    images = [o for o in objects if o.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE]
    if len(objects) != 1 or len(images) != 1:
        return None
    a, b, c, d, _, _ = images[0].get_matrix().get()
    width_pt, height_pt = page.get_size()
    if b or c or a < 0.95 * width_pt or d < 0.95 * height_pt:
        return None
    return images[0], a


def _native_scan(page: pdfium.PdfPage) -> tuple[Image.Image, int] | None:
    """The page's one full-page image at its own resolution, when the page is just a scan.

    Taking the image as it is avoids a resampling render (sharper text, and faster).
    """
    found = _full_page_image(page)
    if found is None:
        return None
    scan, width_pt = found
    bitmap = scan.get_bitmap(render=False)
    try:
        image = bitmap.to_pil()
        if image.mode == bitmap.mode:  # Pillow shares the bitmap's memory: copy before closing
            image = image.copy()
    finally:
        # PDFium owns this buffer, so pypdfium2 warns (on the user's terminal) that closing it
        # frees memory that may still be in use; nothing uses it after the copy above.
        bitmap.warn_on_close = False
        bitmap.close()
    return image, round(image.width / (width_pt / 72))


def page_pixels(path: Path, media_type: str, page: PageInfo) -> int:
    """Pixels of a scanned page's image once loaded, from headers only: what it will cost in
    memory, known before it is decoded (workers admit pages by it, docs/limits.md)."""
    if media_type != PDF:
        with _open_image(path) as image:
            if not _seek(image, page.page_no - 1):
                raise CorruptInput(f"page {page.page_no} is missing")
            return image.width * image.height
    with _open_pdf(path) as doc, PDFIUM_LOCK, _page(doc, page.page_no - 1) as pdf_page:
        try:
            found = _full_page_image(pdf_page)
            size = found[0].get_px_size() if found is not None else None
            width_pt, height_pt = pdf_page.get_size()
        except pdfium.PdfiumError as e:
            raise CorruptInput("page cannot be read: PDFium finds it damaged") from e
        if size is not None:
            return size[0] * size[1]
        dpi = render_dpi(width_pt, height_pt, page.dpi, f"page {page.page_no}")
        return round(width_pt / 72 * dpi) * round(height_pt / 72 * dpi)


def load_pdf_page_image(path: Path, page_no: int, dpi: int) -> ImagePage:
    """One scanned PDF page: its embedded scan if it is only that, else rendered at `dpi`."""
    with _open_pdf(path) as doc, PDFIUM_LOCK:
        try:
            with _page(doc, page_no - 1) as page:
                native = _native_scan(page)
                if native is not None:
                    return ImagePage(page_no, native[0], native[1])
                dpi = render_dpi(*page.get_size(), dpi, f"page {page_no}")
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                try:
                    image = bitmap.to_pil().convert("L")  # convert copies out of the bitmap
                finally:
                    bitmap.close()
        except pdfium.PdfiumError as e:
            raise CorruptInput("page cannot be rendered: PDFium finds it damaged") from e
    return ImagePage(page_no, image, dpi)


def load_scanned_page(path: Path, media_type: str, page: PageInfo) -> ImagePage:
    if media_type == PDF:
        return load_pdf_page_image(path, page.page_no, page.dpi)
    return load_image_page(path, page.page_no)
