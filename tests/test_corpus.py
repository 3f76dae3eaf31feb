"""Tests of the synthetic corpus generator (corpus/). Fast: no OCR."""

from __future__ import annotations

import hashlib
import json
import struct
import unicodedata
from collections import Counter
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from PIL import Image

from corpus import (
    ENCRYPTED_USER_PASSWORD,
    FORMATS,
    TRUTH_FILENAME,
    Manifest,
    degrade,
    generate_batch,
    generate_pages,
    load_manifest,
    make_bad_inputs,
    make_documents,
    plan_batch,
    write_multi_document_pdf,
    write_png_bomb,
)

INGEST_PATTERNS = ("*.tif", "*.tiff", "*.jpg", "*.jpeg", "*.png", "*.pdf")
A4_PT = (595.2, 841.9)
METADATA_KEYS = {
    "organ_parent",
    "organ_name",
    "code_number",
    "code_notation",
    "issued_place",
    "issued_date",
    "type_name",
    "subject",
    "signer_competence",
    "signer_position",
    "signer_name",
    "recipients",
}


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Manifest]:
    out = tmp_path_factory.mktemp("batch")
    return out, generate_batch(out, pages=5, seed=7)


def test_batch_writes_every_requested_format_and_level(batch: tuple[Path, Manifest]) -> None:
    out, manifest = batch
    assert {e.format for e in manifest.files} == set(FORMATS)
    assert {e.level for e in manifest.files if not e.born_digital} == {"clean", "light", "heavy"}
    ingestible = sorted(p.name for pattern in INGEST_PATTERNS for p in out.glob(pattern))
    assert ingestible == sorted(e.file for e in manifest.files)
    assert TRUTH_FILENAME not in ingestible
    for entry in manifest.files:
        data = (out / entry.file).read_bytes()
        assert entry.size_bytes == len(data) > 0
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert [p.page_no for p in entry.pages] == list(range(1, len(entry.pages) + 1))
        assert entry.metadata.keys() >= METADATA_KEYS
        assert entry.metadata["page_amount"] == len(entry.pages)


def test_truth_json_round_trips(batch: tuple[Path, Manifest]) -> None:
    out, manifest = batch
    assert load_manifest(out) == manifest
    raw = json.loads((out / TRUTH_FILENAME).read_text(encoding="utf-8"))
    page = raw["files"][0]["pages"][0]
    assert {"page_no", "text", "rotated", "level"} <= page.keys()
    assert raw["files"][0]["metadata"] == raw["files"][0]["documents"][0]
    for entry in manifest.files:
        for p in entry.pages:
            assert p.text and nfc(p.text) == p.text


def test_first_page_truth_follows_nd30_reading_order(batch: tuple[Path, Manifest]) -> None:
    _, manifest = batch
    for entry in manifest.files:
        meta, first, last = entry.metadata, entry.pages[0].text, entry.pages[-1].text
        lines = first.splitlines()
        organ_first_word = (meta["organ_parent"] or meta["organ_name"]).split()[0]
        assert lines[0].startswith(organ_first_word)
        code = f"Số: {meta['code_number']}/{meta['code_notation']}"
        assert lines.index(code) < lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        assert "Độc lập - Tự do - Hạnh phúc" in lines
        assert any(line.startswith(f"{meta['issued_place']}, ngày ") for line in lines)
        if meta["type_name"] != "Công văn":
            assert meta["type_name"].upper() in lines
        if len(entry.documents) == 1:
            assert "Nơi nhận:" in last and last.rstrip().endswith(meta["signer_name"])


def test_born_digital_pdf_has_vietnamese_text_layer(batch: tuple[Path, Manifest]) -> None:
    out, manifest = batch
    for entry in manifest.by_format("pdf_digital"):
        with pdfplumber.open(out / entry.file) as pdf:
            assert len(pdf.pages) == len(entry.pages)
            first = pdf.pages[0]
            assert (round(float(first.width), 1), round(float(first.height), 1)) == (595.3, 841.9)
            # pdfplumber's default x_tolerance (3 pt) glues words set in 11 pt Times-like type
            # (the Nơi nhận list: a space is 2.75 pt wide); 1.5 pt keeps every word apart.
            texts = [nfc(page.extract_text(x_tolerance=1.5)) for page in pdf.pages]
        assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in texts[0]
        assert "Độc lập - Tự do - Hạnh phúc" in texts[0]
        if entry.metadata["type_name"] != "Công văn":
            assert entry.metadata["type_name"].upper() in texts[0]
        for text, truth in zip(texts, entry.pages, strict=True):
            assert Counter(text.split()) == Counter(truth.text.split())


def test_tiff_frames_and_dpi(batch: tuple[Path, Manifest]) -> None:
    out, manifest = batch
    for entry in manifest.by_format("tiff"):
        with Image.open(out / entry.file) as image:
            assert image.n_frames == len(entry.pages)
            for frame, truth in enumerate(entry.pages):
                image.seek(frame)
                assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)
                size = (3508, 2480) if truth.rotated else (2480, 3508)
                assert image.size == size


def test_scanned_files_are_300_dpi_a4(batch: tuple[Path, Manifest]) -> None:
    out, manifest = batch
    for entry in manifest.by_format("pdf_scanned"):
        with pikepdf.open(out / entry.file) as pdf:
            assert len(pdf.pages) == len(entry.pages)
            for page, truth in zip(pdf.pages, entry.pages, strict=True):
                box = tuple(round(float(v), 1) for v in page.mediabox[2:])
                assert box == (A4_PT[::-1] if truth.rotated else A4_PT)
    for fmt in ("jpeg", "png"):
        for entry in manifest.by_format(fmt):
            with Image.open(out / entry.file) as image:
                assert image.mode == "L" and image.size == (2480, 3508)
                assert tuple(round(v) for v in image.info["dpi"]) == (300, 300)


def test_exactly_one_page_is_rotated(batch: tuple[Path, Manifest]) -> None:
    _, manifest = batch
    rotated = [(e, p) for e in manifest.files for p in e.pages if p.rotated]
    assert len(rotated) == 1
    entry, page = rotated[0]
    assert entry.format in ("pdf_scanned", "tiff") and page.page_no == 2
    assert page.rotation_deg in (90, 270)


def test_same_seed_same_truth() -> None:
    def truth(seed: int) -> list:
        return [
            (f.name, [d.texts for d in f.docs], [d.metadata for d in f.docs], f.rotate)
            for f in plan_batch(pages=12, seed=seed, multi_document=True)
        ]

    assert truth(3) == truth(3)
    assert truth(3) != truth(4)


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    kwargs = {"pages": 1, "seed": 11, "levels": ("light",), "formats": ("png", "pdf_digital")}
    first = generate_batch(tmp_path / "a", **kwargs)
    second = generate_batch(tmp_path / "b", **kwargs)
    assert first == second
    assert (tmp_path / "a" / TRUTH_FILENAME).read_bytes() == (
        tmp_path / "b" / TRUTH_FILENAME
    ).read_bytes()


def test_generate_pages_and_degradation() -> None:
    pages = generate_pages(2, seed=5, level="heavy")
    assert len(pages) == 2
    for image, truth in pages:
        assert image.mode == "L" and image.size == (2480, 3508)
        assert truth.level == "heavy" and abs(truth.skew_deg) <= 3 and truth.text
    clean = generate_pages(1, seed=5, level="clean")[0]
    assert clean[1].text == pages[0][1].text
    again = degrade(clean[0], "heavy", 123)
    assert again.image.tobytes() == degrade(clean[0], "heavy", 123).image.tobytes()
    light = degrade(clean[0], "light", 1)
    assert abs(light.skew_deg) <= 1


def test_multi_document_pdf(tmp_path: Path) -> None:
    docs = make_documents(2, seed=2, pages=1)
    path = write_multi_document_pdf(tmp_path / "multi.pdf", docs)
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 2
    assert docs[0].metadata != docs[1].metadata


def test_bad_inputs(tmp_path: Path) -> None:
    bad = make_bad_inputs(tmp_path)
    expected = {
        "zero_byte.pdf",
        "truncated.pdf",
        "encrypted.pdf",
        "not_a_pdf.pdf",
        "bomb.png",
        "garbage.tif",
    }
    assert set(bad) == expected
    assert bad["zero_byte.pdf"].stat().st_size == 0
    truncated = bad["truncated.pdf"].read_bytes()
    assert truncated.startswith(b"%PDF") and b"%%EOF" not in truncated
    with pytest.raises(pikepdf.PasswordError):
        pikepdf.open(bad["encrypted.pdf"])
    with pikepdf.open(bad["encrypted.pdf"], password=ENCRYPTED_USER_PASSWORD) as pdf:
        assert len(pdf.pages) >= 1
    assert not bad["not_a_pdf.pdf"].read_bytes().startswith(b"%PDF")
    with pytest.raises(Exception), Image.open(bad["garbage.tif"]):  # noqa: B017
        pass


def test_bomb_png_header_is_huge_and_file_small(tmp_path: Path) -> None:
    bomb = make_bad_inputs(tmp_path)["bomb.png"]
    data = bomb.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (30_000, 30_000)
    assert len(data) < 3 * 1024 * 1024
    # The same construction at a decodable size is a valid, all-white PNG.
    small = write_png_bomb(tmp_path / "small.png", 1234, 567)
    with Image.open(small) as image:
        image.load()
        assert image.size == (1234, 567) and image.getextrema() == (255, 255)
