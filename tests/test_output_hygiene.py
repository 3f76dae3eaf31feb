"""Outputs carry no active content or embedded files, and claim PDF/A only when veraPDF agrees.

A hostile set of born-digital PDFs (tests/hostile_pdfs.py: page and link JavaScript, launch and
submit actions, attachments, document-level scripts and files, a form with XFA, unembedded
fonts, forbidden graphics state, LZW, CMYK; embedded files and actions hidden where no sanitiser
looks: custom keys, property lists, a copy of the source's catalog with its outlines, name trees
and structure tree) is ingested with the CLI as a user would, and each searchable PDF is exported
with `sohoa export`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pikepdf
import pytest

from tests.conftest import run_cli
from tests.hostile_pdfs import HOSTILE, JS, NOT_PDFA, write_hostile_set
from tests.verapdf import verdicts

# slow (pyproject): the `exported` fixture OCRs and exports a batch (~20 s)
pytestmark = pytest.mark.slow

FORBIDDEN_ACTIONS = {
    "/JavaScript",
    "/Launch",
    "/ImportData",
    "/SubmitForm",
    "/ResetForm",
    "/Rendition",
    "/Movie",
    "/Sound",
    "/GoToE",
    "/GoToR",
    "/Hide",
    "/SetOCGState",
    "/Trans",
    "/GoTo3DView",
}
FORBIDDEN_ANNOTS = {
    "/FileAttachment",
    "/Sound",
    "/Movie",
    "/Screen",
    "/3D",
    "/RichMedia",
    "/Widget",
}
FORBIDDEN_KEYS = {"/JS", "/AA", "/EF", "/EmbeddedFiles", "/XFA", "/OpenAction", "/AcroForm"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    """name -> (the exported searchable PDF, the ingest --json record)."""
    tmp = tmp_path_factory.mktemp("hygiene")
    write_hostile_set(tmp / "in")
    data = tmp / "data"
    result = run_cli(data, "ingest", str(tmp / "in"), "--json", "--no-progress")
    assert result.returncode == 0, result.stdout + result.stderr
    records = {Path(r["path"]).stem: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records) == set(HOSTILE), records.keys()
    outputs = {}
    for name, record in records.items():
        assert record["status"] == "ok", record
        out = tmp / "out" / f"{name}.pdf"
        out.parent.mkdir(exist_ok=True)
        exported = run_cli(data, "export", record["document_id"], "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        outputs[name] = (out, record)
    return outputs


def _walk(pdf: pikepdf.Pdf):
    """Every object of the file, each dictionary and stream once."""
    yield pdf.trailer
    yield from pdf.objects


def test_outputs_hold_no_active_content_or_embedded_files(exported) -> None:
    for name, (path, _record) in exported.items():
        with pikepdf.open(path) as pdf:
            assert not FORBIDDEN_KEYS & set(pdf.Root.keys()), (name, pdf.Root.keys())
            names = pdf.Root.get("/Names")
            assert names is None, (name, names)
            for obj in _walk(pdf):
                if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    continue
                keys = set(obj.keys())
                assert not keys & FORBIDDEN_KEYS, (name, obj.objgen, keys & FORBIDDEN_KEYS)
                assert obj.get("/S") not in FORBIDDEN_ACTIONS, (name, obj.objgen, obj.get("/S"))
                assert obj.get("/Subtype") not in FORBIDDEN_ANNOTS, (name, obj.objgen)
                assert obj.get("/Type") not in ("/EmbeddedFile", "/Filespec"), (name, obj.objgen)
                if obj.get("/S") == "/URI":
                    assert bytes(obj.URI).startswith(b"https://"), (name, obj.URI)
                if isinstance(obj, pikepdf.Stream):
                    data = obj.read_bytes()
                    assert b"app.alert" not in data and b"pretend executable" not in data, name
            for page in pdf.pages:
                assert "/AA" not in page.obj, name


def test_what_was_visible_or_harmless_is_kept(exported) -> None:
    # The filled form field's value was drawn only by its widget: it is now page content.
    with pikepdf.open(exported["form"][0]) as pdf:
        drawn = b"".join(obj.read_bytes() for obj in pdf.objects if isinstance(obj, pikepdf.Stream))
        assert b"Nguyen Van A" in drawn
    # Of eight links only the plain web link stays, as a PDF/A-valid printable annotation.
    with pikepdf.open(exported["page_scripts"][0]) as pdf:
        annots = list(pdf.pages[0].obj.get("/Annots", []))
        assert [(a.Subtype, bytes(a.A.URI), int(a.F)) for a in annots] == [
            ("/Link", b"https://example.org/", 4)
        ]
    # A link to another page of the output stays; one to a named place of the source does not.
    with pikepdf.open(exported["shared_resources"][0]) as pdf:
        (link,) = pdf.pages[0].obj.Annots
        assert link.Dest[0].objgen == pdf.pages[1].obj.objgen
    # A layer the source hid by default stays hidden.
    with pikepdf.open(exported["layers"][0]) as pdf:
        config = pdf.Root.OCProperties.D
        assert [str(group.Name) for group in config.OFF] == ["Hidden"]
    for path, record in exported.values():
        with pikepdf.open(path) as pdf:
            assert len(pdf.pages) == record["page_count"]


def _claims_pdfa(path: Path) -> bool:
    with pikepdf.open(path) as pdf, pdf.open_metadata() as meta:
        return meta.get("pdfaid:part") == "2"


@pytest.mark.skipif(shutil.which("java") is None, reason="veraPDF needs Java")
def test_every_output_claiming_pdfa_passes_verapdf(exported) -> None:
    claiming = {name: path for name, (path, _) in exported.items() if _claims_pdfa(path)}
    # Fonts were substituted, not given up on: only the outputs that cannot be PDF/A don't claim.
    assert set(exported) - set(claiming) == set(NOT_PDFA)
    failed = {k: v for k, v in verdicts(claiming).items() if not v.startswith("PASS ")}
    assert not failed, "\n".join(failed.values())


def test_an_output_that_is_not_pdfa_says_why(exported) -> None:
    for name, (path, record) in exported.items():
        if name in NOT_PDFA:
            assert not _claims_pdfa(path), name
            assert record["pdfa"] is False, record
            assert any(NOT_PDFA[name] in reason for reason in record["not_pdfa"]), record
        else:
            assert record["pdfa"] is True and record["not_pdfa"] == [], record
    path, record = exported["no_substitute"]
    shown = run_cli(path.parent.parent / "data", "show", record["document_id"])
    assert shown.returncode == 0, shown.stderr
    assert "PDF/A" in shown.stdout and "no: font 'Verdana' is not embedded" in shown.stdout
    assert JS not in shown.stdout
