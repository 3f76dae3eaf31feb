"""Inputs an ingester must refuse cleanly (a clear error, no crash, no runaway memory)."""

from __future__ import annotations

import random
import struct
import zlib
from pathlib import Path

import pikepdf

from corpus.batch import make_documents
from corpus.formats import write_pdf_digital

ENCRYPTED_USER_PASSWORD = "sohoa"
ENCRYPTED_OWNER_PASSWORD = "sohoa-owner"
BOMB_SIZE = 30_000  # px, each side: 900 megapixels, ~900 MB once decoded to greyscale
ADLER_BASE = 65521


def make_bad_inputs(out_dir: Path, seed: int = 0) -> dict[str, Path]:
    """Write every bad input into `out_dir`; returns {file name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    valid = _valid_pdf_bytes(out, seed)
    written = [
        _write(out / "zero_byte.pdf", b""),
        _write(out / "truncated.pdf", valid[: len(valid) // 2]),
        write_encrypted_pdf(out / "encrypted.pdf", valid),
        _write(
            out / "not_a_pdf.pdf", "Đây không phải là tệp PDF.\nChỉ là văn bản thuần.\n".encode()
        ),
        write_png_bomb(out / "bomb.png"),
        _write(out / "garbage.tif", random.Random(f"garbage:{seed}").randbytes(64 * 1024)),
    ]
    return {path.name: path for path in written}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _valid_pdf_bytes(out: Path, seed: int) -> bytes:
    (doc,) = make_documents(1, seed, pages=2)
    scratch = out / ".valid.pdf.tmp"
    try:
        return write_pdf_digital(scratch, doc.pages).read_bytes()
    finally:
        scratch.unlink(missing_ok=True)


def write_encrypted_pdf(path: Path, pdf_bytes: bytes) -> Path:
    """AES-256 (R6) encryption; opening needs the user password `ENCRYPTED_USER_PASSWORD`."""
    import io

    with pikepdf.open(io.BytesIO(pdf_bytes)) as pdf:
        pdf.save(
            path,
            encryption=pikepdf.Encryption(
                user=ENCRYPTED_USER_PASSWORD, owner=ENCRYPTED_OWNER_PASSWORD, R=6
            ),
        )
    return path


# --------------------------------------------------------------------------- PNG bomb


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of A+B from adler32(A), adler32(B) and len(B) (as zlib's adler32_combine)."""
    lo1, hi1 = adler1 & 0xFFFF, adler1 >> 16
    lo2, hi2 = adler2 & 0xFFFF, adler2 >> 16
    lo = (lo1 + lo2 - 1) % ADLER_BASE
    hi = (hi1 + hi2 + len2 * (lo1 - 1)) % ADLER_BASE
    return (hi << 16) | lo


def _white_idat(width: int, height: int) -> bytes:
    """zlib stream of `height` all-white 8-bit grey scanlines, without ever holding them all.

    One band of rows is deflated and ended with a full flush, which makes the compressed band
    byte-aligned and free of back-references; repeating those bytes repeats the band. The
    Adler-32 trailer of the whole is combined arithmetically."""
    row = b"\x00" + b"\xff" * width  # filter type None, then white pixels
    band_rows = max(1, min(height, (4 << 20) // len(row)))
    bands, rest = divmod(height, band_rows)
    return repeated_zlib(row * band_rows, bands, row * rest)


def repeated_zlib(band: bytes, times: int, tail: bytes) -> bytes:
    """zlib stream of `band` repeated `times` times, then `tail`, without ever holding them.

    The band is deflated and ended with a full flush, which makes it byte-aligned and free of
    back-references, so repeating its compressed bytes repeats the band; the Adler-32 trailer
    of the whole is combined arithmetically."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)  # raw: header and trailer added here
    band_z = deflate.compress(band) + deflate.flush(zlib.Z_FULL_FLUSH)
    tail_z = deflate.compress(tail) + deflate.flush(zlib.Z_FINISH)
    checksum, band_sum = zlib.adler32(b""), zlib.adler32(band)
    for _ in range(times):
        checksum = adler32_combine(checksum, band_sum, len(band))
    checksum = adler32_combine(checksum, zlib.adler32(tail), len(tail))
    return b"\x78\xda" + band_z * times + tail_z + struct.pack(">I", checksum)


def write_png_bomb(path: Path, width: int = BOMB_SIZE, height: int = BOMB_SIZE) -> Path:
    """A valid all-white greyscale PNG of width x height whose file is tiny (~1 MB for
    30000 x 30000): decoding it naively needs width*height bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    phys = struct.pack(">IIB", 11811, 11811, 1)  # 300 dpi in pixels per metre
    data = (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"pHYs", phys)
        + _png_chunk(b"IDAT", _white_idat(width, height))
        + _png_chunk(b"IEND", b"")
    )
    return _write(path, data)
