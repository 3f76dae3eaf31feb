"""One scanned page from image to result: orientation, clean-up, OCR, searchable page PDF."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pipeline.load import ImagePage, TextPage
from pipeline.ocr import OcrOutput, detect_quarter_turns, ocr_page
from pipeline.pdf import page_pdf
from pipeline.preprocess import Prepared, is_blank, is_sideways, prepare, to_grey
from schemas.models import PageResult, PageSource, PageStatus

LOW_CONFIDENCE = 55.0  # below this mean word confidence, check whether the page is upside down


@dataclass(frozen=True)
class PageOptions:
    deskew: bool = True
    normalise_background: bool = False
    denoise: bool | None = None  # None: only pages measured as noisy


@dataclass
class ScannedPageOutput:
    result: PageResult
    pdf: bytes | None  # None for a skipped page


def _prepare_and_ocr(
    page: ImagePage, turns: int, options: PageOptions
) -> tuple[Prepared, OcrOutput]:
    prepared = prepare(
        page.image,
        quarter_turns_cw=turns,
        do_deskew=options.deskew,
        do_normalise=options.normalise_background,
        do_denoise=options.denoise,
    )
    return prepared, ocr_page(prepared.grey, page.dpi)


def process_scanned_page(
    page: ImagePage, options: PageOptions = PageOptions()
) -> ScannedPageOutput:
    started = time.perf_counter()
    grey = to_grey(page.image)
    height, width = grey.shape[:2]
    if is_blank(grey):
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
    if is_sideways(grey):
        turns = detect_quarter_turns(grey, page.dpi)
        turns = turns if turns in (1, 3) else 1
    prepared, ocr = _prepare_and_ocr(page, turns, options)
    upside_down_suspect = turns == 0 and (ocr.mean_confidence or 0) < LOW_CONFIDENCE
    if upside_down_suspect and detect_quarter_turns(prepared.grey, page.dpi) == 2:
        prepared, ocr = _prepare_and_ocr(page, 2, options)
    flags = list(prepared.flags)
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
        seconds=round(time.perf_counter() - started, 3),
    )
    return ScannedPageOutput(result, page_pdf(prepared.display, page.dpi, ocr.text_pdf))


def text_page_result(page: TextPage) -> PageResult:
    return PageResult(
        page_no=page.page_no,
        status=PageStatus.done if page.text.strip() else PageStatus.skipped,
        source=PageSource.text_layer,
        text=page.text,
        words=page.words,
        width_px=page.width_px,
        height_px=page.height_px,
        dpi=72,
        mean_confidence=100.0,
    )
