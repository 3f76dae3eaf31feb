"""The typefaces of this page set: Debian fonts with every Vietnamese letter, none of them the
LiberationSerif that `corpus/` draws with.

A page is set in one family; the stamp's lettering is always Noto Sans. `missing_glyphs` says
which characters of a text a face cannot draw (Pillow would draw its .notdef box instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

DPI = 300
A4_PX = (2480, 3508)  # 210 × 297 mm at 300 dpi
_TRUETYPE = Path("/usr/share/fonts/truetype")


class Style(StrEnum):
    regular = "regular"
    bold = "bold"
    italic = "italic"
    bold_italic = "bold_italic"


@dataclass(frozen=True)
class Family:
    name: str
    package: str  # the Debian package that installs it (scripts/setup.sh, bench extras)
    files: dict[Style, Path]


def _family(name: str, package: str, folder: str, files: tuple[str, str, str, str]) -> Family:
    return Family(
        name, package, {s: _TRUETYPE / folder / f for s, f in zip(Style, files, strict=True)}
    )


FAMILIES: tuple[Family, ...] = (
    _family(
        "FreeSerif",
        "fonts-freefont-ttf",
        "freefont",
        ("FreeSerif.ttf", "FreeSerifBold.ttf", "FreeSerifItalic.ttf", "FreeSerifBoldItalic.ttf"),
    ),
    _family(
        "Noto Serif",
        "fonts-noto-core",
        "noto",
        (
            "NotoSerif-Regular.ttf",
            "NotoSerif-Bold.ttf",
            "NotoSerif-Italic.ttf",
            "NotoSerif-BoldItalic.ttf",
        ),
    ),
)
STAMP_FONT = _TRUETYPE / "noto" / "NotoSans-Bold.ttf"
PACKAGES = ("fonts-freefont-ttf", "fonts-noto-core")


def pt_to_px(pt: float) -> int:
    return round(pt * DPI / 72)


def mm_to_px(mm: float) -> int:
    return round(mm * DPI / 25.4)


def _checked(path: Path) -> Path:
    if not path.is_file():
        package = next((f.package for f in FAMILIES if path in f.files.values()), "fonts-noto-core")
        raise FileNotFoundError(f"font not found: {path} (Debian package {package})")
    return path


@cache
def font(path: Path, px: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: no shaping engine, so widths are the same on every machine; NFC Vietnamese
    # needs none (each letter with its marks is one precomposed glyph).
    return ImageFont.truetype(str(_checked(path)), px, layout_engine=ImageFont.Layout.BASIC)


@cache
def _codepoints(path: Path) -> frozenset[int]:
    with TTFont(str(_checked(path)), lazy=True) as face:
        return frozenset(face.getBestCmap())


def missing_glyphs(path: Path, text: str) -> str:
    """The characters of `text` (spaces aside) that the face has no glyph for, in order."""
    have = _codepoints(path)
    return "".join(dict.fromkeys(c for c in text if not c.isspace() and ord(c) not in have))
