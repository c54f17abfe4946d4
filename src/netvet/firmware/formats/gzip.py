"""gzip (RFC 1952): one or more members, each a header, a deflate stream and a CRC32/ISIZE trailer.

zlib (`wbits=31`) inflates one member and checks its trailer; the header is parsed here only to
report its fields (MTIME, OS, FNAME, ...), since zlib does not expose them.

The streaming helpers all codecs share (`drain`, `Progress`, `merge_fields`) are in `_codec`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Generator
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._codec import Progress, decode_concatenated, drain, peek
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Rule

MAX_HEADER_STRING = 64 << 10  # FNAME/FCOMMENT longer than this are not a real gzip header

MAGIC = b"\x1f\x8b\x08"  # ID1 ID2 and CM=8 (deflate), the only method RFC 1952 defines
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16


# -- gzip itself -------------------------------------------------------------------------------
_RULES = {
    "MTIME": Rule.TIMESTAMP,
    "XFL": Rule.COMPRESSION,
    "OS": Rule.COMPRESSION,
    # A stored file name or comment is what the build machine called the input: noise, reported.
    "FNAME": Rule.COMPRESSION,
    "FCOMMENT": Rule.COMPRESSION,
    "FHCRC": Rule.DERIVED,
    # FEXTRA is free-form data a decompressor ignores: a place to hide bytes, so never benign.
    "FEXTRA": Rule.STRICT,
}


class _Inflate:
    """zlib.decompressobj behind the `Decompressor` protocol (it keeps input in unconsumed_tail
    instead of buffering it, and may hold output after consuming all its input)."""

    def __init__(self) -> None:
        self._d = zlib.decompressobj(wbits=31)
        self._full = False

    @property
    def eof(self) -> bool:
        return self._d.eof

    @property
    def needs_input(self) -> bool:
        return not self._d.unconsumed_tail and not self._full

    @property
    def unused_data(self) -> bytes:
        return self._d.unused_data

    def decompress(self, data: bytes, max_length: int = -1) -> bytes:
        out = self._d.decompress(self._d.unconsumed_tail + data, max_length)
        self._full = len(out) == max_length
        return out


def _cstring(stream: BinaryIO, what: str) -> bytes:
    """A NUL-terminated header string, read in bounded pieces."""
    buf = b""
    while b"\0" not in buf:
        piece = stream.read(512)
        if not piece:
            raise CorruptContainer(f"gzip: truncated header ({what})")
        buf += piece
        if len(buf) > MAX_HEADER_STRING:
            raise CorruptContainer(f"gzip: header {what} longer than {MAX_HEADER_STRING} bytes")
    return buf[: buf.index(b"\0")]


def _header(stream: BinaryIO, offset: int) -> dict[str, str]:
    """The fields of the member header at `offset` (RFC 1952 section 2.3)."""
    fixed = peek(stream, offset, 10)
    if len(fixed) < 10 or not fixed.startswith(MAGIC):
        raise CorruptContainer(f"gzip: no member header at offset {offset}")
    flags = fixed[3]
    mtime, xfl, os_ = struct.unpack("<IBB", fixed[4:10])
    fields = {"MTIME": str(mtime), "XFL": str(xfl), "OS": str(os_)}
    if flags & _FEXTRA:
        raw = stream.read(2)
        if len(raw) < 2:
            raise CorruptContainer("gzip: truncated header (FEXTRA)")
        extra = stream.read(struct.unpack("<H", raw)[0])
        fields["FEXTRA"] = extra.hex()
    # Names are ISO 8859-1 per the RFC; latin-1 maps every byte, so nothing is lost.
    if flags & _FNAME:
        fields["FNAME"] = _cstring(stream, "FNAME").decode("latin-1")
    if flags & _FCOMMENT:
        fields["FCOMMENT"] = _cstring(stream, "FCOMMENT").decode("latin-1")
    if flags & _FHCRC:
        fields["FHCRC"] = stream.read(2).hex()
    return fields


class Gzip:
    """Codec for .gz / .tgz / gzip-compressed kernels and ramdisks."""

    name = "gzip"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC) and len(head) > 3 and not head[3] & 0xE0

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        def decode(pos: int, progress: Progress) -> Generator[bytes, None, int]:
            return drain(stream, pos, size, _Inflate(), progress, "gzip", (zlib.error,))

        return decode_concatenated(
            stream,
            size,
            ctx,
            "gzip",
            header=lambda pos: _header(stream, pos),
            decode=decode,
            # Another member follows only if its magic does (gzip(1) treats the rest as
            # trailing garbage); anything else is reported as trailing bytes.
            next_start=lambda end: end if peek(stream, end, 3) == MAGIC else None,
            rules=_RULES,
            count_name="members",
        )


FORMAT = Gzip()
