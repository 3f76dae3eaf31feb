"""Issue 17, round 15: specks of a noisy page read as punctuation glued to a word (`_UBND`,
`.ký.`, `Hạnh.phúc`, `nảy. sinh`) are taken off, and only those (pipeline/specks_glued.py)."""

import pytest

from pipeline.lexicon import WordPairs
from pipeline.ocr import OcrOutput, reading_order_text
from pipeline.page_tones import respell_page
from pipeline.specks_glued import unglue
from schemas.models import Word

PAIRS = WordPairs.from_lines(["hạnh phúc", "biên chế", "nảy sinh", "ngày ký", "dân tỉnh"])


def _words(line: str, block: int = 1) -> list[Word]:
    return [
        Word(text=t, left=100 * k, top=50, width=90, height=40, confidence=90, block=block, line=1)
        for k, t in enumerate(line.split())
    ]


def _text(words: list[Word]) -> str:
    return reading_order_text(words)


@pytest.mark.parametrize(
    ("read", "printed"),
    [
        ("_UBND tỉnh", "UBND tỉnh"),
        ("kể từ ngày .ký.", "kể từ ngày ký."),
        ("Độc lập - Tự do - Hạnh.phúc", "Độc lập - Tự do - Hạnh phúc"),
        ("tổng biên-chế trong", "tổng biên chế trong"),
        ("ỦY BAN NHÂN DÂN-TỈNH KON TUM", "ỦY BAN NHÂN DÂN TỈNH KON TUM"),
        ("thời gian qua nảy. sinh một số", "thời gian qua nảy sinh một số"),
    ],
)
def test_a_speck_glued_to_a_word_is_taken_off(read: str, printed: str) -> None:
    assert _text(unglue(_words(read), PAIRS)) == printed


@pytest.mark.parametrize(
    "line",
    [
        "Số: 332/BC-UBND ngày 30c/NQ-CP",  # codes: no pair of words
        "phát triển KT-XH của tỉnh",
        "Ông Trịnh Văn Minh- Giám đốc",  # a dash after a name is printed so
        "quản lý. b) Các",  # a list item goes on after a full stop
        "nảy. Sinh",  # a new sentence
        "biên-soạn tài liệu",  # a pair the word pairs do not know
        "- Như trên; “Về việc”",
    ],
)
def test_marks_that_are_printed_stay(line: str) -> None:
    words = _words(line)
    assert unglue(words, PAIRS) is words


def test_two_words_run_together_get_a_box_each_inside_the_read_box() -> None:
    [word] = _words("Hạnh.phúc")
    first, second = unglue([word], PAIRS)
    assert (first.text, second.text) == ("Hạnh", "phúc")
    assert first.left == word.left and second.left + second.width == word.left + word.width
    assert first.left + first.width < second.left  # the speck's place between them
    assert (first.block, first.line, first.confidence) == (word.block, word.line, 90)


def test_a_full_stop_before_the_next_block_is_not_judged_by_it() -> None:
    words = _words("nảy.", block=1) + _words("sinh", block=2)
    assert unglue(words, PAIRS) is words


def test_specks_are_taken_off_only_on_a_noisy_page(tmp_path) -> None:
    (tmp_path / "vie.bigrams.txt").write_text("\n".join(PAIRS.pairs), encoding="utf-8")
    words = _words("thời gian qua nảy. sinh")
    read = OcrOutput(words, _text(words), 90.0, b"%PDF-stub")
    assert respell_page(read, tmp_path).text == "thời gian qua nảy. sinh"
    noisy = respell_page(read, tmp_path, noisy=True)
    assert noisy.text == "thời gian qua nảy sinh"
    assert noisy.text_pdf == b"%PDF-stub"


@pytest.mark.parametrize(
    "line",
    [
        "tại TP.HCM ngày",  # an abbreviation's full stop: TP is no syllable
        "tỉnh Bà Rịa-Vũng Tàu",  # a hyphen before a name's capital
        "tỉnh Thừa Thiên-Huế",
        "Sở Lao động-Thương binh và Xã hội",
    ],
)
def test_printed_marks_between_words_the_pairs_know_stay(line: str) -> None:
    pairs = WordPairs.from_lines(["tp hcm", "rịa vũng", "thiên huế", "động thương"])
    words = _words(line)
    assert unglue(words, pairs) is words
