"""What a file is, judged by its bytes, never by its name (STYLE §8)."""

from __future__ import annotations

from pathlib import Path

from schemas.errors import EmptyInput, UnsupportedType

PDF = "application/pdf"
TIFF = "image/tiff"
JPEG = "image/jpeg"
PNG = "image/png"
IMAGE_TYPES = (TIFF, JPEG, PNG)

_MAGIC = (
    (b"%PDF-", PDF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
)
SUFFIXES = {".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"}


def sniff_media_type(head: bytes, name: str = "") -> str:
    """Media type from the first bytes of a file; a clear error for anything else."""
    if not head:
        raise EmptyInput(f"{name or 'file'}: empty file (0 bytes)")
    # PDF readers accept a header anywhere in the first 1 KiB (some scanners prepend junk).
    if b"%PDF-" in head[:1024]:
        return PDF
    for magic, media_type in _MAGIC:
        if head.startswith(magic):
            return media_type
    claimed = Path(name).suffix.lower()
    what = f"named {claimed} but " if claimed in SUFFIXES else ""
    raise UnsupportedType(
        f"{name or 'file'}: {what}not a PDF, TIFF, JPEG or PNG (starts with {head[:8]!r})"
    )
