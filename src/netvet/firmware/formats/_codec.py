"""Streaming helpers every codec shares.

Each codec decompresses in bounded steps straight into `ctx.spool`, so a bomb hits the ratio and
byte budgets after a few megabytes, never after allocating the whole output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Generator, Sequence
from typing import BinaryIO, Protocol

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats.base import Decoded
from netvet.firmware.model import Field, Rule

IN_CHUNK = 16 << 10  # compressed bytes read per step: the ratio check lags by at most this
OUT_CHUNK = 1 << 20  # decompressed bytes produced per step: bounds memory per step


class Progress:
    """Compressed bytes consumed so far (for ctx.spool's ratio check); callable for spool."""

    __slots__ = ("consumed",)

    def __init__(self) -> None:
        self.consumed = 0

    def __call__(self) -> int:
        return self.consumed


class Decompressor(Protocol):
    """The incremental API of lzma/bz2/lz4.frame decompressors (and `_Inflate` below)."""

    @property
    def eof(self) -> bool: ...

    @property
    def needs_input(self) -> bool: ...

    @property
    def unused_data(self) -> bytes | None: ...

    def decompress(self, data: bytes, max_length: int = -1) -> bytes: ...


def drain(
    stream: BinaryIO,
    start: int,
    size: int,
    dec: Decompressor,
    progress: Progress,
    what: str,
    errors: tuple[type[Exception], ...],
) -> Generator[bytes, None, int]:
    """Decompress one stream starting at `start` in bounded steps; return the offset of its end.

    A stream that ends before the decompressor saw its end marker is truncated.
    """
    pos = start
    stream.seek(start)
    while not dec.eof:
        data = b""
        if dec.needs_input:
            data = stream.read(min(IN_CHUNK, size - pos))
            if not data:
                raise CorruptContainer(f"{what}: truncated (stream ends at offset {pos})")
            pos += len(data)
            progress.consumed += len(data)
        try:
            out = dec.decompress(data, OUT_CHUNK)
        except errors as exc:
            raise CorruptContainer(f"{what}: {exc} (near offset {pos})") from exc
        if out:
            yield out
    return pos - len(dec.unused_data or b"")  # lz4.frame says None for none


def decode_concatenated(
    stream: BinaryIO,
    size: int,
    ctx: WalkContext,
    fmt: str,
    *,
    header: Callable[[int], dict[str, str]],
    decode: Callable[[int, Progress], Generator[bytes, None, int]],
    next_start: Callable[[int], int | None],
    rules: dict[str, Rule],
    count_name: str,
) -> Decoded:
    """Decode units (members, streams, frames) written one after another, spooled as one stream.

    For the unit at offset `pos`: `header(pos)` gives its header fields, `decode(pos, progress)`
    yields its bytes and returns where it ends, and `next_start(end)` where the next unit starts,
    or None when what follows is not one: the bytes after the last unit are trailing data.
    """
    headers: list[dict[str, str]] = []
    progress = Progress()
    end = 0

    def units() -> Generator[bytes, None, None]:
        nonlocal end
        pos: int | None = 0
        while pos is not None:
            ctx.check_time()  # an empty unit produces no output, so spool would never check
            headers.append(header(pos))
            end = yield from decode(pos, progress)
            pos = next_start(end)

    out = ctx.spool(units(), fmt, consumed=progress)
    return Decoded(out, merge_fields(headers, rules, count_name), trailing(end, size))


def peek(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)


def trailing(end: int, size: int) -> tuple[int, int] | None:
    return (end, size - end) if end < size else None


def merge_fields(
    per_member: Sequence[dict[str, str]], rules: dict[str, Rule], count_name: str
) -> tuple[Field, ...]:
    """One Field per header name over all members (a multi-member file has one header each).

    Equal values collapse to one; differing ones are listed, or digested when there are many,
    so a hostile file of a million members cannot produce a million fields.
    """
    out = [Field(count_name, str(len(per_member)), Rule.COMPRESSION)]
    for name, rule in rules.items():
        values = [m.get(name, "") for m in per_member]
        if not any(values):
            continue
        if len(set(values)) == 1:
            value = values[0]
        elif len(values) <= 8:
            value = ",".join(values)
        else:
            digest = hashlib.sha256("\0".join(values).encode("utf-8", "surrogateescape"))
            value = f"{len(set(values))} distinct values, sha256 {digest.hexdigest()[:16]}"
        out.append(Field(name, value, rule))
    return tuple(out)
