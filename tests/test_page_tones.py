"""Issue 17, round 15: a page's OCR words with a tone slip between two real syllables (`đẩy`
read `đấy`, `tồn` read `tôn`) put right by the word pairs, neighbours taken across line ends
inside a block (pipeline/page_tones.py)."""

import re
from collections import Counter

import pytest

from app.config import Settings
from corpus import iter_pages
from corpus.content import seeds_dir
from pipeline.lexicon import WordPairs, toneless, word_pairs
from pipeline.ocr import OcrOutput, accurate_tessdata, reading_order_text
from pipeline.page import read_page
from pipeline.page_tones import respell_page, respell_tones
from pipeline.preprocess import prepare
from schemas.models import Word

PAIRS = WordPairs.from_lines(["thúc đẩy", "đẩy mạnh", "còn tồn", "tồn tại", "thẩm quyền"])


def _words(*lines: str, block: int = 1) -> list[Word]:
    """Words of `lines`, one Tesseract line each, in one block, boxes along the line."""
    return [
        Word(
            text=t, left=40 * k, top=30 * n, width=30, height=20, confidence=95, block=block, line=n
        )
        for n, line in enumerate(lines, start=1)
        for k, t in enumerate(line.split())
    ]


def test_a_tone_slip_is_put_right_by_its_neighbours_on_the_next_line() -> None:
    words = _words("tiếp tục thúc", "đấy mạnh mẽ", "còn tôn", "tại")
    fixed = respell_tones(words, PAIRS)
    assert reading_order_text(fixed) == "tiếp tục thúc\nđẩy mạnh mẽ\ncòn tồn\ntại"
    # only the text of the respelled words changes: same boxes, same confidence, same lines
    assert [w.model_dump(exclude={"text"}) for w in fixed] == [
        w.model_dump(exclude={"text"}) for w in words
    ]


def test_neighbours_are_not_taken_across_blocks_commas_or_numbers() -> None:
    across_blocks = _words("thúc", block=1) + _words("đấy mạnh", block=2)
    assert respell_tones(across_blocks, PAIRS)[1].text == "đẩy"  # one side: a hook for an acute
    lone = _words("còn", block=1) + _words("tôn", block=2) + _words("tại", block=3)
    assert respell_tones(lone, PAIRS) is lone  # a lost grave needs both neighbours
    for line in ("còn tôn, tại", "còn 2 tôn tại"):
        words = _words(line)
        assert respell_tones(words, PAIRS) is words


def test_a_word_the_pairs_know_beside_a_neighbour_is_left_as_read() -> None:
    pairs = WordPairs.from_lines([*PAIRS.pairs, "còn tôn", "tôn tại"])  # both spellings known
    words = _words("còn tôn tại")
    assert respell_tones(words, pairs) is words


def test_a_capitalised_word_inside_a_block_is_a_name_and_left_as_read() -> None:
    words = _words("thúc Đấy mạnh")
    assert respell_tones(words, PAIRS) is words


@pytest.fixture(scope="module")
def tessdata():
    return accurate_tessdata(Settings().tessdata_path)


def test_the_administrative_texts_read_as_whole_paragraphs_stay_as_written(tessdata) -> None:
    """Every paragraph of the real texts the corpus is built from, its lines run on as a
    block's are, is left exactly as written by the installed word pairs."""
    pairs = word_pairs(tessdata)
    assert pairs is not None, "run scripts/tessdata.sh (make setup)"
    paragraphs = [
        " ".join(p.split())
        for path in sorted(seeds_dir().glob("*.txt"))
        for p in re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
    ]
    assert len(paragraphs) > 50
    changed = [p for p in paragraphs if respell_tones(words := _words(p), pairs) is not words]
    assert changed == []


def _tone_slips(truth: str, text: str) -> int:
    """Words of `text` that are a true word of the page with another tone (bag of words)."""
    want, got = Counter(truth.split()), Counter(text.split())
    missing, extra = want - got, got - want
    slips = [(e, m) for e in extra for m in missing if e != m and toneless(e) == toneless(m)]
    return sum(min(extra[e], missing[m]) for e, m in slips)


def test_a_noisy_page_read_by_tesseract_comes_out_with_fewer_tone_slips(tessdata) -> None:
    """A heavy generated page (not of the bench's tuning seed) read by the real Tesseract:
    respelled, it holds fewer words with a wrong tone, and every word changed is a true word."""
    image, truth = next(iter_pages(1, seed=13, level="heavy"))
    first = read_page(prepare(image, dpi=300).grey, 300)
    out = respell_page(first, tessdata)
    assert _tone_slips(truth.text, out.text) < _tone_slips(truth.text, first.text)
    changed = [b for a, b in zip(first.text.split(), out.text.split(), strict=True) if a != b]
    assert changed and set(changed) <= set(truth.text.split())
    assert out.text_pdf == first.text_pdf


def test_without_the_word_pairs_the_read_stands(tmp_path) -> None:
    first = OcrOutput(_words("thúc đấy mạnh"), "thúc đấy mạnh", 95.0, b"%PDF-stub")
    assert respell_page(first, None) is first
    assert respell_page(first, tmp_path) is first  # a folder without vie.bigrams.txt


def test_a_name_that_starts_a_block_is_left_as_read(tessdata) -> None:
    """A signer's name printed apart under the signature is a block of its own, its family name
    the block's first word (which a sentence's capital cannot be told from): `Tống Thanh Hải`
    and `Cấn Trọng Lộc` are real names, not `Tổng Thanh Hải` / `Cẩn Trọng Lộc`."""
    pairs = word_pairs(tessdata)
    assert pairs is not None, "run scripts/tessdata.sh (make setup)"
    for name in ("Tống Thanh Hải", "Tống Công Minh", "Cấn Trọng Lộc"):
        words = _words(name, block=4)
        assert reading_order_text(respell_tones(words, pairs)) == name
    # a sentence's first word, its next word in lower case, is still put right
    assert respell_tones(_words("Đấy mạnh", "còn"), PAIRS)[0].text == "Đẩy"
