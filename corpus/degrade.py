"""Scanner-like degradation of clean page images, deterministic from a seed.

Levels
- clean: nothing.
- light: slight Gaussian blur, light Gaussian noise, skew within ±1°, JPEG q≈75 round trip.
- heavy: uneven paper background and lower contrast, skew within ±3°, stronger blur and noise,
  salt-and-pepper specks and dust, JPEG q≈40 round trip.

Skew is a rotation about the page centre by `skew_deg` degrees, counter-clockwise positive
(OpenCV's convention); uncovered corners are filled with white.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from corpus.fonts import DPI

LEVELS = ("clean", "light", "heavy")


@dataclass(frozen=True)
class Params:
    blur_sigma: tuple[float, float]  # range drawn from
    noise_std: tuple[float, float]
    max_skew_deg: float
    jpeg_quality: int
    specks: float = 0.0  # fraction of pixels turned black or white
    dust: int = 0  # number of small dark blobs
    background: float = 0.0  # depth of the uneven paper shading (0..1)


PARAMS: dict[str, Params] = {
    "light": Params((0.4, 0.7), (3.0, 6.0), 1.0, 75),
    "heavy": Params((0.9, 1.3), (8.0, 14.0), 3.0, 40, specks=0.0008, dust=200, background=0.18),
}


@dataclass(frozen=True)
class Degraded:
    image: Image.Image
    level: str
    skew_deg: float = 0.0


def seed_to_int(*parts: object) -> int:
    """A stable 64-bit seed from any parts (independent of PYTHONHASHSEED)."""
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def degrade(image: Image.Image, level: str, seed: int) -> Degraded:
    """Degrade a greyscale page; the same (image, level, seed) always gives the same pixels."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {LEVELS}")
    if level == "clean":
        return Degraded(image, level)
    params = PARAMS[level]
    rng = np.random.default_rng(seed_to_int("degrade", level, seed))
    # Full-page float buffers are made by OpenCV and changed in place: fresh NumPy arrays of
    # this size are slow to fault in where NumPy asks for transparent huge pages.
    pixels = cv2.multiply(np.asarray(image.convert("L")), 1.0, dtype=cv2.CV_32F)
    if params.background:
        _uneven_background(pixels, rng, params.background)
    angle = float(rng.uniform(-params.max_skew_deg, params.max_skew_deg))
    pixels = skew_array(pixels, angle)
    sigma = float(rng.uniform(*params.blur_sigma))
    cv2.GaussianBlur(pixels, (0, 0), sigma, dst=pixels)
    _gaussian_noise(pixels, rng, float(rng.uniform(*params.noise_std)))
    if params.dust:
        _dust(pixels, rng, params.dust)
    if params.specks:
        _specks(pixels, rng, params.specks)
    out = Image.fromarray(cv2.convertScaleAbs(np.clip(pixels, 0, 255, out=pixels)), "L")
    return Degraded(jpeg_round_trip(out, params.jpeg_quality), level, round(angle, 4))


def skew_array(pixels: np.ndarray, angle_deg: float) -> np.ndarray:
    h, w = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.0)
    return cv2.warpAffine(
        pixels,
        matrix,
        (w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=255,
    )


def skew(image: Image.Image, angle_deg: float) -> Image.Image:
    """Rotate by a small angle (counter-clockwise positive) about the centre, white fill."""
    return Image.fromarray(skew_array(np.asarray(image.convert("L")), angle_deg), "L")


def rotate_page(image: Image.Image, degrees_ccw: int = 90) -> Image.Image:
    """Turn a page a quarter (or half) turn counter-clockwise, losslessly.

    The clockwise rotation that makes the result upright again is `degrees_ccw`, which is what
    `PageResult.rotation_deg` reports for such a page.
    """
    turns = {
        90: Image.Transpose.ROTATE_90,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }
    if degrees_ccw % 360 == 0:
        return image.copy()
    rotated = image.transpose(turns[degrees_ccw % 360])
    rotated.info["dpi"] = (DPI, DPI)
    return rotated


def jpeg_round_trip(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        out = decoded.convert("L")
    out.info["dpi"] = (DPI, DPI)
    return out


def _uneven_background(pixels: np.ndarray, rng: np.random.Generator, depth: float) -> None:
    """Greyish, unevenly lit paper and slightly faded ink, in place:
    ink + (paper - ink) * p / 255 with paper = 255 * brightness * shading."""
    h, w = pixels.shape
    coarse = rng.uniform(1.0 - depth, 1.0, size=(4, 3)).astype(np.float32)
    shading = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    brightness = float(rng.uniform(0.9, 0.97))
    ink = float(rng.uniform(25, 60))
    span = cv2.addWeighted(shading, brightness, shading, 0.0, -ink / 255.0)  # (paper-ink)/255
    cv2.multiply(pixels, span, dst=pixels)
    pixels += ink


def _gaussian_noise(pixels: np.ndarray, rng: np.random.Generator, std: float) -> None:
    for top in range(0, pixels.shape[0], 256):  # in bands: small temporaries
        band = pixels[top : top + 256]
        band += rng.standard_normal(band.shape, dtype=np.float32) * np.float32(std)


def _dust(pixels: np.ndarray, rng: np.random.Generator, count: int) -> None:
    h, w = pixels.shape
    ys, xs = rng.integers(0, h, count), rng.integers(0, w, count)
    radii = rng.integers(1, 4, count)
    shades = rng.uniform(0, 90, count)
    for x, y, r, shade in zip(xs, ys, radii, shades, strict=True):
        cv2.circle(pixels, (int(x), int(y)), int(r), float(shade), thickness=-1)


def _specks(pixels: np.ndarray, rng: np.random.Generator, fraction: float) -> None:
    count = int(pixels.size * fraction)
    flat = pixels.reshape(-1)
    index = rng.choice(flat.size, count, replace=False)
    flat[index] = np.where(rng.random(count) < 0.5, 0.0, 255.0)
