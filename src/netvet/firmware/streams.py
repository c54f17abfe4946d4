"""Read-only views over shared streams, so members never copy bytes out of their image."""

from __future__ import annotations

import io
from typing import BinaryIO


class Reader(io.RawIOBase):
    """A readable, seekable raw stream whose subclasses only define `read`, `seek` and `tell`."""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)


class PositionedReader(Reader):
    """A Reader of `size` bytes that keeps its own position: subclasses only define `read`,
    which reads from `self._pos` (no further than `self._size`) and advances it."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self._size = size
        self._pos = 0

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            new = pos
        elif whence == io.SEEK_CUR:
            new = self._pos + pos
        elif whence == io.SEEK_END:
            new = self._size + pos
        else:
            raise ValueError(f"bad whence {whence}")
        if new < 0:
            raise ValueError("negative seek position")
        self._pos = new
        return new


class SubStream(PositionedReader):
    """Bytes `[offset, offset+length)` of `base`, with a position of its own.

    Several views may share one base: each read seeks the base first. Closing a view leaves the
    base open (the walk context owns it).
    """

    def __init__(self, base: BinaryIO, offset: int, length: int) -> None:
        super().__init__(length)
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        self._base = base
        self._offset = offset

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._size - self._pos
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        self._base.seek(self._offset + self._pos)
        data = self._base.read(size)
        self._pos += len(data)
        return data

    # Not in the base class: __len__ makes an empty stream falsy, which other readers never were.
    def __len__(self) -> int:
        return self._size


def stream_size(stream: BinaryIO) -> int:
    """Size of a seekable stream, leaving its position unchanged."""
    pos = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(pos)
    return end


def view(base: BinaryIO, offset: int = 0, length: int | None = None) -> BinaryIO:
    """A fresh SubStream of `base` (to the end when `length` is None)."""
    if length is None:
        length = stream_size(base) - offset
    return SubStream(base, offset, length)  # type: ignore[return-value]


def is_fill(data: bytes) -> bool:
    """True when `data` is one byte repeated (erased flash 0xFF, zero padding)."""
    return not data or data.count(data[0]) == len(data)
