""".xz streams (one or more, with stream padding) and legacy .lzma ("LZMA alone") files.

The stdlib `lzma` module decodes; one decompressor handles one stream, so concatenated .xz
streams are decoded one after another. Header fields (integrity check, filter chain, dictionary
size) are read here from the stream and first block headers, since `lzma` does not expose them.
"""

from __future__ import annotations

import lzma
import struct
from collections.abc import Generator
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._codec import (
    OUT_CHUNK,
    Progress,
    decode_concatenated,
    drain,
    peek,
    trailing,
)
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Field, Rule

XZ_MAGIC = b"\xfd7zXZ\x00"
# Refuse dictionaries beyond this: xz -9 uses 64 MiB; a hostile header could ask for 4 GiB.
MEMLIMIT = 1 << 30
_CHECKS = {0: "none", 1: "crc32", 4: "crc64", 10: "sha256"}
_FILTERS = {
    0x03: "delta", 0x04: "x86", 0x05: "powerpc", 0x06: "ia64", 0x07: "arm",
    0x08: "armthumb", 0x09: "sparc", 0x0A: "arm64", 0x0B: "riscv", 0x21: "lzma2",
}  # fmt: skip
_RULES = {"check": Rule.COMPRESSION, "filters": Rule.COMPRESSION, "dict_size": Rule.COMPRESSION}
_ERRORS = (lzma.LZMAError, EOFError, ValueError)


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """An xz multibyte integer (xz file format spec 1.4, section 1.2)."""
    value = 0
    for i in range(9):
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos + i + 1
    raise ValueError("multibyte integer too long")


def _lzma2_dict(prop: int) -> int:
    bits = prop & 0x3F
    if bits > 40:
        raise ValueError("bad LZMA2 dictionary size")
    return 0xFFFFFFFF if bits == 40 else (2 | (bits & 1)) << (bits // 2 + 11)


def _block_fields(stream: BinaryIO, offset: int) -> dict[str, str]:
    """Filter chain and dictionary size from the block header at `offset` (spec section 3.1).

    Best effort: a malformed header is left for liblzma to reject with a proper error.
    """
    first = peek(stream, offset, 1)
    if not first or first[0] == 0:  # no block: the index follows at once (empty stream)
        return {}
    hdr = peek(stream, offset, (first[0] + 1) * 4)
    try:
        flags, pos = hdr[1], 2
        for present in (0x40, 0x80):  # compressed size, uncompressed size
            if flags & present:
                _, pos = _varint(hdr, pos)
        names, fields = [], {}
        for _ in range((flags & 3) + 1):
            fid, pos = _varint(hdr, pos)
            psize, pos = _varint(hdr, pos)
            props = hdr[pos : pos + psize]
            pos += psize
            names.append(_FILTERS.get(fid, f"0x{fid:x}"))
            if fid == 0x21 and props:
                fields["dict_size"] = str(_lzma2_dict(props[0]))
    except (IndexError, ValueError):
        return {}
    fields["filters"] = "+".join(names)
    return fields


def _stream_fields(stream: BinaryIO, offset: int) -> dict[str, str]:
    """The integrity check of the stream at `offset`, with its first block's fields."""
    flags = peek(stream, offset + 6, 2)
    if len(flags) < 2:
        raise CorruptContainer("xz: truncated stream header")
    fields = {"check": _CHECKS.get(flags[1] & 0x0F, f"id {flags[1] & 0x0F}")}
    return fields | _block_fields(stream, offset + 12)


def _skip_padding(stream: BinaryIO, pos: int, size: int) -> int:
    """Past xz stream padding: NUL bytes in groups of four (spec section 2.2)."""
    start = pos
    while pos < size:
        chunk = peek(stream, pos, min(OUT_CHUNK, size - pos))
        rest = chunk.lstrip(b"\0")
        pos += len(chunk) - len(rest)
        if rest:
            break
    return start + (pos - start) // 4 * 4


def _alone_header(head: bytes) -> tuple[int, int, int] | None:
    """(properties byte, dictionary size, uncompressed size) of a plausible .lzma header."""
    # The range coder's first byte is always 0 (liblzma rejects anything else): a cheap check
    # that keeps arbitrary binary data from passing for a header without magic.
    if len(head) < 14 or head[13] != 0:
        return None
    props, dict_size, usize = struct.unpack("<BIQ", head[:13])
    if props >= 9 * 5 * 5 or usize == 0:
        return None
    # Encoders write 2^n or 2^n + 2^(n-1) dictionaries; anything else is not an lzma header.
    n = dict_size.bit_length() - 1
    if n < 12 or dict_size not in (1 << n, (1 << n) | (1 << max(n - 1, 0))):
        return None
    if usize != (1 << 64) - 1 and usize >= 1 << 40:
        return None
    return props, dict_size, usize


class Xz:
    """Codec for .xz (kernels, squashfs-less rootfs tarballs) and legacy .lzma images."""

    name = "xz"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(XZ_MAGIC) or _alone_header(head) is not None

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        if peek(stream, 0, 6) == XZ_MAGIC:
            return self._xz(stream, size, ctx)
        return self._alone(stream, size, ctx)

    def _xz(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        def decode(pos: int, progress: Progress) -> Generator[bytes, None, int]:
            dec = lzma.LZMADecompressor(lzma.FORMAT_XZ, memlimit=MEMLIMIT)
            return drain(stream, pos, size, dec, progress, "xz", _ERRORS)

        def next_start(end: int) -> int | None:
            pos = _skip_padding(stream, end, size)
            return pos if peek(stream, pos, 6) == XZ_MAGIC else None

        return decode_concatenated(
            stream,
            size,
            ctx,
            "xz",
            header=lambda pos: _stream_fields(stream, pos),
            decode=decode,
            next_start=next_start,
            rules=_RULES,
            count_name="streams",
        )

    def _alone(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        header = _alone_header(peek(stream, 0, 14))
        if header is None:
            raise NotThisFormat("not an lzma header")
        props, dict_size, usize = header
        progress = Progress()
        end = [0]

        def chunks() -> Generator[bytes, None, None]:
            dec = lzma.LZMADecompressor(lzma.FORMAT_ALONE, memlimit=MEMLIMIT)
            gen = drain(stream, 0, size, dec, progress, "lzma", _ERRORS)
            produced = False
            try:
                while True:
                    chunk = next(gen)
                    produced = True
                    yield chunk
            except StopIteration as stop:
                end[0] = stop.value
            except CorruptContainer as exc:
                # The .lzma header has no magic: bytes that fail at once were never lzma.
                if not produced:
                    raise NotThisFormat(str(exc)) from exc
                raise
            if not produced:  # nothing to compare; more likely a lookalike than an empty file
                raise NotThisFormat("lzma: stream decodes to nothing")

        out = ctx.spool(chunks(), "lzma", consumed=progress)
        lc, rest = props % 9, props // 9
        fields = (
            Field("format", "lzma-alone", Rule.COMPRESSION),
            Field("lc_lp_pb", f"{lc},{rest % 5},{rest // 5}", Rule.COMPRESSION),
            Field("dict_size", str(dict_size), Rule.COMPRESSION),
            Field("uncompressed_size", "unknown" if usize == (1 << 64) - 1 else str(usize),
                  Rule.DERIVED),
        )  # fmt: skip
        return Decoded(out, fields, trailing(end[0], size))


FORMAT = Xz()
