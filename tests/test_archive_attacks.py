"""`sohoa archive import` attacked by a hostile package sender (docs/preservation.md,
"Importing packages from others"): zip bombs, names leaving the folder, symlinks, bags whose
manifest matches but whose JSON lies, duplicate and conflicting ids, too many files."""

from __future__ import annotations

import json
import re
import shutil
import stat
import zipfile
from pathlib import Path

import bagit
import pytest
from fastapi.testclient import TestClient

from accounts.service import Accounts
from app.api import create_app
from app.compose import build_store
from app.config import Settings
from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_ORGAN, TEST_PASSWORD
from tests.test_archive import lines, ok, sohoa
from tests.test_web import HTML

DOSSIER = "2025.HS-77"
NOT_AN_ORGAN = "999.99.99.Z99"


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, list[str]]:
    """(installation, its export folder, ids): two documents filed in a dossier, one alone."""
    folder = tmp_path_factory.mktemp("papers")
    docs = make_documents(3, seed=57, pages=1)
    paths = [str(write_pdf_digital(folder / f"vb{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    data = tmp_path_factory.mktemp("source")
    filed = lines(ok(sohoa(data, "ingest", *paths[:2], "--dossier", DOSSIER, "--title", "Hồ sơ",
                           "--json", "--no-progress")))  # fmt: skip
    alone = lines(ok(sohoa(data, "ingest", paths[2], "--json", "--no-progress")))
    ids = [row["document_id"] for row in filed + alone if "document_id" in row]
    out = tmp_path_factory.mktemp("export") / "bags"
    ok(sohoa(data, "archive", "export", "--all", "-o", str(out), "--no-progress"))
    return data, out, ids


@pytest.fixture
def bags(exported, tmp_path) -> tuple[Path, list[str]]:
    """A copy of the export each test may spoil."""
    _, out, ids = exported
    shutil.copytree(out, tmp_path / "bags")
    return tmp_path / "bags", ids


def dossier_bag(folder: Path) -> Path:
    return folder / f"dossier-{DOSSIER}"


def alone_bag(folder: Path, ids: list[str]) -> Path:
    return folder / f"document-{ids[2][:16]}"


def rebag(bag: Path) -> None:
    """The liar's last step: manifests and Payload-Oxum rewritten to match what it changed."""
    bagit.Bag(str(bag)).save(manifests=True)


def edit_json(path: Path, change) -> None:  # noqa: ANN001
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1))


def import_into(target: Path, source: Path, *extra: str):
    return sohoa(target, "archive", "import", str(source), *extra)


def assert_nothing_restored(target: Path, ids: list[str]) -> None:
    for doc_id in ids:
        assert sohoa(target, "show", doc_id, "--json").returncode != 0, doc_id


# ------------------------------------------------------------------ zip files


def _zip_of_bag(bag: Path, archive: Path, extra: dict[str, bytes] | None = None) -> None:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(p for p in bag.rglob("*") if p.is_file()):
            z.write(path, f"{bag.name}/{path.relative_to(bag).as_posix()}")
        for name, body in (extra or {}).items():
            z.writestr(name, body)


LEAVING = (
    "../escaped.txt",
    "/tmp/escaped-absolute.txt",
    "bag\\..\\..\\escaped.txt",
    "b/../../escaped",
)


@pytest.mark.parametrize("name", LEAVING)
def test_a_zip_entry_leaving_the_folder_refuses_the_zip_and_writes_nothing(
    bags, tmp_path, name
) -> None:
    folder, ids = bags
    archive = tmp_path / "in" / "hostile.zip"
    archive.parent.mkdir()
    _zip_of_bag(alone_bag(folder, ids), archive, {name: b"owned"})
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1
    assert f"the entry {name!r} has" in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.rglob("escaped*")) and not Path("/tmp/escaped-absolute.txt").exists()
    assert_nothing_restored(tmp_path / "target", ids)


def test_a_symlink_entry_in_a_zip_refuses_the_zip(bags, tmp_path) -> None:
    folder, ids = bags
    archive = tmp_path / "hostile.zip"
    _zip_of_bag(alone_bag(folder, ids), archive)
    with zipfile.ZipFile(archive, "a") as z:
        link = zipfile.ZipInfo(f"{alone_bag(folder, ids).name}/data/link")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1 and "is a symlink" in result.stderr
    assert_nothing_restored(tmp_path / "target", ids)


def test_a_zip_bomb_is_refused_before_it_is_extracted(bags, tmp_path) -> None:
    """300 MB of zeros deflate to ~300 kB: refused by its ratio, the good bag goes on."""
    folder, ids = bags
    archive = tmp_path / "bomb.zip"
    _zip_of_bag(alone_bag(folder, ids), archive)
    with (
        zipfile.ZipFile(archive, "a", compression=zipfile.ZIP_DEFLATED) as z,
        z.open("bomb/data/zeros.bin", "w", force_zip64=True) as entry,
    ):
        for _ in range(300):
            entry.write(bytes(1024 * 1024))
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1
    assert "refused bomb: bomb/data/zeros.bin expands" in result.stderr
    assert "a zip bomb" in result.stderr
    assert f"restored {alone_bag(folder, ids).name}: 1 document(s)" in result.stdout
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".sohoa-import-")]


def _declare_sizes(archive: Path, size: int) -> None:
    """Rewrite every central-directory entry's uncompressed size (what a bomb declares)."""
    raw = bytearray(archive.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        raw[at + 24 : at + 28] = size.to_bytes(4, "little")
        at = raw.find(b"PK\x01\x02", at + 4)
    archive.write_bytes(bytes(raw))


def test_declared_sizes_larger_than_the_free_disk_refuse_the_bag(bags, tmp_path) -> None:
    folder, ids = bags
    archive = tmp_path / "huge.zip"
    bag = dossier_bag(folder)
    for n in range(200):  # 200 entries declaring ~4 GB each: 800 GB, more than any test disk
        (bag / f"pad{n}.txt").write_bytes(b"x")
    _zip_of_bag(bag, archive)
    _declare_sizes(archive, 0xFFFFFF00)
    assert shutil.disk_usage(tmp_path).free < 200 * 0xFFFFFF00
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1
    assert re.search(r"refused dossier-\S+: declares \d+ MB uncompressed, more than", result.stderr)
    assert_nothing_restored(tmp_path / "target", ids[:2])


def test_a_header_declaring_less_than_its_data_is_refused_by_its_crc(bags, tmp_path) -> None:
    folder, ids = bags
    archive = tmp_path / "short.zip"
    _zip_of_bag(alone_bag(folder, ids), archive)
    raw = bytearray(archive.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # local, central
        at = raw.find(signature)
        while at != -1:
            size = int.from_bytes(raw[at + offset : at + offset + 4], "little")
            raw[at + offset : at + offset + 4] = max(size - 3, 0).to_bytes(4, "little")
            at = raw.find(signature, at + 4)
    archive.write_bytes(bytes(raw))
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1
    assert f"refused {alone_bag(folder, ids).name}:" in result.stderr
    assert "Traceback" not in result.stderr
    assert_nothing_restored(tmp_path / "target", ids)


def test_a_bag_of_100000_tiny_files_is_refused_without_extracting_them(bags, tmp_path) -> None:
    folder, ids = bags
    archive = tmp_path / "many.zip"
    _zip_of_bag(alone_bag(folder, ids), archive)
    with zipfile.ZipFile(archive, "a") as z:
        for n in range(100_000):
            z.writestr(f"many/data/f{n}", b"")
    result = import_into(tmp_path / "target", archive)
    assert result.returncode == 1
    assert "refused many: 100000 files: more than the 50000 a bag may hold" in result.stderr
    assert f"restored {alone_bag(folder, ids).name}: 1 document(s)" in result.stdout


def test_not_a_zip_is_a_clear_error(tmp_path) -> None:
    fake = tmp_path / "bags.zip"
    fake.write_bytes(b"PK\x03\x04 not really")
    result = import_into(tmp_path / "target", fake)
    assert result.returncode == 1
    assert "bags.zip is not a readable zip file" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------ bag folders


def test_a_symlink_in_a_bag_folder_refuses_the_bag(bags, tmp_path) -> None:
    """The link points at a copy with the same bytes (bagit itself refuses a link leaving the
    bag, as unsafe; sohoa refuses any link before bagit reads the bag)."""
    folder, ids = bags
    bag = alone_bag(folder, ids)
    original = bag / "data/representations/rep1/data/original.pdf"
    elsewhere = tmp_path / "elsewhere.pdf"
    shutil.copy(original, elsewhere)
    original.unlink()
    original.symlink_to(elsewhere)
    result = import_into(tmp_path / "target", folder)
    assert result.returncode == 1
    assert "data/representations/rep1/data/original.pdf is a symlink" in result.stderr
    assert f"restored dossier-{DOSSIER}: 2 document(s)" in result.stdout
    assert_nothing_restored(tmp_path / "target", ids[2:])


# ------------------------------------------------------------------ bags that lie


def _alone_paths(folder: Path, ids: list[str]) -> tuple[Path, Path, Path]:
    payload = alone_bag(folder, ids) / "data"
    other = payload / "metadata/other" / ids[2]
    return payload / "metadata/other/package.json", other / "record.json", other / "access.json"


def _refused(target: Path, folder: Path, ids: list[str], why: str) -> None:
    result = import_into(target, folder)
    assert result.returncode == 1, result.stdout
    assert f"refused {alone_bag(folder, ids).name}: " in result.stderr
    assert why in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert f"restored dossier-{DOSSIER}: 2 document(s)" in result.stdout  # the others go on
    assert_nothing_restored(target, ids[2:])


def test_a_cut_document_claim_does_not_let_another_file_be_stored_as_an_original(
    bags, tmp_path
) -> None:
    """A record claiming to be cut from a scan carries a file that is not its original."""
    folder, ids = bags
    _, record, _ = _alone_paths(folder, ids)
    edit_json(record, lambda r: r.update(source_id=ids[0], page_range=[1, 1]))
    original = alone_bag(folder, ids) / "data/representations/rep1/data/original.pdf"
    original.write_bytes(b"%PDF-1.7 not the bytes whose SHA-256 is the id")
    rebag(alone_bag(folder, ids))
    _refused(tmp_path / "target", folder, ids, f"is not the original of document {ids[2]}")


def test_an_owner_organ_not_in_the_registry_is_refused(bags, tmp_path) -> None:
    folder, ids = bags
    index, _, access = _alone_paths(folder, ids)
    owner = json.dumps({"organ": NOT_AN_ORGAN, "at": "2025-01-01T00:00:00+00:00"})
    edit_json(access, lambda a: a.update(owner=owner))
    edit_json(index, lambda i: i["documents"][0].update(owner=NOT_AN_ORGAN))
    rebag(alone_bag(folder, ids))
    _refused(tmp_path / "target", folder, ids, f"names the organ '{NOT_AN_ORGAN}', which is not")


def test_an_owner_other_than_the_package_index_says_is_refused(bags, tmp_path) -> None:
    folder, ids = bags
    _, _, access = _alone_paths(folder, ids)
    owner = json.dumps({"organ": "000.00.12.G09", "at": "2025-01-01T00:00:00+00:00"})
    edit_json(access, lambda a: a.update(owner=owner))
    rebag(alone_bag(folder, ids))
    _refused(tmp_path / "target", folder, ids, "is 000.00.12.G09 in its access objects but")


def test_a_grant_to_an_organ_not_in_the_registry_is_refused(bags, tmp_path) -> None:
    folder, ids = bags
    _, _, access = _alone_paths(folder, ids)
    grant = {"organ": NOT_AN_ORGAN, "via": "share", "at": "2025-01-01T00:00:00+00:00"}
    edit_json(access, lambda a: a.update({f"organs/{NOT_AN_ORGAN}": json.dumps(grant)}))
    rebag(alone_bag(folder, ids))
    _refused(tmp_path / "target", folder, ids, f"a grant of {ids[2]} names the organ")


def test_a_package_index_that_does_not_read_is_refused_not_a_crash(bags, tmp_path) -> None:
    folder, ids = bags
    index, _, _ = _alone_paths(folder, ids)
    index.write_text('{"format": 1, "documents": [{"id": "' + ids[2] + '"}]}')
    rebag(alone_bag(folder, ids))
    _refused(tmp_path / "target", folder, ids, "the package index names None as a file")


def test_a_dossier_listing_documents_outside_the_bag_is_refused(exported, bags, tmp_path) -> None:
    """Else importing it would file this installation's own documents into the dossier."""
    source, _, _ = exported
    folder, ids = bags
    bag = dossier_bag(folder)
    stranger = ids[2]
    edit_json(bag / "data/metadata/other/dossier.json", lambda d: d["documents"].append(stranger))
    rebag(bag)
    target = tmp_path / "target"
    shutil.copytree(source, target)  # an installation that holds the stranger
    result = import_into(target, bag)
    assert result.returncode == 1
    assert f"dossier {DOSSIER} lists {stranger}, not in the bag" in result.stderr


def test_script_in_imported_metadata_is_shown_as_text_by_the_web_app(bags, tmp_path) -> None:
    folder, ids = bags
    _, record, _ = _alone_paths(folder, ids)
    script = '<script>alert("x")</script><img src=x onerror=alert(1)>'

    def poison(r: dict) -> None:
        r["metadata"]["subject"]["value"] = script
        r["source_name"] = script + ".pdf"

    edit_json(record, poison)
    rebag(alone_bag(folder, ids))
    target = tmp_path / "target"
    ok(import_into(target, alone_bag(folder, ids)))
    settings = Settings(data_dir=target, organ=TEST_ORGAN)
    Accounts(build_store(settings)).add_user("root", "admin", TEST_ORGAN, TEST_PASSWORD)
    client = TestClient(create_app(settings), headers=HTML)
    client.post("/login", data={"login": "root", "password": TEST_PASSWORD})
    client.app.state.worker_pool = None
    page = client.get(f"/documents/{ids[2]}/view")
    assert page.status_code == 200
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;alert(" in page.text


# ------------------------------------------------------------------ ids seen twice


def test_the_same_id_with_other_content_is_a_conflict_and_the_copy_here_is_kept(
    exported, bags, tmp_path
) -> None:
    """Across two bags of one import, and into an installation that already holds it."""
    source, _, _ = exported
    folder, ids = bags
    liar = folder / "zz-liar"
    shutil.copytree(alone_bag(folder, ids), liar)
    record = liar / "data/metadata/other" / ids[2] / "record.json"
    edit_json(record, lambda r: r["metadata"]["subject"].update(value="Nội dung khác hẳn"))
    rebag(liar)
    target = tmp_path / "target"
    result = import_into(target, folder, "--json")
    assert result.returncode == 1
    by_bag = {b["bag"]: b for b in lines(result.stdout)}
    assert by_bag[alone_bag(folder, ids).name]["restored"] == [ids[2]]
    assert by_bag["zz-liar"]["conflicts"] == [ids[2]] and not by_bag["zz-liar"]["restored"]
    shown = json.loads(ok(sohoa(target, "show", ids[2], "--json")))
    original = json.loads(ok(sohoa(source, "show", ids[2], "--json")))
    assert shown == original
    again = import_into(target, liar)
    assert again.returncode == 1
    assert f"conflict zz-liar: document {ids[2]} is already here with other content" in (
        again.stderr
    )
    assert json.loads(ok(sohoa(target, "show", ids[2], "--json"))) == original


def test_neither_the_api_nor_the_web_app_exports_packages(tmp_path) -> None:
    """The CLI is the operator; no HTTP route packs records a user might not see."""
    app = create_app(Settings(data_dir=tmp_path / "data", organ=TEST_ORGAN))
    paths = [getattr(r, "path", "") for r in app.routes]
    assert paths and not [p for p in paths if re.search(r"archive|export|backup", p)]
