"""Decoders for the compressors a JFFS2 data node may name (the kernel's fs/jffs2/compr_*.c).

Each decoder is bounded to the node's declared `dsize`, which the scanner caps at 64 KiB.
"""

from __future__ import annotations

import lzma
import zlib

from lzallright import LZOCompressor

from netvet.firmware.errors import CorruptContainer

COMPR_NONE, COMPR_ZERO, COMPR_RTIME, COMPR_ZLIB, COMPR_LZO, COMPR_LZMA = 0, 1, 2, 6, 7, 8
# OpenWrt's JFFS2 LZMA (kernel patch 530-jffs2_make_lzma_available, mkfs.jffs2 patch
# 130-lzma_jffs2): a raw LZMA stream without header or end marker; the properties are fixed out of
# band as lc=0, lp=0, pb=0 and an 8 KiB dictionary; the node's dsize says where it stops.
OPENWRT_LZMA = {"id": lzma.FILTER_LZMA1, "dict_size": 0x2000, "lc": 0, "lp": 0, "pb": 0}


def _rtime(src: bytes, size: int) -> bytes:
    """The kernel's compr_rtime.c decoder, bounded to `size` bytes."""
    out = bytearray()
    positions = [0] * 256
    pos = 0
    while len(out) < size and pos + 1 < len(src):
        value, repeat = src[pos], src[pos + 1]
        pos += 2
        out.append(value)
        back = positions[value]
        positions[value] = len(out)
        for _ in range(min(repeat, size - len(out))):
            out.append(out[back])
            back += 1
    return bytes(out)


def decode(compr: int, raw: bytes, dsize: int) -> bytes:
    """The `dsize` bytes a data node holds, from its stored payload `raw`."""
    if compr == COMPR_NONE:
        return raw[:dsize]
    if compr == COMPR_ZERO:
        return b"\0" * dsize
    if compr == COMPR_RTIME:
        return _rtime(raw, dsize)
    if compr == COMPR_ZLIB:
        return zlib.decompressobj().decompress(raw, dsize)
    if compr == COMPR_LZO:  # no bounded LZO decoder; the scanner caps the input at 64 KiB
        return bytes(LZOCompressor.decompress(raw, output_size_hint=dsize))[:dsize]
    if compr == COMPR_LZMA:
        out = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[OPENWRT_LZMA]).decompress(raw, dsize)
        if len(out) != dsize:  # the kernel refuses a node that decodes short, and so do we
            raise CorruptContainer(f"jffs2: LZMA node decodes to {len(out)} of {dsize} bytes")
        return out
    raise CorruptContainer(f"jffs2: unsupported compression type {compr}")
