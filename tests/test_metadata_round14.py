"""Signer names under seals (issue 18, round 14): what the tuning part of pages2 flagged or lost
for no good reason — a name whose letters two reads of the block agree on, a page read's
`name` of specks standing against a sure zone read, specks and a slash round the name, a
title printed in the older tone placement — and what must still be flagged: a name only one
read has, or one another read names otherwise. Pages are word boxes laid out as an A4 page
(tests/test_metadata_unseen)."""

from __future__ import annotations

from organs.registry import OrganRegistry
from pipeline.metadata import extract_metadata
from pipeline.metadata_names import known_title, person_name
from pipeline.zones import SIGNER_INK_ZONE
from schemas.models import PageResult, Word
from tests.test_metadata_signer_organ import _commune_rows
from tests.test_metadata_unseen import CHAR, _centred, _footer, _line, _page


def _national(page: PageResult):  # noqa: ANN202 - AdminMetadata
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header)


def _signer_reasons(meta) -> list[str]:  # noqa: ANN001
    return [r for r in meta.review_reasons if r.startswith("signer_name")]


def _read(words: list[tuple[str, float]], top: int, n: int, left: int = 1600) -> list[Word]:
    """One line of a zone read, word by word with its own confidence."""
    row, x = [], left
    for text, conf in words:
        row += _line(text, x, top, n, conf=conf)
        x += CHAR * (len(text) + 1)
    return row


def _block(name_line: list[Word]) -> list[Word]:
    return [
        *_centred("KT. CHỦ TỊCH", 2300, 1, cx=1800),
        *_centred("PHÓ CHỦ TỊCH", 2365, 2, cx=1800),
        *name_line,
    ]


def _no_page_name(zones: dict[str, list[Word]]) -> PageResult:
    rows = _commune_rows(_footer("x", top=2300)[:3])  # the page read dropped the signer block
    return _page(*rows).model_copy(update={"zones": zones})


# =========================================================================== two reads


def test_a_name_whose_letters_two_reads_agree_on_is_trusted() -> None:
    """pages2 tuning #18: whitened, `Đặng Xuân Khoa` with `Đặng` at 82 (the name 0.849, just
    under the threshold); as scanned, `“›;-Đặng Xưân Khoa`. Every word's letters are in both
    reads, `Đặng` is the one family name of its letters: the name is sure."""
    ink = _block(_read([("Đặng", 82.0), ("Xuân", 96.0), ("Khoa", 97.0)], 2630, 3))
    scanned = _block(_read([("“›;`-Đặng", 7.0), ("Xưân", 82.0), ("Khoa", 97.0)], 2630, 3))
    meta = _national(_no_page_name({SIGNER_INK_ZONE: ink, "signer": scanned}))
    assert meta.signer_name.value == "Đặng Xuân Khoa"
    assert meta.signer_name.confidence >= 0.85
    assert _signer_reasons(meta) == []


def test_a_tone_both_reads_got_wrong_is_settled_by_the_family_name() -> None:
    """pages2 tuning #15: both reads have `Đăng` (53 and 95), each read has another word
    unsurely: the letters are agreed, `Đặng` is the only family name they spell, and every
    other word has a sure exact read."""
    ink = _block(_read([("Đăng", 53.0), ("Thị", 96.0), ("Lan", 96.0)], 2630, 3))
    scanned = _block(_read([("Đăng", 95.0), ("Thị", 60.0), ("Lan", 97.0)], 2630, 3))
    meta = _national(_no_page_name({SIGNER_INK_ZONE: ink, "signer": scanned}))
    assert meta.signer_name.value == "Đặng Thị Lan"
    assert _signer_reasons(meta) == []


def test_a_word_only_one_read_has_confirms_nothing() -> None:
    """The second read lost `Xuân` under the seal: that word rests on one read, at 70, and
    counts as that read has it (round 15: no longer the whole name as the first read has it,
    `Đặng` at 70, when the other read has `Đặng` at 97)."""
    ink = _block(_read([("Đặng", 70.0), ("Xuân", 70.0), ("Khoa", 97.0)], 2630, 3))
    scanned = _block(_read([("Đặng", 97.0), ("Xz", 10.0), ("Khoa", 97.0)], 2630, 3))
    meta = _national(_no_page_name({SIGNER_INK_ZONE: ink, "signer": scanned}))
    assert meta.signer_name.value == "Đặng Xuân Khoa"
    assert _signer_reasons(meta)


def test_a_read_with_another_name_keeps_the_name_flagged() -> None:
    """The two reads agree on `Đặng … Khoa`, but the page read has `Đặng Xuân Khoe` surely:
    two readings of one name are for a person to settle."""
    rows = _commune_rows(_footer("Đặng Xuân Khoe", top=2300))
    ink = _block(_read([("Đặng", 80.0), ("Xuân", 96.0), ("Khoa", 97.0)], 2630, 3))
    scanned = _block(_read([("Đặng", 82.0), ("Xuân", 95.0), ("Khoa", 80.0)], 2630, 3))
    page = _page(*rows).model_copy(update={"zones": {SIGNER_INK_ZONE: ink, "signer": scanned}})
    meta = _national(page)
    assert _signer_reasons(meta)


def test_a_name_another_read_has_with_a_family_name_before_it_is_not_confirmed() -> None:
    """pages2 tuning heavy #2: as scanned `Văn/Hạnh` (a pen stroke between the words), whitened
    `>5 Lê Văn Hạnh`. Both have `Văn Hạnh`, but the second read has a family name before it:
    the reads disagree, and a two-word name is never made surer."""
    scanned = _block(_read([("Văn/Hạnh", 34.0)], 2630, 3))
    ink = _block(_read([(">5", 6.0), ("Lê", 96.0), ("Văn", 97.0), ("Hạnh", 97.0)], 2630, 3))
    meta = _national(_no_page_name({SIGNER_INK_ZONE: ink, "signer": scanned}))
    assert meta.signer_name.value == "Văn Hạnh"
    assert _signer_reasons(meta)


# =========================================================================== specks


def test_a_page_read_name_of_specks_does_not_stand_against_a_sure_zone_read() -> None:
    """pages2 tuning #51: the page read's name line is `Tranfu Khoa` (no family name, `Tranfu`
    at 0); the whitened zone reads `Trần Thị Khoa` at 97. The zone's name is not capped as
    disputed, and the page read's titles stay."""
    rows = _commune_rows(_footer("x", top=2300)[:5])
    rows.append(_read([("Tranfu", 0.0), ("Khoa", 97.0)], 2630, 45, left=1650))
    ink = _block(_read([("Trần", 97.0), ("Thị", 97.0), ("Khoa", 97.0)], 2630, 3))
    meta = _national(_page(*rows).model_copy(update={"zones": {SIGNER_INK_ZONE: ink}}))
    assert meta.signer_name.value == "Trần Thị Khoa"
    assert _signer_reasons(meta) == []
    assert meta.signer_position.value == "PHÓ CHỦ TỊCH"


def test_a_pen_stroke_read_as_a_slash_or_quote_is_no_part_of_the_name() -> None:
    """pages2 tuning #55 `Hoàng/Văn Thủy`, #31 `„Trần Đức Khải`."""
    assert person_name("Hoàng/Văn Thủy").text == "Hoàng Văn Thủy"
    assert person_name("„Trần Đức Khải").text == "Trần Đức Khải"


def test_a_title_in_the_older_tone_placement_keeps_it() -> None:
    """`UỶ BẠN NHÂN DẪN`: the title is set right, and `UỶ` as printed (pages2 prints 30 % of
    its pages in the older placement), not respelled `ỦY`."""
    assert known_title("UỶ BẠN NHÂN DẪN") == "UỶ BAN NHÂN DÂN"
    assert known_title("ỦY BẠN NHÂN DÂN") == "ỦY BAN NHÂN DÂN"
    assert known_title("PHÓ CHỦ TICH") == "PHÓ CHỦ TỊCH"
