"""`sohoa archive export|import`: BagIt bags laid out as E-ARK SIPs, and their round trip into
an empty installation (docs/preservation.md)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path

import bagit
import pytest
from lxml import etree

from corpus import make_documents, write_pdf_digital
from tests.conftest import TEST_ORGAN, cli_with_env

DOSSIER = "2024.HS-09"
TITLE = "Hồ sơ cải cách hành chính năm 2024"
OTHER_ORGAN = "000.00.12.G09"  # another organ of the shipped registry, shared one record
METS = "{http://www.loc.gov/METS/}"
PREMIS = "{http://www.loc.gov/premis/v3}"
XLINK = "{http://www.w3.org/1999/xlink}"
QUERIES = ("quyết định", "uy ban nhan dan")
SCHEMAS = Path(__file__).parent / "schemas"  # the published XSDs, vendored (README there)
SCHEMA_URLS = {"http://www.loc.gov/standards/xlink/xlink.xsd": "xlink.xsd"}
METS_SCHEMAS = (
    ("http://www.loc.gov/METS/", "mets.xsd"),
    ("https://DILCIS.eu/XML/METS/CSIPExtensionMETS", "DILCISExtensionMETS.xsd"),
    ("https://DILCIS.eu/XML/METS/SIPExtensionMETS", "DILCISExtensionSIPMETS.xsd"),
)
PREMIS_SCHEMAS = (("http://www.loc.gov/premis/v3", "premis.xsd"),)


def sohoa(data: Path, *args: str):
    env = {**os.environ, "SOHOA_DATA_DIR": str(data), "SOHOA_ORGAN": TEST_ORGAN}
    return cli_with_env(env, *args)


def ok(result) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def installation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Four born-digital documents: two filed in a dossier, two alone, one shared."""
    folder = tmp_path_factory.mktemp("papers")
    docs = make_documents(4, seed=23, pages=1)
    paths = [str(write_pdf_digital(folder / f"vb{i}.pdf", d.pages)) for i, d in enumerate(docs)]
    data = tmp_path_factory.mktemp("source")
    filed = lines(ok(sohoa(data, "ingest", *paths[:2], "--dossier", DOSSIER, "--title", TITLE,
                           "--json", "--no-progress")))  # fmt: skip
    alone = lines(ok(sohoa(data, "ingest", *paths[2:], "--json", "--no-progress")))
    ids = [row["document_id"] for row in filed + alone if "document_id" in row]
    assert len(ids) == 4
    ok(sohoa(data, "share", ids[2], "--with", OTHER_ORGAN))
    return data, ids


def _state(data: Path, ids: list[str]) -> dict:
    """What a user sees: every record, its sharing, the dossier, and search results."""
    shown = {i: json.loads(ok(sohoa(data, "show", i, "--json"))) for i in ids}
    shares = {}
    for i in ids[1:3]:  # one shared with another organ, one not
        sharing = json.loads(ok(sohoa(data, "share", i, "--json")))
        shares[i] = (sharing["owner"], sorted((g["organ"], g["via"]) for g in sharing["organs"]))
    dossier = json.loads(ok(sohoa(data, "dossier", "show", DOSSIER, "--json")))
    searches = {}
    for query in QUERIES:
        hits = json.loads(ok(sohoa(data, "search", query, "--json", "--limit", "20")))["hits"]
        searches[query] = [(h["document_id"], round(h["score"], 6)) for h in hits]
    return {"show": shown, "share": shares, "dossier": dossier, "search": searches}


class _Vendored(etree.Resolver):
    """Every schema import answered from tests/schemas/, never from the network."""

    def resolve(self, url, pubid, context):  # noqa: ANN001, ANN201
        name = SCHEMA_URLS.get(url, Path(url).name)
        path = SCHEMAS / name
        assert path.is_file(), f"the schema {url} is not vendored in tests/schemas/"
        return self.resolve_filename(str(path), context)


def _schema(imports: tuple[tuple[str, str], ...]) -> etree.XMLSchema:
    """One schema importing the published ones (so METS's lax extension attributes, the
    E-ARK CSIP/SIP ones, are validated too)."""
    lines = "".join(f'<xs:import namespace="{ns}" schemaLocation="{f}"/>' for ns, f in imports)
    wrapper = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'targetNamespace="urn:sohoa:test:schemas">{lines}</xs:schema>'
    )
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Vendored())
    root = etree.fromstring(wrapper.encode(), parser, base_url=str(SCHEMAS / "wrapper.xsd"))
    return etree.XMLSchema(etree.ElementTree(root))


def assert_valid_against_published_schemas(folder: Path) -> int:
    """Every METS.xml and PREMIS file under `folder` valid per METS 1.12 + E-ARK CSIP/SIP
    and PREMIS 3.0; how many were checked."""
    mets_schema, premis_schema = _schema(METS_SCHEMAS), _schema(PREMIS_SCHEMAS)
    checked = 0
    for path in sorted(folder.rglob("*.xml")):
        schema = {"METS.xml": mets_schema}.get(path.name)
        if path.name.endswith(".premis.xml"):
            schema = premis_schema
        if schema is None:
            continue
        assert schema.validate(etree.parse(str(path))), f"{path}: {schema.error_log}"
        checked += 1
    return checked


def _bags(folder: Path) -> dict[str, Path]:
    return {p.name: p for p in folder.iterdir() if (p / "bagit.txt").is_file()}


@pytest.fixture(scope="module")
def exported(installation, tmp_path_factory) -> Path:
    data, _ = installation
    out = tmp_path_factory.mktemp("export") / "bags"
    result = sohoa(data, "archive", "export", "--all", "-o", str(out), "--no-progress")
    ok(result)
    assert "3 bag(s), 4 document(s)" in result.stdout
    return out


def test_export_all_then_import_into_an_empty_installation_restores_what_users_see(
    installation, exported, tmp_path
) -> None:
    data, ids = installation
    target = tmp_path / "restored"
    result = sohoa(target, "archive", "import", str(exported))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("restored ") == 3
    assert _state(target, ids) == _state(data, ids)
    again = sohoa(target, "archive", "import", str(exported), "--json")
    assert again.returncode == 0
    assert all(not b["restored"] and b["present"] for b in lines(again.stdout))


def test_one_bag_per_dossier_and_per_document_outside_any(installation, exported) -> None:
    _, ids = installation
    bags = _bags(exported)
    assert sorted(bags) == sorted(
        [f"dossier-{DOSSIER}", f"document-{ids[2][:16]}", f"document-{ids[3][:16]}"]
    )
    for bag_dir in bags.values():
        bag = bagit.Bag(str(bag_dir))
        bag.validate()
        assert list(bag.algorithms) == ["sha256"]
    info = bagit.Bag(str(bags[f"dossier-{DOSSIER}"])).info
    assert info["Source-Organization"] == TEST_ORGAN
    assert info["External-Identifier"] == DOSSIER
    assert info["Sohoa-Dossier"] == DOSSIER
    assert info["External-Description"] == TITLE
    payload = bags[f"dossier-{DOSSIER}"] / "data"
    for rep, doc_id in (("rep1", ids[0]), ("rep2", ids[1])):
        original = payload / "representations" / rep / "data" / "original.pdf"
        assert hashlib.sha256(original.read_bytes()).hexdigest() == doc_id
        assert (payload / "representations" / rep / "data" / "searchable.pdf").is_file()
        assert (payload / "metadata" / "descriptive" / f"{doc_id}.xml").is_file()
        assert (payload / "metadata" / "preservation" / f"{doc_id}.premis.xml").is_file()
    assert (payload / "METS.xml").is_file()


def _children(element) -> list[str]:
    return [etree.QName(c).localname for c in element if isinstance(c.tag, str)]


def _in_xsd_order(names: list[str], order: list[str]) -> bool:
    ranks = [order.index(n) for n in names]
    return ranks == sorted(ranks)


def test_mets_names_every_file_with_its_size_and_checksum(installation, exported) -> None:
    """What the schema cannot say: every file named with its true size and checksum."""
    payload = _bags(exported)[f"dossier-{DOSSIER}"] / "data"
    root = etree.parse(str(payload / "METS.xml")).getroot()
    assert root.tag == f"{METS}mets" and root.get("OBJID") == DOSSIER
    assert root.get("PROFILE") == "https://earksip.dilcis.eu/profile/E-ARK-SIP.xml"
    order = ["metsHdr", "dmdSec", "amdSec", "fileSec", "structMap", "structLink", "behaviorSec"]
    assert _in_xsd_order(_children(root), order)
    named = set()
    for ref in root.iter(f"{METS}mdRef", f"{METS}FLocat"):
        href = ref.get(f"{XLINK}href")
        path = payload / href
        assert path.is_file(), href
        holder = ref if ref.tag == f"{METS}mdRef" else ref.getparent()
        assert int(holder.get("SIZE")) == path.stat().st_size, href
        assert holder.get("CHECKSUMTYPE") == "SHA-256"
        assert holder.get("CHECKSUM") == hashlib.sha256(path.read_bytes()).hexdigest(), href
        named.add(href)
    on_disk = {p.relative_to(payload).as_posix() for p in payload.rglob("*") if p.is_file()}
    assert on_disk - named == {"METS.xml"}
    groups = {g.get("ID"): g for g in root.iter(f"{METS}fileGrp")}
    pointers = [f.get("FILEID") for f in root.iter(f"{METS}fptr")]
    assert pointers and all(p in groups for p in pointers)
    reps = [g.get("USE") for g in groups.values() if g.get("USE").startswith("Representations/")]
    assert reps == ["Representations/rep1", "Representations/rep2"]


def test_every_mets_and_premis_file_is_valid_against_the_published_schemas(exported) -> None:
    assert assert_valid_against_published_schemas(exported) == 3 + 4  # 3 bags, 4 documents


def test_a_document_whose_files_are_missing_still_gets_valid_premis(installation, tmp_path) -> None:
    """PREMIS 3 needs an object: the document itself is one, even with no file to pack."""
    source, ids = installation
    data = tmp_path / "data"
    shutil.copytree(source, data)
    store = data / "store"
    (store / "originals" / ids[3]).unlink()
    shutil.rmtree(store / "derived" / ids[3])
    out = tmp_path / "bags"
    result = sohoa(data, "archive", "export", "--all", "-o", str(out), "--no-progress")
    assert result.returncode == 1
    assert f"document {ids[3][:12]}: original missing from the store" in result.stderr
    assert assert_valid_against_published_schemas(out) == 3 + 4
    premis = etree.parse(str(out / f"document-{ids[3][:16]}" / "data" / "metadata" /
                             "preservation" / f"{ids[3]}.premis.xml"))  # fmt: skip
    assert premis.findtext(f".//{PREMIS}objectIdentifierValue") == ids[3]


def test_premis_tells_ingest_text_and_fixity_of_each_document(installation, exported) -> None:
    _, ids = installation
    payload = _bags(exported)[f"document-{ids[2][:16]}"] / "data"
    root = etree.parse(str(payload / "metadata" / "preservation" / f"{ids[2]}.premis.xml"))
    root = root.getroot()
    assert root.tag == f"{PREMIS}premis" and root.get("version") == "3.0"
    assert _in_xsd_order(_children(root), ["object", "event", "agent", "rights"])
    assert (
        root.findtext(f"{PREMIS}object/{PREMIS}objectIdentifier/{PREMIS}objectIdentifierValue")
        == ids[2]
    )
    digests = [d.text for d in root.iter(f"{PREMIS}messageDigest")]
    original = payload / "representations" / "rep1" / "data" / "original.pdf"
    assert digests[0] == hashlib.sha256(original.read_bytes()).hexdigest() == ids[2]
    kinds = [e.findtext(f"{PREMIS}eventType") for e in root.iter(f"{PREMIS}event")]
    assert kinds[0] == "ingestion"
    assert "creation" in kinds and "fixity check" in kinds
    fixity = next(e for e in root.iter(f"{PREMIS}event") if e.findtext(f"{PREMIS}eventType")
                  == "fixity check")  # fmt: skip
    assert fixity.findtext(f".//{PREMIS}eventOutcome") == "success"
    agents = {a.findtext(f".//{PREMIS}agentIdentifierValue") for a in root.iter(f"{PREMIS}agent")}
    linked = {v.text for v in root.iter(f"{PREMIS}linkingAgentIdentifierValue")}
    assert linked <= agents
    versions = [a.findtext(f"{PREMIS}agentVersion") for a in root.iter(f"{PREMIS}agent")]
    assert any(v and "tesser" in v for v in versions)  # the OCR engine and its version
    described = etree.parse(str(payload / "metadata" / "descriptive" / f"{ids[2]}.xml"))
    shown = json.loads(ok(sohoa(installation[0], "show", ids[2], "--json")))
    fields = {f.get("name"): f for f in described.getroot()}
    code = fields["code_number"]
    assert code.text == shown["metadata"]["code_number"]["value"]
    assert code.get("vi") == "Số của văn bản" and code.get("rule") == "ND30-VI"


def test_a_changed_byte_or_a_missing_file_refuses_that_bag_and_the_others_go_on(
    installation, exported, tmp_path
) -> None:
    _, ids = installation
    copy = tmp_path / "bags"
    shutil.copytree(exported, copy)
    flipped = copy / f"dossier-{DOSSIER}" / "data/representations/rep2/data/original.pdf"
    raw = bytearray(flipped.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    flipped.write_bytes(bytes(raw))
    gone = copy / f"document-{ids[2][:16]}" / "data/representations/rep1/data/searchable.pdf"
    gone.unlink()
    target = tmp_path / "restored"
    result = sohoa(target, "archive", "import", str(copy))
    assert result.returncode == 1
    assert "data/representations/rep2/data/original.pdf" in result.stderr
    assert "data/representations/rep1/data/searchable.pdf" in result.stderr
    assert f"restored document-{ids[3][:16]}: 1 document(s)" in result.stdout
    ok(sohoa(target, "show", ids[3], "--json"))
    for refused in (ids[0], ids[1], ids[2]):
        assert sohoa(target, "show", refused, "--json").returncode != 0


def test_a_dossier_into_a_zip_and_back(installation, tmp_path) -> None:
    data, ids = installation
    archive = tmp_path / "hs.zip"
    ok(sohoa(data, "archive", "export", "--dossier", DOSSIER, "-o", str(archive)))
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
    assert f"dossier-{DOSSIER}/bagit.txt" in names
    assert f"dossier-{DOSSIER}/data/METS.xml" in names
    target = tmp_path / "restored"
    ok(sohoa(target, "archive", "import", str(archive)))
    dossier = json.loads(ok(sohoa(target, "dossier", "show", DOSSIER, "--json")))
    assert [d["document_id"] for d in dossier["documents"]] == ids[:2]
    assert sohoa(target, "show", ids[2]).returncode != 0  # not part of that export


def test_a_query_exports_the_documents_it_finds(installation, tmp_path) -> None:
    data, ids = installation
    shown = json.loads(ok(sohoa(data, "show", ids[3], "--json")))
    notation = shown["metadata"]["code_notation"]["value"]
    found = json.loads(ok(sohoa(data, "search", notation, "--json", "--limit", "50")))["hits"]
    out = tmp_path / "q"
    result = sohoa(data, "archive", "export", "--query", notation, "-o", str(out), "--json")
    bags = lines(ok(result))
    assert sum(b["documents"] for b in bags) == len(found)
    assert f"document-{ids[3][:16]}" in {b["bag"] for b in bags}
