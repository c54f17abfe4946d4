"""Every UBIFS LEB node by node: bytes no node accounts for, and nodes whose CRC fails.

The listing reads only what the committed index reaches, so a LEB's free space (after its last
node), the alignment gaps between nodes and nodes nothing references any more are never read:
64 bytes written into free space, or a bit flipped in an unreferenced node, left every member
equal. Here each LEB is walked the way the kernel's recovery scan does (fs/ubifs/scan.c): nodes
start 8-aligned with UBIFS_NODE_MAGIC, a padding node skips its pad_len, fewer bytes than a
padding node are filled with UBIFS_PADDING_BYTE (0xCE), and everything after the last node is
erased flash (0xFF). Anything else is reported by LEB and offset, in a STRICT field, so two
honest builds (which leave none of it) compare equal and any hidden byte is located.

The LPT area is packed bit fields, not nodes: its LEBs are not walked (its bytes are covered by
the CRC16 of each LPT node and read by nothing here).
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO

MAGIC = b"\x31\x18\x10\x06"
HDR = 24
PAD_NODE, PAD_NODE_SZ = 5, 28
PADDING_BYTE = 0xCE
LOG_LNUM = 3  # superblock LEB 0, master LEBs 1-2, then the log
MAX_REPORTED = 8


def anomalies(
    stream: BinaryIO, leb_size: int, leb_cnt: int, lpt: tuple[int, int], min_io: int
) -> list[str]:
    """`LEB n:offset what` for every unexplained byte run or CRC-failing node, first few only."""
    out: list[str] = []
    total = 0
    for lnum in range(leb_cnt):
        if lpt[0] <= lnum < lpt[1]:
            continue
        stream.seek(lnum * leb_size)
        data = stream.read(leb_size)
        for what in _leb(data, max(8, min_io)):
            total += 1
            if len(out) < MAX_REPORTED:
                out.append(f"LEB {lnum}:{what}")
    if total > len(out):
        out.append(f"... {total - len(out)} more")
    return out


def _leb(data: bytes, min_io: int) -> list[str]:
    found: list[str] = []
    offs = 0
    size = len(data)
    while offs + HDR <= size and data[offs : offs + 4] == MAGIC:
        crc, _sqnum, length, ntype = struct.unpack_from("<IQIB", data, offs + 4)
        if not HDR <= length <= size - offs:
            found.append(f"{offs:#x} node of impossible length {length}")
            return found
        if ~zlib.crc32(data[offs + 8 : offs + length]) & 0xFFFFFFFF != crc:
            found.append(f"{offs:#x} node (type {ntype}, {length} bytes) fails its CRC")
        end = offs + length
        if ntype == PAD_NODE and length == PAD_NODE_SZ:
            (pad,) = struct.unpack_from("<I", data, offs + HDR)
            nxt = min(size, end + pad)
            if data[end:nxt].count(0) != nxt - end:  # ubifs_pad() zero-fills after the node
                found.append(f"{end:#x} data in a padding node's {nxt - end} bytes")
        else:
            nxt = min(size, (end + 7) & ~7)
            if not _fill(data[end:nxt], (0, 0xFF, PADDING_BYTE)):
                found.append(f"{end:#x} data in the alignment gap after a node")
        offs = nxt
    # a gap too small for a padding node up to the next write unit is 0xCE, the rest erased
    unit = min(size, -(-offs // min_io) * min_io)
    tail = data[offs:unit]
    if tail and not _fill(tail, (PADDING_BYTE, 0xFF)):
        found.append(f"{offs:#x} {len(tail)} bytes of data before the next write unit")
        unit = offs
    rest = data[unit:]
    if rest.count(0xFF) != len(rest):
        first = unit + len(rest) - len(rest.lstrip(b"\xff"))
        last = unit + len(rest.rstrip(b"\xff"))
        found.append(f"{first:#x} {last - first} bytes of data in free space")
    return found


def _fill(data: bytes, allowed: tuple[int, ...]) -> bool:
    return not data or (data[0] in allowed and data.count(data[0]) == len(data))


def lpt_range(log_lebs: int, lpt_lebs: int) -> tuple[int, int]:
    first = LOG_LNUM + log_lebs
    return first, first + lpt_lebs
