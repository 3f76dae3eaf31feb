"""One scanned page from image to result: orientation, clean-up, OCR, searchable page PDF."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from pipeline.date_zone import DATE_ZONE, date_line_box
from pipeline.fingerprint import image_hash
from pipeline.flags import DIACRITICS_LOW_FLAG, NOISY_PAGE_FLAG
from pipeline.load import ImagePage, TextPage
from pipeline.ocr import (
    LANG,
    OcrOutput,
    detect_quarter_turns,
    diacritics_low,
    marked_share,
    ocr_page,
    ocr_zone,
)
from pipeline.page_tones import respell_page
from pipeline.pdf import page_pdf
from pipeline.preprocess import (
    Prepared,
    analysis_ink,
    is_blank,
    is_sideways,
    letter_heights,
    prepare,
    reading_factor,
    to_grey,
)
from pipeline.reread import restore_hooks
from pipeline.strokes import counted_numerals, covers
from pipeline.zones import (
    SIGNER_INK_ZONE,
    dark_ink_only,
    doubtful_zones,
    ink_read_needed,
    key_zone_boxes,
)
from schemas.models import PageResult, PageSource, PageStatus, Word

LOW_CONFIDENCE = 55.0  # below this mean word confidence, check whether the page is upside down
ZONE_SCALE = 2.0  # key-field zones are read again at this upscale (bench/metadata.py)
ZONE_PSM = 6
# The date line alone, read as one raw line (psm 13): of the 31 date lines read again on the
# pages2 tuning part, 30 dates came out right; psm 7 21, psm 6 20, psm 7 at x3 15 (round 14).
DATE_LINE_PSM = 13
DATE_ZONE_SCALE = 2.0


@dataclass(frozen=True)
class PageOptions:
    deskew: bool = True
    normalise_background: bool = False
    denoise: bool | None = None  # None: only pages measured as noisy
    key_zones: bool = True  # read the subject and signer zones a second time (`key_zone_words`)
    # The standard model (ocr.accurate_tessdata), for that read and for the second read of a
    # page that lost its diacritics; None where it is not installed.
    tessdata: Path | None = None
    lang: str = LANG  # the language data of the page read
    # The page read shrunk by the largest whole factor that leaves its median letter this many
    # pixels high (preprocess.reading_factor; None: as scanned). The key zones are read from
    # the full-resolution page all the same. Off by default: a quarter less CPU, but on the
    # independent page set (pages2) clean and light pages read 0.2–0.3 points worse than at the
    # scan's resolution, and the signer block of 10 light pages2 tuning documents was lost
    # more often (signer name missing 3 -> 5; docs/benchmarks.md, round 12): accuracy on
    # unseen pages comes first. The setting `ocr_fast_read` turns it on (READ_LETTER_MIN_PX).
    read_letter_min_px: float | None = None


@dataclass
class ScannedPageOutput:
    result: PageResult
    pdf: bytes | None  # None for a skipped page


def _prepare(
    page: ImagePage,
    turns: int,
    options: PageOptions,
    grey: np.ndarray | None = None,
    ink: np.ndarray | None = None,
) -> Prepared:
    return prepare(
        page.image,
        quarter_turns_cw=turns,
        do_deskew=options.deskew,
        do_normalise=options.normalise_background,
        do_denoise=options.denoise,
        grey=grey,
        dpi=page.dpi,
        ink=ink,
    )


def process_scanned_page(
    page: ImagePage, options: PageOptions = PageOptions()
) -> ScannedPageOutput:
    started = time.perf_counter()
    grey = to_grey(page.image)
    height, width = grey.shape[:2]
    heights = letter_heights(grey, page.dpi)
    if is_blank(grey, page.dpi, heights):
        result = PageResult(
            page_no=page.page_no,
            status=PageStatus.skipped,
            reason="blank page",
            width_px=width,
            height_px=height,
            dpi=page.dpi,
            quality_flags=["blank"],
        )
        return ScannedPageOutput(result, page_pdf(page.image.convert("L"), page.dpi, None))
    turns = 0
    ink = analysis_ink(grey)  # the sideways test's, and the skew estimate's if not turned
    if is_sideways(grey, ink):
        turns = detect_quarter_turns(grey, page.dpi)
        turns = turns if turns in (1, 3) else 1
    prepared = _prepare(page, turns, options, grey, ink)
    del grey, ink  # one grey page in memory while Tesseract reads (docs/limits.md)
    factor = reading_factor(page.dpi, heights, options.read_letter_min_px)
    ocr = read_page(prepared.grey, page.dpi, factor, options.lang)
    upside_down_suspect = turns == 0 and (ocr.mean_confidence or 0) < LOW_CONFIDENCE
    if upside_down_suspect and detect_quarter_turns(prepared.grey, page.dpi) == 2:
        del prepared
        prepared = _prepare(page, 2, options)
        ocr = read_page(prepared.grey, page.dpi, factor, options.lang)
    flags = list(prepared.flags)
    if diacritics_low(ocr.text):
        ocr = reread_for_diacritics(prepared.grey, page.dpi, ocr, options.tessdata)
        if diacritics_low(ocr.text):
            flags.append(DIACRITICS_LOW_FLAG)
    unfiltered = None
    if NOISY_PAGE_FLAG in prepared.flags:  # hooks the median rounded into acutes (issue 17)
        unfiltered = zone_image(prepared, options)
        ocr = restore_hooks(ocr, unfiltered, page.dpi, options.tessdata)
    # tone slips the word pairs put right; on a noisy page, specks glued to words taken off
    ocr = respell_page(ocr, options.tessdata, noisy=NOISY_PAGE_FLAG in prepared.flags)
    if (ocr.mean_confidence or 0) < LOW_CONFIDENCE:
        flags.append("low_confidence")
    result = PageResult(
        page_no=page.page_no,
        status=PageStatus.done if ocr.words else PageStatus.skipped,
        reason=None if ocr.words else "no text found",
        source=PageSource.ocr,
        text=ocr.text,
        words=ocr.words,
        width_px=prepared.grey.shape[1],
        height_px=prepared.grey.shape[0],
        dpi=page.dpi,
        rotation_deg=prepared.rotation_deg,
        skew_deg=prepared.skew_deg,
        mean_confidence=ocr.mean_confidence,
        quality_flags=flags,
        image_hash=image_hash(prepared.grey),  # rescans found by look (workers/duplicates.py)
    )
    if options.key_zones and ocr.words:
        grey = zone_image(prepared, options) if unfiltered is None else unfiltered
        result.zones = key_zone_words(grey, page.dpi, result, tessdata=options.tessdata)
        result.zones.update(date_zone_words(grey, page.dpi, result, tessdata=options.tessdata))
    result.seconds = round(time.perf_counter() - started, 3)
    return ScannedPageOutput(result, page_pdf(prepared.display, page.dpi, ocr.text_pdf))


def read_page(grey: np.ndarray, dpi: int, factor: int = 1, lang: str = LANG) -> OcrOutput:
    """The page (scanned at `dpi`) read shrunk by `factor`; the words' boxes in the page's
    own pixels, and the text-only PDF the page's size in points either way."""
    read_dpi = round(dpi / factor)
    if factor <= 1 or read_dpi < 1:
        return ocr_page(grey, dpi, lang=lang)
    height, width = grey.shape[:2]
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    # The renderer sizes the PDF page as pixels / resolution: the scan's size in points, as
    # the resolution is scaled as the pixels were (page_pdf fits the overlay to the page).
    ocr = ocr_page(small, read_dpi, lang=lang)
    ocr.words = [_unscaled(w, width / size[0], height / size[1]) for w in ocr.words]
    return ocr


def _unscaled(word: Word, sx: float, sy: float) -> Word:
    return word.model_copy(
        update={
            "left": round(word.left * sx),
            "top": round(word.top * sy),
            "width": round(word.width * sx),
            "height": round(word.height * sy),
        }
    )


def reread_for_diacritics(
    grey: np.ndarray, dpi: int, first: OcrOutput, tessdata: Path | None
) -> OcrOutput:
    """A page whose text lost the marks Vietnamese carries, read again with the standard `vie`
    model (in `tessdata`); the read with more marked letters wins. Without that model there is
    nothing independent to read with, and the first read stands."""
    if tessdata is None:
        return first
    again = ocr_page(grey, dpi, lang=LANG, tessdata=tessdata)
    return again if marked_share(again.text)[0] > marked_share(first.text)[0] else first


def zone_image(prepared: Prepared, options: PageOptions) -> np.ndarray:
    """What the key-zone pass reads: the page as OCR read it, but not median-filtered. Upscaled,
    the unfiltered zone keeps the hỏi/sắc marks the filter blurs (`tổ`, not `tố`; measured)."""
    if NOISY_PAGE_FLAG in prepared.flags and not options.normalise_background:
        return to_grey(prepared.display)
    return prepared.grey


def key_zone_words(
    grey: np.ndarray, dpi: int, result: PageResult, *, tessdata: Path | None = None
) -> dict[str, list[Word]]:
    """The subject and signer zones (found from the page's own OCR words) read again from the
    prepared page, upscaled (with the model in `tessdata`, if any), where that read can change
    the answer (`doubtful_zones`): small zones, so a few tenths of a second per page that has them.
    `numerals`: the subject's numerals of I strokes (`quý III`) as counted on the page."""
    boxes = key_zone_boxes(result)
    doubtful = doubtful_zones(result, boxes)
    zones = {
        name: ocr_zone(grey, dpi, box, scale=ZONE_SCALE, psm=ZONE_PSM, tessdata=tessdata)
        for name, box in doubtful.items()
    }
    if "signer" in doubtful and ink_read_needed(result, zones["signer"]):
        # a seal or signature over the signer lines: read without them
        inked = dark_ink_only(grey, doubtful["signer"])
        zones[SIGNER_INK_ZONE] = ocr_zone(
            inked, dpi, doubtful["signer"], scale=ZONE_SCALE, psm=ZONE_PSM, tessdata=tessdata
        )
    if "subject" in boxes:
        subject = zones.get("subject", [])
        numerals = subject_numerals(grey, result.words, subject, boxes["subject"])
        if numerals:
            zones["numerals"] = numerals
    return zones


def date_zone_words(
    grey: np.ndarray, dpi: int, result: PageResult, *, tessdata: Path | None = None
) -> dict[str, list[Word]]:
    """The place-and-date line read again, upscaled, as one line (a band under the motto as a
    block) where the page read is unsure of a date digit or found none (`date_zone`)."""
    found = date_line_box(result)
    if found is None:
        return {}
    box, one_line = found
    psm = DATE_LINE_PSM if one_line else ZONE_PSM
    words = ocr_zone(grey, dpi, box, scale=DATE_ZONE_SCALE, psm=psm, tessdata=tessdata)
    return {DATE_ZONE: words}


def subject_numerals(
    grey: np.ndarray, page_words: list[Word], zone_words: list[Word], box: tuple[int, ...]
) -> list[Word]:
    """Numerals of I strokes in the subject zone, each place counted once: where the page read
    found one, else where the zone's read did."""
    left, top, right, bottom = box
    zone = Word(text="", left=left, top=top, width=right - left, height=bottom - top, confidence=0)
    found = counted_numerals(grey, [w for w in page_words if covers(zone, w)])
    for word in counted_numerals(grey, zone_words):
        if not any(covers(other, word) for other in found):
            found.append(word)
    return found


def text_page_result(page: TextPage) -> PageResult:
    return PageResult(
        page_no=page.page_no,
        status=PageStatus.done if page.text.strip() else PageStatus.skipped,
        reason=None if page.text.strip() else "no text found",
        source=PageSource.text_layer,
        text=page.text,
        words=page.words,
        width_px=page.width_px,
        height_px=page.height_px,
        dpi=72,
        mean_confidence=100.0,
    )
