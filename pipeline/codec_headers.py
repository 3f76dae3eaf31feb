"""Image sizes read from a codec's own headers, as its decoder will read them (docs/limits.md).

Each reader walks decoded bytes given as an iterator of chunks, holding one header at a time
(segments between headers are skipped, never kept), so a header behind megabytes of other data
costs no memory. A size of (0, 0) means no header was found: the decoder will fail as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class _Reader:
    """Sequential reads over chunks; what is skipped is dropped as it goes."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def _fill(self, n: int) -> None:
        while len(self._buffer) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                return
            self._buffer += chunk

    def read(self, n: int) -> bytes:
        """Up to `n` bytes (fewer only at the end)."""
        self._fill(n)
        data, self._buffer = self._buffer[:n], self._buffer[n:]
        return data

    def skip(self, n: int) -> bool:
        """Drop `n` bytes; False when the data ends first."""
        while n > len(self._buffer):
            n -= len(self._buffer)
            self._buffer = next(self._chunks, None)  # type: ignore[assignment]
            if self._buffer is None:
                self._buffer = b""
                return False
        self._buffer = self._buffer[n:]
        return True


def _u(data: bytes) -> int:
    return int.from_bytes(data, "big")


# Start-of-frame markers of every JPEG process (C4 DHT, C8 JPG and CC DAC are not frames).
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn carry no length


def jpeg_size(chunks: Iterable[bytes]) -> tuple[int, int]:
    """Width and height from a JPEG's frame header. Bytes between markers are skipped as
    libjpeg skips them (with a warning), so garbage cannot hide the header."""
    reader = _Reader(chunks)
    if reader.read(2) != b"\xff\xd8":
        return 0, 0
    while True:
        byte = reader.read(1)
        if not byte:
            return 0, 0
        if byte != b"\xff":
            continue  # extraneous bytes before a marker
        marker = reader.read(1)
        while marker == b"\xff":  # fill bytes
            marker = reader.read(1)
        if not marker:
            return 0, 0
        code = marker[0]
        if code == 0x00 or code in _STANDALONE:
            continue
        if code in (0xD9, 0xDA):  # end of image, or scan data: no frame header came first
            return 0, 0
        length = _u(reader.read(2))
        if code in _SOF:
            header = reader.read(5)  # precision, height, width
            return _u(header[3:5]), _u(header[1:3])
        if length < 2 or not reader.skip(length - 2):
            return 0, 0


def _siz(reader: _Reader) -> tuple[int, int]:
    """The image area of a JPEG 2000 codestream's SIZ marker (it directly follows SOC)."""
    head = reader.read(4 + 2 + 2 + 16)
    if head[:4] != b"\xff\x4f\xff\x51" or len(head) < 24:
        return 0, 0
    width, height = _u(head[8:12]), _u(head[12:16])
    x_offset, y_offset = _u(head[16:20]), _u(head[20:24])
    return max(width - x_offset, 0), max(height - y_offset, 0)


def _box(reader: _Reader) -> tuple[bytes, int | None] | None:
    """A JP2 box header: its type and the length of its contents (None: to the end)."""
    head = reader.read(8)
    if len(head) < 8:
        return None
    length, kind = _u(head[:4]), head[4:]
    if length == 1:
        return kind, _u(reader.read(8)) - 16
    return kind, (None if length == 0 else length - 8)


def jpx_sizes(chunks: Iterable[bytes]) -> Iterator[tuple[str, tuple[int, int]]]:
    """Sizes a JPEG 2000 decoder reads: a bare codestream's SIZ marker, or in a JP2 file the
    image header box (ihdr) and the SIZ marker of its codestream box (jp2c)."""
    chunks = iter(chunks)
    first = next(chunks, b"")
    reader = _Reader(_prepend(first, chunks))
    if first[:2] == b"\xff\x4f":
        yield "SIZ marker", _siz(reader)
        return
    while (box := _box(reader)) is not None:
        kind, length = box
        if kind == b"jp2h":  # a super-box: its children are read in the loop
            continue
        if kind == b"ihdr":
            head = reader.read(8)
            yield "ihdr box", (_u(head[4:8]), _u(head[:4]))
            length = None if length is None else length - 8
        elif kind == b"jp2c":
            yield "SIZ marker", _siz(reader)
            return
        if length is None or length < 0 or not reader.skip(length):
            return


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


# Segment types that begin with a region information field (width, height, x, y, flags).
_JBIG2_REGIONS = {6, 7, 22, 23, 36, 38, 39, 40, 42, 43}
_JBIG2_PAGE, _JBIG2_END_OF_FILE = 48, 51
_UNKNOWN = 0xFFFFFFFF


def jbig2_sizes(chunks: Iterable[bytes]) -> Iterator[tuple[int, int]]:
    """Page and region sizes of embedded JBIG2 data (a sequence of segments, no file header):
    the decoder allocates a bitmap of each. A page of unknown (striped) height counts as 1 row."""
    reader = _Reader(chunks)
    while True:
        head = reader.read(6)  # segment number, flags, first byte of the referred-to field
        if len(head) < 6:
            return
        number, flags = _u(head[:4]), head[4]
        kind, referred = flags & 0x3F, head[5] >> 5
        if referred == 7:  # long form: a 29-bit count, then one retention bit per segment + 1
            referred = _u(head[5:6] + reader.read(3)) & 0x1FFFFFFF
            reader.skip((referred + 1 + 7) // 8)
        width = 1 if number <= 256 else 2 if number <= 65536 else 4
        reader.skip(referred * width + (4 if flags & 0x40 else 1))
        length = _u(reader.read(4))
        known = length != _UNKNOWN  # an immediate generic region may leave its length open
        if kind == _JBIG2_END_OF_FILE:
            return
        if kind == _JBIG2_PAGE or kind in _JBIG2_REGIONS:
            data = reader.read(8)
            size_w, size_h = _u(data[:4]), _u(data[4:8])
            yield size_w, (1 if size_h == _UNKNOWN else size_h)
            length -= 8
        if not known or length < 0 or not reader.skip(length):
            return
