"""Round 14 review: the mark a chunk of a long output puts on a layer its source hid
(`/SohoaHiddenLayer`) is sohoa's own; the same key in an input is no such mark. A long document
must show what the same pages merged at once show."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

import pipeline.pdf as pdf_module
from pipeline.pdf import PagePart, assemble
from tests.hostile_pdfs import layers


def _forged(pdf: pikepdf.Pdf) -> None:
    """`layers`, its shown layer carrying the chunks' mark (a hostile or odd input)."""
    layers(pdf)
    for group in pdf.Root.OCProperties.OCGs:
        if str(group.Name) == "Shown":
            group["/SohoaHiddenLayer"] = True


def _hidden_and_marks(tmp_path: Path, name: str) -> tuple[list[str], int]:
    sources = []
    for n, build in enumerate((layers, _forged)):
        path = tmp_path / f"{name}-{n}.pdf"
        with pikepdf.new() as pdf:
            build(pdf)
            pdf.save(path)
        sources.append(PagePart(path))
    out = tmp_path / f"{name}.pdf"
    assemble(sources, out, "Hồ sơ")
    with pikepdf.open(out) as pdf:
        hidden = sorted(str(group.Name) for group in pdf.Root.OCProperties.D.OFF)
        marks = sum(
            isinstance(obj, pikepdf.Dictionary) and "/SohoaHiddenLayer" in obj
            for obj in pdf.objects
        )
        return hidden, marks


@pytest.mark.parametrize("chunk", [1, 32])
def test_an_input_carrying_the_chunk_mark_keeps_its_shown_layer_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(pdf_module, "CHUNK_PAGES", chunk)  # 1: merged in chunks, 32: at once
    hidden, marks = _hidden_and_marks(tmp_path, f"c{chunk}")
    assert hidden == ["Hidden", "Hidden"]  # only what each source hid; its text stays shown
    assert marks == 0
