"""Quality flags a page result carries that more than one stage reads."""

from schemas.models import PageResult, page_ranges_text

# Set by `pipeline.preprocess` on a page it measured as noisy and median-filtered; the key-zone
# pass then reads the unfiltered page, and the extractor doubts free text read from it.
NOISY_PAGE_FLAG = "denoised"

# Set by `pipeline.page` on a page whose OCR text holds far fewer marked letters than Vietnamese
# does (`pipeline.ocr.diacritics_low`), even after a second read with the standard model: the
# text lost its tone marks, so a person must look at the page.
DIACRITICS_LOW_FLAG = "diacritics_low"


def page_review_reasons(pages: list[PageResult]) -> list[str]:
    """Why a person must look at a document because of how its pages were read."""
    low = [p.page_no for p in pages if DIACRITICS_LOW_FLAG in p.quality_flags]
    if not low:
        return []
    which = f"page{'s' if len(low) > 1 else ''} {page_ranges_text(low)}"
    return [f"{which}: OCR text has few Vietnamese diacritics (wrong language data or font?)"]
