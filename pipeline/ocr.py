"""Tesseract, called from this one module (STYLE §6): timeouts, outputs, errors.

One Tesseract read per page gives both the word boxes (TSV) and a text-only PDF page that is
laid over the page image. It runs in process through libtesseract's C API (`pipeline.tessapi`):
one loaded model per worker thread, the page handed over as raw grey bytes, the GIL released
while Tesseract reads, the PDF renderer fed the recognised page as the CLI does — the same words
and text layer as `tesseract IMG out tsv pdf`, without a process and a model load per page
(0.07–0.15 s of a ~1.4 s page, docs/benchmarks.md). Without libtesseract the `tesseract` CLI
reads the page (`page_engine()` says which). tesserocr is not used for the page: its
ProcessPage, the one call that renders that PDF, holds the GIL for the whole read. The small
key-zone reads go through tesserocr's in-process API (`Recognize` releases the GIL): one API
per thread and model, loaded once. Without tesserocr installed they run through the CLI too
(`zone_engine()` says which). The entry point sets OMP_THREAD_LIMIT=1 before any Tesseract
starts (libtesseract and tesserocr are loaded on first use, after it), so each Tesseract uses
one core and workers scale by thread or process.
"""

from __future__ import annotations

import csv
import io
import re
import shlex
import tempfile
import threading
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
import pytesseract

from pipeline import tessapi
from schemas.errors import OcrFailed, ToolMissing
from schemas.models import Word

LANG = "vie"
TIMEOUT_S = 300
# Look-alikes Tesseract's vie model sometimes picks (b/c → b/€, Đ → Ð); measured to lower
# word error on clean pages (0.46 % → 0.41 %), and none of them belongs in these records.
NEVER_IN_VIETNAMESE_RECORDS = "€Ð£¥©®™¢¤"
# Tesseract variables of every page read (CLI `-c` or the in-process engine's SetVariable).
PAGE_VARIABLES = {"tessedit_char_blacklist": NEVER_IN_VIETNAMESE_RECORDS}


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


def _run(
    image_path: Path, out_base: Path, extensions: str, config: str, timeout_s: int, lang: str
) -> None:
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image_path), str(out_base), extensions, lang, config=config, timeout=timeout_s
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
    lang: str = LANG,
) -> tuple[str, bytes | None]:
    """One Tesseract run over an image: its TSV, and its text-only PDF when asked for;
    `tessdata`: the folder of the `lang` model to use instead of the system's."""
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        image_path = Path(tmp) / "image.pgm"
        cv2.imwrite(str(image_path), grey)
        base = Path(tmp) / "out"
        config = f"--oem 1 --psm {psm} --dpi {dpi} -c tessedit_create_tsv=1 " + " ".join(
            f"-c {name}={value}" for name, value in PAGE_VARIABLES.items()
        )
        if with_pdf:
            config += " -c textonly_pdf=1"
        if tessdata is not None:
            config = f"--tessdata-dir {shlex.quote(str(tessdata))} {config}"
        _run(image_path, base, "tsv pdf" if with_pdf else "tsv", config, timeout_s, lang)
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8")
        pdf = base.with_suffix(".pdf").read_bytes() if with_pdf else None
    return tsv, pdf


def page_engine() -> str:
    """Which Tesseract reads whole pages: `libtesseract in process`, or `tesseract CLI`."""
    return "libtesseract in process" if tessapi.library() is not None else "tesseract CLI"


def _read_page(
    grey: np.ndarray, dpi: int, psm: int, timeout_s: int, tessdata: Path | None, lang: str
) -> tuple[str, bytes | None]:
    """TSV and text-only PDF of one page: in process through libtesseract's C API (this
    thread's model stays loaded; the GIL is released while it reads), else through the CLI."""
    if tessapi.library() is None:
        return _tesseract(grey, dpi, psm, timeout_s, with_pdf=True, tessdata=tessdata, lang=lang)
    try:
        engine = tessapi.engine_for(tessapi.Model(lang, tessdata), PAGE_VARIABLES)
    except tessapi.EngineError as e:
        raise ToolMissing(f"tesseract cannot load {lang!r}: {e}") from e
    with tempfile.TemporaryDirectory(prefix="sohoa-ocr-") as tmp:
        try:
            tsv, pdf = engine.read(grey, dpi, psm, timeout_s, Path(tmp) / "out")
        except tessapi.EngineError as e:
            raise OcrFailed(str(e)) from e
    return TSV_HEADER + tsv, pdf


def ocr_page(
    grey: np.ndarray,
    dpi: int,
    *,
    psm: int = 3,
    timeout_s: int = TIMEOUT_S,
    lang: str = LANG,
    tessdata: Path | None = None,
) -> OcrOutput:
    """OCR one prepared greyscale page; returns words, reading-order text and a text-only PDF.
    `lang` and `tessdata`: the language data to read with (default: the system's `vie`)."""
    tsv, pdf = _read_page(grey, dpi, psm, timeout_s, tessdata, lang)
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
    if _tesserocr() is not None:
        tsv = _zone_tsv_in_process(big, round(dpi * scale), psm, timeout_s, tessdata)
    else:
        tsv, _ = _tesseract(
            big, round(dpi * scale), psm, timeout_s, with_pdf=False, tessdata=tessdata
        )
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


@cache
def _tesserocr() -> ModuleType | None:
    """The in-process Tesseract API, or None where tesserocr is not installed. Imported on first
    use, after the entry point has set OMP_THREAD_LIMIT (OpenMP reads it when it loads)."""
    try:
        import tesserocr
    except ImportError:
        return None
    return tesserocr


def zone_engine() -> str:
    """Which Tesseract reads the key zones: `tesserocr <version>` in process, or `tesseract CLI`."""
    module = _tesserocr()
    if module is None:
        return "tesseract CLI"
    return f"tesserocr {module.tesseract_version().split()[1]}"


# The first line of the CLI's TSV (its renderer writes it; the API's GetTSVText does not).
TSV_HEADER = (
    "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t"
    "left\ttop\twidth\theight\tconf\ttext\n"
)
_apis = threading.local()  # this thread's tesserocr APIs by (lang, tessdata): one read at a time


def _api(lang: str, tessdata: Path | None) -> object:
    """This thread's API for one model, initialised once and reused for every zone read."""
    apis = _apis.__dict__.setdefault("by_model", {})
    key = (lang, tessdata)
    if key not in apis:
        tesserocr = _tesserocr()
        where = {"path": f"{tessdata}/"} if tessdata is not None else {}
        try:
            api = tesserocr.PyTessBaseAPI(lang=lang, oem=tesserocr.OEM.LSTM_ONLY, **where)
        except RuntimeError as e:
            raise ToolMissing(f"tesseract has no {lang!r} language data: {e}") from e
        api.SetVariable("tessedit_char_blacklist", NEVER_IN_VIETNAMESE_RECORDS)
        apis[key] = api
    return apis[key]


def _zone_tsv_in_process(
    grey: np.ndarray, dpi: int, psm: int, timeout_s: int, tessdata: Path | None
) -> str:
    """The TSV of one zone image read by this thread's in-process API, as the CLI writes it."""
    api = _api(LANG, tessdata)
    height, width = grey.shape[:2]
    image = np.ascontiguousarray(grey)
    api.SetPageSegMode(psm)
    api.SetImageBytes(image.tobytes(), width, height, 1, width)
    api.SetSourceResolution(dpi)
    api.SetVariable("user_defined_dpi", str(dpi))
    try:
        if not api.Recognize(timeout=timeout_s * 1000):
            raise OcrFailed(f"tesseract could not read a zone within {timeout_s} s")
        return TSV_HEADER + api.GetTSVText(0)
    finally:
        api.Clear()  # the image and results go; the loaded model stays for the next zone


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
# Tesseract's confidence below which a token of punctuation alone is a speck it guessed at
# (a real `-`, `;` or `”` between words reads at 90+; specks, seal edges at 0–40).
MIN_MARK_CONFIDENCE = 50
# Wider than this per character, a token of punctuation alone is a ruled line, not a dash
# (an em dash in 14 pt type is 0.19 in; the rule under the motto is inches long).
MAX_MARK_WIDTH_IN = 0.3
DASHES = "-–—"  # the only punctuation that stands alone below letter height in these records


def _holds_text(token: str) -> bool:
    """A letter or digit in it; a modifier letter (`ˆ`, Unicode category Lm) is none."""
    return any(c.isalnum() and unicodedata.category(c) != "Lm" for c in token)


def _torn_mark(token: str) -> bool:
    """Only modifier marks (`ˆ`, `^`, `´`): a circumflex or an accent Tesseract read apart from
    its vowel (seen at 9–59 confidence, letter height, clean pages too) or a speck; never text."""
    return all(unicodedata.category(c) in ("Lm", "Sk") for c in token)


def _is_noise(word: Word, dpi: int, lines_with_text: set[tuple[int, int]]) -> bool:
    """A speck, rule or seal edge read as a word. Judged by the token's characters and
    Tesseract's own confidence, not by size alone: a dash or a full stop is short and flat, yet
    text wherever Tesseract is sure of it and it sits on a line that holds words."""
    if _torn_mark(word.text):
        return True
    if _holds_text(word.text):
        too_small = word.height < MIN_GLYPH_HEIGHT_IN * dpi
        return too_small or (len(word.text) == 1 and word.confidence < 5)
    if word.confidence < MIN_MARK_CONFIDENCE:
        return True
    if word.width > MAX_MARK_WIDTH_IN * dpi * len(word.text):
        return True
    small = word.height < MIN_GLYPH_HEIGHT_IN * dpi
    # Below letter height a lone dot, colon, quote or underscore is a speck read as punctuation
    # (every one kept on the tuning pages was; docs/benchmarks.md), a dash is text.
    if small and word.text.strip(DASHES):
        return True
    return small and (word.block, word.line) not in lines_with_text


def drop_noise(words: list[Word], dpi: int) -> list[Word]:
    """Tesseract reads specks and ruled lines as tiny 'words'; they are not text. Punctuation
    is text (`Độc lập - Tự do - Hạnh phúc`, the `- Như trên;` bullets): kept where it is."""
    lines_with_text = {
        (w.block, w.line)
        for w in words
        if _holds_text(w.text) and w.height >= MIN_GLYPH_HEIGHT_IN * dpi
    }
    return [w for w in words if not _is_noise(w, dpi, lines_with_text)]


# Vietnamese prose: the share of its letters that carry a mark or are not plain ASCII letters
# (ă â đ ê ô ơ ư and every tone), NFC. Measured on the seed texts (../shared/seeds, 5 documents):
# 0.286 (0.279–0.293 by document; every 300-letter stretch 0.24 or more). A third of it is far
# below any real page, and above what a page read with the wrong language data gives (`eng`:
# 0.05, tests/test_ocr_punctuation.py), or a font Tesseract cannot read, or a page upside down.
VIETNAMESE_MARKED_SHARE = 0.286
MARKED_SHARE_LOW = VIETNAMESE_MARKED_SHARE / 3
MIN_LETTERS_TO_JUDGE = 200  # fewer letters (a cover, a table of figures): no verdict


def marked_share(text: str) -> tuple[float, int]:
    """(share of the letters that are not plain ASCII letters, number of letters) of `text`."""
    letters = [c for c in unicodedata.normalize("NFC", text) if c.isalpha()]
    if not letters:
        return 0.0, 0
    return sum(not c.isascii() for c in letters) / len(letters), len(letters)


def diacritics_low(text: str) -> bool:
    """Whether OCR text holds far fewer marked letters than Vietnamese prose ever does: the
    page was read with the wrong language data or lost its tone marks. Judged only on a page
    with enough letters."""
    share, letters = marked_share(text)
    return letters >= MIN_LETTERS_TO_JUDGE and share < MARKED_SHARE_LOW


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
