"""sohoa's searchable PDFs checked against PDF/A-2b by veraPDF (scripts/verapdf.sh).

Only a missing Java skips these tests: a failed install of veraPDF fails them (tests/verapdf.py).
"""

import shutil
from pathlib import Path

import pytest

from tests.verapdf import verdicts as run_verapdf

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="veraPDF needs Java")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A scanned-only output, a mixed output (scanned + born-digital pages), and one bare page."""
    from corpus import generate_batch, iter_pages
    from pipeline.load import ImagePage
    from pipeline.page import process_scanned_page
    from pipeline.pdf import PagePart, assemble

    tmp = tmp_path_factory.mktemp("pdfa")
    image, _truth = next(iter_pages(1, seed=3, level="light"))
    out = process_scanned_page(ImagePage(1, image, 300))
    (tmp / "p.pdf").write_bytes(out.pdf)
    assert assemble([PagePart(tmp / "p.pdf")], tmp / "scanned.pdf", "Quyết định").pages == 1

    manifest = generate_batch(
        tmp / "digital", pages=2, seed=1, formats=("pdf_digital",), levels=("clean",)
    )
    (entry,) = manifest.files
    assert entry.born_digital
    digital = tmp / "digital" / entry.file
    parts = [PagePart(tmp / "p.pdf")] + [PagePart(digital, i) for i in range(len(entry.pages))]
    assert assemble(parts, tmp / "mixed.pdf", "Quyết định").pages == 3
    return {"scanned": tmp / "scanned.pdf", "mixed": tmp / "mixed.pdf", "bare_page": tmp / "p.pdf"}


@pytest.fixture(scope="module")
def verdicts(outputs: dict[str, Path]) -> dict[str, str]:
    """One veraPDF run (one JVM start) over all files; each file's verdict block by key."""
    return run_verapdf(outputs)


def test_scanned_output_is_pdfa_2b(verdicts: dict[str, str]) -> None:
    assert verdicts["scanned"].startswith("PASS "), verdicts["scanned"]


def test_mixed_scanned_and_born_digital_output_is_pdfa_2b(verdicts: dict[str, str]) -> None:
    assert verdicts["mixed"].startswith("PASS "), verdicts["mixed"]


def test_validator_rejects_a_page_that_assemble_has_not_marked(verdicts: dict[str, str]) -> None:
    # page_pdf's bare output has no XMP and no output intent: veraPDF must see it, or it checks
    # nothing.
    bare = verdicts["bare_page"]
    assert bare.startswith("FAIL "), bare
    assert "6.6.2.1-1" in bare, bare  # catalog has no XMP metadata stream
    assert "6.2.4.3-4" in bare, bare  # DeviceGray image without a PDF/A output intent
