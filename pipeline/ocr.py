"""Tesseract, called from this one module (STYLE §6): timeouts, outputs, errors.

One Tesseract run per page gives both the word boxes (TSV) and a text-only PDF page that is laid
over the page image. The worker process sets OMP_THREAD_LIMIT=1 once at start-up (pytesseract
passes the process environment on), so each Tesseract uses one core and workers scale by process.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytesseract

from schemas.errors import OcrFailed, ToolMissing
from schemas.models import Word

LANG = "vie"
TIMEOUT_S = 300
# Look-alikes Tesseract's vie model sometimes picks (b/c → b/€, Đ → Ð); measured to lower
# word error on clean pages (0.46 % → 0.41 %), and none of them belongs in these records.
NEVER_IN_VIETNAMESE_RECORDS = "€Ð£¥©®™¢¤"


def accurate_tessdata(folder: Path) -> Path | None:
    """`folder` if it holds Tesseract's standard `vie` data (`scripts/tessdata.sh`: an integer
    version of tessdata_best, slower than Debian's fast model and no better on whole pages,
    measured), used for the second read of the key-field zones, so that read is independent of
    the page's; None where it is not installed (the zones are then read with the page's model)."""
    return folder if (folder / f"{LANG}.traineddata").is_file() else None


@dataclass
class OcrOutput:
    words: list[Word]
    text: str
    mean_confidence: float | None
    text_pdf: bytes  # one PDF page, invisible text, sized as the image at the given dpi


def _run(image_path: Path, out_base: Path, extensions: str, config: str, timeout_s: int) -> None:
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image_path), str(out_base), extensions, LANG, config=config, timeout=timeout_s
        )
    except pytesseract.TesseractNotFoundError as e:
        raise ToolMissing(
            "tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-vie)"
        ) from e
    except pytesseract.TesseractError as e:
        raise OcrFailed(f"tesseract failed: {e.message}") from e
    except RuntimeError as e:  # pytesseract's timeout
        raise OcrFailed(f"tesseract took longer than {timeout_s} s") from e


def _tesseract(
    grey: np.ndarray,
    dpi: int,
    psm: int,
    timeout_s: int,
    *,
    with_pdf: bool,
    tessdata: Path | None = None,
) -> tuple[str, bytes | None]:
    """One Tesseract run over an image: its TSV, and its text-only PDF when asked for;
    `tessdata`: the folder of the `vie` model to use instead of the system's."""
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        image_path = Path(tmp) / "image.pgm"
        cv2.imwrite(str(image_path), grey)
        base = Path(tmp) / "out"
        config = (
            f"--oem 1 --psm {psm} --dpi {dpi} -c tessedit_create_tsv=1 "
            f"-c tessedit_char_blacklist={NEVER_IN_VIETNAMESE_RECORDS}"
        )
        if with_pdf:
            config += " -c textonly_pdf=1"
        if tessdata is not None:
            config = f"--tessdata-dir {shlex.quote(str(tessdata))} {config}"
        _run(image_path, base, "tsv pdf" if with_pdf else "tsv", config, timeout_s)
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
        pdf = base.with_suffix(".pdf").read_bytes() if with_pdf else None
    return tsv, pdf


def ocr_page(grey: np.ndarray, dpi: int, *, psm: int = 3, timeout_s: int = TIMEOUT_S) -> OcrOutput:
    """OCR one prepared greyscale page; returns words, reading-order text and a text-only PDF."""
    tsv, pdf = _tesseract(grey, dpi, psm, timeout_s, with_pdf=True)
    words = drop_noise(parse_tsv(tsv), dpi)
    confidences = [w.confidence for w in words]
    mean = round(sum(confidences) / len(confidences), 2) if confidences else None
    return OcrOutput(words, reading_order_text(words), mean, pdf)


def ocr_zone(
    grey: np.ndarray,
    dpi: int,
    box: tuple[int, int, int, int],
    *,
    scale: float = 2.0,
    psm: int = 6,
    timeout_s: int = 60,
    tessdata: Path | None = None,
) -> list[Word]:
    """Second read of one small zone (left, top, right, bottom) of a prepared page, upscaled:
    the words in page coordinates, lines numbered by this read (block 1000 + Tesseract's);
    `tessdata`: the folder of the accurate model (`accurate_tessdata`), None for the system's."""
    left, top, right, bottom = box
    crop = grey[max(top, 0) : bottom, max(left, 0) : right]
    if crop.size == 0:
        return []
    size = (round(crop.shape[1] * scale), round(crop.shape[0] * scale))
    big = cv2.resize(crop, size, interpolation=cv2.INTER_CUBIC)
    tsv, _ = _tesseract(big, round(dpi * scale), psm, timeout_s, with_pdf=False, tessdata=tessdata)
    words = [
        w.model_copy(
            update={
                "left": max(left, 0) + round(w.left / scale),
                "top": max(top, 0) + round(w.top / scale),
                "width": round(w.width / scale),
                "height": round(w.height / scale),
                "block": 1000 + w.block,
            }
        )
        for w in parse_tsv(tsv)
    ]
    return drop_noise(words, dpi)


def parse_tsv(tsv: str) -> list[Word]:
    words = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = unicodedata.normalize("NFC", (row.get("text") or "").strip())
        if row.get("level") != "5" or not text:
            continue
        words.append(
            Word(
                text=text,
                left=int(row["left"]),
                top=int(row["top"]),
                width=int(row["width"]),
                height=int(row["height"]),
                confidence=max(float(row["conf"]), 0.0),
                block=int(row["block_num"]),
                line=int(row["par_num"]) * 1000 + int(row["line_num"]),
            )
        )
    return words


MIN_GLYPH_HEIGHT_IN = 0.035  # below 6 pt type: rules, specks and seal edges, not text


def _is_noise(word: Word, dpi: int) -> bool:
    if word.height < MIN_GLYPH_HEIGHT_IN * dpi:
        return True
    has_alnum = any(c.isalnum() for c in word.text)
    return (not has_alnum and word.confidence < 50) or (len(word.text) == 1 and word.confidence < 5)


def drop_noise(words: list[Word], dpi: int) -> list[Word]:
    """Tesseract reads specks and ruled lines as tiny 'words'; they are not text."""
    return [w for w in words if not _is_noise(w, dpi)]


def reading_order_text(words: list[Word]) -> str:
    """Lines as Tesseract found them; blank line between blocks."""
    lines: list[str] = []
    key = None
    for word in words:
        this = (word.block, word.line)
        if key is None or this != key:
            if key is not None and word.block != key[0]:
                lines.append("")
            lines.append(word.text)
            key = this
        else:
            lines[-1] += " " + word.text
    return "\n".join(lines)


_ROTATE = re.compile(r"Rotate:\s*(\d+)")


def detect_quarter_turns(grey: np.ndarray, dpi: int, timeout_s: int = 60) -> int:
    """Clockwise quarter turns that make the page upright, from Tesseract's OSD; 0 if unsure."""
    with tempfile.TemporaryDirectory(prefix="sohoa-osd-") as tmp:
        image_path = Path(tmp) / "page.pgm"
        cv2.imwrite(str(image_path), grey)
        base = Path(tmp) / "out"
        try:
            pytesseract.pytesseract.run_tesseract(
                str(image_path),
                str(base),
                "osd",
                "osd",
                config=f"--psm 0 --dpi {dpi}",
                timeout=timeout_s,
            )
            report = base.with_suffix(".osd").read_text()
        except (pytesseract.TesseractError, RuntimeError, OSError):
            return 0  # OSD fails on sparse pages; keep the page as it is
    found = _ROTATE.search(report)
    return (int(found.group(1)) // 90) % 4 if found else 0
