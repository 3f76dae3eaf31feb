"""Metadata on unseen documents, round 13 (issue 18): the place-and-date line's OCR slips, the
older tone placement of the place, a family name under a seal, and a set phrase in the subject.

Pages are built from word boxes as in `test_metadata_unseen` (an A4 page at 300 dpi); each test
names the pages2 tuning failure it stands for.
"""

from __future__ import annotations

from datetime import date

from organs.registry import OrganRegistry
from pipeline import metadata_rules as rules
from pipeline.metadata import extract_metadata
from schemas.models import AdminMetadata, PageResult
from tests.test_metadata_unseen import _body, _centred, _footer, _header, _left, _line, _page


def _national(page: PageResult) -> AdminMetadata:
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header)


def _document(
    date_line: str = "Bản Qua, ngày 11 tháng 03 năm 2024",
    organ: tuple[str, str] = ("UBND HUYỆN BÁT XÁT", "ỦY BAN NHÂN DÂN XÃ BẢN QUA"),
    subject: str = "Triển khai công tác văn thư, lưu trữ",
    signer: str = "Trần Quang Thắng",
) -> PageResult:
    return _page(
        *_header([_left(organ[0], 180, 3), _left(organ[1], 262, 4)], date_line),
        _centred("KẾ HOẠCH", 767, 9),
        _centred(subject, 865, 10),
        *_body(1000, 80),
        *_footer(signer, top=2300),
    )


def _set_confidence(page: PageResult, text: str, conf: float, *, top: int | None = None) -> None:
    hits = [w for w in page.words if w.text == text and (top is None or w.top == top)]
    assert hits, text
    for word in hits:
        word.confidence = conf


def _reasons(meta: AdminMetadata, field: str) -> list[str]:
    return [r for r in meta.review_reasons if r.startswith(field)]


# =========================================================================== dates


def test_a_date_digit_read_as_a_section_mark_is_a_guess_to_confirm() -> None:
    """`tháng 0§` (pages2 tuning #20: a speck met the 8 of 08): the date is offered, 2 August,
    and flagged as unsure instead of left missing."""
    dated = rules.parse_date_line("Lào Cai, ngày 02 tháng 0§ năm 2026")
    assert dated is not None and dated.issued == date(2026, 8, 2) and dated.guessed
    meta = _national(_document("Bản Qua, ngày 02 tháng 0§ năm 2024"))
    assert meta.issued_date.value == date(2024, 8, 2)
    assert meta.issued_place.value == "Bản Qua"
    assert _reasons(meta, "issued_date")[0].startswith("issued_date low confidence")


def test_a_date_read_cleanly_is_not_a_guess() -> None:
    dated = rules.parse_date_line("Lào Cai, ngày 02 tháng 08 năm 2026")
    assert dated is not None and dated.issued == date(2026, 8, 2) and not dated.guessed
    short = rules.parse_date_line("Hà Nội, ngày 05/3/2019")
    assert short is not None and short.issued == date(2019, 3, 5) and short.place == "Hà Nội"


def test_a_place_printed_in_the_older_tone_placement_keeps_it() -> None:
    """`Thanh Hoá, ngày …` under `UBND TỈNH THANH HÓA`: the registry confirms the place but its
    newer placement is no correction of the page (pages2 prints 30 % of pages the older way)."""
    meta = _national(
        _document(
            "Thanh Hoá, ngày 11 tháng 03 năm 2024",
            ("ỦY BAN NHÂN DÂN", "TỈNH THANH HÓA"),
        )
    )
    assert meta.issued_place.value == "Thanh Hoá"
    assert meta.issued_place.confidence >= 0.9  # confirmed by the organ's name
    assert meta.issued_date.value == date(2024, 3, 11)


# =========================================================================== signer


def test_a_family_name_its_letters_settle_under_a_seal_is_not_a_doubt() -> None:
    """`Hoàng` read at 75 under a seal (pages2 tuning #5): no one-letter or tone slip makes it
    another family name, so the name is trusted when its other words were read surely."""
    page = _document(signer="Hoàng Thanh Quý")
    _set_confidence(page, "Hoàng", 75.0)
    meta = _national(page)
    assert meta.signer_name.value == "Hoàng Thanh Quý"
    assert not _reasons(meta, "signer_name")


def test_a_short_family_name_read_unsurely_still_flags_the_name() -> None:
    """`Lê` at 71 (pages2 tuning #2): one slipped letter makes `La` or `Lý`, so it is doubted;
    and a distinct family name read very badly (40) is doubted too."""
    page = _document(signer="Lê Văn Hạnh")
    _set_confidence(page, "Lê", 71.0)
    assert _reasons(_national(page), "signer_name")
    page = _document(signer="Hoàng Thanh Quý")
    _set_confidence(page, "Hoàng", 40.0)
    assert _reasons(_national(page), "signer_name")


def test_a_name_whose_tone_the_block_reads_dispute_is_flagged_with_the_syllable() -> None:
    """Page read `Trần Xuân Anh`, the zone's read `rầYXuân Ánh` (pages2 tuning #52, each `Anh`
    and `Ánh` at 97, the truth `Ánh`): the reads dispute the tone, so the name goes to a
    person with `Anh (Anh/Ánh)` named; agreeing reads leave it trusted."""
    page = _document(signer="Trần Xuân Anh")
    zone = _line("rầYXuân Ánh", 1600, 2630, 1)
    meta = _national(page.model_copy(update={"zones": {"signer": zone}}))
    assert meta.signer_name.value == "Trần Xuân Anh"
    assert _reasons(meta, "signer_name") == ["signer_name tone uncertain: Anh (Anh/Ánh)"]
    agreeing = _line("rầYXuân Anh", 1600, 2630, 1)
    meta = _national(page.model_copy(update={"zones": {"signer": agreeing}}))
    assert not _reasons(meta, "signer_name")


# =========================================================================== subject


def test_chi_of_a_chi_cuc_read_unsurely_does_not_doubt_the_subject() -> None:
    """`Phó Chi cục trưởng` with `Chi` read at 60 (pages2 tuning #12): the set phrase gives
    `chi` its one spelling whatever tone OCR saw, so the subject is not flagged for it."""
    subject = "Kết luận của Phó Chi cục trưởng Chi cục Kiểm lâm"
    page = _document(subject=subject)
    _set_confidence(page, "Chi", 60.0, top=865)
    meta = _national(page)
    assert meta.subject.value == subject
    assert not _reasons(meta, "subject")


def test_another_word_read_unsurely_still_doubts_the_subject() -> None:
    subject = "Kết luận của Phó Chi cục trưởng Chi cục Kiểm lâm"
    page = _document(subject=subject)
    _set_confidence(page, "Kiểm", 60.0, top=865)
    assert _reasons(_national(page), "subject")


def test_a_subject_ending_in_a_word_that_asks_for_more_is_flagged() -> None:
    """`… công tác văn thư, lưu trữ quý` (pages2 tuning #34: its `III/2025` line was lost,
    every word read at 96): a subject never ends in `quý`, so a person looks."""
    meta = _national(_document(subject="Báo cáo công tác văn thư, lưu trữ quý"))
    assert meta.subject.value == "Báo cáo công tác văn thư, lưu trữ quý"
    assert _reasons(meta, "subject")[0].startswith("subject low confidence")
    assert not _reasons(_national(_document(subject="Kế hoạch kiểm tra hằng năm")), "subject")
