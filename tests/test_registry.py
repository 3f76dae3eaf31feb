"""The organ registry: lookups from printed headers, levels, organs that no longer exist."""

from datetime import date

import pytest

from organs.registry import OrganRegistry, RegistryError
from schemas.errors import NotFound


@pytest.fixture(scope="module")
def registry() -> OrganRegistry:
    return OrganRegistry.default()


def test_sample_covers_all_four_levels(registry):
    assert {o.level.value for o in registry.all()} == {"central", "province", "district", "commune"}


def test_header_lines_find_the_organ_with_its_parent(registry):
    organ = registry.find("ỦY BAN NHÂN DÂN XÃ HOÀNG HOA", "UBND HUYỆN TAM DƯƠNG")
    assert organ is not None and organ.level.value == "commune"
    assert registry.get(organ.parent).name == "Ủy ban nhân dân huyện Tam Dương"
    # Written without diacritics or with the abbreviation: the same organ.
    assert registry.find("UBND xa Hoang Hoa", "UBND huyen Tam Duong") == organ


def test_a_parent_line_that_contradicts_the_registry_gives_no_answer(registry):
    assert registry.find("SỞ NỘI VỤ", "UBND TỈNH KON TUM").organ_id == "000.00.02.H34"
    assert registry.find("SỞ NỘI VỤ", "UBND TỈNH VĨNH PHÚC") is None
    assert registry.find("SỞ KHÔNG CÓ") is None


def test_abolished_district_stays_reachable(registry):
    district = registry.require("000.00.52.H34")
    assert district.level.value == "district"
    assert district.valid_to == date(2025, 6, 30)
    assert not district.active_on(date(2026, 1, 1)) and district.active_on(date(2023, 11, 14))
    assert registry.find("UBND HUYỆN ĐẮK HÀ") == district
    assert [o.organ_id for o in registry.ancestors("001.00.52.H34")] == [
        "000.00.52.H34",
        "000.00.00.H34",
    ]


def test_lookup_by_id_or_words(registry):
    assert registry.lookup("000.00.00.G09")[0].name == "Bộ Nội vụ"
    names = {o.name for o in registry.lookup("dak ha")}
    assert "Ủy ban nhân dân huyện Đắk Hà" in names and "Phòng Nội vụ huyện Đắk Hà" in names
    with pytest.raises(NotFound, match="no organ"):
        registry.require("999.99.99.X99")


def test_bad_registry_file_is_refused_with_its_line(tmp_path):
    path = tmp_path / "organs.csv"
    path.write_text(
        "organ_id,name,level,parent,valid_from,valid_to,aliases\n"
        "000.00.00.H34,Ủy ban nhân dân tỉnh Kon Tum,province,,,,\n"
        "not-an-id,Sở X,province,000.00.00.H34,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="line 3"):
        OrganRegistry.load(path)
    path.write_text(
        "organ_id,name,level,parent,valid_from,valid_to,aliases\n"
        "000.00.02.H34,Sở Nội vụ,province,000.00.00.H34,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(RegistryError, match="not listed"):
        OrganRegistry.load(path)


def test_the_registry_the_settings_name_is_the_one_ingest_reads(tmp_path) -> None:
    """`Settings.organs` reaches the metadata of ingested records (the workers once read the
    shipped sample, or SOHOA_ORGANS from the environment, whatever the settings said)."""
    from app.compose import build_services
    from app.config import Settings
    from corpus import generate_batch
    from organs.registry import SAMPLE
    from workers.batch import outcome, submit_all, wait_for
    from workers.runtime import WorkerPool

    # The shipped organs under other ids (000.xx → 999.xx, parents too).
    custom = tmp_path / "organs.csv"
    custom.write_text(SAMPLE.read_text(encoding="utf-8").replace("000.", "999."), "utf-8")
    manifest = generate_batch(
        tmp_path / "in", pages=1, seed=5, formats=("pdf_digital",), levels=("clean",)
    )
    services = build_services(Settings(data_dir=tmp_path / "data", organs=str(custom)))
    with WorkerPool(services, "", threads=1) as pool:
        subs = submit_all(services, pool, [tmp_path / "in" / manifest.files[0].file])
        wait_for(services, pool, subs, None)
    _, doc, _ = outcome(services, subs[0])
    assert doc is not None
    assert str(doc.metadata.organ_id.value).startswith("999."), doc.metadata.organ_id
