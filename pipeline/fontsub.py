"""Embed a metric-compatible substitute for a simple font that a born-digital PDF did not embed.

PDF/A (ISO 19005-2, 6.2.11.4.1) wants every font program embedded. A page copied from a
born-digital PDF often names Helvetica, Times, Courier (the "standard 14") or Word's Arial, Times
New Roman and Courier New without embedding them. Liberation Sans, Serif and Mono (Debian
fonts-liberation2, SIL OFL 1.1) are drawn to the same advance widths as those families, so the
text keeps its layout. The embedded program is a subset whose advance widths are set to the widths
the page was laid out with (its /Widths, or the standard AFM widths when it has none): the text
stays exactly where it was and the font dictionary agrees with the program (6.2.11.5). Because the
program is modified, it is renamed (the OFL reserves the name "Liberation"); its copyright and
licence records are kept.

Anything else (symbolic fonts such as Symbol or ZapfDingbats, composite Type0 fonts whose glyph
ids belong to the missing program, other families, encodings that cannot be stated with standard
glyph names) is left alone and reported: the output then does not claim PDF/A.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import pikepdf
from pdfminer.fontmetrics import FONT_METRICS
from pdfminer.glyphlist import glyphname2unicode
from pdfminer.latin_enc import ENCODING
from pikepdf import Array, Dictionary, Name

if TYPE_CHECKING:
    from fontTools.ttLib import TTFont

FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
SIMPLE = ("/Type1", "/MMType1", "/TrueType")
FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")

# Family of the missing font (name lowercased, without spaces, style and PS/MT suffixes) ->
# (Liberation family, standard-14 AFM name used when the font dictionary gives no widths).
FAMILIES = {
    "helvetica": ("Sans", "Helvetica"),
    "arial": ("Sans", "Helvetica"),
    "times": ("Serif", "Times"),
    "timesroman": ("Serif", "Times"),
    "timesnewroman": ("Serif", "Times"),
    "courier": ("Mono", "Courier"),
    "couriernew": ("Mono", "Courier"),
}
STYLE_SUFFIX = re.compile(
    r"(bold|italic|oblique|roman|regular|medium|book|normal|mt|ps)+$", re.IGNORECASE
)
FLAG_FIXED, FLAG_SERIF, FLAG_SYMBOLIC, FLAG_NONSYMBOLIC, FLAG_ITALIC = 1, 2, 4, 32, 64
FLAG_FORCE_BOLD = 1 << 18


class CannotSubstitute(Exception):
    """Why a non-embedded font gets no substitute (shown in the record)."""


def is_embedded(font: pikepdf.Dictionary) -> bool:
    """Whether the font carries its program (Type3 fonts are content streams: always)."""
    subtype = font.get("/Subtype")
    if subtype == "/Type3":
        return True
    if subtype == "/Type0":
        descendants = font.get("/DescendantFonts")
        if not isinstance(descendants, Array) or len(descendants) != 1:
            return False
        font = descendants[0]
    descriptor = font.get("/FontDescriptor")
    return isinstance(descriptor, Dictionary) and any(k in descriptor for k in FONT_FILES)


def font_name(font: pikepdf.Dictionary) -> str:
    name = str(font.get("/BaseFont", "/unnamed"))[1:]
    return name.split("+", 1)[1] if re.match(r"^[A-Z]{6}\+", name) else name


@dataclass(frozen=True)
class _Face:
    family: str  # Sans | Serif | Mono
    afm: str  # standard-14 AFM name for widths
    bold: bool
    italic: bool

    @property
    def style(self) -> str:
        return {
            (False, False): "Regular",
            (True, False): "Bold",
            (False, True): "Italic",
            (True, True): "BoldItalic",
        }[(self.bold, self.italic)]

    @property
    def path(self) -> Path:
        return FONT_DIR / f"Liberation{self.family}-{self.style}.ttf"

    @property
    def afm_name(self) -> str:
        if self.afm == "Times":
            return {
                "Regular": "Times-Roman",
                "Bold": "Times-Bold",
                "Italic": "Times-Italic",
                "BoldItalic": "Times-BoldItalic",
            }[self.style]
        suffix = {"Regular": "", "Bold": "-Bold", "Italic": "-Oblique"}
        return self.afm + suffix.get(self.style, "-BoldOblique")


def _face(font: pikepdf.Dictionary) -> _Face:
    name = font_name(font)
    words = re.split(r"[,\-]", name.replace(" ", ""), maxsplit=1)
    family = STYLE_SUFFIX.sub("", words[0].lower()) or words[0].lower()
    if family not in FAMILIES:
        raise CannotSubstitute(
            f"font '{name}' is not embedded and has no metric-compatible substitute"
        )
    descriptor = font.get("/FontDescriptor")
    flags = int(descriptor.get("/Flags", 0)) if isinstance(descriptor, Dictionary) else 0
    weight = int(descriptor.get("/FontWeight", 400)) if isinstance(descriptor, Dictionary) else 400
    angle = float(descriptor.get("/ItalicAngle", 0)) if isinstance(descriptor, Dictionary) else 0.0
    lowered = name.lower()
    bold = "bold" in lowered or weight >= 600 or bool(flags & FLAG_FORCE_BOLD)
    italic = "italic" in lowered or "oblique" in lowered or angle != 0 or bool(flags & FLAG_ITALIC)
    return _Face(*FAMILIES[family], bold, italic)


@lru_cache(maxsize=1)
def _base_encodings() -> dict[str, dict[int, str]]:
    tables: dict[str, dict[int, str]] = {
        "StandardEncoding": {},
        "MacRomanEncoding": {},
        "WinAnsiEncoding": {},
    }
    for name, std, mac, win, _pdf in ENCODING:
        for table, code in zip(tables.values(), (std, mac, win), strict=True):
            if code is not None:
                table.setdefault(code, name)
    return tables


def _code_names(font: pikepdf.Dictionary) -> dict[int, str]:
    """Code -> glyph name, as the font's /Encoding says (a standard base and its Differences)."""
    encoding = font.get("/Encoding")
    base, differences = "StandardEncoding", None
    if isinstance(encoding, Name):
        base = str(encoding)[1:]
    elif isinstance(encoding, Dictionary):
        base = str(encoding.get("/BaseEncoding", "/StandardEncoding"))[1:]
        differences = encoding.get("/Differences")
    elif encoding is not None:
        raise CannotSubstitute(f"font '{font_name(font)}' has an unreadable /Encoding")
    elif int(_flags(font)) & FLAG_SYMBOLIC:
        raise CannotSubstitute(
            f"font '{font_name(font)}' is not embedded and uses its own built-in encoding"
        )
    tables = _base_encodings()
    if base not in tables:
        raise CannotSubstitute(f"font '{font_name(font)}' uses /{base}")
    names = dict(tables[base])
    if isinstance(differences, Array):
        code = 0
        for item in differences:
            if isinstance(item, Name):
                glyph = str(item)[1:]
                if glyph not in glyphname2unicode:
                    raise CannotSubstitute(
                        f"font '{font_name(font)}' names glyph '{glyph}', not a standard glyph name"
                    )
                names[code] = glyph
                code += 1
            else:
                code = int(item)
    return names


def _flags(font: pikepdf.Dictionary) -> int:
    descriptor = font.get("/FontDescriptor")
    return int(descriptor.get("/Flags", 0)) if isinstance(descriptor, Dictionary) else 0


def _widths(
    font: pikepdf.Dictionary, face: _Face, names: dict[int, str]
) -> dict[int, float | None]:
    """Code -> advance width (1/1000 em) the page was laid out with, None where a viewer takes
    the substitute's own (a glyph the standard metrics lack, such as the Euro); codes the font
    dictionary gives no width are left out."""
    widths = font.get("/Widths")
    if isinstance(widths, Array):
        first = int(font.get("/FirstChar", 0))
        laid_out = {first + i: float(w) for i, w in enumerate(widths)}
        return {c: w for c, w in laid_out.items() if c in names and w > 0}
    afm = FONT_METRICS[face.afm_name][1]  # keyed by the character
    return {
        code: float(afm[char]) if char in afm else None
        for code, name in names.items()
        if (char := glyphname2unicode.get(name)) is not None
    }


def substitute(pdf: pikepdf.Pdf, font: pikepdf.Dictionary, cache: dict) -> None:
    """Turn a non-embedded simple Latin font into an embedded TrueType subset, in place.

    Raises CannotSubstitute when that cannot be done faithfully (the font is then left as it is).
    """
    if font.get("/Subtype") not in SIMPLE:
        raise CannotSubstitute(
            f"font '{font_name(font)}' ({str(font.get('/Subtype', '/?'))[1:]}) is not embedded"
        )
    face = _face(font)
    names = _code_names(font)
    widths = _widths(font, face, names)
    chars = {code: glyphname2unicode[names[code]] for code in widths}
    program, kept = _program(face, tuple(sorted(chars.items())), tuple(sorted(widths.items())))
    if not kept:
        raise CannotSubstitute(f"font '{font_name(font)}' has no glyph a substitute can draw")
    key = (face, program)
    if key not in cache:
        cache[key] = _descriptor(pdf, face, program)
    descriptor, base_font = cache[key]
    first, last = min(kept), max(kept)
    win = _base_encodings()["WinAnsiEncoding"]
    diff_array = Array()
    run_start = None
    for code in range(first, last + 1):  # runs of consecutive codes: "code /a /b ..."
        if code in kept and win.get(code) != names[code]:
            if run_start is None:
                diff_array.append(code)
                run_start = code
            diff_array.append(Name("/" + names[code]))
        else:
            run_start = None
    font.Subtype = Name.TrueType
    font.BaseFont = base_font
    font.FirstChar = first
    font.LastChar = last
    font.Widths = Array([kept.get(c, 0) for c in range(first, last + 1)])
    font.Encoding = Dictionary(BaseEncoding=Name.WinAnsiEncoding, Differences=diff_array)
    font.FontDescriptor = descriptor


def _descriptor(pdf: pikepdf.Pdf, face: _Face, program: bytes) -> tuple[pikepdf.Object, Name]:
    from fontTools.ttLib import TTFont  # here, not at the top: fontTools costs every `sohoa` start

    tt = TTFont(io.BytesIO(program))
    scale = 1000 / tt["head"].unitsPerEm
    head, os2 = tt["head"], tt["OS/2"]
    tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(program).digest()[:6])
    base_font = Name(f"/{tag}+{_renamed(face)}")
    flags = FLAG_NONSYMBOLIC
    flags |= FLAG_FIXED if face.family == "Mono" else 0
    flags |= FLAG_SERIF if face.family == "Serif" else 0
    flags |= FLAG_ITALIC if face.italic else 0
    stream = pdf.make_stream(program)
    stream.Length1 = len(program)
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=base_font,
            Flags=flags,
            FontBBox=[round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)],
            ItalicAngle=float(tt["post"].italicAngle),
            Ascent=round(os2.sTypoAscender * scale),
            Descent=round(os2.sTypoDescender * scale),
            CapHeight=round(getattr(os2, "sCapHeight", os2.sTypoAscender) * scale),
            StemV=120 if face.bold else 80,
            FontWeight=700 if face.bold else 400,
            FontFile2=stream,
        )
    )
    return descriptor, base_font


def _renamed(face: _Face) -> str:
    return f"SohoaSubst{face.family}-{face.style}"


@lru_cache(maxsize=32)
def _program(
    face: _Face, chars: tuple[tuple[int, str], ...], widths: tuple[tuple[int, float | None], ...]
) -> tuple[bytes, dict[int, float]]:
    """The substitute's TrueType subset for these characters, its advances set to `widths`;
    and the codes it can draw, with their widths in 1/1000 em."""
    from fontTools import subset  # here, not at the top: fontTools costs every `sohoa` start
    from fontTools.ttLib import TTFont

    tt = TTFont(str(face.path))
    cmap = tt.getBestCmap()
    wanted = {code: ord(ch) for code, ch in chars if len(ch) == 1 and ord(ch) in cmap}
    options = subset.Options()
    options.name_IDs = ["*"]  # keeps the copyright and OFL licence records
    options.name_languages = ["*"]
    options.layout_features = []
    options.notdef_outline = True
    options.glyph_names = True
    options.drop_tables += ["FFTM"]  # FontForge timestamps: fontTools cannot subset them
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=set(wanted.values()))
    subsetter.subset(tt)
    cmap = tt.getBestCmap()
    upm = tt["head"].unitsPerEm
    hmtx = tt["hmtx"].metrics
    advances: dict[str, int] = {}
    final: dict[int, float] = {}  # the page's own widths stay exact (the program is within 1/2)
    for code, width in widths:
        if code not in wanted:
            continue
        glyph = cmap[wanted[code]]
        advance = hmtx[glyph][0] if width is None else round(width * upm / 1000)
        if abs(advances.get(glyph, advance) - advance) * 1000 / upm > 1:
            raise CannotSubstitute("two codes share one glyph with different widths")
        advances[glyph] = advance
        hmtx[glyph] = (advance, hmtx[glyph][1])
        final[code] = advance * 1000 / upm if width is None else width
    _rename(tt, _renamed(face))
    out = io.BytesIO()
    tt.save(out)
    return out.getvalue(), final


def _rename(tt: TTFont, ps_name: str) -> None:
    """A modified OFL font may not keep its Reserved Font Name ("Liberation")."""
    family, _, style = ps_name.partition("-")
    for record in tt["name"].names:
        if record.nameID in (1, 16):
            record.string = family
        elif record.nameID in (3, 4):
            record.string = f"{family} {style}"
        elif record.nameID == 6:
            record.string = ps_name
