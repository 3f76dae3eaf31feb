"""Which key zones the page step reads a second time (`pipeline.zones.doubtful_zones`, issue 17
round 13): only those whose second read can change an answer, on noisy pages as on clean ones.
Before, a page measured as noisy (median-filtered) read every zone again, sure or not: in a
multi-document scan of heavy pages that was three extra Tesseract reads on every first and last
page. Pages are word boxes laid out as an A4 page (tests/test_metadata_unseen)."""

from __future__ import annotations

from pipeline.flags import NOISY_PAGE_FLAG
from pipeline.zones import doubtful_zones, ink_read_needed, key_zone_boxes
from schemas.models import PageResult, Word
from tests.test_metadata_signer_organ import _commune_rows, _with_name_conf
from tests.test_metadata_unseen import _footer, _page


def _noisy(page: PageResult) -> PageResult:
    return page.model_copy(update={"quality_flags": [NOISY_PAGE_FLAG]})


def _read_again(page: PageResult) -> set[str]:
    boxes = key_zone_boxes(page)
    assert set(boxes) == {"subject", "signer"}  # both zones found on the page
    return set(doubtful_zones(page, boxes))


def test_a_noisy_page_read_surely_reads_no_zone_again() -> None:
    page = _noisy(_page(*_commune_rows(_footer("Hồ Văn Dũng", top=2300))))
    assert _read_again(page) == set()


def test_a_noisy_page_reads_again_the_zone_whose_answer_it_doubts() -> None:
    unsure_name = _with_name_conf(_footer("Hồ Văn Dũng", top=2300), "Dũng", 60.0)
    page = _noisy(_page(*_commune_rows(unsure_name)))
    assert _read_again(page) == {"signer"}
    rows = _commune_rows(_footer("Hồ Văn Dũng", top=2300))
    (subject,) = [row for row in rows if row[0].text == "Triển"]  # "Triển khai công tác văn thư"
    subject[1].confidence = 60.0
    assert _read_again(_noisy(_page(*rows))) == {"subject"}


def test_a_noisy_page_whose_name_line_was_dropped_reads_the_signer_zone() -> None:
    footer = _footer("x", top=2300)[:5]  # Nơi nhận, KT. CHỦ TỊCH, PHÓ CHỦ TỊCH: no name line
    page = _noisy(_page(*_commune_rows(footer)))
    assert "signer" in _read_again(page)


# The signer zone's second read with its lighter ink whitened (round 14): only where the zone's
# plain read leaves the answer open. On the 24 pages2 pages the page step read it on 13 pages;
# on 2 the plain read had found the page read's name surely, and dropping the ink read there
# changed no field (docs/benchmarks.md "OCR cost per page, round 14").


def _zone_read(name: str, unsure: str | None = None) -> list[Word]:
    """The signer block's lines as the zone's plain read has them (page coordinates)."""
    rows = _footer(name, top=2300)[3:]  # KT. CHỦ TỊCH, PHÓ CHỦ TỊCH, the name
    if unsure:
        rows = _with_name_conf(rows, unsure, 60.0)
    return [w.model_copy(update={"block": 1000 + w.block}) for row in rows for w in row]


def _doubted_name_page() -> PageResult:
    footer = _with_name_conf(_footer("Hồ Văn Dũng", top=2300), "Dũng", 60.0)
    page = _page(*_commune_rows(footer))
    assert "signer" in doubtful_zones(page, key_zone_boxes(page))
    return page


def test_the_ink_read_is_skipped_where_the_plain_zone_read_confirms_the_name_surely() -> None:
    assert not ink_read_needed(_doubted_name_page(), _zone_read("Hồ Văn Dũng"))


def test_the_ink_read_runs_where_the_plain_zone_read_leaves_the_name_open() -> None:
    page = _doubted_name_page()
    assert ink_read_needed(page, _zone_read("Hồ Văn Dũng", unsure="Dũng"))  # unsure there too
    assert ink_read_needed(page, _zone_read("Hồ Văn Dương"))  # another name than the page's
    assert ink_read_needed(page, _zone_read("x"))  # no name found


def test_the_ink_read_runs_where_the_page_read_found_no_name() -> None:
    """The zone's titles are taken then too, and a seal over them is what the ink read is for."""
    footer = _footer("x", top=2300)[:5]  # no name line
    page = _page(*_commune_rows(footer))
    assert ink_read_needed(page, _zone_read("Hồ Văn Dũng"))
