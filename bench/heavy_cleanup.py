"""Clean-ups of noisy (heavy) pages, each applied to sohoa's deskewed grey page, read in process
as sohoa reads a page (issue 17; docs/benchmarks.md "Heavy pages, issue 17").

Tune on the corpus pages only, then check on pages2. Run from the repository root::

    .venv/bin/python bench/heavy_cleanup.py SET_DIR heavy,light median,specks OUT.json [PAGES]
    .venv/bin/python bench/heavy_cleanup.py --score SET_DIR OUT.json

SET_DIR holds truth.json (the bench's `scanned` shape or pages2's `files`) and the PDFs
(`scanned_LEVEL.pdf` or `pages2_LEVEL.pdf`). A variant names the clean-up after deskew (see
VARIANTS); `sohoa` is `prepare()` as the product runs it (clean-up only on pages measured
noisy). Results are resumable: pages already in OUT.json are not read again. CPU seconds are
this process's (clean-up and the in-process Tesseract read, separately).

Round 13: `BASE@HOW<C` reads the page cleaned by BASE, then reads again from the deskewed page
under REREADS[HOW] each line holding a word under C confidence (`raw<60`; `rawW<80`: word for
word), or with `hook-HOW<C` each word with an acute under C, keeping only a hook for the acute
(the product's `pipeline/reread.py`). Second reads use tesserocr: set TESSDATA_PREFIX to the
system's tessdata folder if its build has no default; HEAVY_CLEANUP_CACHE=DIR keeps the first
reads, so further second-read variants of the same BASE cost only their second reads.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from collections import Counter, defaultdict
from multiprocessing import Pool
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from pipeline import preprocess as pp  # noqa: E402
from pipeline.load import PDF, load_scanned_page, plan_pages  # noqa: E402
from pipeline.page import read_page  # noqa: E402


def _stretch(grey):
    lo, hi = np.percentile(grey[::4, ::4], (1, 99))
    alpha = 255.0 / max(hi - lo, 1)
    return cv2.convertScaleAbs(grey, alpha=alpha, beta=-lo * alpha)


def _unsharp(grey, amount: float, sigma: float = 2.0):
    blurred = cv2.GaussianBlur(grey, (0, 0), sigma)
    return cv2.addWeighted(grey, 1 + amount, blurred, -amount, 0)


def _specks(grey, max_area: int, clearance: int | None):
    """Dark components under `max_area` px made paper; with `clearance`, only those with no
    larger ink within that many px (the product's `drop_specks`, sizes in px at 300 dpi)."""
    _, ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < max_area
    small[0] = False
    drop = small[labels]
    if clearance:
        letters = ((ink > 0) & ~drop).astype(np.uint8)
        reach = np.ones((2 * clearance + 1, 2 * clearance + 1), np.uint8)
        drop &= cv2.dilate(letters, reach) == 0
    out = grey.copy()
    out[drop] = 255
    return out


def _med(grey):
    return cv2.medianBlur(grey, 3)


VARIANTS = {
    "median": _med,  # sohoa before issue 17's heavy work
    "median+stretch": lambda g: _stretch(_med(g)),
    "median+normalise": lambda g: pp.normalise_background(_med(g)),
    "median+otsu": lambda g: cv2.threshold(_med(g), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)[1],
    "median5": lambda g: cv2.medianBlur(g, 5),
    "gauss5": lambda g: cv2.GaussianBlur(g, (5, 5), 0),
    "bilateral": lambda g: cv2.bilateralFilter(g, 7, 40, 5),
    "median+specks12": lambda g: _specks(_med(g), 12, None),
    "median+specks12/5": lambda g: _specks(_med(g), 12, 5),
    "median+specks6": lambda g: _specks(_med(g), 6, None),
    "median+specks20": lambda g: _specks(_med(g), 20, None),
    "median+specks20/5": lambda g: _specks(_med(g), 20, 5),  # kept (the product's drop_specks)
    "median+specks30/3": lambda g: _specks(_med(g), 30, 3),
    "median+unsharp1": lambda g: _unsharp(_med(g), 1.0),
    "median+unsharp0.5+specks12/5": lambda g: _specks(_unsharp(_med(g), 0.5), 12, 5),
    "median+unsharp0.5+specks20/5": lambda g: _specks(_unsharp(_med(g), 0.5), 20, 5),
    "median+unsharp1+specks20/5": lambda g: _specks(_unsharp(_med(g), 1.0), 20, 5),
    "median+unsharp2+specks20/5": lambda g: _specks(_unsharp(_med(g), 2.0), 20, 5),
    "sohoa": lambda g: g,
    # round 13: on top of the product's clean-up of a noisy page (median + isolated specks)
    "clean": lambda g: pp.clean_noisy(g, 300),
    "clean+stretch": lambda g: _stretch(pp.clean_noisy(g, 300)),
    "clean+normalise": lambda g: pp.normalise_background(pp.clean_noisy(g, 300)),
    "clean+tophat": lambda g: _tophat(pp.clean_noisy(g, 300)),
    "gauss0.7+specks": lambda g: pp.drop_specks(cv2.GaussianBlur(g, (0, 0), 0.7), 300),
    "finemedian+specks": lambda g: pp.drop_specks(_fine_median(g), 300),
    "clean+up1.5": lambda g: _up(pp.clean_noisy(g, 300), 1.5),
}
READ_SCALE = {"clean+up1.5": 1.5}  # a variant read at a higher resolution than the scan's


def _up(grey, scale: float):
    size = (round(grey.shape[1] * scale), round(grey.shape[0] * scale))
    return cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC)


def _fine_median(grey):
    """A median over half the reach: 3×3 on the page upscaled 2×, then shrunk back."""
    big = cv2.medianBlur(_up(grey, 2.0), 3)
    return cv2.resize(big, grey.shape[::-1], interpolation=cv2.INTER_AREA)


# Round 13: a second read of only the lines Tesseract is unsure of, from another preprocessing of
# the same deskewed page; the line read with the higher mean confidence is kept.
REREADS = {
    "raw": lambda g: g,  # the deskewed page, unfiltered (the median rounds hook-above marks)
    "gauss": lambda g: cv2.GaussianBlur(g, (0, 0), 0.8),
    "median": lambda g: _med(g),
    "fine": lambda g: _fine_median(g),
}


def _tophat(grey):
    """Paper made flat: the page's dark strokes (black-hat of a 31 px closing) on white."""
    closing = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, np.ones((31, 31), np.uint8))
    return 255 - cv2.subtract(closing, grey)


def reread_unsure_hooks(words, other, dpi: int, below: float, scale: float = 2.0):
    """`words` with each word that carries an acute (sắc) and is read under `below` confidence
    read again alone from `other`; taken where that read has a hook (hỏi) in its place and is
    otherwise the same word (the median filter rounds a hook into an acute)."""
    import unicodedata

    from pipeline.ocr import ocr_zone
    from pipeline.zones import _acute_for_hook

    out, reread = [], 0
    for w in words:
        nfd = unicodedata.normalize("NFD", w.text)
        if w.confidence >= below or "\u0301" not in nfd:
            out.append(w)
            continue
        reread += 1
        pad = max(4, round(0.3 * w.height))
        box = (w.left - pad, w.top - pad, w.left + w.width + pad, w.top + w.height + pad)
        again = ocr_zone(other, dpi, box, scale=scale, psm=8)
        text = "".join(a.text for a in again)
        out.append(w.model_copy(update={"text": text}) if _acute_for_hook(w.text, text) else w)
    return out, reread


def reread_unsure_lines(
    words, other, dpi: int, below: float, scale: float = 2.0, by_word: bool = False
):
    """`words` with each line holding a word under `below` confidence read again from `other`
    (single line, upscaled); the read with the higher mean confidence stands. Returns the
    words and how many lines were read again."""
    from pipeline.ocr import ocr_zone

    lines: dict[tuple[int, int], list] = {}
    for w in words:
        lines.setdefault((w.block, w.line), []).append(w)
    out, reread = [], 0
    for (block, line), ws in lines.items():
        if min(w.confidence for w in ws) >= below:
            out += ws
            continue
        reread += 1
        pad = max(4, round(0.3 * max(w.height for w in ws)))
        box = (
            min(w.left for w in ws) - pad,
            min(w.top for w in ws) - pad,
            max(w.left + w.width for w in ws) + pad,
            max(w.top + w.height for w in ws) + pad,
        )
        again = ocr_zone(other, dpi, box, scale=scale, psm=7)
        mean = sum(w.confidence for w in ws) / len(ws)
        if by_word and len(again) == len(ws):  # word for word: the surer reading of each
            out += [
                b.model_copy(update={"block": block, "line": line})
                if b.confidence > a.confidence
                else a
                for a, b in zip(ws, again, strict=True)
            ]
        elif again and sum(w.confidence for w in again) / len(again) > mean:
            out += [w.model_copy(update={"block": block, "line": line}) for w in again]
        else:
            out += ws
    return out, reread


def _pdf(folder: Path, level: str) -> Path:
    own = folder / f"scanned_{level}.pdf"
    return own if own.exists() else folder / f"pages2_{level}.pdf"


def task(job: tuple[str, int, str]) -> tuple[tuple[str, int, str], dict]:
    path, index, variant = Path(job[0]), job[1], job[2]
    page = load_scanned_page(path, PDF, plan_pages(path, PDF)[index])
    grey = pp.to_grey(page.image)
    base, _, again = variant.partition("@")  # `clean@raw<60`: clean, then lines under 60 reread
    auto = None if base == "sohoa" else False
    t0 = time.process_time()
    prepared = pp.prepare(page.image, grey=grey, do_denoise=auto, dpi=page.dpi)
    cleaned = np.ascontiguousarray(VARIANTS[base](prepared.grey))
    t1 = time.process_time()
    cache = os.environ.get("HEAVY_CLEANUP_CACHE")  # first reads kept for the second-read variants
    cached = Path(cache) / f"{path.stem}-{index}-{base}.pickle" if cache else None
    if cached is not None and cached.exists():
        ocr = pickle.loads(cached.read_bytes())
    else:
        ocr = read_page(cleaned, round(page.dpi * READ_SCALE.get(base, 1)))
        if cached is not None:
            cached.write_bytes(pickle.dumps(ocr))
    t2 = time.process_time()
    result = {"text": ocr.text, "prepare_cpu": t1 - t0, "read_cpu": t2 - t1}
    if again:
        from pipeline.ocr import reading_order_text

        how, below = again.split("<")
        by_word = how.endswith("W")
        how = how.removesuffix("W")
        deskewed = pp.prepare(page.image, grey=grey, do_denoise=False, dpi=page.dpi).grey
        other = np.ascontiguousarray(REREADS.get(how, lambda g: g)(deskewed))
        if how.startswith("hook-"):
            other = np.ascontiguousarray(REREADS[how.removeprefix("hook-")](deskewed))
            words, n = reread_unsure_hooks(ocr.words, other, page.dpi, float(below))
        else:
            words, n = reread_unsure_lines(
                ocr.words, other, page.dpi, float(below), by_word=by_word
            )
        result.update(text=reading_order_text(words), reread_lines=n)
        result["reread_cpu"] = time.process_time() - t2
    return job, result


def measure(folder: Path, levels: str, variants: str, out: Path, pages: int) -> None:
    done = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    jobs = [
        (str(_pdf(folder, level)), i, v)
        for level in levels.split(",")
        for v in variants.split(",")
        for i in range(pages)
        if f"{level}|{i}|{v}" not in done
    ]
    with Pool(2) as pool:
        for (path, i, v), r in pool.imap_unordered(task, jobs):
            level = Path(path).stem.split("_")[1]
            done[f"{level}|{i}|{v}"] = r
            out.write_text(json.dumps(done, ensure_ascii=False), encoding="utf-8")


def score(folder: Path, results: Path) -> None:
    from ocr import token_error, tokens

    from corpus.metrics import word_error, words

    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    entries = (
        truth["scanned"].items()
        if "scanned" in truth
        else ((e["level"], e) for e in truth["files"])
    )
    texts = {level: [p["text"] for p in e["pages"]] for level, e in entries}
    totals: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for key, r in json.loads(results.read_text(encoding="utf-8")).items():
        level, index, variant = key.split("|")
        want = texts[level][int(index)]
        c = totals[(level, variant)]
        n_tokens, n_words = len(tokens(want)), len(words(want))
        c["tok_err"] += token_error(want, r["text"]) * n_tokens
        c["tokens"] += n_tokens
        c["word_err"] += word_error(want, r["text"]) * n_words
        c["words"] += n_words
        c["prepare"] += r["prepare_cpu"]
        c["read"] += r["read_cpu"]
        c["reread"] += r.get("reread_cpu", 0.0)
        c["lines"] += r.get("reread_lines", 0)
        c["pages"] += 1
    for (level, variant), c in sorted(totals.items()):
        print(
            f"{level:6} {variant:28} all tokens {c['tok_err'] / c['tokens']:6.2%}  "
            f"words {c['word_err'] / c['words']:6.2%}  CPU s/page prepare "
            f"{c['prepare'] / c['pages']:.2f} read {c['read'] / c['pages']:.2f} "
            f"reread {c['reread'] / c['pages']:.2f} ({c['lines'] / c['pages']:.1f} lines)  "
            f"pages {c['pages']}"
        )


if __name__ == "__main__":
    if sys.argv[1] == "--score":
        score(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        count = int(sys.argv[5]) if len(sys.argv) > 5 else 8
        measure(Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]), count)
