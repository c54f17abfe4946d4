"""lzop files (`\\x89LZO\\x00\\r\\n\\x1a\\n`): LZO1X-compressed kernels, ramdisks and ubifs images.

The lzop container is parsed here because no maintained Python lzop reader exists (python-lzo
only wraps the raw LZO1X block functions and does not install here). The layout follows lzop
1.04 `lzop.c`: a header (version, method, flags, mode, mtime, name, header checksum, optional
extra field), then blocks of `dst_len, src_len, checksums, data` ending with `dst_len == 0`.
Blocks decompress with `dissect.util.compression.lzo` (LZO1X); header and block checksums
(adler32 or crc32, of the compressed and/or uncompressed data) are verified.

Block sizes are capped at 256 KiB: lzop always writes that size and the kernel's unlzo refuses
bigger blocks. The cap also bounds the work of one block, because LZO1X output cannot be limited
while decoding (a run-length field can ask for about 255 output bytes per input byte).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Generator
from typing import BinaryIO

from dissect.util.compression import lzo as _lzo

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._codec import Progress, merge_fields, peek, trailing
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Rule

MAGIC = b"\x89LZO\x00\r\n\x1a\n"
MAX_BLOCK = 256 << 10
LZO1X_METHODS = {1: "lzo1x_1", 2: "lzo1x_1_15", 3: "lzo1x_999"}

F_ADLER32_D, F_ADLER32_C, F_H_EXTRA_FIELD = 0x1, 0x2, 0x40
F_CRC32_D, F_CRC32_C, F_MULTIPART, F_H_FILTER, F_H_CRC32 = 0x100, 0x200, 0x400, 0x800, 0x1000

_RULES = {
    "version": Rule.COMPRESSION,
    "lib_version": Rule.COMPRESSION,
    "method": Rule.COMPRESSION,
    "level": Rule.COMPRESSION,
    "flags": Rule.COMPRESSION,
    # The mode, time and name of the file lzop read on the build machine: not applied anywhere.
    "mode": Rule.COMPRESSION,
    "mtime": Rule.TIMESTAMP,
    "name": Rule.COMPRESSION,
    "extra": Rule.STRICT,  # free-form bytes an extractor ignores: never benign
}

Checksum = Callable[[bytes], int]


def _adler32(data: bytes) -> int:
    return zlib.adler32(data)


def _crc32(data: bytes) -> int:
    return zlib.crc32(data)


class _Reader:
    """Sequential big-endian reads that fail as CorruptContainer at the end of the stream."""

    def __init__(self, stream: BinaryIO, offset: int, size: int) -> None:
        self.stream, self.pos, self.size = stream, offset, size

    def bytes(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise CorruptContainer(f"lzop: truncated at offset {self.pos}")
        self.stream.seek(self.pos)  # others peek at the same stream between reads
        data = self.stream.read(n)
        if len(data) != n:
            raise CorruptContainer(f"lzop: truncated at offset {self.pos}")
        self.pos += n
        return data

    def u8(self) -> int:
        return self.bytes(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self.bytes(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.bytes(4))[0])


def _header(r: _Reader) -> tuple[dict[str, str], int]:
    """Parse a member header (lzop.c `p_header`/`read_header`); return its fields and flags."""
    start = r.pos
    if r.bytes(9) != MAGIC:
        raise CorruptContainer(f"lzop: no header at offset {start}")
    version, lib_version = r.u16(), r.u16()
    if version < 0x0900:
        raise CorruptContainer(f"lzop: unsupported header version 0x{version:04x}")
    new = version >= 0x0940
    if new:
        r.u16()  # version needed to extract
    method = r.u8()
    level = r.u8() if new else 0
    flags = r.u32()
    if method not in LZO1X_METHODS:
        raise CorruptContainer(f"lzop: unsupported method {method}")
    if flags & (F_H_FILTER | F_MULTIPART):
        raise CorruptContainer("lzop: filters and multipart files are not supported")
    mode, mtime = r.u32(), r.u32()
    if new:
        mtime |= r.u32() << 32
    name = r.bytes(r.u8())
    check: Checksum = _crc32 if flags & F_H_CRC32 else _adler32
    end = r.pos
    expected = r.u32()
    if check(peek(r.stream, start + 9, end - start - 9)) != expected:
        raise CorruptContainer(f"lzop: header checksum mismatch at offset {start}")
    fields = {
        "version": f"0x{version:04x}",
        "lib_version": f"0x{lib_version:04x}",
        "method": LZO1X_METHODS[method],
        "level": str(level),
        "flags": f"0x{flags:08x}",
        "mode": f"{mode:o}",
        "mtime": str(mtime),
        "name": name.decode("latin-1"),
    }
    if flags & F_H_EXTRA_FIELD:
        length = r.u32()
        extra = r.bytes(length) if length <= MAX_BLOCK else b""
        if len(extra) != length or check(struct.pack(">I", length) + extra) != r.u32():
            raise CorruptContainer("lzop: bad extra field")
        fields["extra"] = extra.hex()
    return fields, flags


def _verify(data: bytes, flags: int, sums: dict[int, int], what: str) -> None:
    for flag, check in ((F_ADLER32_D, _adler32), (F_CRC32_D, _crc32),
                        (F_ADLER32_C, _adler32), (F_CRC32_C, _crc32)):  # fmt: skip
        if flag in sums and check(data) != sums[flag]:
            raise CorruptContainer(f"lzop: {what} checksum mismatch")


def _decompress(data: bytes, dst_len: int, offset: int) -> bytes:
    try:
        out = _lzo.decompress(data, False, dst_len)
    except Exception as exc:
        raise CorruptContainer(f"lzop: bad LZO1X block at offset {offset}: {exc}") from exc
    except BaseException as exc:
        # The native (Rust) decoder reports out-of-bounds input as a pyo3 PanicException, which
        # derives from BaseException; anything else (KeyboardInterrupt...) goes on up.
        if type(exc).__name__ != "PanicException":
            raise
        raise CorruptContainer(f"lzop: bad LZO1X block at offset {offset}") from exc
    if len(out) != dst_len:
        raise CorruptContainer(f"lzop: block at offset {offset} decodes to {len(out)} bytes, "
                               f"header says {dst_len}")  # fmt: skip
    return bytes(out)


def _blocks(r: _Reader, flags: int, progress: Progress) -> Generator[bytes, None, None]:
    """The decompressed blocks of one member, checksums verified (lzop.c `x_decompress`)."""
    while True:
        offset = r.pos
        dst_len = r.u32()
        if dst_len == 0:
            return
        src_len = r.u32()
        if dst_len > MAX_BLOCK or not 0 < src_len <= dst_len:
            raise CorruptContainer(f"lzop: bad block sizes {src_len}/{dst_len} at {offset}")
        d_sums = {f: r.u32() for f in (F_ADLER32_D, F_CRC32_D) if flags & f}
        c_sums = {}
        if src_len < dst_len:  # a stored block has no separate compressed-data checksum
            c_sums = {f: r.u32() for f in (F_ADLER32_C, F_CRC32_C) if flags & f}
        data = r.bytes(src_len)
        progress.consumed = r.pos
        # Checking the compressed data first keeps random corruption away from the decoder.
        _verify(data, flags, c_sums, "compressed block")
        out = data if src_len == dst_len else _decompress(data, dst_len, offset)
        _verify(out, flags, d_sums, "block")
        yield out


class Lzo:
    """Codec for lzop files (one or more members)."""

    name = "lzo"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC)

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        headers: list[dict[str, str]] = []
        progress = Progress()
        r = _Reader(stream, 0, size)

        def members() -> Generator[bytes, None, None]:
            while True:
                ctx.check_time()
                fields, flags = _header(r)
                headers.append(fields)
                yield from _blocks(r, flags, progress)
                if peek(stream, r.pos, len(MAGIC)) != MAGIC:
                    return

        out = ctx.spool(members(), "lzo", consumed=progress)
        return Decoded(out, merge_fields(headers, _RULES, "members"), trailing(r.pos, size))


FORMAT = Lzo()
