"""Signer names under seals (issue 18, round 15): a word only one read of the block has, specks
a seal leaves in another read's line, a page read that lost the family name to a line of its
own, a page read whose tone slip makes no name — none of them keeps a name the reads agree on
flagged; a rival word, a word that is no name, a tone that makes another name still do.
Pages are word boxes laid out as an A4 page (tests/test_metadata_unseen)."""

from __future__ import annotations

from pipeline.layout import page_lines
from pipeline.signer_reads import agreed_confidence
from pipeline.zones import SIGNER_INK_ZONE
from schemas.models import PageResult, Word
from tests.test_metadata_round14 import (
    _block,
    _national,
    _no_page_name,
    _read,
    _signer_reasons,
)
from tests.test_metadata_signer_organ import _commune_rows
from tests.test_metadata_unseen import _footer, _page


def _with_page_name(name_rows: list[list[Word]], zones: dict[str, list[Word]]) -> PageResult:
    """The page read found the signer's titles and `name_rows` under them."""
    rows = _commune_rows(_footer("x", top=2300)[:5])
    return _page(*rows, *name_rows).model_copy(update={"zones": zones})


# =========================================================================== one read of a word


def test_a_word_a_seal_hid_from_one_read_counts_as_the_other_read_has_it() -> None:
    """pages2 tuning #28: as scanned `f2 Trân Tnp Huyền` (`Tnp` at 24: the seal's specks), with
    the seal whitened `Trần Thị Huyền` (`Trần` at 79, `Huyền` at 81). Both reads have `Trần`'s
    letters and `Huyền` (one at 97), `Thị` only the second, at 97: the name is sure."""
    scanned = _block(_read([("f2", 57.0), ("Trân", 14.0), ("Tnp", 24.0), ("Huyền", 97.0)], 2630, 3))
    ink = _block(_read([("Trần", 79.0), ("Thị", 97.0), ("Huyền", 81.0)], 2630, 3))
    meta = _national(_no_page_name({"signer": scanned, SIGNER_INK_ZONE: ink}))
    assert meta.signer_name.value == "Trần Thị Huyền"
    assert _signer_reasons(meta) == []


def test_another_word_read_fairly_surely_where_the_name_has_one_is_a_rival() -> None:
    """The same reads, but the first has `Tnp` at 70: a reading of the middle name that is not
    `Thị`, so the reads do not agree and the name stays flagged."""
    scanned = _block(_read([("Trân", 14.0), ("Tnp", 70.0), ("Huyền", 97.0)], 2630, 3))
    ink = _block(_read([("Trần", 79.0), ("Thị", 97.0), ("Huyền", 81.0)], 2630, 3))
    meta = _national(_no_page_name({"signer": scanned, SIGNER_INK_ZONE: ink}))
    assert meta.signer_name.value == "Trần Thị Huyền"
    assert _signer_reasons(meta)


def test_a_name_word_read_unsurely_where_the_name_has_another_is_a_rival() -> None:
    """`Lan` at 30 is no speck: it is a name, and the reads name the middle word otherwise."""
    scanned = _block(_read([("Trân", 14.0), ("Lan", 30.0), ("Huyền", 97.0)], 2630, 3))
    ink = _block(_read([("Trần", 79.0), ("Thị", 97.0), ("Huyền", 81.0)], 2630, 3))
    meta = _national(_no_page_name({"signer": scanned, SIGNER_INK_ZONE: ink}))
    assert _signer_reasons(meta)


def test_a_word_one_read_has_that_is_no_name_word_is_not_counted() -> None:
    """`Vấn` is no name syllable: read once at 97 it stays a doubt, however sure the read."""
    scanned = _block(_read([("Trân", 14.0), ("Huyền", 97.0)], 2630, 3))
    ink = _block(_read([("Trần", 79.0), ("Vấn", 97.0), ("Huyền", 81.0)], 2630, 3))
    meta = _national(_no_page_name({"signer": scanned, SIGNER_INK_ZONE: ink}))
    assert meta.signer_name.value == "Trần Vấn Huyền"
    assert _signer_reasons(meta)


def test_reads_that_spell_a_word_with_two_name_tones_agree_on_nothing() -> None:
    """pages2 tuning #50: the page read's line has `Tuấn` at 97, the zone's `Tuần` at 86: the
    letters agree, the names do not."""
    page = _page(_read([("Thị", 96.0), ("Tuấn", 97.0)], 2630, 45))
    scanned = _page(_read([("Bùi", 96.0), ("Thị", 95.0), ("Tuần", 86.0)], 2630, 3))
    ink = _page(_read([("Bùi", 96.0), ("Thị", 96.0), ("Tuần", 69.0)], 2630, 3))
    reads = [list(page_lines(p).segments) for p in (page, scanned, ink)]
    assert agreed_confidence("Bùi Thị Tuần", reads) is None
    assert agreed_confidence("Bùi Thị Tuần", reads[1:]) is not None


# =========================================================================== the page read


def test_a_page_read_that_lost_the_family_name_to_its_own_line_is_no_rival() -> None:
    """pages2 tuning #73: the page read has `Xuân Khải` and, on a line under it, `Phạm` at 30;
    the whitened zone reads `Phạm Xuân Khải` at 97. The page read agrees with it."""
    name_rows = [
        _read([("Xuân", 87.0), ("Khải", 96.0)], 2630, 45, left=1650),
        _read([("Phạm", 30.0)], 2700, 46, left=1500),
    ]
    ink = _block(_read([("Phạm", 97.0), ("Xuân", 97.0), ("Khải", 97.0)], 2630, 3))
    meta = _national(_with_page_name(name_rows, {SIGNER_INK_ZONE: ink}))
    assert meta.signer_name.value == "Phạm Xuân Khải"
    assert _signer_reasons(meta) == []


def test_a_page_read_with_other_given_names_stays_a_rival() -> None:
    """`Xuân Khoa` is not `Phạm Xuân Khải` without its family name: two readings."""
    name_rows = [_read([("Xuân", 87.0), ("Khoa", 96.0)], 2630, 45, left=1650)]
    ink = _block(_read([("Phạm", 97.0), ("Xuân", 97.0), ("Khải", 97.0)], 2630, 3))
    meta = _national(_with_page_name(name_rows, {SIGNER_INK_ZONE: ink}))
    assert _signer_reasons(meta)


def test_a_tone_slip_that_makes_no_name_does_not_dispute_two_sure_reads() -> None:
    """pages2 tuning #66: the page read `Phạm Quang Ảnh` (`Ảnh` at 65 is no name), both zone
    reads `Phạm Quang Ánh` at 96–97."""
    name_rows = [_read([("Phạm", 97.0), ("Quang", 97.0), ("Ảnh", 65.0)], 2630, 45, left=1650)]
    read = _block(_read([("Phạm", 97.0), ("Quang", 96.0), ("Ánh", 96.0)], 2630, 3))
    meta = _national(_with_page_name(name_rows, {"signer": read, SIGNER_INK_ZONE: read}))
    assert meta.signer_name.value == "Phạm Quang Ánh"
    assert _signer_reasons(meta) == []


def test_a_tone_that_makes_another_name_is_named_in_the_reason() -> None:
    """The page read `Anh` (a name too) against `Ánh`: the reason names the syllable and both
    names, and the document goes to a person."""
    name_rows = [_read([("Phạm", 97.0), ("Quang", 97.0), ("Anh", 65.0)], 2630, 45, left=1650)]
    read = _block(_read([("Phạm", 97.0), ("Quang", 96.0), ("Ánh", 96.0)], 2630, 3))
    meta = _national(_with_page_name(name_rows, {"signer": read, SIGNER_INK_ZONE: read}))
    reasons = _signer_reasons(meta)
    assert reasons
    assert "tone uncertain" in reasons[0]
    assert "Anh/Ánh" in reasons[0]
