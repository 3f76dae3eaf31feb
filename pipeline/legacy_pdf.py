"""Born-digital pages whose fonts speak TCVN3, VNI or VISCII: a copy whose text reads as Unicode.

Which fonts are legacy is decided per font, from the bytes the page shows in it (read from the
content streams, so TCVN3's `ư` at 0xAD is seen as the byte it is: a Latin reading turns it into
a soft hyphen or a hyphen and loses it): by the font's name (`.VnTime`, `.VnTimeH`, `VNI-Times`,
`VISCII…`), else by those bytes reading as Vietnamese syllables under one encoding and not as they
are (pipeline.legacy_text). Each legacy font gets a ToUnicode map built from its encoding's table
(capitals for a `.VnTimeH`-style font), and nothing else changes: the page looks the same, its
other fonts (Unicode, English) are untouched, and any reader, PDFium included, now extracts
Unicode from it. The copy is what the searchable PDF carries for that page.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pikepdf
from pikepdf import Dictionary

from pipeline import legacy_text

log = logging.getLogger(__name__)

SIMPLE_FONTS = ("/Type1", "/MMType1", "/TrueType")
MAX_FORM_DEPTH = 8
# A ToUnicode map that already names Vietnamese letters: the font is Unicode, whatever its name.
_VIETNAMESE_TARGET = re.compile(rb"<\s*(1E[A-F][0-9A-F]|01A[01F]|01B0|010[23]|011[01])\s*>", re.I)


@dataclass(frozen=True)
class LegacyFont:
    encoding: str
    capitals: bool


def unicode_copy(path: Path, page_index: int) -> bytes | None:
    """The page alone as a PDF whose legacy fonts map to Unicode; None when it has none.

    Never raises for a damage PDFium tolerated: the page is then kept as it is (logged)."""
    try:
        with pikepdf.open(path) as src:
            page = src.pages[page_index]
            fonts = legacy_fonts(page.obj)
            if not fonts:
                return None
            maps: dict[LegacyFont, pikepdf.Stream] = {}
            for font, legacy in fonts:
                if legacy not in maps:
                    maps[legacy] = src.make_stream(to_unicode_cmap(legacy))
                font.ToUnicode = maps[legacy]
            return _alone(src, page)
    except (pikepdf.PdfError, ValueError, KeyError, IndexError) as e:
        log.warning("page %d: legacy fonts not mapped to Unicode: %s", page_index + 1, e)
        return None


def _alone(src: pikepdf.Pdf, page: pikepdf.Page) -> bytes:
    """One-page PDF of `page`, with the document's layer settings (hygiene keeps what was hidden
    hidden)."""
    with pikepdf.new() as out:
        out.pages.append(page)
        if "/OCProperties" in src.Root:
            out.Root.OCProperties = out.copy_foreign(src.Root.OCProperties)
        buffer = io.BytesIO()
        out.save(buffer)
        return buffer.getvalue()


def legacy_fonts(page: Dictionary) -> list[tuple[Dictionary, LegacyFont]]:
    """The page's fonts (forms included) that show legacy-encoded text, with their encoding."""
    shown: dict[tuple[int, int], tuple[Dictionary, bytearray]] = {}
    _collect(page, page.get("/Resources"), shown, set(), 0)
    found = []
    for font, data in shown.values():
        legacy = _legacy(font, bytes(data))
        if legacy is not None:
            found.append((font, legacy))
    return found


def _legacy(font: Dictionary, data: bytes) -> LegacyFont | None:
    if font.get("/Subtype") not in SIMPLE_FONTS:
        return None  # legacy fonts are one byte per code; composite fonts are Unicode-era
    to_unicode = font.get("/ToUnicode")
    if isinstance(to_unicode, pikepdf.Stream) and _VIETNAMESE_TARGET.search(
        to_unicode.read_bytes()
    ):
        return None
    named = legacy_text.font_encoding(str(font.get("/BaseFont", "")).lstrip("/"))
    if named is not None:
        return LegacyFont(*named)
    guessed = legacy_text.guess_encoding(data)
    return LegacyFont(guessed, False) if guessed else None


def _collect(
    holder: pikepdf.Object,
    resources: pikepdf.Object,
    shown: dict[tuple[int, int], tuple[Dictionary, bytearray]],
    seen: set[tuple[int, int]],
    depth: int,
) -> None:
    """Bytes shown per font in `holder`'s content, and in the forms it draws."""
    fonts = resources.get("/Font") if isinstance(resources, Dictionary) else None
    xobjects = resources.get("/XObject") if isinstance(resources, Dictionary) else None
    current: bytearray | None = None
    for operands, operator in pikepdf.parse_content_stream(holder, "Tf Tj TJ ' \" Do"):
        op = str(operator)
        if op == "Tf" and operands and isinstance(fonts, Dictionary):
            font = fonts.get(str(operands[0]))
            current = _font_bytes(font, shown) if isinstance(font, Dictionary) else None
        elif op in ("Tj", "'", '"', "TJ") and current is not None and operands:
            strings = operands[-1] if op == "TJ" else [operands[-1]]
            for item in strings:
                if isinstance(item, pikepdf.String):
                    current += bytes(item) + b" "
        elif op == "Do" and operands and isinstance(xobjects, Dictionary):
            form = xobjects.get(str(operands[0]))
            _form(form, resources, shown, seen, depth)


def _form(
    form: pikepdf.Object,
    resources: pikepdf.Object,
    shown: dict[tuple[int, int], tuple[Dictionary, bytearray]],
    seen: set[tuple[int, int]],
    depth: int,
) -> None:
    if not isinstance(form, pikepdf.Stream) or form.get("/Subtype") != "/Form":
        return
    if depth >= MAX_FORM_DEPTH or (form.is_indirect and form.objgen in seen):
        return
    if form.is_indirect:
        seen.add(form.objgen)
    _collect(form, form.get("/Resources", resources), shown, seen, depth + 1)


def _font_bytes(
    font: Dictionary, shown: dict[tuple[int, int], tuple[Dictionary, bytearray]]
) -> bytearray:
    key = font.objgen if font.is_indirect else (-id(font), 0)
    if key not in shown:
        shown[key] = (font, bytearray())
    return shown[key][1]


def to_unicode_cmap(legacy: LegacyFont) -> bytes:
    """A ToUnicode CMap (PDF 32000 9.10.3) for every code the encoding draws."""
    pairs = []
    for code in range(256):
        text = legacy_text.code_to_unicode(legacy.encoding, code, legacy.capitals)
        if text:
            pairs.append(f"<{code:02X}> <{text.encode('utf-16-be').hex().upper()}>")
    blocks = []
    for start in range(0, len(pairs), 100):  # at most 100 entries per block
        chunk = pairs[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
