"""Where the word errors of noisy (heavy) pages are (issue 17, round 15): each wrong token of
sohoa's page read classified against the truth. Run from the repository root::

    .venv/bin/python bench/heavy_errors.py read SET_DIR LEVEL OUT.json
    .venv/bin/python bench/heavy_errors.py classify SET_DIR LEVEL OUT.json

`read` reads every page of the level's PDF as the product does (`process_scanned_page`, the
standard model of scripts/tessdata.sh for the second reads) and keeps its words and CPU time;
`classify` takes each page's missing and extra tokens as the bench's all-token word error counts
them (bag of tokens: reading order does not count) and pairs a missing token with an extra one
that is it misread: punctuation (same letters), tone (same letters up to the tone mark),
diacritic (same base letters: a vowel mark or đ), case, split/merge (the letters of two or three
tokens in one), letter (other letters, half the characters alike); what is left is dropped
(missing) or inserted (noise read as a word). Only the tuning set (the corpus
pages) may be looked at page by page; pages2 only as totals.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

os.environ["OMP_THREAD_LIMIT"] = "1"
sys.path[:0] = [str(Path(__file__).resolve().parent.parent)]

TONES = set("\u0300\u0301\u0303\u0309\u0323")


def _truth_pages(folder: Path, level: str) -> tuple[Path, list[str]]:
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    if "scanned" in truth:
        entry = truth["scanned"][level]
    else:
        entry = next(f for f in truth["files"] if f.get("level") == level)
    return folder / entry["file"], [p["text"] for p in entry["pages"]]


def read(folder: Path, level: str, out: Path) -> None:
    from app.config import Settings
    from pipeline.load import PDF, load_scanned_page, plan_pages
    from pipeline.ocr import accurate_tessdata
    from pipeline.page import PageOptions, process_scanned_page

    path, _ = _truth_pages(folder, level)
    tessdata = accurate_tessdata(Settings().tessdata_path)
    options = PageOptions(tessdata=tessdata)
    pages = []
    for info in plan_pages(path, PDF):
        page = load_scanned_page(path, PDF, info)
        t0 = time.process_time()
        result = process_scanned_page(page, options).result
        pages.append(
            {
                "text": result.text,
                "flags": result.quality_flags,
                "cpu_s": time.process_time() - t0,
                "words": [w.model_dump() for w in result.words],
            }
        )
        print(f"page {info.page_no}: {pages[-1]['cpu_s']:.2f} s", file=sys.stderr)
    out.write_text(json.dumps(pages, ensure_ascii=False), encoding="utf-8")


def _nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def _no_tone(word: str) -> str:
    return unicodedata.normalize("NFC", "".join(c for c in _nfd(word) if c not in TONES))


def _base(word: str) -> str:
    """Letters without any mark, đ as d."""
    return "".join(c for c in _nfd(word.replace("đ", "d").replace("Đ", "D")) if c.isascii())


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def _pair(missing: list[str], extra: list[str], same) -> list[tuple[str, str]]:
    """Pairs (missing, extra) that `same` says are one token misread, each token used once."""
    pairs = []
    for want in list(missing):
        got = next((g for g in extra if same(want, g)), None)
        if got is not None:
            pairs.append((want, got))
            missing.remove(want)
            extra.remove(got)
    return pairs


def _merged(missing: list[str], extra: list[str]) -> list[tuple[str, str]]:
    """An extra token whose letters are two or three missing tokens run together (`biên-chế`),
    or a missing token read as two or three extra ones."""
    found = []
    for many, one, flip in ((missing, extra, False), (extra, missing, True)):
        for token in list(one):
            letters = _letters(token)
            for n in (2, 3):
                run = _run_of(many, letters, n)
                if run:
                    for t in run:
                        many.remove(t)
                    one.remove(token)
                    joined = " ".join(run)
                    found.append((token, joined) if flip else (joined, token))
                    break
    return found


def _run_of(tokens: list[str], letters: str, n: int) -> list[str] | None:
    from itertools import permutations

    candidates = [t for t in tokens if _letters(t) and _letters(t) in letters]
    for combo in permutations(candidates, n):
        if "".join(_letters(t) for t in combo) == letters:
            return list(combo)
    return None


def classify_page(truth: str, text: str) -> list[tuple[str, str, str]]:
    """Every token missing from or extra in the read (bag of tokens, as the bench's all-token
    word error counts them), paired where one is the other misread."""
    want, got = Counter(truth.split()), Counter(text.split())
    missing, extra = list((want - got).elements()), list((got - want).elements())
    found: list[tuple[str, str, str]] = []
    rules = [
        ("punctuation", lambda a, b: _letters(a) == _letters(b) and _letters(a)),
        ("tone", lambda a, b: _no_tone(_letters(a)) == _no_tone(_letters(b))),
        ("diacritic", lambda a, b: _base(_letters(a)) == _base(_letters(b))),
        ("case", lambda a, b: _base(_letters(a)).lower() == _base(_letters(b)).lower()),
    ]
    for name, same in rules:
        found.extend((name, a, b) for a, b in _pair(missing, extra, same))
    found.extend(("split/merge", a, b) for a, b in _merged(missing, extra))
    close = lambda a, b: difflib.SequenceMatcher(a=a, b=b).ratio() >= 0.5  # noqa: E731
    found.extend(("letter", a, b) for a, b in _pair(missing, extra, close))
    found.extend(("dropped", a, "") for a in missing)
    found.extend(("inserted", "", b) for b in extra)
    return found


def classify(folder: Path, level: str, out: Path, per_page: bool) -> None:
    _, truths = _truth_pages(folder, level)
    pages = json.loads(out.read_text(encoding="utf-8"))
    counts: Counter = Counter()
    examples: dict[str, Counter] = {}
    n_tokens = sum(len(t.split()) for t in truths)
    for truth, page in zip(truths, pages, strict=True):
        for k, want, got in classify_page(truth, page["text"]):
            counts[k] += 1
            examples.setdefault(k, Counter())[f"{want} → {got}"] += 1
    total = sum(counts.values())
    errors = sum(
        max(
            sum((Counter(t.split()) - Counter(p["text"].split())).values()),
            sum((Counter(p["text"].split()) - Counter(t.split())).values()),
        )
        for t, p in zip(truths, pages, strict=True)
    )
    print(f"all-token error {errors} / {n_tokens} = {errors / n_tokens:.2%}")
    cpu = sum(p["cpu_s"] for p in pages) / len(pages)
    print(
        f"{len(pages)} pages, {n_tokens} true tokens, {total} wrong tokens paired; "
        f"CPU {cpu:.2f} s/page"
    )
    for k, n in counts.most_common():
        print(f"  {k:20s} {n:4d}  {n / total:6.1%}")
        if per_page:
            print("      " + "; ".join(f"{e} ×{c}" for e, c in examples[k].most_common(25)))


def main() -> None:
    what, folder, level, out = sys.argv[1], Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
    if what == "read":
        read(folder, level, out)
    else:
        classify(folder, level, out, per_page="--examples" in sys.argv)


if __name__ == "__main__":
    main()
