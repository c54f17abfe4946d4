"""The two shapes a format module takes.

A *codec* wraps one compressed stream (gzip, xz, ...): the walker replaces the bytes by the
decompressed stream and probes again, so `a.tar.gz/x` names `x` inside the tar.
A *container* lists members (tar, squashfs, uImage, FDT, flash ...).

Each module defines one object, `FORMAT`, satisfying one of these protocols, and is listed once in
`netvet.firmware.formats.REGISTRY`. `probe` sees the first `PROBE_SIZE` bytes and the stream size
and must be cheap; `open`/`list` may raise `NotThisFormat` for a false positive, and
`CorruptContainer` or `LimitExceeded` for bad input.
"""

from __future__ import annotations

from typing import BinaryIO, Protocol

from netvet.firmware.context import WalkContext
from netvet.firmware.model import Field, Listing

PROBE_SIZE = 4096


class Codec(Protocol):
    name: str

    def probe(self, head: bytes, size: int) -> bool: ...

    def open(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Decoded: ...


class Container(Protocol):
    name: str

    def probe(self, head: bytes, size: int) -> bool: ...

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing: ...


class Decoded:
    """A decompressed stream plus what the compressed wrapper said about itself.

    `fields` carry header values (gzip MTIME as TIMESTAMP, level/flags as COMPRESSION);
    `trailing` is (offset, length) of bytes after the compressed stream(s), which is never benign
    unless it is single-byte padding.
    """

    __slots__ = ("fields", "stream", "trailing")

    def __init__(
        self,
        stream: BinaryIO,
        fields: tuple[Field, ...] = (),
        trailing: tuple[int, int] | None = None,
    ) -> None:
        self.stream = stream
        self.fields = fields
        self.trailing = trailing
