"""Read-only views over shared streams, so members never copy bytes out of their image."""

from __future__ import annotations

import io
from typing import BinaryIO


class SubStream(io.RawIOBase):
    """Bytes `[offset, offset+length)` of `base`, with a position of its own.

    Several views may share one base: each read seeks the base first. Closing a view leaves the
    base open (the walk context owns it).
    """

    def __init__(self, base: BinaryIO, offset: int, length: int) -> None:
        super().__init__()
        if offset < 0 or length < 0:
            raise ValueError("negative offset or length")
        self._base = base
        self._offset = offset
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            new = pos
        elif whence == io.SEEK_CUR:
            new = self._pos + pos
        elif whence == io.SEEK_END:
            new = self._length + pos
        else:
            raise ValueError(f"bad whence {whence}")
        if new < 0:
            raise ValueError("negative seek position")
        self._pos = new
        return new

    def read(self, size: int | None = -1) -> bytes:
        remaining = self._length - self._pos
        if remaining <= 0:
            return b""
        if size is None or size < 0 or size > remaining:
            size = remaining
        self._base.seek(self._offset + self._pos)
        data = self._base.read(size)
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)

    def __len__(self) -> int:
        return self._length


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
