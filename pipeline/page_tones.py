"""Tone marks of a page's OCR words put right by the words beside them (issue 17, round 15).

The largest class of wrong words on noisy pages is a tone slip between two real syllables
(`đẩy` → `đấy`, `đổi` → `đối`, `tồn` → `tôn`, `thẩm` → `thấm`: 27 of the 73 wrong tokens of the
tuning pages, corpus heavy; docs/benchmarks.md, heavy pages round 15), read with high
confidence, which no syllable list can catch. Tesseract's own word pairs (`lexicon.WordPairs`,
the rule the metadata fields already use) can: a word is respelled only when the pairs know it
beside neither neighbour and exactly one other tone of it beside both (or, for an acute, one
hook beside one). Neighbours are taken across line ends inside a Tesseract block — prose runs on
from one line to the next — and never across a comma, a number or a block. A capitalised word
is a name and left as read, the block's first one too when the next word is capitalised (a
signer's name printed apart is a block of its own: `Tống Thanh Hải` is not `Tổng Thanh Hải`).
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from pipeline.lexicon import WordPairs, word_pairs
from pipeline.ocr import OcrOutput, reading_order_text
from pipeline.specks_glued import unglue
from schemas.models import Word


def respell_page(ocr: OcrOutput, tessdata: Path | None, *, noisy: bool = False) -> OcrOutput:
    """`ocr` with its words' tone slips put right by the word pairs installed beside the
    standard model in `tessdata` (`lexicon.word_pairs`); as read where they are not installed.
    On a `noisy` page the specks glued to words are taken off first (`specks_glued.unglue`).
    The text-only PDF layer stays Tesseract's own (the record's words and text are respelled)."""
    pairs = word_pairs(tessdata)
    if pairs is None:
        return ocr
    words = unglue(ocr.words, pairs) if noisy else ocr.words
    words = respell_tones(words, pairs)
    if words is ocr.words:
        return ocr
    return OcrOutput(words, reading_order_text(words), ocr.mean_confidence, ocr.text_pdf)


def respell_tones(words: list[Word], pairs: WordPairs) -> list[Word]:
    """`words` (in reading order) with the tone slips their neighbours put right; the same
    list when none is. Boxes and confidences stay as read."""
    out: list[Word] = []
    for _, block in groupby(words, key=lambda w: w.block):
        out.extend(_respell_block(list(block), pairs))
    return out if any(a is not b for a, b in zip(out, words, strict=True)) else words


def _respell_block(block: list[Word], pairs: WordPairs) -> list[Word]:
    """One block's words: respelled as one run of text, mapped back token by token (a token
    holds no space, and respelling changes letters only, so the tokens stay as many)."""
    fixed, changed = pairs.respell(" ".join(w.text for w in block))
    if not changed:
        return block
    texts = fixed.split(" ")
    for k in range(len(block) - 1):
        if _capitalised(block[k].text) and _capitalised(block[k + 1].text):
            texts[k] = block[k].text  # a name's first word (`Tống Thanh Hải`): left as read
    if all(text == w.text for w, text in zip(block, texts, strict=True)):
        return block
    return [
        w if text == w.text else w.model_copy(update={"text": text})
        for w, text in zip(block, texts, strict=True)
    ]


def _capitalised(token: str) -> bool:
    """Its first letter is a capital (`Tống`, `(Hải`); a token without letters is not."""
    return next((c.isupper() for c in token if c.isalpha()), False)
