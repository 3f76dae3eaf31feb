"""sohoa's searchable PDFs checked against PDF/A-2b by veraPDF (scripts/verapdf.sh).

The script installs veraPDF from Maven Central on its first run (~10-60 s, then cached in
~/.cache/sohoa/verapdf). Only a missing Java skips these tests: a failed install fails them, with
the script's message.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="veraPDF needs Java")

SCRIPT = ROOT / "scripts" / "verapdf.sh"


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
    assert assemble([PagePart(tmp / "p.pdf")], tmp / "scanned.pdf", "Quyết định") == 1

    manifest = generate_batch(
        tmp / "digital", pages=2, seed=1, formats=("pdf_digital",), levels=("clean",)
    )
    (entry,) = manifest.files
    assert entry.born_digital
    digital = tmp / "digital" / entry.file
    parts = [PagePart(tmp / "p.pdf")] + [PagePart(digital, i) for i in range(len(entry.pages))]
    assert assemble(parts, tmp / "mixed.pdf", "Quyết định") == 3
    return {"scanned": tmp / "scanned.pdf", "mixed": tmp / "mixed.pdf", "bare_page": tmp / "p.pdf"}


@pytest.fixture(scope="module")
def verdicts(outputs: dict[str, Path]) -> dict[str, str]:
    """One veraPDF run (one JVM start) over all files; each file's verdict block by key."""
    files = list(outputs.values())
    proc = subprocess.run(
        ["bash", str(SCRIPT), *map(str, files)], capture_output=True, text=True, timeout=900
    )
    report = f"exit {proc.returncode}\n--- stdout:\n{proc.stdout}--- stderr:\n{proc.stderr}"
    if proc.returncode not in (0, 1):
        pytest.fail(f"scripts/verapdf.sh could not validate:\n{report}")
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in proc.stdout.splitlines():
        if line.startswith(("PASS ", "FAIL ")):
            current = blocks.setdefault(line.split()[1], [])
        if current is not None:
            current.append(line)
    by_key = {}
    for key, path in outputs.items():
        lines = blocks.get(str(path)) or blocks.get(str(path.resolve()))
        assert lines, f"no verdict for {path}:\n{report}"
        by_key[key] = "\n".join(lines)
    return by_key


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
