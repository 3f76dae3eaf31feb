"""A long scan is planned and its searchable PDF assembled in bounded memory (issue 17): the
memory either adds does not grow with the page count, and a document merged in chunks keeps
what one merge keeps (hidden layers, PDF/A problems with the output's page numbers)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest

import pipeline.pdf as pdf_module
from pipeline.pdf import PagePart, assemble
from tests.hostile_pdfs import cmyk, layers

REPO = Path(__file__).resolve().parent.parent

# What both children read of their own memory (KiB from /proc/self/status).
_KIB = r"""
from pathlib import Path

def kib(key):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
"""

# Run in a child process: the peak RSS (VmHWM, reset just before the assembly through
# /proc/self/clear_refs) counts what qpdf allocates in C++, which tracemalloc does not see,
# and no other test's memory is in the figure.
_CHILD = r"""
import io, json, sys
from pathlib import Path
import numpy as np
from PIL import Image
from pipeline.pdf import PagePart, assemble, page_pdf


folder, pages = Path(sys.argv[1]), int(sys.argv[2])
# ~1 MiB of JPEG a page (noise does not compress), as a 300-dpi scanned page's image
noise = np.random.default_rng(0).integers(0, 256, (1200, 1300), dtype=np.uint8)
page = page_pdf(Image.fromarray(noise), 150, None)
parts = []
for n in range(pages):
    path = folder / f"{n:04d}.pdf"
    path.write_bytes(page)
    parts.append(PagePart(path))
del page, noise
Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS now
before = kib("VmRSS")
written = assemble(parts, folder / "out.pdf", "Hồ sơ dài")
print(json.dumps({
    "page_bytes": parts[0].pdf_path.stat().st_size,
    "added_mib": (kib("VmHWM") - before) / 1024,
    "pages": written.pages,
    "pdfa": written.pdfa,
}))
"""


def _child(code: str, tmp_path: Path, pages: int) -> dict:
    folder = tmp_path / str(pages)
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", _KIB + code, str(folder), str(pages)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_assembly_memory_does_not_grow_with_the_page_count(tmp_path: Path) -> None:
    short, long = (_child(_CHILD, tmp_path, pages) for pages in (20, 200))
    assert short["pages"] == 20 and long["pages"] == 200
    assert short["pdfa"] and long["pdfa"]
    assert long["page_bytes"] > 900_000  # the bound below means something only for real pages
    # Holding every page would add ~1 MiB a page (~200 MiB for 200 pages, as before round 14);
    # a chunk of pages at a time adds the same for 200 pages as for 20, give or take a chunk.
    assert long["added_mib"] < 80, (short, long)
    assert long["added_mib"] < short["added_mib"] + 45, (short, long)


_PLAN_CHILD = r"""
import io, json, sys
from pathlib import Path
import img2pdf
import numpy as np
from PIL import Image
from pipeline.load import iter_planned_pages


folder, pages = Path(sys.argv[1]), int(sys.argv[2])
noise = np.random.default_rng(0).integers(0, 256, (1200, 1300), dtype=np.uint8)
jpeg = io.BytesIO()
Image.fromarray(noise).save(jpeg, format="JPEG", quality=85, dpi=(150, 150))
scan = folder / "scan.pdf"
scan.write_bytes(img2pdf.convert([jpeg.getvalue()] * pages))  # one image stream a page
del noise, jpeg
Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS now
before = kib("VmRSS")
plan = [info for info, _ in iter_planned_pages(scan, "application/pdf", lambda n: True)]
print(json.dumps({
    "scan_bytes": scan.stat().st_size,
    "added_mib": (kib("VmHWM") - before) / 1024,
    "planned": [[p.page_no, p.has_text_layer, p.dpi] for p in plan],
}))
"""


def test_planning_a_long_scan_does_not_grow_with_the_page_count(tmp_path: Path) -> None:
    short, long = (_child(_PLAN_CHILD, tmp_path, pages) for pages in (20, 200))
    # every page planned, in order, as a scan at its own resolution
    assert long["planned"] == [[n, False, 150] for n in range(1, 201)]
    assert long["scan_bytes"] > 180_000_000
    # PDFium holding every page it loaded would add ~1 MiB a page (~200 MiB here)
    assert long["added_mib"] < 80, (short["added_mib"], long["added_mib"])
    assert long["added_mib"] < short["added_mib"] + 45, (short["added_mib"], long["added_mib"])


def _one_page_pdf(path: Path, build) -> Path:
    with pikepdf.new() as pdf:
        build(pdf)
        pdf.save(path)
    return path


def _assembled(tmp_path: Path, name: str) -> tuple[pdf_module.Assembled, list[str], int]:
    layered = [_one_page_pdf(tmp_path / f"layers{n}.pdf", layers) for n in (1, 2)]
    painted = _one_page_pdf(tmp_path / "cmyk.pdf", cmyk)
    parts = [PagePart(layered[0]), PagePart(None), PagePart(painted), PagePart(layered[1])]
    out = tmp_path / f"{name}.pdf"
    written = assemble(parts, out, "Hồ sơ")
    with pikepdf.open(out) as pdf:
        hidden = [str(group.Name) for group in pdf.Root.OCProperties.D.OFF]
        marks = sum(
            isinstance(obj, pikepdf.Dictionary) and "/SohoaHiddenLayer" in obj
            for obj in pdf.objects
        )
        return written, hidden, marks + 100 * (len(pdf.pages) != 4)


@pytest.mark.parametrize("chunk", [1, 3])
def test_a_document_merged_in_chunks_keeps_what_one_merge_keeps(
    tmp_path: Path, monkeypatch, chunk: int
) -> None:
    whole, hidden_whole, _ = _assembled(tmp_path, "whole")
    monkeypatch.setattr(pdf_module, "CHUNK_PAGES", chunk)
    chunked, hidden_chunked, left = _assembled(tmp_path, "chunked")
    assert hidden_whole == ["Hidden", "Hidden"]  # each source's hidden layer
    assert hidden_chunked == hidden_whole and left == 0
    # the CMYK page is page 3 of the output, whichever way it was merged
    assert chunked.not_pdfa == whole.not_pdfa
    assert any("DeviceCMYK" in reason and "(page 3)" in reason for reason in chunked.not_pdfa)
