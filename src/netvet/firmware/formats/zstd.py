"""Zstandard (RFC 8878) frames, one or more concatenated, decoded with the `zstandard` package.

`ZstdDecompressionObj.decompress()` has no output bound, so input is fed in small slices: one
zstd block of at least 4 input bytes yields at most 128 KiB, so a 512-byte slice yields at most
16 MiB before the ratio and byte budgets are checked again. The object reports the frame end
(`eof`, `unused_data`), which locates the next frame or the trailing bytes.
Skippable frames (magic 0x184D2A5?) end the decoding: their payload is reported as trailing
data rather than silently skipped, since it is exactly where bytes can hide.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import BinaryIO

import zstandard

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._codec import (
    IN_CHUNK,
    OUT_CHUNK,
    Progress,
    decode_concatenated,
    peek,
)
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Rule

MAGIC = b"\x28\xb5\x2f\xfd"
SLICE = 512
_RULES = {
    "window_size": Rule.COMPRESSION,
    "checksum": Rule.COMPRESSION,
    "content_size": Rule.DERIVED,
    "dict_id": Rule.STRICT,  # a dictionary changes what the bytes decode to
}


def _fields(stream: BinaryIO, offset: int) -> dict[str, str]:
    try:
        params = zstandard.get_frame_parameters(peek(stream, offset, 18))
    except zstandard.ZstdError as exc:
        raise CorruptContainer(f"zstd: bad frame header at offset {offset}: {exc}") from exc
    fields = {
        "window_size": str(params.window_size),
        "checksum": "yes" if params.has_checksum else "no",
    }
    if params.content_size != zstandard.CONTENTSIZE_UNKNOWN:
        fields["content_size"] = str(params.content_size)
    if params.dict_id:
        fields["dict_id"] = str(params.dict_id)
    return fields


def _frame(
    dctx: zstandard.ZstdDecompressor, stream: BinaryIO, start: int, size: int, progress: Progress
) -> Generator[bytes, None, int]:
    """Decode the frame at `start` in bounded steps; return the offset just past it."""
    dobj = dctx.decompressobj()
    pos = start
    stream.seek(start)
    buf, idx = b"", 0
    while not dobj.eof:
        if idx >= len(buf):
            buf, idx = stream.read(min(IN_CHUNK, size - pos)), 0
            if not buf:
                raise CorruptContainer(f"zstd: truncated frame (stream ends at offset {pos})")
            pos += len(buf)
        piece = buf[idx : idx + SLICE]
        idx += len(piece)
        progress.consumed += len(piece)
        try:
            out = dobj.decompress(piece)
        except zstandard.ZstdError as exc:
            raise CorruptContainer(f"zstd: {exc}") from exc
        for i in range(0, len(out), OUT_CHUNK):
            yield out[i : i + OUT_CHUNK]
    return pos - (len(buf) - idx) - len(dobj.unused_data)


class Zstd:
    """Codec for .zst files and zstd-compressed kernels and initramfs images."""

    name = "zstd"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC)

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded:
        dctx = zstandard.ZstdDecompressor()
        return decode_concatenated(
            stream,
            size,
            ctx,
            "zstd",
            header=lambda pos: _fields(stream, pos),
            decode=lambda pos, progress: _frame(dctx, stream, pos, size, progress),
            next_start=lambda end: end if peek(stream, end, 4) == MAGIC else None,
            rules=_RULES,
            count_name="frames",
        )


FORMAT = Zstd()


def one_frame(data: bytes, limit: int, what: str) -> tuple[bytes, int] | None:
    """The frame `data` starts with (a filesystem block), decoded to at most `limit` bytes:
    (output, input bytes after the frame's end), or None when it expands beyond `limit`.

    A skippable frame first would be skipped by libzstd, and `stream_reader` stops after the
    first frame and ignores the rest: both hide bytes, so the block must start with a frame
    and its end is reported. A frame that declares its size is decoded at once (libzstd checks
    the output against it); one that does not is fed in small steps, bounded."""
    if data[:4] != MAGIC:
        raise CorruptContainer(f"{what}: a zstd block that does not start with a frame")
    dobj = zstandard.ZstdDecompressor().decompressobj()
    try:
        declared = zstandard.get_frame_parameters(data).content_size
        rest = 0  # input not yet fed when the frame ended
        if declared <= limit:
            out = dobj.decompress(data)
        elif declared != zstandard.CONTENTSIZE_UNKNOWN:
            return None
        else:
            parts, total, at = [], 0, 0
            while at < len(data) and total <= limit and not dobj.eof:
                parts.append(dobj.decompress(data[at : at + 64]))
                total += len(parts[-1])
                at += 64
            out, rest = b"".join(parts), max(0, len(data) - at)
    except zstandard.ZstdError as exc:
        raise CorruptContainer(f"{what}: zstd: {exc}") from exc
    if len(out) > limit:
        return None
    if not dobj.eof:
        raise CorruptContainer(f"{what}: a zstd block whose frame does not end")
    return out, len(dobj.unused_data) + rest
