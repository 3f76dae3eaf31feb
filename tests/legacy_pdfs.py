"""Born-digital PDFs whose text layer is TCVN3, VNI or VISCII, made the way Word and Acrobat made
them before Unicode: a simple TrueType font named `.VnTime` / `.VnTimeH` / `VNI-Times` /
`VISCII Times` with WinAnsi encoding and no ToUnicode map, the legacy bytes as the strings. PDFium
reads them exactly as it reads a real legacy PDF (`Céng hßa x· héi chñ nghÜa ViÖt Nam`, with ư
lost as a hyphen). Glyph widths are Liberation Serif's, so the words sit where they would.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import pikepdf
from fontTools.ttLib import TTFont
from pikepdf import Array, Dictionary, Name

from corpus.nd30 import PageLayout
from pipeline import legacy_text
from pipeline.legacy_text import TCVN3, VISCII, VNI

SERIF = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")
NAMES = {TCVN3: ".VnTime", VNI: "VNI-Times", VISCII: "VISCII Times"}
PX_TO_PT = 72 / 300


@lru_cache(maxsize=1)
def _advances() -> tuple[dict[int, str], dict[str, tuple[int, int]], int]:
    font = TTFont(SERIF)
    return font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm


def _width(char: str) -> int:
    """Advance of `char` in 1/1000 em (a combining mark takes no room)."""
    cmap, metrics, em = _advances()
    char = unicodedata.normalize("NFC", char)
    if not char or unicodedata.combining(char[0]):
        return 0
    glyph = cmap.get(ord(char[0]))
    return round(metrics[glyph][0] * 1000 / em) if glyph else 500


def _font(pdf: pikepdf.Pdf, name: str, encoding: str | None, capitals: bool) -> Dictionary:
    widths = []
    for code in range(256):
        if encoding is None:
            widths.append(_width(bytes([code]).decode("cp1252", "replace")))
        else:
            drawn = legacy_text.code_to_unicode(encoding, code, capitals) or ""
            if drawn and unicodedata.combining(drawn[0]):
                # A VNI mark: a real VNI font draws it over the letter before, with no advance.
                # Not embedded, it is drawn (and boxed by PDFium) as the substitute's Latin
                # glyph, whose box would swallow the space after it: it gets that glyph's room.
                drawn = bytes([code]).decode("cp1252")
            widths.append(_width(drawn))
    descriptor = Dictionary(
        Type=Name.FontDescriptor,
        FontName=Name("/" + name.replace(" ", "")),
        Flags=32,
        FontBBox=[-200, -300, 1200, 1000],
        ItalicAngle=0,
        Ascent=900,
        Descent=-220,
        CapHeight=660,
        StemV=80,
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.TrueType,
            BaseFont=Name("/" + name.replace(" ", "")),
            Encoding=Name.WinAnsiEncoding,
            FirstChar=0,
            LastChar=255,
            Widths=Array(widths),
            FontDescriptor=pdf.make_indirect(descriptor),
        )
    )


def segments(text: str, encoding: str) -> list[tuple[str, bytes]]:
    """`text` as (font key, bytes) pieces: TCVN3 capitals with tones go to the capitals font
    (`.VnTimeH`, typed lower-case), as a typist of the time had to."""
    pieces: list[tuple[str, bytes]] = []
    for char in text:
        key, data = "/L", None
        try:
            data = legacy_text.encode(char, encoding)
        except ValueError:
            if encoding != TCVN3 or not char.isupper():
                raise
            key, data = "/H", legacy_text.encode(char.lower(), encoding)
        if pieces and pieces[-1][0] == key:
            pieces[-1] = (key, pieces[-1][1] + data)
        else:
            pieces.append((key, data))
    return pieces


def _show(
    key: str, data: bytes, size_pt: float, x_pt: float, y_pt: float, scale: float = 100
) -> bytes:
    return (
        f"BT {key} {size_pt:.2f} Tf {scale:.2f} Tz 1 0 0 1 {x_pt:.2f} {y_pt:.2f} Tm "
        f"<{data.hex()}> Tj ET\n"
    ).encode()


def _advance(data: bytes, font: Dictionary, size_pt: float) -> float:
    widths = font.Widths
    return sum(float(widths[code]) for code in data) * size_pt / 1000


def _run(text: str, encoding: str, fonts: dict, size: float, x: float, y: float) -> bytes:
    """Each word where the Unicode text puts it, squeezed (Tz) to the Unicode word's width."""
    content = b""
    for word in re.split(r"(\s+)", text):
        room = sum(_width(c) for c in word) * size / 1000
        if word and not word.isspace():
            pieces = segments(word, encoding)
            legacy = sum(_advance(data, fonts[key], size) for key, data in pieces)
            scale = 100 * room / legacy if legacy else 100
            at = x
            for key, data in pieces:
                content += _show(key, data, size, at, y, scale)
                at += _advance(data, fonts[key], size) * scale / 100
        x += room
    return content


def write_legacy_pdf(
    path: Path,
    pages: Sequence[PageLayout],
    encoding: str,
    *,
    font_name: str | None = None,
    capitals_name: str = ".VnTimeH",
    english_lines: Sequence[str] = (),
) -> Path:
    """Each page's runs in a legacy font of `encoding` (named `font_name`, or its usual name);
    `english_lines` drawn below in Helvetica (a mixed page)."""
    pdf = pikepdf.new()
    name = font_name or NAMES[encoding]
    fonts = {
        "/L": _font(pdf, name, encoding, False),
        "/H": _font(pdf, capitals_name, encoding, True),
        "/E": _font(pdf, "Helvetica", None, False),
    }
    for layout in pages:
        height_pt = layout.height * PX_TO_PT
        content = b""
        for line in layout.lines:
            for run in line.runs:
                size, x = run.px * PX_TO_PT, run.x * PX_TO_PT
                y = height_pt - run.y * PX_TO_PT
                content += _run(run.text, encoding, fonts, size, x, y)
        y = 60.0
        for text in english_lines:
            content += _show("/E", text.encode("cp1252"), 10, 72, y)
            y -= 14
        page = Dictionary(
            Type=Name.Page,
            MediaBox=[0, 0, layout.width * PX_TO_PT, height_pt],
            Resources=Dictionary(Font=Dictionary(fonts)),
            Contents=pdf.make_stream(content),
        )
        pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)
    return path
