"""ND30 metadata extraction (pipeline/metadata.py): field rules on OCR slips, organ lookup,
born-digital and OCRed documents end to end, and splitting a multi-document scan."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.compose import page_options
from app.config import Settings
from corpus import write_multi_document_pdf, write_pdf_digital
from corpus.box import APPENDIX_KINDS, BoxDocument, appendix_pages, write_box_pdf
from corpus.nd30 import SyntheticDocument, make_document
from organs.registry import OrganRegistry
from pipeline import metadata_rules as rules
from pipeline.header import split_organ_lines
from pipeline.layout import page_lines
from pipeline.lexicon import WordPairs, word_pairs
from pipeline.load import iter_text_pages, load_scanned_page, plan_pages
from pipeline.metadata import extract_metadata
from pipeline.page import key_zone_words, process_scanned_page, text_page_result
from pipeline.preprocess import prepare
from pipeline.starts import find_document_starts
from pipeline.zones import ZONE_SURE_CONFIDENCE, hooks_from, key_zone_boxes
from schemas.fields import KEY_THRESHOLDS
from schemas.models import AdminMetadata, PageResult, Word, document_id_key

KEY_FIELDS = tuple(KEY_THRESHOLDS)


def _pairs() -> WordPairs | None:
    """The word pairs as sohoa finds them (Settings: SOHOA_TESSDATA or its default folder)."""
    return word_pairs(page_options(Settings()).tessdata)


# =========================================================================== field rules


@pytest.mark.parametrize(
    ("line", "number", "notation"),
    [
        ("Số: 1452/QĐ-UBND", "1452", "QĐ-UBND"),
        ("Sô: 1452/QD-UBND", "1452", "QĐ-UBND"),
        ("Số:07/TTr-SNV", "07", "TTr-SNV"),
        ("So; 88 / CT - UBND.", "88", "CT-UBND"),
        ("Số: 12/UBND-VX", "12", "UBND-VX"),
        ("Số: 3/NQ-HDND", "3", "NQ-HĐND"),
        ("Số: 15/CTR-UBND", "15", "CTr-UBND"),
    ],
)
def test_code_line_read_through_ocr_slips(line: str, number: str, notation: str) -> None:
    code = rules.parse_code_line(line)
    assert code is not None
    assert (code.number, code.notation) == (number, notation)


@pytest.mark.parametrize("line", ["SỞ NỘI VỤ", "Số:", "Số: /QĐ-UBND", "Sổ tay 2023"])
def test_code_line_without_a_number_and_notation_gives_nothing(line: str) -> None:
    assert rules.parse_code_line(line) is None


def test_repaired_code_line_is_marked_as_repaired() -> None:
    assert rules.parse_code_line("Số: 1452/QĐ-UBND").clean
    assert not rules.parse_code_line("Số: 1452/QD-UBND").clean


@pytest.mark.parametrize(
    ("line", "place", "issued"),
    [
        ("Kon Tum, ngày 14 tháng 11 năm 2023", "Kon Tum", date(2023, 11, 14)),
        ("Hà Nội, ngay 5 thang 3 nam 2020", "Hà Nội", date(2020, 3, 5)),
        ("Đắk Hà, ngày 05 tháng 02 năm 2021", "Đắk Hà", date(2021, 2, 5)),
        ("Tam Dương, ngày 4. tháng 10 năm 2023.", "Tam Dương", date(2023, 10, 4)),
        ("ngày 05/3/2020", None, date(2020, 3, 5)),
        ("Hà Nội, ngày 05/3/2020", "Hà Nội", date(2020, 3, 5)),
    ],
)
def test_place_and_date_read_in_every_written_form(
    line: str, place: str | None, issued: date
) -> None:
    dated = rules.parse_date_line(line)
    assert dated is not None
    assert (dated.place, dated.issued) == (place, issued)


@pytest.mark.parametrize(
    "line", ["Kon Tum, ngày 31 tháng 02 năm 2020", "ngày 14 tháng 11 năm 1850", "Độc lập"]
)
def test_impossible_or_absent_dates_give_nothing(line: str) -> None:
    assert rules.parse_date_line(line) is None


@pytest.mark.parametrize(
    ("line", "subject"),
    [
        ("V/v triển khai công tác văn thư", "V/v triển khai công tác văn thư"),
        ("V/V triển khai công tác văn thư", "V/v triển khai công tác văn thư"),
        ("V/v: góp ý dự thảo", "V/v góp ý dự thảo"),
        ("Về việc triển khai", None),
    ],
)
def test_cong_van_subject_line(line: str, subject: str | None) -> None:
    assert rules.vv_subject(line) == subject


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("TM. ỦY BAN NHÂN DÂN", ("TM.", "ỦY BAN NHÂN DÂN")),
        ("KT. GIÁM ĐỐC", ("KT.", "GIÁM ĐỐC")),
        ("KT, GIÁM ĐỐC", ("KT.", "GIÁM ĐỐC")),
        ("TL. BỘ TRƯỞNG", ("TL.", "BỘ TRƯỞNG")),
        ("TUQ. CHỦ TỊCH", ("TUQ.", "CHỦ TỊCH")),
        ("Q. CỤC TRƯỞNG", ("Q.", "CỤC TRƯỞNG")),
        ("T.M. HỘI ĐỒNG NHÂN DÂN", ("TM.", "HỘI ĐỒNG NHÂN DÂN")),
        ("GIÁM ĐỐC", None),
        ("KT. Nguyễn Văn An", None),
    ],
)
def test_every_signer_competence_prefix(line: str, expected: tuple[str, str] | None) -> None:
    assert rules.split_competence(line) == expected


def test_signer_titles_and_family_names_get_their_diacritics_back() -> None:
    assert rules.known_title("PHÓ CHỦ TICH") == "PHÓ CHỦ TỊCH"
    assert rules.known_title("GIAM DOC") == "GIÁM ĐỐC"
    assert rules.known_title("TRƯỞNG BAN QUẢN LÝ DỰ ÁN") is None
    name = rules.person_name("Định Bảo Tâm")
    assert name is not None and name.text == "Đinh Bảo Tâm" and name.known_family
    fixed = rules.person_name("Nguyễn Hồng Viêt")
    assert fixed is not None and fixed.text == "Nguyễn Hồng Việt" and fixed.respelled
    ambiguous = rules.person_name("Bùi Bảo Tuần")  # Tuấn or Tuân: left as read
    assert ambiguous is not None and ambiguous.text == "Bùi Bảo Tuần" and not ambiguous.known_given
    doubtful = rules.person_name("Xyz Văn An")
    assert doubtful is not None and not doubtful.known_family
    assert rules.person_name("CHỦ TỊCH") is None


def test_wrapped_subject_and_recipients_are_joined() -> None:
    lines = [
        "- Như Điều 3;",
        "Bộ Nội vụ (b/);",  # hyphen lost and "c" dropped by OCR
        "- UBND các huyện, thành phố trực thuộc",
        "Trung ương;",
        "- Tưu: VI, VP.",
    ]
    assert rules.split_recipients(lines) == [
        "Như Điều 3",
        "Bộ Nội vụ (b/c)",
        "UBND các huyện, thành phố trực thuộc Trung ương",
        "Lưu: VT, VP",
    ]


def test_type_from_its_line_and_from_the_notation() -> None:
    assert rules.type_from_line("QUYẾT ĐỊNH") == ("Quyết định", 1.0)
    found = rules.type_from_line("QUYET DINH")
    assert found is not None and found[0] == "Quyết định"
    assert rules.type_from_line("KẾ HOACH")[0] == "Kế hoạch"
    assert rules.type_from_line("ỦY BAN NHÂN DÂN") is None
    assert rules.type_from_abbreviation("GM") == "Giấy mời"
    assert rules.type_from_abbreviation("UBND") is None


@pytest.mark.parametrize(
    ("lines", "parent", "name"),
    [
        (["BỘ NỘI VỤ"], None, "BỘ NỘI VỤ"),
        (["UBND TỈNH KON TUM", "SỞ NỘI VỤ"], "UBND TỈNH KON TUM", "SỞ NỘI VỤ"),
        (["ỦY BAN NHÂN DÂN", "TỈNH KON TUM"], None, "ỦY BAN NHÂN DÂN TỈNH KON TUM"),
        (["BỘ THÔNG TIN VÀ", "TRUYỀN THÔNG"], None, "BỘ THÔNG TIN VÀ TRUYỀN THÔNG"),
        (
            ["BỘ NỘI VỤ", "CỤC VĂN THƯ VÀ LƯU TRỮ", "NHÀ NƯỚC"],
            "BỘ NỘI VỤ",
            "CỤC VĂN THƯ VÀ LƯU TRỮ NHÀ NƯỚC",
        ),
    ],
)
def test_one_and_two_line_organ_names_and_parent_lines(
    lines: list[str], parent: str | None, name: str
) -> None:
    assert split_organ_lines(lines) == (parent, name)


def test_tone_slips_are_respelled_only_on_the_documents_own_evidence() -> None:
    body = (
        "Ban hành kế hoạch về việc tổ chức kiểm tra. Sở sẽ tiếp tục về việc tổ chức kiểm tra "
        "định kỳ và về việc tổ chức kiểm tra đột xuất."
    )
    speller = rules.ContextSpeller(body + "\nVề việc tố chức kiểm tra công vụ")
    assert speller.respell("Về việc tố chức kiểm tra công vụ") == (
        "Về việc tổ chức kiểm tra công vụ",
        1,
    )
    once = rules.ContextSpeller("về việc tổ chức kiểm tra. Về việc tố chức kiểm tra công vụ")
    assert once.respell("Về việc tố chức kiểm tra công vụ")[1] == 0  # one witness is not enough
    other_context = rules.ContextSpeller(body + "\nchất lượng và đo lường sự hài lòng")
    assert other_context.respell("đo lường sự hài lòng")[1] == 0


def test_hooks_the_filtered_page_read_lost_come_from_the_zone_read() -> None:
    read = "Về đấy mạnh tố chức kiếm tra năm 2024"
    zone = "__ Về đẩy mạnh tổ chức kim tra nấm 2024 ."
    assert hooks_from(read, zone) == "Về đẩy mạnh tổ chức kiếm tra năm 2024"
    assert hooks_from("Tâm chuyển", "Tầm chuyến") == "Tâm chuyển"  # only sắc → hỏi is taken


def test_suspect_roman_numerals_are_noticed() -> None:
    assert rules.has_suspect_token("quý IHI năm 2022")
    assert not rules.has_suspect_token("quý III năm 2022")
    assert not rules.has_suspect_token("giai đoạn 2021-2023")


# =========================================================================== born-digital


def _document(seed: int, pages: int | None = None, **wanted: str) -> SyntheticDocument:
    """The first generated document from `seed` on whose truth has the wanted values."""
    for k in range(seed, seed + 500):
        doc = make_document(random.Random(f"test-metadata:{k}"), pages)
        if all(doc.metadata[key] == value for key, value in wanted.items()):
            return doc
    raise AssertionError(f"no document with {wanted}")


def _born_digital_pages(doc: SyntheticDocument, tmp_path: Path) -> list[PageResult]:
    path = write_pdf_digital(tmp_path / "doc.pdf", doc.pages)
    numbers = list(range(1, len(doc.pages) + 1))
    return [text_page_result(p) for p in iter_text_pages(path, numbers)]


def _values(meta: AdminMetadata) -> dict:
    values = {name: field.value for name, field in meta.fields().items()}
    if isinstance(values["issued_date"], date):
        values["issued_date"] = values["issued_date"].isoformat()
    return values


@pytest.mark.parametrize(
    "wanted",
    [
        {"type_name": "Công văn"},
        {"type_name": "Quyết định"},
        {"type_name": "Nghị quyết"},
        {"organ_level": "commune"},
        {"organ_level": "central", "organ_parent": "BỘ NỘI VỤ"},
    ],
)
def test_born_digital_document_metadata_is_read_exactly(
    wanted: dict[str, str], tmp_path: Path
) -> None:
    doc = _document(1, **wanted)
    registry = OrganRegistry.default()
    meta = extract_metadata(_born_digital_pages(doc, tmp_path), find_organ=registry.find)
    got = _values(meta)
    for key, value in doc.metadata.items():
        assert got[key] == value, key
    assert not meta.needs_review, meta.review_reasons
    assert got["document_id"] == document_id_key(
        doc.metadata["organ_id"],
        date.fromisoformat(doc.metadata["issued_date"]),
        doc.metadata["code_number"],
        doc.metadata["code_notation"],
    )


def _inside(page: PageResult, box: tuple[int, int, int, int]) -> list:
    left, top, right, bottom = box
    return [
        w
        for w in page.words
        if w.left >= left
        and w.top >= top
        and w.left + w.width <= right
        and w.top + w.height <= bottom
    ]


def test_key_zones_hold_the_subject_and_the_signer(tmp_path: Path) -> None:
    doc = _document(3, 1, type_name="Quyết định")
    (page,) = _born_digital_pages(doc, tmp_path)
    boxes = key_zone_boxes(page)
    assert set(boxes) == {"subject", "signer"}
    subject = " ".join(w.text for w in _inside(page, boxes["subject"]))
    assert subject == doc.metadata["subject"]
    assert doc.metadata["signer_name"] in " ".join(w.text for w in _inside(page, boxes["signer"]))


def test_second_read_of_a_zone_confirms_or_sends_to_review(tmp_path: Path) -> None:
    doc = _document(3, 1, type_name="Quyết định")
    (page,) = _born_digital_pages(doc, tmp_path)
    zone = _inside(page, key_zone_boxes(page)["subject"])
    agreeing = page.model_copy(update={"zones": {"subject": zone}})
    meta = extract_metadata([agreeing])
    assert meta.subject.value == doc.metadata["subject"] and not meta.needs_review
    first = zone[0].model_copy(update={"text": zone[0].text + "x"})
    other = page.model_copy(update={"zones": {"subject": [first, *zone[1:]]}})
    meta = extract_metadata([other])
    assert meta.subject.value == f"{zone[0].text}x {doc.metadata['subject'].split(' ', 1)[1]}"
    assert meta.needs_review and any(r.startswith("subject") for r in meta.review_reasons)


@pytest.mark.parametrize("prefix", ["TM.", "KT.", "TL.", "TUQ.", "Q.", ""])
def test_every_signer_block_is_read(prefix: str, tmp_path: Path) -> None:
    for k in range(1, 2000, 7):
        doc = _document(k)
        competence = doc.metadata["signer_competence"]
        if competence.startswith(prefix) if prefix else competence == "":
            break
    meta = extract_metadata(_born_digital_pages(doc, tmp_path))
    for key in ("signer_competence", "signer_position", "signer_name"):
        assert meta.fields()[key].value == doc.metadata[key], key


def test_two_header_columns_on_one_engine_line_are_read_apart(tmp_path: Path) -> None:
    """OCR engines often return the organ and the Quốc hiệu as one line; zones split them."""
    doc = _document(3, organ_parent="UBND TỈNH KON TUM")
    (page, *rest) = _born_digital_pages(doc, tmp_path)
    rows: list[tuple[float, list]] = []  # each visual row, both columns, as one engine line
    for seg in sorted(page_lines(page).segments, key=lambda s: s.centre_y):
        if rows and abs(rows[-1][0] - seg.centre_y) < 4:
            rows[-1][1].extend(seg.words)
        else:
            rows.append((seg.centre_y, list(seg.words)))
    merged = [
        w.model_copy(update={"block": 1, "line": n}) for n, (_, ws) in enumerate(rows) for w in ws
    ]
    assert {"UBND", "CỘNG"} <= {w.text for w in rows[0][1]}  # the columns share a line now
    meta = extract_metadata([page.model_copy(update={"words": merged}), *rest])
    assert meta.organ_parent.value == "UBND TỈNH KON TUM"
    assert meta.organ_name.value == doc.metadata["organ_name"]
    assert meta.issued_place.value == doc.metadata["issued_place"]


def test_organ_lookup_and_document_id_need_every_part(tmp_path: Path) -> None:
    doc = _document(4)
    pages = _born_digital_pages(doc, tmp_path)
    asked: list[tuple] = []

    def find_nothing(name: str, parent: str | None, on: date | None) -> None:
        asked.append((name, parent, on))

    meta = extract_metadata(pages, find_organ=find_nothing)
    parent = doc.metadata["organ_parent"] or None
    issued = date.fromisoformat(doc.metadata["issued_date"])
    assert asked == [(doc.metadata["organ_name"], parent, issued)]
    assert meta.organ_id.value is None and meta.document_id.value is None
    found = extract_metadata(pages, find_organ=OrganRegistry.default().find)
    assert found.organ_id.value == doc.metadata["organ_id"]
    assert found.organ_level.value == doc.metadata["organ_level"]
    assert extract_metadata(pages).document_id.value is None  # no registry, no DocumentId


def test_organ_names_with_words_run_together_are_still_found(tmp_path: Path) -> None:
    assert "UBND HUYỆN ĐẮK HÀ" in rules.respacings("UBND HUYỆN ĐẮKHÀ")
    assert rules.respacings("SỞ NỘI VỤ") == ["SỞ NỘI VỤ"]
    doc = _document(8, 1, organ_parent="UBND HUYỆN ĐẮK HÀ")
    (page,) = _born_digital_pages(doc, tmp_path)
    words, merged = list(page.words), False
    for i, (a, b) in enumerate(zip(words, words[1:], strict=False)):
        if (a.text, b.text) == ("ĐẮK", "HÀ") and a.top < page.height_px * 0.1 and not merged:
            joined = a.model_copy(update={"text": "ĐẮKHÀ", "width": b.left + b.width - a.left})
            words[i : i + 2] = [joined]
            merged = True
    assert merged
    meta = extract_metadata(
        [page.model_copy(update={"words": words})], find_organ=OrganRegistry.default().find
    )
    assert meta.organ_id.value == doc.metadata["organ_id"]
    assert meta.organ_parent.value == "UBND HUYỆN ĐẮK HÀ"  # the registry's spelling


def test_missing_key_field_sets_review_with_a_reason(tmp_path: Path) -> None:
    doc = _document(5)
    first, *rest = _born_digital_pages(doc, tmp_path)
    without_code = [w for w in first.words if not w.text.startswith(doc.metadata["code_number"])]
    meta = extract_metadata([first.model_copy(update={"words": without_code}), *rest])
    assert meta.code_number.value is None
    assert meta.needs_review
    assert "code_number missing" in meta.review_reasons


def test_signer_is_found_when_the_recipients_label_is_lost(tmp_path: Path) -> None:
    doc = _document(6, 1)
    (page,) = _born_digital_pages(doc, tmp_path)
    words = [w for w in page.words if w.text not in ("Nơi", "nhận:")]
    meta = extract_metadata([page.model_copy(update={"words": words})])
    assert meta.signer_name.value == doc.metadata["signer_name"]
    assert meta.signer_position.value == doc.metadata["signer_position"]
    assert meta.recipients.value is None  # without its label the list is not guessed at


def test_no_pages_or_blank_pages_invent_nothing() -> None:
    meta = extract_metadata([PageResult(page_no=1)])
    assert meta.needs_review
    assert {k for k, v in meta.values().items()} == {"page_amount"}
    assert find_document_starts([]) == []


def test_born_digital_documents_back_to_back_are_split(tmp_path: Path) -> None:
    docs = [_document(10, 2), _document(20, 1), _document(30, 3), _document(40, 1)]
    pages: list[PageResult] = []
    starts = []
    for i, doc in enumerate(docs):
        starts.append(len(pages) + 1)
        folder = tmp_path / str(i)
        folder.mkdir()
        for page in _born_digital_pages(doc, folder):
            pages.append(page.model_copy(update={"page_no": len(pages) + 1}))
    assert find_document_starts(pages) == starts


# =========================================================================== scanned, OCR


@pytest.fixture(scope="module")
def scanned_dossier(tmp_path_factory: pytest.TempPathFactory) -> tuple[list, list[PageResult]]:
    """Three documents (công văn, a two-page decision, another type) in one scanned PDF,
    lightly degraded, OCRed by the real page pipeline."""
    docs = [
        _document(50, 1, type_name="Công văn"),
        _document(60, 2, type_name="Quyết định"),
        _document(70, 1, organ_level="commune"),
    ]
    path = write_multi_document_pdf(
        tmp_path_factory.mktemp("scan") / "box.pdf", docs, level="light", seed=3
    )
    infos = plan_pages(path, "application/pdf")

    def ocr(info) -> PageResult:
        page = load_scanned_page(path, "application/pdf", info)
        return process_scanned_page(page, page_options(Settings())).result

    with ThreadPoolExecutor(max_workers=2) as pool:  # one Tesseract per core
        return docs, list(pool.map(ocr, infos))


def test_scanned_box_is_split_where_each_document_starts(scanned_dossier) -> None:
    docs, pages = scanned_dossier
    starts, at = [], 1
    for doc in docs:
        starts.append(at)
        at += len(doc.pages)
    assert find_document_starts(pages) == starts


def test_scanned_key_zones_are_read_again_only_where_the_page_read_doubts_them(
    scanned_dossier,
) -> None:
    docs, pages = scanned_dossier
    at = 0
    for doc in docs:
        doc_pages = pages[at : at + len(doc.pages)]
        at += len(doc.pages)
        for page, name in ((doc_pages[0], "subject"), (doc_pages[-1], "signer")):
            box = key_zone_boxes(page)[name]
            words = [w for w in _inside(page, box) if any(c.isalnum() for c in w.text)]
            if name == "signer":  # only the name's words can change the answer (zones.py)
                wanted = doc.metadata["signer_name"].split()
                words = [w for w in words if w.text in wanted]
                words = words if len(words) == len(wanted) else []
            sure = bool(words) and min(w.confidence for w in words) >= ZONE_SURE_CONFIDENCE
            assert bool(page.zones.get(name)) == (not sure), name  # noisy or not (round 13)


def test_unsure_words_beside_a_sure_signer_name_do_not_read_the_zone_again(
    tmp_path: Path,
) -> None:
    doc = _document(80, 1, type_name="Công văn")
    path = write_multi_document_pdf(tmp_path / "one.pdf", [doc], level="clean", seed=1)
    (info,) = plan_pages(path, "application/pdf")
    scan = load_scanned_page(path, "application/pdf", info)
    options = replace(page_options(Settings()), key_zones=False)
    page = process_scanned_page(scan, options).result
    box = key_zone_boxes(page)["signer"]
    inside = [w for w in _inside(page, box) if any(c.isalnum() for c in w.text)]
    name = doc.metadata["signer_name"].split()
    assert [w.text for w in inside if w.text in name] == name  # read right
    grey = prepare(scan.image).grey

    def read_again_with(unsure: Word) -> dict[str, list[Word]]:
        """The zones read again where the page read was sure of the name and of every word
        in the zone but `unsure`."""
        words = [
            w.model_copy(update={"confidence": 40.0 if w == unsure else max(w.confidence, 95.0)})
            for w in page.words
        ]
        doubted = page.model_copy(update={"words": words, "zones": {}})
        return key_zone_words(grey, page.dpi, doubted, tessdata=options.tessdata)

    title = next(w for w in inside if w.text not in name)  # the position or a recipient
    assert "signer" not in read_again_with(title)  # cannot change the name: not read again
    zones = read_again_with(next(w for w in inside if w.text == name[-1]))
    assert zones.get("signer")  # the name itself in doubt: read again
    meta = extract_metadata([page.model_copy(update={"zones": zones})])
    assert meta.signer_name.value == doc.metadata["signer_name"]


def test_a_clear_subject_zone_is_not_read_again_a_doubtful_one_is(tmp_path: Path) -> None:
    doc = _document(80, 1, type_name="Công văn")
    path = write_multi_document_pdf(tmp_path / "one.pdf", [doc], level="clean", seed=1)
    (info,) = plan_pages(path, "application/pdf")
    scan = load_scanned_page(path, "application/pdf", info)
    # Read as scanned (the default): shrunk to 150 dpi, this page's `V/v` reads at 73 and the
    # zone is doubtful.
    options = replace(page_options(Settings()), read_letter_min_px=None)
    clear = process_scanned_page(scan, options).result
    assert "subject" not in clear.zones  # every word of it read at 90 or more
    assert extract_metadata([clear]).subject.value == doc.metadata["subject"]

    box = key_zone_boxes(clear)["subject"]
    slip = _inside(clear, box)[-1]
    unsure = slip.model_copy(update={"text": slip.text + "q", "confidence": 40.0})
    doubtful = clear.model_copy(
        update={"words": [unsure if w == slip else w for w in clear.words], "zones": {}}
    )
    grey = prepare(scan.image).grey
    assert unsure.text in extract_metadata([doubtful]).subject.value.split()
    doubtful.zones = key_zone_words(grey, clear.dpi, doubtful, tessdata=options.tessdata)
    assert doubtful.zones.get("subject")  # read again: its read outvotes the unsure slip
    subject = extract_metadata([doubtful]).subject
    assert unsure.text not in subject.value.split()
    assert subject.confidence < KEY_THRESHOLDS["subject"]  # two reads disagreed: review


def test_scanned_documents_key_fields_are_right_or_flagged(scanned_dossier) -> None:
    docs, pages = scanned_dossier
    registry = OrganRegistry.default()
    exact = total = 0
    at = 0
    for doc in docs:
        doc_pages = pages[at : at + len(doc.pages)]
        at += len(doc.pages)
        meta = extract_metadata(doc_pages, find_organ=registry.find, pairs=_pairs())
        got = _values(meta)
        for key in KEY_FIELDS:
            total += 1
            exact += got[key] == doc.metadata[key]
            if got[key] is not None and got[key] != doc.metadata[key]:
                assert meta.needs_review, (key, got[key], doc.metadata[key])
        assert got["page_amount"] == len(doc.pages)
        assert got["language"] == "vi"
    assert exact >= total - 2, f"{exact}/{total} key fields exact"


# =========================================================================== box scans


def _box_parts(pages: list[PageResult]) -> list[tuple[int, int]]:
    """The page ranges the describe worker cuts a scan into."""
    from workers.describe import page_ranges

    return page_ranges(find_document_starts(pages), len(pages))


@pytest.mark.parametrize("kind", APPENDIX_KINDS)
def test_born_digital_appendices_stay_with_their_document(kind: str, tmp_path: Path) -> None:
    """Phụ lục tables and sections, and forms with their own Quốc hiệu, with or without the
    `Kèm theo …` line, are not new documents."""
    for variant in range(4):
        docs = [_document(80 + variant, 1), _document(90 + variant, 2)]
        pages: list[PageResult] = []
        starts = []
        for i, doc in enumerate(docs):
            appendix = appendix_pages(doc.spec, random.Random(f"{kind}{variant}{i}"), kind, 2)
            starts.append(len(pages) + 1)
            layouts = [*doc.pages, *appendix]
            path = write_pdf_digital(tmp_path / f"{variant}-{i}.pdf", layouts)
            for page in iter_text_pages(path, list(range(1, len(layouts) + 1))):
                pages.append(text_page_result(page).model_copy(update={"page_no": len(pages) + 1}))
        assert find_document_starts(pages) == starts, (kind, variant)


def test_a_back_with_a_few_specks_read_as_words_is_not_a_document(tmp_path: Path) -> None:
    first, second = _document(110, 1), _document(120, 1)
    (tmp_path / "a").mkdir()
    (page_a,) = _born_digital_pages(first, tmp_path / "a")
    specks = [
        Word(text=t, left=400 + 300 * i, top=900 * i + 200, width=40, height=30, confidence=c)
        for i, (t, c) in enumerate((("~", 20.0), ("ii", 31.0), ("-", 45.0), ("Nd", 38.0)))
    ]
    back = PageResult(page_no=2, words=specks, text="~ ii - Nd", width_px=2480, height_px=3508)
    (page_b,) = _born_digital_pages(second, tmp_path)
    pages = [page_a, back, page_b.model_copy(update={"page_no": 3})]
    assert find_document_starts(pages) == [1, 3]
    assert _box_parts(pages) == [(1, 2), (3, 3)]
    # nor does such a page begin the scan's first document
    assert find_document_starts([back.model_copy(update={"page_no": 1}), pages[2]]) == [3]


@pytest.fixture(scope="module")
def box_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[BoxDocument], list, list]:
    """A box scan, lightly degraded, OCRed by the real page pipeline: a công văn followed by a
    form (its own Quốc hiệu), both sheets scanned duplex (bleed-through, specks); a decision
    whose header's top right corner is torn off; a document with a Phụ lục table."""
    cong_van = _document(130, 1, type_name="Công văn")
    decision = _document(140, 1, type_name="Quyết định")
    third = _document(150, 1, organ_level="district")
    form = appendix_pages(cong_van.spec, random.Random(3), "form")
    table = appendix_pages(third.spec, random.Random(4), "table")
    boxes = [
        BoxDocument(cong_van, tuple(form), "form", backs=("bleed", "specks")),
        BoxDocument(decision, damage="corner_torn"),
        BoxDocument(third, tuple(table), "table"),
    ]
    path = tmp_path_factory.mktemp("box") / "box.pdf"
    truth = write_box_pdf(path, boxes, level="light", seed=5)
    infos = plan_pages(path, "application/pdf")

    def ocr(info) -> PageResult:
        page = load_scanned_page(path, "application/pdf", info)
        return process_scanned_page(page, page_options(Settings())).result

    with ThreadPoolExecutor(max_workers=2) as pool:  # one Tesseract per core
        return boxes, truth, list(pool.map(ocr, infos))


@pytest.mark.slow  # `box_scan`: OCR of a box, ~12 s
def test_box_scan_is_cut_into_its_documents_with_appendices_and_backs(box_scan) -> None:
    boxes, truth, pages = box_scan
    assert [p.kind for p in truth] == [
        "page", "back", "appendix", "back", "page", "page", "appendix"
    ]  # fmt: skip
    assert find_document_starts(pages) == [1, 5, 6]
    assert _box_parts(pages) == [(1, 4), (5, 5), (6, 7)]


@pytest.mark.slow  # `box_scan`: OCR of a box, ~12 s
def test_box_scan_parts_keep_their_own_metadata(box_scan) -> None:
    boxes, _, pages = box_scan
    registry = OrganRegistry.default()
    for box, (first, last) in zip(boxes, _box_parts(pages), strict=True):
        meta = extract_metadata(pages[first - 1 : last], find_organ=registry.find, pairs=_pairs())
        got = _values(meta)
        for key in ("code_number", "type_name", "signer_name"):
            if got[key] != box.doc.metadata[key]:
                assert meta.needs_review, (key, got[key], box.doc.metadata[key])
        assert got["signer_name"] in (box.doc.metadata["signer_name"], None)


@pytest.mark.parametrize("type_name", ["Quyết định", "Công văn", "Kế hoạch"])
def test_a_first_page_whose_header_is_lost_still_begins_a_document(
    type_name: str, tmp_path: Path
) -> None:
    """Faded or torn off: of the header nothing is read; the type title (or, on a công văn,
    `Kính gửi:`) under it still says a document begins there, not its continuation pages."""
    (tmp_path / "a").mkdir()
    before = _born_digital_pages(_document(160, 2), tmp_path / "a")
    doc = _document(170, 2, type_name=type_name)
    first, second = _born_digital_pages(doc, tmp_path)
    opening = "Kính" if type_name == "Công văn" else type_name.upper().split()[0]
    anchor = next(w for w in first.words if w.text == opening)
    lost = [w for w in first.words if w.top >= anchor.top - 5]  # everything above it unread
    pages = [
        *before,
        first.model_copy(update={"page_no": 3, "words": lost}),
        second.model_copy(update={"page_no": 4}),
    ]
    assert find_document_starts(pages) == [1, 3]
