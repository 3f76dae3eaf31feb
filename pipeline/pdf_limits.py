"""A PDF's sizes checked before PDFium renders or decodes anything in it (docs/limits.md).

Every object of the file is visited through its cross-reference table, so images in Form
XObjects (at any depth), in annotations or in no page at all are seen as well as page images.
Each stream's decoded size is measured by decoding it in bounded chunks, never held whole:
a few MB of zeros can inflate to many GB, and the filters may be chained.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pikepdf

from pipeline import codec_headers
from pipeline.limits import (
    MAX_IMAGE_BYTES_PER_PIXEL,
    MAX_PAGES,
    MAX_PDF_NON_IMAGE_BYTES,
    MAX_PIXELS,
    MAX_QPDF_DECODED_BYTES,
    MAX_STREAM_BYTES,
)
from pipeline.messages import library_text
from pipeline.pdf_draws import DrawCounter
from schemas.errors import CorruptInput, EncryptedInput, ImageTooLarge

CHUNK = 1024 * 1024  # decoded bytes produced per step: what the measuring itself may hold
# Filters that end a chain with an image codec: their output size is the image's declared size.
IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
COMPONENTS = {"/DeviceGray": 1, "/G": 1, "/CalGray": 1, "/Indexed": 1, "/I": 1,
              "/Separation": 1, "/DeviceRGB": 3, "/RGB": 3, "/CalRGB": 3, "/Lab": 3,
              "/DeviceCMYK": 4, "/CMYK": 4}  # fmt: skip
# An inline image's dictionary as it stands in one content stream: `BI /W 100 /H 50 … ID`.
# A first net while a stream is measured; pipeline.pdf_draws then checks every inline image
# with qpdf's parser, in the page's content streams joined as PDF defines them.
INLINE_DICT_BYTES = 64 * 1024  # longer dictionaries are found by the parser only
_INLINE = re.compile(rb"(?<![^\s\]\[>)])BI\s(.{0,%d}?)\sID\s" % INLINE_DICT_BYTES, re.DOTALL)
_INLINE_DIM = re.compile(rb"/(W|Width|H|Height)\s*([+-]?[0-9]*\.?[0-9]+)")
_OVERLAP = INLINE_DICT_BYTES + 64  # a dictionary cut by a chunk boundary is in the next window


def check_pdf(path: Path) -> None:
    """Raise ImageTooLarge (which object, what size, what limit) before anything is decoded."""
    try:
        with pikepdf.open(path) as pdf:
            sizes = _check_objects(pdf)
            _check_pages(pdf, sizes)
    except pikepdf.PasswordError as e:
        raise EncryptedInput("PDF is encrypted with a password; cannot be read") from e
    except (pikepdf.PdfError, RuntimeError) as e:
        if "memory limit exceeded" in str(e):  # qpdf's own guard (pipeline.limits) tripped
            raise ImageTooLarge(
                f"a PDF stream qpdf decodes while opening the file inflates past "
                f"{MAX_QPDF_DECODED_BYTES:,} bytes; refused"
            ) from e
        raise CorruptInput(f"PDF is damaged or truncated: {library_text(e, path)}") from e


def _check_pages(pdf: pikepdf.Pdf, sizes: dict[tuple[int, int], int]) -> None:
    """What each page draws, nested forms expanded (pipeline.pdf_draws), before PDFium loads it."""
    if len(pdf.pages) > MAX_PAGES:
        raise ImageTooLarge(f"file has more than {MAX_PAGES:,} pages (the limit); split it")
    counter = DrawCounter(sizes, _check_inline_image)
    for page_no, page in enumerate(pdf.pages, start=1):
        counter.check_page(page, page_no)


def _check_inline_image(image: pikepdf.PdfInlineImage, what: str) -> None:
    check_pixels(_int(image.obj.get("/Width")), _int(image.obj.get("/Height")), what)
    try:
        raw = image.read_raw_bytes()
    except (pikepdf.PdfError, ValueError):
        return
    check_codec_headers(image.filters, raw, image.obj.get("/DecodeParms"), what)


def _check_objects(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    # Object streams and cross-reference streams are plain (type 1) objects: they are measured
    # before any object stored inside one is read, since reading one decodes its stream whole.
    xref = sorted(pdf.get_xref_table().items(), key=lambda item: item[1].type)
    non_image_bytes = 0
    sizes: dict[tuple[int, int], int] = {}  # decoded bytes of each stream that is no image
    for (number, generation), _entry in xref:
        obj = pdf.get_object(number, generation)
        if not isinstance(obj, pikepdf.Stream):
            continue
        what = f"object {number}"
        if obj.get("/Subtype") == pikepdf.Name.Image:
            _check_image(obj, what)
        else:
            size = _check_stream(obj, what, MAX_STREAM_BYTES, inline_images=True)
            sizes[obj.objgen] = size
            non_image_bytes += size
            if non_image_bytes > MAX_PDF_NON_IMAGE_BYTES:
                raise ImageTooLarge(
                    f"PDF streams other than images decode to more than "
                    f"{MAX_PDF_NON_IMAGE_BYTES:,} bytes in all (the limit); refused before reading"
                )
    return sizes


def check_pixels(width: int, height: int, what: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImageTooLarge(
            f"{what} is {width}×{height} pixels, above the limit of {MAX_PIXELS:,}; "
            "refused before decoding"
        )


def _int(value: object, default: int = 0) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return default


def _components(image: pikepdf.Stream) -> int:
    if image.get("/ImageMask"):
        return 1
    space = image.get("/ColorSpace")
    if isinstance(space, pikepdf.Array) and len(space):
        family = str(space[0])
        if family == "/ICCBased":
            return max(1, min(_int(space[1].get("/N"), 4), 4))
        if family == "/DeviceN" and len(space) > 1:
            return max(1, min(len(space[1]), 32))
        return COMPONENTS.get(family, 4)
    return COMPONENTS.get(str(space), 4) if space is not None else 4


def _check_image(image: pikepdf.Stream, what: str) -> None:
    width, height = _int(image.get("/Width")), _int(image.get("/Height"))
    check_pixels(width, height, f"image {what}")
    # Decoded, an image holds its declared pixels and no more; PNG predictors add a byte a row.
    bits = min(max(_int(image.get("/BitsPerComponent"), 8), 1), 16)
    bits = 1 if image.get("/ImageMask") else bits
    row = (width * _components(image) * bits + 7) // 8 + 1
    allowed = min(row * height, MAX_PIXELS * MAX_IMAGE_BYTES_PER_PIXEL) + CHUNK
    _check_stream(image, f"image {what} ({width}×{height})", allowed, inline_images=False)
    try:
        raw = image.read_raw_bytes()
    except pikepdf.PdfError:
        return
    check_codec_headers(_filters(image), raw, image.get("/DecodeParms"), f"image {what}")


def check_codec_headers(filters: list[str], raw: bytes, parms: object, what: str) -> None:
    """An image codec sizes its output from its own headers, whatever the dictionary says: a
    JPEG's frame header, a JPEG 2000 SIZ marker or ihdr box, JBIG2 page and region sizes, CCITT's
    /Columns × /Rows. Any filters before the codec (Flate, ASCIIHex…) are decoded in bounded
    chunks just far enough to read those headers."""
    codecs = [i for i, name in enumerate(filters) if name in IMAGE_CODECS]
    if not codecs:
        return
    at = codecs[0]
    chunks: Iterable[bytes] = _slices(raw)
    for name in filters[:at]:
        decoder = DECODERS.get(name)
        if decoder is None:
            return  # a filter nobody decodes: no decoder sees the codec's data either
        chunks = decoder(chunks)
    codec = filters[at]
    parm = parms[at] if isinstance(parms, pikepdf.Array) and at < len(parms) else parms
    parm = parm if isinstance(parm, pikepdf.Dictionary) else pikepdf.Dictionary()
    if codec in ("/DCTDecode", "/DCT"):
        check_pixels(*codec_headers.jpeg_size(chunks), f"JPEG data of {what}")
    elif codec == "/JPXDecode":
        for box, size in codec_headers.jpx_sizes(chunks):
            check_pixels(*size, f"JPEG 2000 {box} of {what}")
    elif codec == "/JBIG2Decode":
        globals_ = parm.get("/JBIG2Globals")
        if isinstance(globals_, pikepdf.Stream):
            for size in codec_headers.jbig2_sizes(_decoded_chunks(globals_)):
                check_pixels(*size, f"JBIG2 globals of {what}")
        for size in codec_headers.jbig2_sizes(chunks):
            check_pixels(*size, f"JBIG2 data of {what}")
    else:  # CCITT fax: the decoder makes /Columns × /Rows, whatever /Width and /Height say
        columns, rows = _int(parm.get("/Columns"), 1728), _int(parm.get("/Rows"))
        check_pixels(columns, rows, f"CCITT data of {what}")


def _decoded_chunks(stream: pikepdf.Stream) -> Iterable[bytes]:
    try:
        chunks: Iterable[bytes] = _slices(stream.read_raw_bytes())
    except pikepdf.PdfError:
        return iter(())
    for name in _filters(stream):
        decoder = DECODERS.get(name)
        if decoder is None:
            return iter(())
        chunks = decoder(chunks)
    return chunks


def _filters(stream: pikepdf.Stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    if isinstance(value, pikepdf.Array):
        return [str(v) for v in value]
    return [str(value)]


def _check_stream(stream: pikepdf.Stream, what: str, limit: int, *, inline_images: bool) -> int:
    """Decoded size of the stream, found by decoding it chunk by chunk up to `limit`."""
    try:
        raw = stream.read_raw_bytes()
    except pikepdf.PdfError:
        return 0  # unreadable data: PDFium will find it damaged, no bigger
    chunks: Iterable[bytes] = _slices(raw)
    for name in _filters(stream):
        if name in IMAGE_CODECS:
            break  # the image codec's output is the declared size, checked from the dictionary
        decoder = DECODERS.get(name)
        if decoder is None:
            break  # a filter nobody decodes: nothing comes out of it
        chunks = decoder(chunks)
    size, tail = 0, b""
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise ImageTooLarge(
                f"PDF {what} decodes to more than {limit:,} bytes (the limit for it); "
                f"{len(raw):,} bytes in the file: refused before reading"
            )
        if inline_images:
            window = tail + chunk
            _check_inline_images(window, what)
            tail = window[-_OVERLAP:]
    return size


def _check_inline_images(data: bytes, what: str) -> None:
    if b"ID" not in data:
        return
    for match in _INLINE.finditer(data):
        dims = dict(_INLINE_DIM.findall(match.group(1)))
        width = _number(dims.get(b"W", dims.get(b"Width")))
        height = _number(dims.get(b"H", dims.get(b"Height")))
        check_pixels(width, height, f"inline image in {what}")


def _number(value: bytes | None) -> int:
    try:
        return int(float(value)) if value else 0
    except ValueError:
        return 0


def _slices(data: bytes) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


# ----------------------------------------------------------------- streaming decoders
# Each takes an iterator of byte chunks and yields decoded chunks of at most about CHUNK bytes.
# A damaged stream ends where the damage starts, as readers treat it.


def _flate(chunks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    try:
        for chunk in chunks:
            data = chunk
            while data:
                out = inflater.decompress(data, CHUNK)
                if out:
                    yield out
                if inflater.eof:
                    return
                data = inflater.unconsumed_tail
        yield inflater.flush()
    except zlib.error:
        return


def _lzw(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """PDF's LZW (EarlyChange 1, the default), codes of 9 to 12 bits."""
    table = [bytes([i]) for i in range(256)] + [b"", b""]
    width, previous = 9, b""
    bits = nbits = 0
    out = bytearray()
    for chunk in chunks:
        for byte in chunk:
            bits, nbits = (bits << 8) | byte, nbits + 8
            while nbits >= width:
                nbits -= width
                code = (bits >> nbits) & ((1 << width) - 1)
                bits &= (1 << nbits) - 1
                if code == 256:
                    table, width, previous = table[:258], 9, b""
                    continue
                if code == 257:
                    yield bytes(out)
                    return
                if code < len(table):
                    entry = table[code]
                elif code == len(table) and previous:
                    entry = previous + previous[:1]
                else:
                    yield bytes(out)
                    return
                out += entry
                if previous and len(table) < 4096:
                    table.append(previous + entry[:1])
                previous = entry
                width = min(12, max(9, (len(table) + 1).bit_length()))
                if len(out) >= CHUNK:
                    yield bytes(out)
                    out.clear()
    yield bytes(out)


def _run_length(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending, out = b"", bytearray()
    for chunk in chunks:
        data, at = pending + chunk, 0
        while at < len(data):
            length = data[at]
            if length == 128:
                yield bytes(out)
                return
            need = length + 2 if length < 128 else 2
            if at + need > len(data):
                break
            if length < 128:
                out += data[at + 1 : at + need]  # a literal run
            else:
                out += data[at + 1 : at + 2] * (257 - length)  # one byte repeated
            at += need
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
        pending = data[at:]
    yield bytes(out)


def _ascii_hex(chunks: Iterable[bytes]) -> Iterator[bytes]:
    odd = b""
    for chunk in chunks:
        end = chunk.find(b">")
        digits = odd + bytes(c for c in (chunk if end < 0 else chunk[:end]) if c in _HEX)
        odd, digits = (digits[-1:], digits[:-1]) if len(digits) % 2 else (b"", digits)
        yield binascii.unhexlify(digits)
        if end >= 0:
            break
    if odd:
        yield binascii.unhexlify(odd + b"0")


_HEX = frozenset(b"0123456789abcdefABCDEF")


def _ascii85(chunks: Iterable[bytes]) -> Iterator[bytes]:
    pending = b""
    for chunk in chunks:
        end = chunk.find(b"~>")
        data = pending + bytes(c for c in (chunk if end < 0 else chunk[:end]) if c > 32)
        cut = len(data) if end >= 0 else _whole_groups(data)
        pending = data[cut:]
        try:
            yield base64.a85decode(data[:cut])
        except ValueError:
            return
        if end >= 0:
            return


def _whole_groups(data: bytes) -> int:
    """Length of the longest prefix made of whole 5-character groups and `z`s."""
    cut = count = 0
    for index, char in enumerate(data):
        if char == 0x7A and count == 0:  # `z`: four zero bytes
            cut = index + 1
            continue
        count += 1
        if count == 5:
            count, cut = 0, index + 1
    return cut


DECODERS: dict[str, Callable[[Iterable[bytes]], Iterator[bytes]]] = {
    "/FlateDecode": _flate,
    "/Fl": _flate,
    "/LZWDecode": _lzw,
    "/LZW": _lzw,
    "/RunLengthDecode": _run_length,
    "/RL": _run_length,
    "/ASCIIHexDecode": _ascii_hex,
    "/AHx": _ascii_hex,
    "/ASCII85Decode": _ascii85,
    "/A85": _ascii85,
}
