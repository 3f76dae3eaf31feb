"""Hostile inputs made in a moment without ever holding what they decode to (docs/limits.md).

Deflate of a repeated band, ended with a full flush, is byte-aligned and free of back-references
across bands, so repeating its bytes repeats the band: a GiB of zeros costs one MB of output and
a few milliseconds. The Adler-32 trailer of the whole is combined arithmetically.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pikepdf
from PIL import Image

from corpus.bad_inputs import _png_chunk, repeated_zlib, write_png_bomb

BAND = 4 * 1024 * 1024
A4_PT = (595, 842)

__all__ = [
    "deflated",
    "write_form_cycle_pdf",
    "write_form_expansion_pdf",
    "write_inline_bypass_pdf",
    "write_inline_image_bomb_pdf",
    "write_page_count_lie_pdf",
    "write_pdf_codec_header_bomb",
    "write_png_zero",
    "write_lzw_bomb_pdf",
    "write_pdf_jpeg_header_bomb",
    "write_nested_form_image_pdf",
    "write_pdf_image_bomb",
    "write_pdf_stream_bomb",
    "write_png_bomb",
    "write_png_text_bomb",
    "write_tiff_late_frames",
]


def deflated(size: int, unit: bytes = b"\0") -> bytes:
    """A zlib stream of `size` bytes of `unit` repeated."""
    band = (unit * (BAND // len(unit) + 1))[: min(BAND, size)]
    bands, rest = divmod(size, len(band)) if band else (0, 0)
    return repeated_zlib(band, bands, band[:rest])


def _one_page_pdf(path: Path, content: pikepdf.Stream | bytes, pdf: pikepdf.Pdf) -> Path:
    page = pdf.add_blank_page(page_size=A4_PT)
    page.Contents = content if isinstance(content, pikepdf.Stream) else pdf.make_stream(content)
    return _save(pdf, path)


def _save(pdf: pikepdf.Pdf, path: Path) -> Path:
    """Streams written as they are: qpdf would otherwise inflate them to recompress."""
    pdf.save(path, stream_decode_level=pikepdf.StreamDecodeLevel.none, compress_streams=False)
    return path


def _flate_stream(pdf: pikepdf.Pdf, data: bytes, levels: int = 1) -> pikepdf.Stream:
    stream = pikepdf.Stream(pdf, data)
    stream.Filter = pikepdf.Array([pikepdf.Name.FlateDecode] * levels)
    return stream


def write_pdf_stream_bomb(path: Path, inflated: int = 1 << 30, *, nested: bool = False) -> Path:
    """A one-page PDF whose content stream is `inflated` bytes of spaces (valid content) once
    decoded; `nested`: deflated twice ([/FlateDecode /FlateDecode]), a few KB in the file."""
    pdf = pikepdf.new()
    data = deflated(inflated, b" ")
    if nested:
        data = zlib.compress(data, 9)
    return _one_page_pdf(path, _flate_stream(pdf, data, 2 if nested else 1), pdf)


def _grey_image(pdf: pikepdf.Pdf, width: int, height: int) -> pikepdf.Stream:
    image = _flate_stream(pdf, deflated(width * height, b"\xff"))
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Width, image.Height = width, height
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 8
    return image


def _xobjects(**named: pikepdf.Stream) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(XObject=pikepdf.Dictionary(**named))


def _form(pdf: pikepdf.Pdf, content: bytes, **named: pikepdf.Stream) -> pikepdf.Stream:
    form = pdf.make_stream(content)
    form.Type, form.Subtype, form.BBox = pikepdf.Name.XObject, pikepdf.Name.Form, [0, 0, 595, 842]
    form.Resources = _xobjects(**named)
    return form


def write_pdf_image_bomb(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A page that is one full-page white image of width × height, a small file."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=A4_PT)
    page.Resources = _xobjects(Im0=_grey_image(pdf, width, height))
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    return _save(pdf, path)


def write_nested_form_image_pdf(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """The big image two Form XObjects down, next to some text, so the page is no plain scan."""
    pdf = pikepdf.new()
    inner = _form(pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q", Im0=_grey_image(pdf, width, height))
    outer = _form(pdf, b"/Fx1 Do", Fx1=inner)
    page = pdf.add_blank_page(page_size=A4_PT)
    page.Resources = _xobjects(Fx0=outer)
    page.Contents = pdf.make_stream(b"/Fx0 Do 0 0 m 10 10 l S")
    return _save(pdf, path)


def write_inline_image_bomb_pdf(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A content stream holding an inline image (`BI … ID … EI`) of width × height."""
    data = deflated(width * height, b"\xff")
    content = (
        b"q 595 0 0 842 0 0 cm\nBI /W %d /H %d /CS /G /BPC 8 /F /Fl\nID\n" % (width, height)
        + data
        + b"\nEI\nQ\n"
    )
    pdf = pikepdf.new()
    return _one_page_pdf(path, content, pdf)


def write_tiff_late_frames(path: Path, big: tuple[int, int], frames: int = 3) -> Path:
    """A TIFF whose first frame is small and whose later frames are `big` (white, deflated)."""
    small = Image.new("L", (200, 300), 255)
    large = Image.new("L", big, 255)
    small.save(
        path, save_all=True, append_images=[large] * (frames - 1), compression="tiff_deflate",
        dpi=(300, 300),
    )  # fmt: skip
    return path


def write_png_text_bomb(path: Path, inflated: int = 1 << 30, chunk: bytes = b"zTXt") -> Path:
    """A small valid PNG with a compressed text (zTXt) or ICC profile (iCCP) chunk inflating to
    `inflated` bytes, placed before the image data."""
    width = height = 16
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    rows = (b"\x00" + b"\xff" * width) * height
    payload = b"Comment\x00\x00" + deflated(inflated, b"a")  # keyword, NUL, method 0
    return _write(
        path,
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(chunk, payload)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b""),
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def lzw_zeros(size: int) -> bytes:
    """PDF LZW data (EarlyChange 1) decoding to `size` zero bytes, about 1/1300 of that: each
    new code stands for one zero more than the last, until the table is full and is cleared."""
    codes: list[tuple[int, int]] = []  # (code, width)
    produced, table = 0, 258
    while produced < size:
        codes.append((256, _lzw_width(table)))  # clear: the table is back to 258 entries
        table, run = 258, 1
        codes.append((0, 9))
        produced += 1
        while produced < size and table < 4094:
            run = min(run + 1, size - produced)
            whole = run == table - 256  # the code not yet in the table: last string + its head
            codes.append((table if whole else 0, _lzw_width(table)))
            produced += run if whole else 1
            table += 1
    codes.append((257, _lzw_width(table)))
    bits = "".join(format(code, f"0{width}b") for code, width in codes)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


def _lzw_width(entries: int) -> int:
    """Bits of the next code when the table holds `entries` (one early, as EarlyChange 1)."""
    return min(12, max(9, (entries + 1).bit_length()))


def write_lzw_bomb_pdf(path: Path, inflated: int = 1 << 30) -> Path:
    """A one-page PDF whose LZW-compressed content stream decodes to `inflated` zero bytes."""
    pdf = pikepdf.new()
    stream = pikepdf.Stream(pdf, lzw_zeros(inflated))
    stream.Filter = pikepdf.Name.LZWDecode
    return _one_page_pdf(path, stream, pdf)


def write_pdf_jpeg_header_bomb(path: Path, width: int = 40000, height: int = 40000) -> Path:
    """A page image whose dictionary says 100×100 but whose JPEG data's own header says
    width × height: a JPEG decoder sizes its output from the header."""
    encoded = io.BytesIO()
    Image.new("L", (100, 100), 255).save(encoded, "JPEG")
    data = bytearray(encoded.getvalue())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    pdf = pikepdf.new()
    image = pikepdf.Stream(pdf, bytes(data))
    image.Type, image.Subtype, image.Filter = (
        pikepdf.Name.XObject, pikepdf.Name.Image, pikepdf.Name.DCTDecode,
    )  # fmt: skip
    image.Width, image.Height = 100, 100
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 8
    page = pdf.add_blank_page(page_size=A4_PT)
    page.Resources = _xobjects(Im0=image)
    page.Contents = pdf.make_stream(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
    return _save(pdf, path)


def _page_with(path: Path, pdf: pikepdf.Pdf, content: bytes, **xobjects: pikepdf.Stream) -> Path:
    page = pdf.add_blank_page(page_size=A4_PT)
    if xobjects:
        page.Resources = _xobjects(**xobjects)
    page.Contents = pdf.make_stream(content)
    return _save(pdf, path)


def write_form_expansion_pdf(path: Path, levels: int = 28, fanout: int = 2) -> Path:
    """Form XObjects `levels` deep, each drawing the next `fanout` times: fanout**levels
    drawings of one small path from a file of a few KB (PDFium parses a form at every use)."""
    pdf = pikepdf.new()
    form = _form(pdf, b"0 0 1 1 re f")
    for _ in range(levels):
        form = _form(pdf, b"/X Do " * fanout, X=form)
    return _page_with(path, pdf, b"/X Do", X=form)


def write_form_cycle_pdf(path: Path) -> Path:
    """A Form XObject that draws itself."""
    pdf = pikepdf.new()
    form = pdf.make_indirect(_form(pdf, b"0 0 1 1 re f /X Do"))
    form.Resources = _xobjects(X=form)
    return _page_with(path, pdf, b"/X Do", X=form)


def _codec_image(pdf: pikepdf.Pdf, data: bytes, filters: list[str]) -> pikepdf.Stream:
    """An image whose dictionary says 100×100 grey, its data `data` under `filters`."""
    image = pikepdf.Stream(pdf, data)
    image.Type, image.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    image.Filter = pikepdf.Array([pikepdf.Name(name) for name in filters])
    image.Width, image.Height = 100, 100
    image.ColorSpace, image.BitsPerComponent = pikepdf.Name.DeviceGray, 8
    return image


def _encoded(image: Image.Image, kind: str) -> bytes:
    out = io.BytesIO()
    image.save(out, kind)
    return out.getvalue()


def write_pdf_codec_header_bomb(
    path: Path, codec: str = "jpeg", before: str | None = None, size: int = 40000
) -> Path:
    """A 100×100 image in the dictionary whose JPEG (or JPEG 2000) data declares size × size
    in its own header, the data optionally wrapped by `before` (/FlateDecode, /ASCIIHexDecode)
    ahead of the image codec."""
    small = Image.new("L", (64, 64), 200)
    data = bytearray(_encoded(small, "JPEG" if codec == "jpeg" else "JPEG2000"))
    if codec == "jpeg":
        at = data.index(b"\xff\xc0")
        data[at + 5 : at + 9] = struct.pack(">HH", size, size)
    else:  # SIZ marker: Lsiz, Rsiz, then Xsiz and Ysiz (offsets stay 0)
        at = data.index(b"\xff\x51")
        data[at + 6 : at + 14] = struct.pack(">II", size, size)
    encoded = bytes(data)
    if before == "/FlateDecode":
        encoded = zlib.compress(encoded)
    elif before == "/ASCIIHexDecode":
        encoded = encoded.hex().encode() + b">"
    pdf = pikepdf.new()
    codec_filter = "/DCTDecode" if codec == "jpeg" else "/JPXDecode"
    image = _codec_image(pdf, encoded, [*([before] if before else []), codec_filter])
    return _page_with(path, pdf, b"q 595 0 0 842 0 0 cm /Im0 Do Q", Im0=image)


def write_inline_bypass_pdf(path: Path, how: str, size: int = 40000) -> Path:
    """An inline image of size × size written the ways a byte pattern misses: `plus` (signed
    numbers `+40000`), `padded` (a dictionary of 5,000 bytes), `split` (`BI` in the first
    content stream of the page, `ID` in the second)."""
    dims = b"/W %d /H %d /CS /G /BPC 8" % (size, size)
    if how == "plus":
        dims = dims.replace(b"/W ", b"/W +").replace(b"/H ", b"/H +")
    if how == "padded":
        dims = b"/Decode [0 1] " + b" " * 5000 + dims
    parts = [b"q 595 0 0 842 0 0 cm BI " + dims, b" ID \x00\x00\x00\x00 EI Q"]
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=A4_PT)
    if how == "split":
        page.Contents = pikepdf.Array([pdf.make_stream(part) for part in parts])
    else:
        page.Contents = pdf.make_stream(b"".join(parts))
    return _save(pdf, path)


def write_page_count_lie_pdf(path: Path, count: int = 5) -> Path:
    """One real page with a text layer, the page tree's /Count saying `count`."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
    )
    page = pdf.add_blank_page(page_size=A4_PT)
    page.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.Contents = pdf.make_stream(
        b"BT /F1 18 Tf 72 700 Td (Quyet dinh ve viec so hoa tai lieu luu tru) Tj ET"
    )
    _save(pdf, path)
    # qpdf writes the true count whatever is set: the lie is put in the bytes (same length, so
    # the cross-reference offsets stay right).
    data = path.read_bytes()
    assert 1 <= count <= 9 and data.count(b"/Count 1 ") == 1
    return _write(path, data.replace(b"/Count 1 ", b"/Count %d " % count))


def write_png_zero(path: Path) -> Path:
    """A PNG whose header says 0×0 pixels."""
    ihdr = struct.pack(">IIBBBBB", 0, 0, 8, 0, 0, 0, 0)
    return _write(
        path,
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + _png_chunk(b"IEND", b""),
    )
