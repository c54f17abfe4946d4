"""Decoders for the compressors a JFFS2 data node may name (the kernel's fs/jffs2/compr_*.c).

Each decoder is bounded to the node's declared `dsize`, which the scanner caps at 64 KiB. The
kernel's decoders stop at `dsize` and never look at what a node stores past that, so stored bytes
that the decoder does not consume are refused here (the member is then not compared): mkfs.jffs2
and the kernel store exactly the compressor's output, and a data node with more is hiding data.
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


def _hidden(count: int, what: str) -> CorruptContainer:
    return CorruptContainer(
        f"jffs2: {count} stored bytes after the end of the {what} (hidden data?)"
    )


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
        if repeat > size - len(out):  # the compressor's runs end with its input
            raise CorruptContainer(f"jffs2: rtime run of {repeat} bytes goes past {size} bytes")
        for _ in range(repeat):
            out.append(out[back])
            back += 1
    if pos < len(src):
        raise _hidden(len(src) - pos, "rtime data")
    return bytes(out)


def _zlib(raw: bytes, dsize: int) -> bytes:
    """The node's `dsize` bytes; the rest of the stream must be its end and nothing more."""
    inflate = zlib.decompressobj()
    try:
        out = inflate.decompress(raw, dsize)
        more = inflate.decompress(inflate.unconsumed_tail, 1)
    except zlib.error as exc:
        raise CorruptContainer(f"jffs2: zlib data is corrupt: {exc}") from exc
    if more:
        raise CorruptContainer(f"jffs2: zlib stream holds more than the node's {dsize} bytes")
    if inflate.unused_data:
        raise _hidden(len(inflate.unused_data), "zlib stream")
    if not inflate.eof:
        raise CorruptContainer("jffs2: zlib stream is cut short")
    return out


def _lzma_decoder() -> lzma.LZMADecompressor:
    return lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[OPENWRT_LZMA])


def _lzma(raw: bytes, dsize: int) -> bytes:
    """The node's `dsize` bytes. The stream has no end marker; liblzma needs its last byte to
    give the last symbol, so a stream that decodes in full without it carries extra bytes."""
    decoder = _lzma_decoder()
    out = decoder.decompress(raw[:-1], dsize)
    if raw and len(out) == dsize:
        low, high = 0, len(raw) - 1  # the shortest prefix that decodes in full: cost log(n)
        while low < high:
            mid = (low + high) // 2
            if len(_lzma_decoder().decompress(raw[:mid], dsize)) == dsize:
                high = mid
            else:
                low = mid + 1
        raise _hidden(len(raw) - low, "LZMA stream")
    out += decoder.decompress(raw[-1:], dsize - len(out))
    if len(out) != dsize:  # the kernel refuses a node that decodes short, and so do we
        raise CorruptContainer(f"jffs2: LZMA node decodes to {len(out)} of {dsize} bytes")
    return out


def decode(compr: int, raw: bytes, dsize: int) -> bytes:
    """The `dsize` bytes a data node holds, from its stored payload `raw`."""
    if compr == COMPR_NONE:
        if len(raw) > dsize:
            raise _hidden(len(raw) - dsize, f"{dsize} uncompressed bytes")
        return raw
    if compr == COMPR_ZERO:
        if raw:
            raise _hidden(len(raw), "zero-filled data, which stores none")
        return b"\0" * dsize
    if compr == COMPR_RTIME:
        return _rtime(raw, dsize)
    if compr == COMPR_ZLIB:
        return _zlib(raw, dsize)
    if compr == COMPR_LZO:  # no bounded LZO decoder; the scanner caps the input at 64 KiB
        return bytes(LZOCompressor.decompress(raw, output_size_hint=dsize))[:dsize]
    if compr == COMPR_LZMA:
        return _lzma(raw, dsize)
    raise CorruptContainer(f"jffs2: unsupported compression type {compr}")
