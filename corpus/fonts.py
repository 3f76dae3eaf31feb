"""Fonts and text measurement shared by the raster renderer and the born-digital PDF writer.

All geometry in this package is in pixels at 300 dpi; a font size in px is the em size, so
`px * 72 / 300` is the size in points (13 pt ≈ 54 px).
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

DPI = 300
A4_PX = (2480, 3508)  # 210 x 297 mm at 300 dpi
FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
FAMILY = "LiberationSerif"


class Style(StrEnum):
    regular = "Regular"
    bold = "Bold"
    italic = "Italic"
    bold_italic = "BoldItalic"

    @property
    def fpdf(self) -> str:
        """The style letters fpdf2 uses for this face."""
        return {"Regular": "", "Bold": "B", "Italic": "I", "BoldItalic": "BI"}[self.value]


def pt_to_px(pt: float) -> int:
    return round(pt * DPI / 72)


def px_to_pt(px: float) -> float:
    return px * 72 / DPI


def font_path(style: Style) -> Path:
    path = FONT_DIR / f"{FAMILY}-{style.value}.ttf"
    if not path.is_file():
        raise FileNotFoundError(f"font not found: {path} (Debian package fonts-liberation2)")
    return path


@lru_cache(maxsize=64)
def pil_font(style: Style, px: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: no shaping engine, so widths are identical on every machine; Vietnamese
    # in NFC needs no shaping (every letter with its marks is one precomposed glyph).
    return ImageFont.truetype(str(font_path(style)), px, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=65536)
def text_width(text: str, style: Style, px: int) -> float:
    return pil_font(style, px).getlength(text)


def ascent(style: Style, px: int) -> int:
    return pil_font(style, px).getmetrics()[0]


def descent(style: Style, px: int) -> int:
    return pil_font(style, px).getmetrics()[1]
