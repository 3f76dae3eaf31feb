"""Each clean-up step on or off, page by page, read by Tesseract as sohoa reads a page.

Issue 17: which preprocessing hurts clean-ish pages? Tune on the corpus pages, then check on
pages2 (never tune on it). Run from the repository root::

    .venv/bin/python bench/cleanup_ablation.py SET_DIR "light:floor+raw/raw+dk/raw,heavy:dk/dn" \
        8 out.json
    .venv/bin/python bench/cleanup_ablation.py --score SET_DIR out.json

SET_DIR holds truth.json (the bench's `scanned` shape or the corpus manifest's, as
`python -m pages2 DIR` writes) and the PDFs. A variant is `floor` (plain `tesseract IMG out -l
vie` on the loaded page) or `DESKEW/DENOISE`, optionally prefixed `sauvola:` (Tesseract's
thresholding_method=2): DESKEW is `raw` (none), `dk` (sohoa's: cubic rotation by the estimated
angle) or `dkl` (linear); DENOISE `raw`, `dn` (median 3) or `auto` (sohoa's: on pages measured
noisy, the median and then isolated specks removed, `preprocess.clean_noisy`). The page is
read with sohoa's Tesseract options; scores use the Tesseract words through the noise filter
of the checked-out code (`new`), the base's height-only filter (`old`) and none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).parent)]

import cv2  # noqa: E402
import pytesseract  # noqa: E402

from pipeline import preprocess as pp  # noqa: E402
from pipeline.load import PDF, load_scanned_page, plan_pages  # noqa: E402
from pipeline.ocr import (  # noqa: E402
    MIN_GLYPH_HEIGHT_IN,
    NEVER_IN_VIETNAMESE_RECORDS,
    drop_noise,
    parse_tsv,
    reading_order_text,
)


def load_truth(folder: Path) -> dict[str, tuple[Path, list[str]]]:
    t = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    entries = t["scanned"].items() if "scanned" in t else ((e["level"], e) for e in t["files"])
    return {lv: (folder / e["file"], [p["text"] for p in e["pages"]]) for lv, e in entries}


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def read_tsv(grey, dpi: int, extra: str) -> tuple[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "i.pgm"
        cv2.imwrite(str(image), grey)
        config = (
            f"--oem 1 --psm 3 --dpi {dpi} -c tessedit_create_tsv=1 "
            f"-c tessedit_char_blacklist={NEVER_IN_VIETNAMESE_RECORDS} {extra}"
        )
        t0 = _children_cpu()
        pytesseract.pytesseract.run_tesseract(
            str(image), str(Path(tmp) / "o"), "tsv", "vie", config=config
        )
        return (Path(tmp) / "o.tsv").read_text(encoding="utf-8"), _children_cpu() - t0


def read_floor(image, dpi: int) -> tuple[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "i.png"
        image.save(path, dpi=(dpi, dpi))
        t0 = _children_cpu()
        subprocess.run(
            ["tesseract", str(path), str(Path(tmp) / "o"), "-l", "vie"],
            check=True,
            capture_output=True,
        )
        return (Path(tmp) / "o.txt").read_text(encoding="utf-8"), _children_cpu() - t0


def _deskewed(grey, skew: float, how: str):
    if how == "raw" or abs(skew) < 0.05:
        return grey
    if how == "dk":
        return pp.rotate(grey, skew, pp._background(grey))
    h, w = grey.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), skew, 1.0)
    return cv2.warpAffine(
        grey, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=pp._background(grey)
    )


def task(job: tuple[str, int, str]) -> tuple[tuple[str, int, str], dict]:
    path, page_no, variant = Path(job[0]), job[1], job[2]
    page = load_scanned_page(path, PDF, plan_pages(path, PDF)[page_no - 1])
    if variant == "floor":
        text, cpu = read_floor(page.image, page.dpi)
        return job, {"text": text, "cpu": cpu}
    grey = pp.to_grey(page.image)
    info = {"skew": pp.estimate_skew(grey), "noise": pp.noise_level(grey)}
    extra = "-c thresholding_method=2" if variant.startswith("sauvola:") else ""
    deskew, denoise = variant.removeprefix("sauvola:").split("/")
    grey = _deskewed(grey, info["skew"], deskew)
    if denoise == "dn":
        grey = pp.denoise(grey)
    elif denoise == "auto" and info["noise"] > pp.NOISY_ABOVE:
        grey = pp.clean_noisy(grey, page.dpi)
    tsv, cpu = read_tsv(grey, page.dpi, extra)
    return job, {"tsv": tsv, "cpu": cpu, **info}


def measure(folder: Path, plan: str, pages: int, out: Path) -> None:
    truth = load_truth(folder)
    jobs = []
    for part in plan.split(","):
        level, variants = part.split(":", 1)
        jobs += [
            (str(truth[level][0]), i + 1, v) for i in range(pages) for v in variants.split("+")
        ]
    results = {}
    with Pool(2) as pool:
        for (path, page_no, variant), r in pool.imap_unordered(task, jobs):
            results[f"{Path(path).name}|{page_no}|{variant}"] = r
            print(f"{len(results)} / {len(jobs)}", flush=True)
            out.write_text(json.dumps(results, ensure_ascii=False), encoding="utf-8")


def _old_filter(words, dpi: int):
    """The noise filter before issue 17: every token under letter height dropped."""
    return [
        w
        for w in words
        if not (
            w.height < MIN_GLYPH_HEIGHT_IN * dpi
            or (not any(c.isalnum() for c in w.text) and w.confidence < 50)
            or (len(w.text) == 1 and w.confidence < 5)
        )
    ]


def score(folder: Path, results_path: Path) -> None:
    from ocr import token_error, tokens

    from corpus.metrics import word_error, words

    by_file = {p.name: (lv, texts) for lv, (p, texts) in load_truth(folder).items()}
    totals: dict[tuple[str, str, str], Counter] = {}
    for key, r in json.loads(results_path.read_text(encoding="utf-8")).items():
        name, page_no, variant = key.split("|")
        level, texts = by_file[name]
        truth = texts[int(page_no) - 1]
        if "text" in r:
            outs = {"-": r["text"]}
        else:
            found = parse_tsv(r["tsv"])
            outs = {
                "new": reading_order_text(drop_noise(found, 300)),
                "old": reading_order_text(_old_filter(found, 300)),
                "none": reading_order_text(found),
            }
        for filt, text in outs.items():
            c = totals.setdefault((level, variant, filt), Counter())
            n_tokens, n_words = len(tokens(truth)), len(words(truth))
            c["tok_err"] += token_error(truth, text) * n_tokens
            c["tokens"] += n_tokens
            c["word_err"] += word_error(truth, text) * n_words
            c["words"] += n_words
            c["cpu"] += r["cpu"]
            c["pages"] += 1
    for (level, variant, filt), c in sorted(totals.items()):
        print(
            f"{level:6} {variant:18} {filt:5} all tokens {c['tok_err'] / c['tokens']:6.2%}  "
            f"words {c['word_err'] / c['words']:6.2%}  CPU s/page {c['cpu'] / c['pages']:.2f}  "
            f"pages {c['pages']}"
        )


if __name__ == "__main__":
    if sys.argv[1] == "--score":
        score(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        measure(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
