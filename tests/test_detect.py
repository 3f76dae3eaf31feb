import pytest

from pipeline.detect import JPEG, PDF, PNG, TIFF, sniff_media_type
from schemas.errors import EmptyInput, UnsupportedType


@pytest.mark.parametrize(
    ("head", "media_type"),
    [
        (b"%PDF-1.7\n", PDF),
        (b"\x00\x00junk%PDF-1.4", PDF),
        (b"II*\x00\x08\x00", TIFF),
        (b"MM\x00*\x00", TIFF),
        (b"\xff\xd8\xff\xe0", JPEG),
        (b"\x89PNG\r\n\x1a\n", PNG),
    ],
)
def test_media_type_comes_from_bytes(head: bytes, media_type: str) -> None:
    assert sniff_media_type(head, "whatever.bin") == media_type


def test_text_named_pdf_is_refused_with_the_reason() -> None:
    with pytest.raises(UnsupportedType, match=r"named \.pdf but not a PDF"):
        sniff_media_type(b"hello world", "report.pdf")


def test_empty_file_is_refused() -> None:
    with pytest.raises(EmptyInput, match="0 bytes"):
        sniff_media_type(b"", "empty.tif")
