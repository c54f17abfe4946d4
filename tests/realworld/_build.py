"""Small firmware pieces built byte by byte, shaped like the realistic images that found the
bugs these tests guard (see tests/fixtures/realworld/README.md for the full-size versions)."""

from __future__ import annotations

import struct
import zlib


def uimage(payload: bytes, name: bytes = b"Linux-5.10.120", stamp: int = 1700000000) -> bytes:
    """A legacy uImage (OS Linux, type kernel, no compression) with correct CRCs."""
    head = struct.pack(
        ">7I4B32s",
        0x27051956,
        0,
        stamp,
        len(payload),
        0x8000,
        0x8000,
        zlib.crc32(payload),
        5,
        2,
        2,
        0,
        name,
    )
    return head[:4] + struct.pack(">I", zlib.crc32(head)) + head[8:] + payload


def pad(data: bytes, size: int, fill: int) -> bytes:
    assert len(data) <= size
    return data + bytes([fill]) * (size - len(data))
