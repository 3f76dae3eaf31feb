"""Metadata on layouts the extractor was not written against (issue 18): a parent organ in mixed
case, organ names wrapped over lines, a date set higher than the Số line, dates in the body,
the older tone placement (`hoà`, `uỷ`, `Thuỷ`), a seal over the signer lines, and review reasons
that say which signer syllable's tone is in doubt.

Pages are built from word boxes laid out as an A4 page at 300 dpi (2480 × 3508) lays them out;
one test OCRs a stamped page of the independent set pages2 end to end.
"""

from __future__ import annotations

import numpy as np
import pytest

from organs.registry import OrganRegistry
from pipeline import metadata_rules as rules
from pipeline.header import split_organ_lines
from pipeline.lexicon import WordPairs, newer_placement
from pipeline.metadata import extract_metadata
from pipeline.zones import dark_ink_only, key_zone_boxes
from schemas.models import PageResult, Word

WIDTH, HEIGHT, CHAR = 2480, 3508, 20  # px per character of a 13 pt line, near enough


def _line(text: str, left: int, top: int, n: int, conf: float = 95.0) -> list[Word]:
    words, x = [], left
    for token in text.split():
        w = len(token) * CHAR
        words.append(
            Word(text=token, left=x, top=top, width=w, height=50, confidence=conf, block=1, line=n)
        )
        x += w + CHAR
    return words


def _centred(text: str, top: int, n: int, cx: int = WIDTH // 2) -> list[Word]:
    width = len(text) * CHAR
    return _line(text, cx - width // 2, top, n)


def _page(*rows: list[Word]) -> PageResult:
    words = [w for row in rows for w in row]
    return PageResult(
        page_no=1,
        text="\n".join(" ".join(w.text for w in row) for row in rows),
        words=words,
        width_px=WIDTH,
        height_px=HEIGHT,
        dpi=300,
    )


def _right(text: str, top: int, n: int) -> list[Word]:
    return _centred(text, top, n, cx=1750)


def _left(text: str, top: int, n: int) -> list[Word]:
    return _centred(text, top, n, cx=720)


QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
BODY = (  # one justified line of the text block: 300–2260 px
    "Thực hiện chỉ đạo của cấp trên, đơn vị đã xây dựng kế hoạch chi tiết và phân công "
    "nhiệm vụ cụ thể"
)


def _footer(name: str, name_conf: float = 96.0, top: int = 2800) -> list[list[Word]]:
    return [
        _line("Nơi nhận:", 360, top, 40),
        _line("- Như trên;", 360, top + 60, 41),
        _line("- Lưu: VT, VP.", 360, top + 120, 42),
        _centred("KT. CHỦ TỊCH", top, 43, cx=1800),
        _centred("PHÓ CHỦ TỊCH", top + 65, 44, cx=1800),
        _centred(name, top + 330, 45, cx=1800),
    ] + ([] if name_conf == 96.0 else [])


def _extract(page: PageResult):  # noqa: ANN202 - AdminMetadata
    return extract_metadata([page], find_organ=OrganRegistry.default().find)


# =========================================================================== header


def test_a_parent_in_mixed_case_over_a_wrapped_organ_name_is_the_parent() -> None:
    page = _page(
        _right(QUOC_HIEU, 180, 1),
        _left("Ủy ban nhân dân tỉnh Lào", 180, 2),
        _right(MOTTO, 260, 3),
        _left("Cai", 262, 4),
        _left("SỞ NÔNG NGHIỆP VÀ MÔI", 340, 5),
        _left("TRƯỜNG", 420, 6),
        _left("Số: 1691/QĐ-SNNMT", 530, 7),
        _right("Lào Cai, ngày 02 tháng 08 năm 2026", 540, 8),
        _centred("QUYẾT ĐỊNH", 700, 9),
        _centred("Về việc thành lập Tổ công tác chuyển đổi số", 790, 10),
        _line(BODY, 300, 950, 11),
        *_footer("Dương Đức Thắng"),
    )
    meta = _extract(page)
    assert meta.organ_parent.value == "Ủy ban nhân dân tỉnh Lào Cai"
    assert meta.organ_name.value == "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"
    assert meta.issued_date.value.isoformat() == "2026-08-02"
    assert meta.subject.value == "Về việc thành lập Tổ công tác chuyển đổi số"


def test_a_date_set_higher_than_the_number_does_not_cut_the_organ_name_short() -> None:
    page = _page(
        _right(QUOC_HIEU, 165, 1),
        _left("UBND THÀNH PHỐ HÀ TĨNH", 167, 2),
        _right(MOTTO, 256, 3),
        _left("ỦY BẠN NHÂN DÂN", 328, 4),
        _right("Nam Hà, ngày 19 tháng 05 năm 2018", 400, 5),
        _left("PHƯỜNG NAM HÀ", 412, 6),
        _left("Số: 120/TB-UBND", 520, 7),
        _centred("THÔNG BÁO", 700, 8),
        _centred("Kết luận của Phó Chủ tịch tại cuộc họp", 790, 9),
        _line(BODY, 300, 950, 10),
        *_footer("Dương Đức Quý"),
    )
    meta = _extract(page)
    assert meta.organ_parent.value == "UBND THÀNH PHỐ HÀ TĨNH"
    assert meta.organ_name.value == "ỦY BAN NHÂN DÂN PHƯỜNG NAM HÀ"  # `BẠN`: an OCR slip


def test_a_date_in_the_body_is_never_the_date_of_issue() -> None:
    """The header's date line lost (torn, stamped over): a biên bản's first sentence and a body
    line hold dates, and neither is the date the document was issued."""
    page = _page(
        _right(QUOC_HIEU, 180, 1),
        _left("UBND HUYỆN BÁT XÁT", 180, 2),
        _right(MOTTO, 260, 3),
        _left("ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 262, 4),
        _left("Số: 2714/BB-UBND", 380, 5),
        _centred("BIÊN BẢN", 600, 6),
        _centred(
            "Bàn giao hồ sơ, tài liệu tiêm chủng mở rộng cho trẻ em dưới 5 tuổi tại trạm y tế xã",
            690,
            7,
        ),
        _line("Hôm nay, vào lúc 09 giờ 30 phút, ngày 13 tháng 09 năm 2016, tại phòng", 455, 880, 8),
        _line("họp số 2, chúng tôi gồm: Đến hết ngày 04/06/2016, tỷ lệ hồ sơ đạt 89%", 360, 950, 9),
        _line(BODY, 300, 1020, 10),
        *_footer("Trần Thanh Huyền"),
    )
    meta = _extract(page)
    assert meta.issued_date.value is None
    assert "issued_date missing" in meta.review_reasons
    assert meta.subject.value == (
        "Bàn giao hồ sơ, tài liệu tiêm chủng mở rộng cho trẻ em dưới 5 tuổi tại trạm y tế xã"
    )


def test_a_one_column_header_gives_its_v_v_subject() -> None:
    page = _page(
        _centred(QUOC_HIEU, 180, 1),
        _centred(MOTTO, 260, 2),
        _line("Ủy ban nhân dân huyện Bát Xát", 384, 384, 3),
        _line("ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 384, 454, 4),
        _line("Số: 1025/UBND-VP", 386, 538, 5),
        _line("V/v góp ý dự thảo hướng dẫn quản lý, bảo vệ rừng và phòng cháy, chữa", 383, 607, 6),
        _line("Bát Xát, ngày 09 tháng 08 năm 2022", 1483, 685, 7),
        _line("Kính gửi: Sở Tài chính; Sở Kế hoạch và Đầu tư.", 526, 834, 8),
        _line(BODY, 300, 935, 9),
        *_footer("Hồ Văn Dũng"),
    )
    meta = _extract(page)
    assert meta.subject.value.startswith("V/v góp ý dự thảo hướng dẫn quản lý")
    assert meta.type_name.value == "Công văn"
    assert meta.organ_parent.value == "Ủy ban nhân dân huyện Bát Xát"


@pytest.mark.parametrize(
    ("lines", "parent", "name"),
    [
        (
            ["SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ", "TĨNH", "TRƯỜNG TRUNG HỌC PHỔ", "THÔNG NGUYỄN DU"],
            "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ TĨNH",
            "TRƯỜNG TRUNG HỌC PHỔ THÔNG NGUYỄN DU",
        ),
        (
            ["SỞ NÔNG NGHIỆP VÀ PHÁT", "TRIỂN NÔNG THÔN", "CHI CỤC KIỂM LÂM TỈNH LÀO CAI"],
            "SỞ NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN",
            "CHI CỤC KIỂM LÂM TỈNH LÀO CAI",
        ),
        (["ỦY BAN NHÂN DÂN HUYỆN GIA", "VIỄN"], None, "ỦY BAN NHÂN DÂN HUYỆN GIA VIỄN"),
        (["SỞ NÔNG NGHIỆP VÀ MÔI", "TRƯỜNG"], None, "SỞ NÔNG NGHIỆP VÀ MÔI TRƯỜNG"),
    ],
)
def test_organ_names_wrapped_over_lines(lines: list[str], parent: str | None, name: str) -> None:
    assert split_organ_lines(lines) == (parent, name)


def test_organ_name_phrases_are_respelled_but_place_names_left_as_read() -> None:
    assert rules.respell_organ_words("ỦY BẠN NHÂN DÂN THÀNH PHÔ CAN THƠ") == (
        "ỦY BAN NHÂN DÂN THÀNH PHỐ CAN THƠ"
    )
    assert rules.respell_organ_words("UỶ BAN NHÂN DÂN HUYỆN PHONG ĐIỀN") == (
        "UỶ BAN NHÂN DÂN HUYỆN PHONG ĐIỀN"  # older placement kept; `PHONG` is no `PHÒNG`
    )


# =========================================================================== tones


def test_the_older_tone_placement_is_a_spelling_not_a_slip() -> None:
    assert newer_placement("CỘNG HOÀ, Thuỷ, khoẻ, quý, hoàn") == "CỘNG HÒA, Thủy, khỏe, quý, hoàn"
    assert rules.known_title("UỶ BAN NHÂN DÂN") == "UỶ BAN NHÂN DÂN"
    name = rules.person_name("Đỗ Thị Thuỷ")
    assert name is not None and name.text == "Đỗ Thị Thuỷ" and name.known_given
    pairs = WordPairs.from_lines(["xã hội", "hội hóa", "hội họa"])
    assert pairs.respell("xã hội hoá") == ("xã hội hoá", 0)


def test_a_signer_syllable_whose_tone_is_in_doubt_is_named_in_the_review_reason() -> None:
    header = [
        _right(QUOC_HIEU, 180, 1),
        _left("UBND TỈNH GIA LAI", 180, 2),
        _right(MOTTO, 260, 3),
        _left("ỦY BAN NHÂN DÂN XÃ TUY PHƯỚC", 262, 4),
        _left("Số: 15/TB-UBND", 380, 5),
        _right("Tuy Phước, ngày 16 tháng 05 năm 2026", 390, 6),
        _centred("THÔNG BÁO", 600, 7),
        _centred("Kết luận của Chủ tịch tại cuộc họp", 690, 8),
        _line(BODY, 300, 880, 9),
    ]
    footer = _footer("Đỗ Thị Thủy")
    for word in footer[-1]:
        if word.text == "Thủy":
            word.confidence = 55.0  # the page read was unsure of this syllable
    meta = _extract(_page(*header, *footer))
    reason = next(r for r in meta.review_reasons if r.startswith("signer_name"))
    assert "tone uncertain: Thủy (Thùy/Thúy/Thủy)" in reason
    sure = _extract(_page(*header, *_footer("Đỗ Thị Thủy")))
    assert not any(r.startswith("signer_name") for r in sure.review_reasons)


# =========================================================================== seal


def test_a_signer_block_the_page_read_dropped_is_looked_for_beside_the_recipients() -> None:
    page = _page(
        _right(QUOC_HIEU, 180, 1),
        _left("ỦY BAN NHÂN DÂN PHƯỜNG ĐÔNG HÀ", 262, 2),
        _left("Số: 2254/BB-UBND", 380, 3),
        _line(BODY, 300, 950, 4),
        *_footer("x")[:3],  # Nơi nhận and its list; nothing of the signer block was read
    )
    left, top, right, bottom = key_zone_boxes(page)["signer"]
    assert left > 360 + len("- Lưu: VT, VP.") * CHAR  # right of the list
    assert top < 2800 < 2800 + 330 < bottom and right == WIDTH


def test_dark_ink_only_whitens_a_seal_and_keeps_the_print() -> None:
    grey = np.full((200, 200), 245, dtype=np.uint8)
    grey[50:60, 20:180] = 10  # print
    grey[100:140, 20:180] = 95  # red seal ink as a greyscale scanner sees it
    grey[150:160, 20:180] = 10
    out = dark_ink_only(grey, (0, 0, 200, 200))
    assert (out[50:60, 20:180] == 10).all() and (out[150:160, 20:180] == 10).all()
    assert (out[100:140, 20:180] == 255).all()
    assert (grey[100:140, 20:180] == 95).all()  # the page itself is left as it was


def test_a_stamped_unseen_page_gives_its_signer() -> None:
    """pages2 (its own renderer): a red seal and a signature pressed over the signer's lines,
    which Tesseract's page read drops; the full page pipeline still gives the signer."""
    from app.compose import page_options
    from app.config import Settings
    from pages2.pages import scan_page
    from pipeline.load import ImagePage
    from pipeline.page import process_scanned_page

    scanned = scan_page(18, seed=1, level="light")
    options = page_options(Settings())
    result = process_scanned_page(ImagePage(1, scanned.image, 300), options).result
    meta = _extract(result)
    truth = scanned.metadata
    assert meta.signer_name.value == truth["signer_name"]
    assert meta.signer_position.value == truth["signer_position"]
    assert meta.signer_competence.value == truth["signer_competence"]


# =========================================================================== with the registry


def _national(page: PageResult):  # noqa: ANN202 - AdminMetadata
    return extract_metadata([page], find_organ=OrganRegistry.national().match_header)


def _body(top: int, pitch: int, n: int = 10) -> list[list[Word]]:
    return [_line(BODY, 300, top + i * pitch, 60 + i) for i in range(n)]


def _header(organ: list[list[Word]], date_line: str, number: str = "Số: 685/KH-UBND"):
    return [
        _right(QUOC_HIEU, 180, 1),
        _right(MOTTO, 260, 2),
        *organ,
        _left(number, 530, 7),
        _right(date_line, 540, 8),
    ]


def test_a_two_line_subject_under_wide_line_spacing_keeps_its_second_line() -> None:
    """The gap between the subject's lines is judged against the page's own line pitch: a page
    set at wide spacing (86 px a line) keeps `mưa bão năm 2024`, and the body stays out."""
    page = _page(
        *_header(
            [_left("UBND HUYỆN BÁT XÁT", 180, 3), _left("ỦY BAN NHÂN DÂN XÃ BẢN QUA", 262, 4)],
            "Bản Qua, ngày 11 tháng 03 năm 2024",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai phòng, chống thiên tai và tìm kiếm cứu nạn mùa", 865, 10),
        _centred("mưa bão năm 2024", 960, 11),
        *_body(1096, 86),
        *_footer("Trần Quang Thắng", top=2300),
    )
    meta = _extract(page)
    assert meta.subject.value == (
        "Triển khai phòng, chống thiên tai và tìm kiếm cứu nạn mùa mưa bão năm 2024"
    )


def test_a_v_v_subject_under_wide_line_spacing_keeps_its_second_line() -> None:
    page = _page(
        *_header(
            [_left("UBND HUYỆN BÁT XÁT", 180, 3), _left("ỦY BAN NHÂN DÂN XÃ BẢN QUA", 262, 4)],
            "Bản Qua, ngày 24 tháng 10 năm 2018",
            "Số: 2920/UBND-VP",
        ),
        _left("V/v đôn đốc triển khai tiêm chủng mở", 600, 9),
        _left("rộng cho trẻ em dưới 5 tuổi", 680, 10),  # 80 px top to top, 30 px blank
        _line("Kính gửi: Ủy ban nhân dân các xã, thị trấn.", 536, 888, 11),
        *_body(1003, 78),
        *_footer("Lê Văn Hạnh", top=2300),
    )
    for word in page.words:  # the V/v lines set smaller: 35 px high words
        if 600 <= word.top <= 680:
            word.height = 35
    assert _extract(page).subject.value == (
        "V/v đôn đốc triển khai tiêm chủng mở rộng cho trẻ em dưới 5 tuổi"
    )


def _dated(day: str, month: str, year: str, confs: tuple[float, float, float]) -> PageResult:
    page = _page(
        *_header(
            [_left("UBND HUYỆN BÁT XÁT", 180, 3), _left("ỦY BAN NHÂN DÂN XÃ BẢN QUA", 262, 4)],
            f"Bản Qua, ngày {day} tháng {month} năm {year}",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Trần Quang Thắng", top=2300),
    )
    for word in page.words:
        for token, conf in zip((day, month, year), confs, strict=True):
            if word.top == 540 and word.text == token:
                word.confidence = conf
    return page


def test_a_one_read_as_i_in_the_date_is_the_digit_one_surely() -> None:
    """`ngày I] tháng II`: the serif 1 read as I or ] (low OCR scores) can only be 1; the
    fixed words ngày/tháng/năm do not weigh on the date's confidence."""
    meta = _national(_dated("I]", "II", "2024", (36.0, 43.0, 96.0)))
    assert meta.issued_date.value.isoformat() == "2024-11-11"
    assert not [r for r in meta.review_reasons if r.startswith("issued_date")]


def test_a_doubtful_year_digit_flags_the_date() -> None:
    """`2016` read at 73 where the page says 2018: one weak number makes the date doubtful."""
    meta = _national(_dated("16", "04", "2016", (97.0, 82.0, 73.0)))
    assert meta.needs_review
    assert any(r.startswith("issued_date low confidence") for r in meta.review_reasons)


def test_the_registry_form_keeps_the_printed_case_and_tone_placement() -> None:
    """With the national registry the organ resolves (its id is set), and the names stay as
    printed when they are the registry's up to case and the older tone placement: a mixed-case
    parent line, `UỶ BAN` in the older placement."""
    page = _page(
        *_header(
            [
                _left("Ủy ban nhân dân huyện Bát Xát", 180, 3),
                _left("UỶ BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 262, 4),
            ],
            "Bát Xát, ngày 09 tháng 08 năm 2022",
            "Số: 1025/KH-UBND",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Hồ Văn Dũng", top=2300),
    )
    meta = _national(page)
    assert meta.organ_id.value
    assert meta.organ_name.value == "UỶ BAN NHÂN DÂN THỊ TRẤN BÁT XÁT"
    assert meta.organ_parent.value == "Ủy ban nhân dân huyện Bát Xát"
    assert not [r for r in meta.review_reasons if r.startswith("organ")]


def _can_tho(organ_conf: float) -> PageResult:
    page = _page(
        *_header(
            [_left("ỦY BAN NHÂN DÂN", 180, 3), _left("THÀNH PHỐ CAN THƠ", 262, 4)],
            "Cần Thơ, ngày 09 tháng 08 năm 2022",
            "Số: 1025/KH-UBND",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *_footer("Hồ Văn Dũng", top=2300),
    )
    for word in page.words:
        if word.top == 262:
            word.confidence = organ_conf
    return page


def test_a_well_read_place_is_not_replaced_by_the_organ_lines_misreading() -> None:
    """`Cần Thơ` read surely in the date line; the organ line's `CAN THƠ` (read less surely)
    must not respell it. With the national registry, its spelling confirms `Cần Thơ`."""
    assert _extract(_can_tho(80.0)).issued_place.value == "Cần Thơ"
    meta = _national(_can_tho(80.0))
    assert meta.issued_place.value == "Cần Thơ"
    assert meta.organ_id.value


def test_an_organ_the_registry_lacks_under_a_parent_it_knows_is_flagged_only_if_read_unsurely() -> (
    None
):
    def page(conf: float) -> PageResult:
        out = _page(
            *_header(
                [
                    _left("UBND HUYỆN BÁT XÁT", 180, 3),
                    _left("TRƯỜNG TIỂU HỌC QUANG KIM", 262, 4),
                ],
                "Bát Xát, ngày 09 tháng 08 năm 2022",
                "Số: 1025/KH-TH",
            ),
            _centred("KẾ HOẠCH", 767, 9),
            _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
            *_body(1000, 80),
            *_footer("Hồ Văn Dũng", top=2300),
        )
        for word in out.words:
            if word.top == 262:
                word.confidence = conf
        return out

    sure = _national(page(96.0))
    assert sure.organ_name.value == "TRƯỜNG TIỂU HỌC QUANG KIM"  # a school: no list has it
    assert not [r for r in sure.review_reasons if r.startswith("organ_name")]
    unsure = _national(page(70.0))
    assert any(r.startswith("organ_name low confidence") for r in unsure.review_reasons)


def _with_recipients(items: list[tuple[str, float]]) -> PageResult:
    rows = [_line("Nơi nhận:", 360, 2300, 40)]
    for k, (text, conf) in enumerate(items):
        rows.append(_line(text, 360, 2360 + 60 * k, 41 + k, conf))
    return _page(
        *_header(
            [
                _left("UBND HUYỆN BÁT XÁT", 180, 3),
                _left("ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 262, 4),
            ],
            "Bát Xát, ngày 09 tháng 08 năm 2022",
            "Số: 1025/KH-UBND",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *rows,
        _centred("CHỦ TỊCH", 2300, 60, cx=1800),
        _centred("Hồ Văn Dũng", 2630, 61, cx=1800),
    )


def test_set_phrases_read_badly_do_not_drop_a_recipient_list() -> None:
    """`(để b/)` and the archive's `VI` read at low scores are the set phrases `(để b/c)` and
    `VT`; a `.` or `-` inside a phrase and a comma with no space are specks. The list is kept."""
    page = _with_recipients(
        [
            ("- Như trên;", 95.0),
            ("- Sở Nội vụ (để b/);", 95.0),
            ("- Trung tâm Phục-vụ hành.chính công;", 92.0),
            ("- Các phòng chuyên môn,Văn phòng;", 95.0),
            ("- Lưu: VI, VP.", 95.0),
        ]
    )
    for word in page.words:
        if word.text in ("b/);", "VI,"):
            word.confidence = 35.0
    assert _national(page).recipients.value == [
        "Như trên",
        "Sở Nội vụ (để b/c)",
        "Trung tâm Phục vụ hành chính công",
        "Các phòng chuyên môn, Văn phòng",
        "Lưu: VT, VP",
    ]


def test_a_recipient_list_with_specks_read_as_an_item_is_left_empty() -> None:
    meta = _national(
        _with_recipients([("- Như trên;", 95.0), ("- Ha", 90.0), ("- Lưu: VT, VP.", 95.0)])
    )
    assert meta.recipients.value is None


def test_a_mixed_case_parent_under_wide_line_spacing_is_the_parent() -> None:
    page = _page(
        _right(QUOC_HIEU, 165, 1),
        _left("Ủy ban nhân dân thành phố", 167, 2),
        _left("Hà Tĩnh", 259, 3),  # 92 px under: wider than two word heights (2 × 43)
        _right(MOTTO, 256, 4),
        _left("ỦY BAN NHÂN DÂN", 328, 5),
        _left("PHƯỜNG NAM HÀ", 412, 6),
        _right("Nam Hà, ngày 19 tháng 05 năm 2018", 419, 7),
        _left("Số: 257/KH-UBND", 527, 8),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 86),
        *_footer("Hồ Văn Dũng", top=2300),
    )
    for word in page.words:
        if word.top in (167, 259):
            word.height = 43
    meta = _national(page)
    assert meta.organ_parent.value == "Ủy ban nhân dân thành phố Hà Tĩnh"
    assert meta.organ_name.value == "ỦY BAN NHÂN DÂN PHƯỜNG NAM HÀ"
    assert meta.organ_id.value


def test_a_respelled_signer_name_the_zone_read_as_such_is_sure() -> None:
    """The page read `Thăng` (63), the name list respelled it `Thắng`; the signer zone, read
    again, has `Thắng` itself at 96: two reads agree, so the name is not flagged. Without the
    zone's read the respelled name stays under the threshold."""
    footer = _footer("Võ Minh Thăng", top=2300)
    for word in footer[-1]:
        if word.text == "Thăng":
            word.confidence = 63.0
    rows = [
        *_header(
            [
                _left("UBND HUYỆN BÁT XÁT", 180, 3),
                _left("ỦY BAN NHÂN DÂN THỊ TRẤN BÁT XÁT", 262, 4),
            ],
            "Bát Xát, ngày 09 tháng 08 năm 2022",
            "Số: 1025/KH-UBND",
        ),
        _centred("KẾ HOẠCH", 767, 9),
        _centred("Triển khai công tác văn thư, lưu trữ", 865, 10),
        *_body(1000, 80),
        *footer,
    ]
    alone = _national(_page(*rows))
    assert alone.signer_name.value == "Võ Minh Thắng"
    assert any(r.startswith("signer_name low confidence") for r in alone.review_reasons)
    page = _page(*rows)
    zone = [
        *_centred("KT. CHỦ TỊCH", 2300, 1, cx=1800),
        *_centred("PHÓ CHỦ TỊCH", 2365, 2, cx=1800),
        *_centred("Võ Minh Thắng", 2630, 3, cx=1800),
    ]
    page = page.model_copy(update={"zones": {"signer": zone}})
    meta = _national(page)
    assert meta.signer_name.value == "Võ Minh Thắng"
    assert not [r for r in meta.review_reasons if r.startswith("signer_name")]
