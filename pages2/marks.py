"""What a pen and a seal add to a signed page: a signature and a red round stamp, both ink
laid over whatever is printed below (they are never part of the page's text).

A greyscale scanner sees red seal ink at about the luminance of (200, 40, 50), and blue-black
ballpoint ink darker still; ink is laid with `darken`, so it never lightens the print.
"""

from __future__ import annotations

import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from pages2.fonts import STAMP_FONT, font


def _luminance(rgb: tuple[int, int, int]) -> int:
    r, g, b = rgb
    return round(0.299 * r + 0.587 * g + 0.114 * b)


SEAL_INK = _luminance((200, 40, 50))
PEN_INK = _luminance((30, 40, 110))


def darken(page: Image.Image, mask: Image.Image, box: tuple[int, int], shade: int) -> None:
    """Lay ink of grey `shade` over `page` where `mask` (L, 0..255 coverage) is set, in place."""
    x, y = box
    region = (x, y, x + mask.width, y + mask.height)
    below = np.asarray(page.crop(region), dtype=np.float32)
    alpha = np.asarray(mask, dtype=np.float32)[: below.shape[0], : below.shape[1]] / 255.0
    inked = below * (1.0 - alpha) + shade * alpha
    page.paste(Image.fromarray(np.minimum(below, inked).astype(np.uint8), "L"), region[:2])


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float) -> None:
    points = []
    for k in range(10):
        radius = r if k % 2 == 0 else r * 0.4
        angle = -math.pi / 2 + k * math.pi / 5
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    draw.polygon(points, fill=255)


def stamp_mask(ring_text: str, rng: random.Random, radius: int) -> Image.Image:
    """A round seal: two rings, `ring_text` in capitals around the top, a star in the middle;
    uneven ink (some of it missing, as when a seal is pressed unevenly)."""
    size = 2 * radius + 8
    mask = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(mask)
    c = size / 2
    draw.ellipse((c - radius, c - radius, c + radius, c + radius), outline=255, width=9)
    inner = radius - round(radius * 0.3)
    draw.ellipse((c - inner, c - inner, c + inner, c + inner), outline=255, width=4)
    _star(draw, c, c, inner * 0.45)
    letters = ring_text.upper()
    px = round(radius * 0.17)
    face = font(STAMP_FONT, px)
    text_r = (radius + inner) / 2
    spread = min(300.0, 11.5 * len(letters))  # degrees of the ring the text takes
    for k, letter in enumerate(letters):
        angle = -spread / 2 + spread * (k + 0.5) / len(letters)  # 0 = top, clockwise
        glyph = Image.new("L", (2 * px, 2 * px), 0)
        ImageDraw.Draw(glyph).text((px, px), letter, font=face, fill=255, anchor="mm")
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BILINEAR)
        rad = math.radians(angle)
        gx, gy = c + text_r * math.sin(rad) - px, c - text_r * math.cos(rad) - px
        mask.paste(255, (round(gx), round(gy)), glyph)
    pressure = np.random.default_rng(rng.getrandbits(32)).uniform(0.45, 1.0, (8, 8))
    field = Image.fromarray((pressure * 255).astype(np.uint8), "L").resize(
        mask.size, Image.Resampling.BICUBIC
    )
    uneven = np.asarray(mask, dtype=np.float32) * np.asarray(field, dtype=np.float32) / 255
    return Image.fromarray(uneven.astype(np.uint8), "L").filter(ImageFilter.GaussianBlur(1.2))


def signature_mask(rng: random.Random, width: int, height: int) -> Image.Image:
    """A handwritten flourish: a loop-and-wave stroke and an underline, of varying width."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    loops = rng.randint(2, 4)
    points = []
    for k in range(121):
        t = k / 120
        x = width * (0.1 + 0.75 * t) + width * 0.06 * math.cos(t * loops * 2 * math.pi)
        y = (
            height
            * (0.5 - 0.3 * math.sin(t * loops * 2 * math.pi + rng.random() * 0.1))
            * (1 - 0.3 * t)
        )
        points.append((x, y))
    draw.line(points, fill=255, width=rng.randint(4, 7), joint="curve")
    y0 = height * rng.uniform(0.65, 0.85)
    draw.line(
        [(width * 0.05, y0), (width * 0.5, y0 + height * 0.08), (width * 0.95, y0 - height * 0.1)],
        fill=255,
        width=rng.randint(3, 5),
        joint="curve",
    )
    return mask.filter(ImageFilter.GaussianBlur(0.8))


def sign_and_stamp(
    page: Image.Image,
    box: tuple[int, int, int, int],
    organ: str,
    rng: random.Random,
    *,
    stamped: bool,
) -> None:
    """Sign inside `box` (the room between the signer's title and name); with `stamped`, press
    the seal over the left third of the signature, as ND30 asks."""
    x0, y0, x1, y1 = box
    signature = signature_mask(rng, x1 - x0, max(y1 - y0, 60))
    darken(page, signature, (x0, y0), PEN_INK)
    if stamped:
        radius = rng.randint(190, 240)
        seal = stamp_mask(organ, rng, radius)
        cx = x0 + (x1 - x0) * rng.uniform(0.2, 0.35)
        cy = (y0 + y1) / 2 + rng.uniform(-40, 40)
        darken(page, seal, (round(cx - seal.width / 2), round(cy - seal.height / 2)), SEAL_INK)
