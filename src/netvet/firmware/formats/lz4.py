"""LZ4: the frame format (`04 22 4D 18`, one or more frames) and the legacy format
(`02 21 4C 18`) that `lz4 -l` writes for Linux kernels and initramfs images.

Frames decode with `lz4.frame.LZ4FrameDecompressor`, which bounds its output per call. The legacy
format is a magic followed by blocks of `u32 compressed size + LZ4 block`, each decompressing to
at most 8 MiB; it has no end marker, so (like the kernel's unlz4) decoding stops at the first
size that cannot be a block, and the rest (a kernel's appended length, an appended DTB) is
reported as trailing data. Skippable frames end decoding too: their payload becomes trailing data.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from typing import BinaryIO

import lz4.block
import lz4.frame

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
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

FRAME_MAGIC = b"\x04\x22\x4d\x18"
LEGACY_MAGIC = b"\x02\x21\x4c\x18"
LEGACY_BLOCK = 8 << 20
LEGACY_BOUND = LEGACY_BLOCK + LEGACY_BLOCK // 255 + 16  # LZ4_compressBound(8 MiB)
_RULES = {
    "block_size": Rule.COMPRESSION,
    "block_linked": Rule.COMPRESSION,
    "block_checksum": Rule.COMPRESSION,
    "content_checksum": Rule.COMPRESSION,
    "content_size": Rule.DERIVED,
}


def _frame_fields(stream: BinaryIO, offset: int) -> dict[str, str]:
    try:
        info = lz4.frame.get_frame_info(peek(stream, offset, 19))
    except RuntimeError as exc:
        raise CorruptContainer(f"lz4: bad frame header at offset {offset}: {exc}") from exc
    fields = {k: str(info[k]) for k in _RULES if k != "content_size"}
    if info.get("content_size"):
        fields["content_size"] = str(info["content_size"])
    return fields


class Lz4:
    """Codec for .lz4 files and lz4-compressed kernels (frame or legacy format)."""

    name = "lz4"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith((FRAME_MAGIC, LEGACY_MAGIC))

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        if peek(stream, 0, 4) == LEGACY_MAGIC:
            return _legacy(stream, size, ctx)

        def decode(pos: int, progress: Progress) -> Generator[bytes, None, int]:
            dec = lz4.frame.LZ4FrameDecompressor()
            return drain(stream, pos, size, dec, progress, "lz4", (RuntimeError,))

        return decode_concatenated(
            stream,
            size,
            ctx,
            "lz4",
            header=lambda pos: _frame_fields(stream, pos),
            decode=decode,
            next_start=lambda end: end if peek(stream, end, 4) == FRAME_MAGIC else None,
            rules=_RULES,
            count_name="frames",
        )


def _legacy(stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
    progress = Progress()
    end = [0]

    def blocks() -> Generator[bytes, None, None]:
        pos = 0
        while pos + 4 <= size:
            ctx.check_time()  # a block may decode to nothing, so spool may never check
            word = peek(stream, pos, 4)
            if word == LEGACY_MAGIC:  # the kernel accepts the magic again between blocks
                pos += 4
                end[0] = pos
                continue
            (csize,) = struct.unpack("<I", word)
            if csize == 0 or csize > LEGACY_BOUND or pos + 4 + csize > size:
                return
            data = stream.read(csize)
            try:
                out = lz4.block.decompress(data, uncompressed_size=LEGACY_BLOCK)
            except lz4.block.LZ4BlockError as exc:
                raise CorruptContainer(f"lz4 legacy: bad block at offset {pos}: {exc}") from exc
            pos += 4 + csize
            progress.consumed = pos
            end[0] = pos
            for i in range(0, len(out), OUT_CHUNK):
                yield out[i : i + OUT_CHUNK]

    out = ctx.spool(blocks(), "lz4", consumed=progress)
    return Decoded(out, (Field("format", "legacy", Rule.COMPRESSION),), trailing(end[0], size))


FORMAT = Lz4()
