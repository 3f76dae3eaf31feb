"""What a flatbed or sheet-fed scanner does to a page, applied after rendering.

In this order: the back of the sheet shows through (bleed-through: another page, mirrored,
blurred and faint), the lamp lights the sheet unevenly, the sheet lies slightly rotated, the
optics blur a little, the sensor adds noise (and, on heavy pages, dust specks and faded ink),
and the scanner saves JPEG at its own quality. Levels (pages2/README.md):

- clean: nothing.
- light: rotation 0.2–0.8° either way, bleed-through 4–7 %, illumination falling 5–12 % across
  the sheet, blur σ 0.5–0.7, noise σ 2–4, JPEG quality 82–90.
- heavy: rotation 0.6–1.5° either way, bleed-through 8–14 %, illumination falling 15–28 %, grey
  paper (88–95 %) and faded ink (grey 35–70), blur σ 0.8–1.1, noise σ 7–11, 150 dust specks,
  JPEG quality 60–72.

Rotation is about the page centre, counter-clockwise positive, the uncovered corners white.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from pages2.fonts import DPI

LEVELS = ("clean", "light", "heavy")


@dataclass(frozen=True)
class Scanner:
    rotation: tuple[float, float]  # magnitude range, degrees; the sign is drawn too
    bleed: tuple[float, float]  # contrast of the show-through
    light_falloff: tuple[float, float]  # how much darker the dimmest corner is
    blur: tuple[float, float]
    noise: tuple[float, float]
    jpeg_quality: tuple[int, int]
    paper: tuple[float, float] = (1.0, 1.0)  # paper brightness
    ink: tuple[float, float] = (0.0, 0.0)  # grey of the blackest ink
    dust: int = 0


SCANNERS: dict[str, Scanner] = {
    "light": Scanner((0.2, 0.8), (0.04, 0.07), (0.05, 0.12), (0.5, 0.7), (2.0, 4.0), (82, 90)),
    "heavy": Scanner(
        (0.6, 1.5),
        (0.08, 0.14),
        (0.15, 0.28),
        (0.8, 1.1),
        (7.0, 11.0),
        (60, 72),
        paper=(0.88, 0.95),
        ink=(35.0, 70.0),
        dust=150,
    ),
}


@dataclass(frozen=True)
class Scan:
    image: Image.Image  # "L", 300 dpi
    jpeg: bytes | None  # the scanner's own JPEG file (None for clean pages)
    rotation_deg: float  # counter-clockwise positive


def scan(page: Image.Image, back: Image.Image | None, level: str, seed: int) -> Scan:
    """The page as the scanner delivers it; the same arguments always give the same bytes."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    if level == "clean":
        return Scan(page, None, 0.0)
    params = SCANNERS[level]
    rng = np.random.default_rng(seed)
    pixels = np.asarray(page, dtype=np.float32)
    if back is not None:
        pixels = _bleed_through(pixels, back, float(rng.uniform(*params.bleed)))
    if params.ink[1]:
        paper, ink = float(rng.uniform(*params.paper)), float(rng.uniform(*params.ink))
        pixels = ink + pixels * (255.0 * paper - ink) / 255.0
    pixels *= _illumination(pixels.shape, rng, float(rng.uniform(*params.light_falloff)))
    angle = float(rng.uniform(*params.rotation)) * float(rng.choice((-1.0, 1.0)))
    pixels = _rotate(pixels, angle)
    cv2.GaussianBlur(pixels, (0, 0), float(rng.uniform(*params.blur)), dst=pixels)
    pixels += rng.standard_normal(pixels.shape, dtype=np.float32) * np.float32(
        rng.uniform(*params.noise)
    )
    if params.dust:
        _dust(pixels, rng, params.dust)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    quality = int(rng.integers(params.jpeg_quality[0], params.jpeg_quality[1] + 1))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, dpi=(DPI, DPI))
    with Image.open(io.BytesIO(buffer.getvalue())) as decoded:
        delivered = decoded.convert("L")
    delivered.info["dpi"] = (DPI, DPI)
    return Scan(delivered, buffer.getvalue(), round(angle, 4))


def _bleed_through(pixels: np.ndarray, back: Image.Image, contrast: float) -> np.ndarray:
    """The back page seen through the paper: mirrored left-right, blurred, `contrast` deep."""
    mirrored = np.ascontiguousarray(np.asarray(back, dtype=np.float32)[:, ::-1])
    seen = cv2.GaussianBlur(mirrored, (0, 0), 2.5)
    shadow = 1.0 - contrast * (1.0 - seen / 255.0)
    return np.minimum(pixels, 255.0 * shadow)


def _illumination(shape: tuple[int, ...], rng: np.random.Generator, falloff: float) -> np.ndarray:
    """A smooth light field: brightest at a random spot, `falloff` darker at the far corner."""
    h, w = shape
    cy, cx = rng.uniform(0, h), rng.uniform(0, w)
    ys = np.linspace(0, h, 64, dtype=np.float32)[:, None]
    xs = np.linspace(0, w, 46, dtype=np.float32)[None, :]
    distance = np.sqrt((ys - cy) ** 2 + (xs - cx) ** 2)
    small = 1.0 - falloff * (distance / distance.max()) ** 1.5
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)


def _rotate(pixels: np.ndarray, angle_deg: float) -> np.ndarray:
    h, w = pixels.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(
        pixels,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255.0,
    )


def _dust(pixels: np.ndarray, rng: np.random.Generator, count: int) -> None:
    h, w = pixels.shape
    for _ in range(count):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        cv2.circle(pixels, (x, y), int(rng.integers(1, 4)), float(rng.uniform(20, 110)), -1)
