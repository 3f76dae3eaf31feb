"""The national organ registry (docs/registry.md): every administrative unit's organs through
the 2025 reform, found from OCR'd headers by the document's date, its history shown, and
exchange to an organ that no longer exists refused with its successor named."""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from corpus import write_pdf_digital
from corpus.nd30 import make_document
from organs.registry import SAMPLE, OrganRegistry
from pipeline.extracted import Extracted
from pipeline.load import iter_text_pages
from pipeline.metadata import extract_metadata, review_reasons
from pipeline.page import text_page_result
from pipeline.reconcile import read_registry
from schemas.models import Field
from tests.conftest import cli_with_env


@pytest.fixture(scope="module")
def national() -> OrganRegistry:
    """The national registry with the sample's organs (official codes) laid over it."""
    return OrganRegistry.national(SAMPLE)


def test_the_full_registry_loads_with_every_unit_before_and_after_2025(national) -> None:
    ubnd = Counter(
        (o.level.value, o.valid_to is None)
        for o in national.all()
        if o.name.startswith("Ủy ban nhân dân")
    )
    # 34 provinces now (63 before 1 July 2025), no district since, 3,321 communes now.
    assert ubnd[("province", True)] == 34
    assert ubnd[("province", True)] + ubnd[("province", False)] == 63
    assert ubnd[("district", True)] == 0 and ubnd[("district", False)] == 696
    assert ubnd[("commune", True)] >= 3321
    assert ubnd[("commune", False)] >= 10000
    # The sample's organs keep their official codes; the rest carry local ones, marked so.
    assert national.require("000.00.00.H34").code_kind == "official"
    generated = national.match("UBND TỈNH LÀO CAI\nSỞ Y TẾ", on=date(2023, 5, 1)).organ
    assert generated is not None and generated.code_kind == "local" and generated.generated


@pytest.mark.parametrize(
    ("header", "on", "name"),
    [  # the organs of the independent page set (pages2/texts.py)
        ("ỦY BAN NHÂN DÂN\nTỈNH QUẢNG TRỊ", date(2026, 3, 2), "Ủy ban nhân dân tỉnh Quảng Trị"),
        (
            "UBND TỈNH NINH BÌNH\nSỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG",
            date(2022, 4, 5),
            "Sở Tài nguyên và Môi trường tỉnh Ninh Bình",
        ),
        ("UBND TỈNH SÓC TRĂNG\nSỞ Y TẾ", date(2023, 1, 9), "Sở Y tế tỉnh Sóc Trăng"),
        (
            "UBND TỈNH LÀO CAI\nUBND HUYỆN BÁT XÁT",
            date(2021, 6, 1),
            "Ủy ban nhân dân huyện Bát Xát",
        ),
        (
            "UBND HUYỆN TUY PHƯỚC\nUBND XÃ PHƯỚC SƠN",
            date(2020, 2, 3),
            "Ủy ban nhân dân xã Phước Sơn",
        ),
        ("SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ TĨNH", date(2024, 9, 1), "Sở Giáo dục và Đào tạo tỉnh Hà Tĩnh"),
        (
            "SỞ LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI TỈNH BÌNH ĐỊNH",
            date(2022, 7, 7),
            "Sở Lao động - Thương binh và Xã hội tỉnh Bình Định",
        ),
    ],
)
def test_the_organs_of_the_independent_page_set_are_found(national, header, on, name) -> None:
    found = national.match(header, on=on)
    assert found.organ is not None, found.reason
    assert found.organ.name == name


def test_the_documents_date_decides_between_before_and_after_2025(national) -> None:
    before = national.match("UBND HUYỆN ĐẮK HÀ", on=date(2019, 5, 20))
    assert before.organ is not None and before.organ.organ_id == "000.00.52.H34"
    after = national.match("UBND HUYỆN ĐẮK HÀ", on=date(2026, 1, 15))
    assert after.organ is None  # no district exists after 1 July 2025
    assert "existed on 2026-01-15" in after.reason
    # A province merged away: its committee until 30 June 2025, the receiver's after.
    assert national.match("UBND TỈNH YÊN BÁI", on=date(2024, 1, 1)).organ is not None
    assert national.match("UBND TỈNH YÊN BÁI", on=date(2025, 7, 1)).organ is None
    lao_cai = national.match("UBND TỈNH LÀO CAI", on=date(2025, 7, 1)).organ
    assert lao_cai is not None and lao_cai.valid_to is None


def _read(national: OrganRegistry, name: str, parent: str, issued: date) -> Extracted:
    out = Extracted({})
    out.set("organ_name", name, 0.8)
    out.set("organ_parent", parent, 0.8, empty_ok=True)
    out.set("issued_date", issued, 0.95)
    read_registry(national.match_header, out)
    return out


def test_a_tone_slip_takes_the_registrys_spelling(national) -> None:
    out = _read(national, "SỞ THÔNG TIN VÀ TRUYÊN THÔNG", "UBND TỈNH VĨNH PHÚC", date(2021, 3, 4))
    assert out.get("organ_name") == "SỞ THÔNG TIN VÀ TRUYỀN THÔNG"
    assert out.get("organ_id") == "000.00.09.H64"
    assert out.conf("organ_name") >= 0.95


def test_a_header_that_ran_the_parent_into_the_name_is_split(national) -> None:
    out = _read(national, "UBND HUYỆN ĐẮK HÀ UBND THỊ TRẤN ĐẮK HÀ", "", date(2020, 8, 8))
    assert out.get("organ_name") == "UBND THỊ TRẤN ĐẮK HÀ"
    assert out.get("organ_parent") == "UBND HUYỆN ĐẮK HÀ"
    assert out.get("organ_id") == "004.00.52.H34"
    two_lines = national.match("UBND HUYỆN ĐẮK HÀ\nUBND THỊ TRẤN ĐẮK HÀ", on=date(2020, 8, 8))
    assert two_lines.organ is not None and two_lines.organ.organ_id == "004.00.52.H34"


def test_several_fitting_organs_are_listed_in_the_review_reason(national) -> None:
    # Phước Sơn is a commune of several districts: without the parent line any could be meant.
    out = _read(national, "UBND XÃ PHƯỚC SƠN", "", date(2020, 2, 3))
    assert out.get("organ_id") is None
    values = {k: v for k, v in out.values.items() if isinstance(v, Field)}
    reasons = review_reasons(values, [], out.notes)
    (organ_reason,) = [r for r in reasons if r.startswith("organ_name")]
    assert "several organs fit" in organ_reason
    assert organ_reason.count("Ủy ban nhân dân xã Phước Sơn (") >= 2


def test_a_generated_document_is_described_with_the_national_registry(
    national, tmp_path: Path
) -> None:
    doc = make_document(random.Random("national-registry"), 1)
    path = write_pdf_digital(tmp_path / "doc.pdf", doc.pages)
    pages = [text_page_result(p) for p in iter_text_pages(path, [1])]
    meta = extract_metadata(pages, find_organ=national.match_header)
    assert meta.organ_id.value == doc.metadata["organ_id"]
    assert meta.organ_name.value == doc.metadata["organ_name"]


def _cli(tmp_path: Path, *args: str):
    env = {
        **os.environ,
        "SOHOA_DATA_DIR": str(tmp_path / "data"),
        "SOHOA_ORGANS": "national+sample",
    }
    return cli_with_env(env, *args)


def test_organs_show_gives_the_history(tmp_path: Path) -> None:
    shown = _cli(tmp_path, "organs", "show", "000.00.00.H55")  # UBND tỉnh Quảng Ngãi
    assert shown.returncode == 0, shown.stderr
    assert "took over: 000.00.00.H34 Ủy ban nhân dân tỉnh Kon Tum" in shown.stdout
    assert "official (QCVN 102)" in shown.stdout
    district = _cli(tmp_path, "organs", "show", "000.00.52.H34")  # UBND huyện Đắk Hà
    assert "valid: 1994-02-01 – 2025-06-30 (abolished)" in district.stdout
    assert "records now held by: 000.00.00.H55 Ủy ban nhân dân tỉnh Quảng Ngãi" in district.stdout
    office = _cli(tmp_path, "organs", "show", "Phòng Nội vụ huyện Bát Xát")
    assert "local, not official, generated by rule" in office.stdout
    assert (
        "records now held by:" in office.stdout and "Ủy ban nhân dân tỉnh Lào Cai" in office.stdout
    )


def test_exchange_to_an_abolished_organ_is_refused_naming_its_successor(tmp_path: Path) -> None:
    yen_bai = OrganRegistry.national(SAMPLE).match("UBND TỈNH YÊN BÁI", on=date(2024, 1, 1)).organ
    assert yen_bai is not None
    sent = _cli(
        tmp_path, "exchange", "send", "x", "--from", "000.00.00.H55", "--to", yen_bai.organ_id
    )
    assert sent.returncode == 1
    said = " ".join(sent.stderr.split())
    assert f"organ {yen_bai.organ_id} Ủy ban nhân dân tỉnh Yên Bái no longer exists" in said
    assert "its successor:" in said and "Ủy ban nhân dân tỉnh Lào Cai" in said
