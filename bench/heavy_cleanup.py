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
"""

from __future__ import annotations

import json
import os
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
}


def _pdf(folder: Path, level: str) -> Path:
    own = folder / f"scanned_{level}.pdf"
    return own if own.exists() else folder / f"pages2_{level}.pdf"


def task(job: tuple[str, int, str]) -> tuple[tuple[str, int, str], dict]:
    path, index, variant = Path(job[0]), job[1], job[2]
    page = load_scanned_page(path, PDF, plan_pages(path, PDF)[index])
    grey = pp.to_grey(page.image)
    auto = None if variant == "sohoa" else False
    t0 = time.process_time()
    prepared = pp.prepare(page.image, grey=grey, do_denoise=auto, dpi=page.dpi)
    cleaned = np.ascontiguousarray(VARIANTS[variant](prepared.grey))
    t1 = time.process_time()
    text = read_page(cleaned, page.dpi).text
    return job, {"text": text, "prepare_cpu": t1 - t0, "read_cpu": time.process_time() - t1}


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
        c["pages"] += 1
    for (level, variant), c in sorted(totals.items()):
        print(
            f"{level:6} {variant:28} all tokens {c['tok_err'] / c['tokens']:6.2%}  "
            f"words {c['word_err'] / c['words']:6.2%}  CPU s/page prepare "
            f"{c['prepare'] / c['pages']:.2f} read {c['read'] / c['pages']:.2f}  pages {c['pages']}"
        )


if __name__ == "__main__":
    if sys.argv[1] == "--score":
        score(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        count = int(sys.argv[5]) if len(sys.argv) > 5 else 8
        measure(Path(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4]), count)
