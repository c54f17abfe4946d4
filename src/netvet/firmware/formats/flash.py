"""Raw flash dumps: the images embedded at offsets, and the byte ranges between them.

The whole stream is scanned in bounded windows for the magics of embedded images at 4-byte
aligned offsets (JFFS2 only at 4 KiB erase-block starts). Each candidate is checked against its
own header (CRCs where the format has them) and its length taken from that header; scanning
resumes after the image, so nothing inside an image is listed twice. Images become FILE members
`0x%08x.<fmt>`, everything else REGION members that the comparison treats as padding or
unexplained data. A gap is named by where it ends (`gap-before-0x%08x`, `gap-to-end`), not where
it starts: flash partitions start at fixed offsets, while the image before a gap may grow or
shrink in an equivalent rebuild (another compressed size), which must not rename the gap.

The header checks live here on purpose: the scanner must not depend on the other format modules,
which list an image rather than measure it. The one exception is this package's own FDT parser,
needed to measure a FIT's external data; should it fail, the FDT's totalsize is the extent.
"""

from __future__ import annotations

import lzma
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import FirmwareError, NotThisFormat
from netvet.firmware.formats import fdt
from netvet.firmware.model import Kind, Listing, Member
from netvet.firmware.streams import view

MIN_SIZE = 64 << 10
_WINDOW = 1 << 20
_EXT_SB = 0x438  # ext's magic sits this far after the image start
_ERASE = 0x1000  # smallest erase block: where JFFS2 images may start
# Erased (0xFF) and zeroed windows hold no magic: one memcmp instead of a find per magic.
# Dumps are mostly such fill, and scanning it magic by magic made a 100 GiB sparse file a hang.
_FILLS = {b: bytes([b]) * (_WINDOW + _EXT_SB + 8) for b in (0xFF, 0x00)}

Found = tuple[int, str]  # declared end offset (may pass the stream end), format name
Detector = Callable[[BinaryIO, int, int, WalkContext], Found | None]


@dataclass(frozen=True, slots=True)
class Hit:
    offset: int
    end: int  # clipped to the stream
    fmt: str
    declared: int  # declared end; > end when the image is cut short


class Flash:
    """The flash-dump container; last in the registry, it sees what nothing else claimed."""

    name = "flash"

    def probe(self, head: bytes, size: int) -> bool:
        return size >= MIN_SIZE and not head.startswith(b"\x7fELF")

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        hits = scan(stream, size, ctx)
        if not hits:
            raise NotThisFormat("flash: no embedded image found")
        if len(hits) == 1 and hits[0].offset == 0 and hits[0].end >= size:
            raise NotThisFormat(f"flash: the whole stream is one {hits[0].fmt} image")
        members: list[Member] = []
        pos = 0
        for hit in hits:
            if hit.offset > pos:
                members.append(
                    _member(stream, pos, hit.offset, f"gap-before-0x{hit.offset:08x}", Kind.REGION)
                )
            members.append(_member(stream, hit.offset, hit.end, hit.fmt, Kind.FILE))
            pos = hit.end
        if pos < size:
            members.append(_member(stream, pos, size, "gap-to-end", Kind.REGION))
        ctx.entry(len(members))
        notes = tuple(
            f"{h.offset:#010x}.{h.fmt}: cut short ({h.declared - h.offset} bytes "
            f"declared, {h.end - h.offset} present)"
            for h in hits
            if h.declared > h.end
        )
        return Listing(self.name, tuple(members), notes=notes)


def _member(stream: BinaryIO, start: int, end: int, fmt: str, kind: Kind) -> Member:
    return Member(
        f"0x{start:08x}.{fmt}" if kind is Kind.FILE else fmt,
        kind,
        size=end - start,
        offset=start,
        opener=lambda: view(stream, start, end - start),
    )


def scan(stream: BinaryIO, size: int, ctx: WalkContext) -> list[Hit]:
    """Embedded images in offset order, none overlapping."""
    hits: list[Hit] = []
    skip = pos = 0
    while pos < size:
        ctx.check_time()
        stream.seek(pos)
        window = stream.read(_WINDOW + _EXT_SB + 8)
        if _is_fill(window):
            pos = max(pos + _WINDOW, skip - skip % 4)
            continue
        for start, detect in sorted(_candidates(window, pos), key=lambda c: c[0]):
            if start < skip:
                continue
            ctx.check_time()  # a window can hold many false magics
            found = detect(stream, start, size, ctx)
            if found is None:
                continue
            end, fmt = found
            if end <= start:
                continue
            hits.append(Hit(start, min(end, size), fmt, end))
            skip = end
        pos = max(pos + _WINDOW, skip - skip % 4)
    return hits


def _is_fill(window: bytes) -> bool:
    """The window is one fill byte throughout."""
    fill = _FILLS.get(window[0]) if window else None
    if fill is None:
        return False
    if len(window) == len(fill):
        return window == fill
    return window.count(window[0]) == len(window)  # the short last window


def _candidates(window: bytes, base: int) -> Iterator[tuple[int, Detector]]:
    """Image starts in `[base, base + _WINDOW)` whose magic appears in `window`."""
    limit = min(len(window), _WINDOW)
    for magic, delta, detect in _MAGICS:
        i = window.find(magic, delta)
        while i >= 0 and i - delta < limit:
            if (base + i) % 4 == 0:
                yield base + i - delta, detect
            i = window.find(magic, i + 1)
    for rel in range(-base % _ERASE, limit, _ERASE):
        if window[rel : rel + 2] in (b"\x85\x19", b"\x19\x85"):
            yield base + rel, _jffs2


def _read(stream: BinaryIO, offset: int, n: int) -> bytes:
    stream.seek(offset)
    return stream.read(n)


# -- header checks, one per format -----------------------------------------------------------
def _uimage(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    raw = _read(stream, start, 64)
    if len(raw) < 64 or zlib.crc32(raw[:4] + bytes(4) + raw[8:]) != int.from_bytes(raw[4:8]):
        return None
    return start + 64 + int.from_bytes(raw[12:16]), "uimage"


def _fdt(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    raw = _read(stream, start, 40)
    if len(raw) < 40:
        return None
    total, o_struct, o_strings, o_rsv, version, last, _, s_strings, s_struct = struct.unpack(
        ">9I", raw[4:40]
    )
    if version < 17:  # no size_dt_struct before version 17
        s_struct = 0
    if not (16 <= version < 0x100 and last <= 17 and total >= 40):
        return None
    if max(o_rsv, o_struct + s_struct, o_strings + s_strings) > total or o_rsv < 40:
        return None
    if start + total > size:
        return start + total, "fdt"
    try:  # the full parser also finds FIT external data after the tree
        end, fit = fdt.extent(view(stream, start, size - start), size - start, ctx)
    except FirmwareError:
        return start + total, "fdt"
    return start + end, "fit" if fit else "fdt"


def _squashfs(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    raw = _read(stream, start, 96)
    if len(raw) < 96:
        return None
    order = "<" if raw[:4] == b"hsqs" else ">"
    major = struct.unpack_from(order + "H", raw, 28)[0]
    if major == 4 and order == "<":  # version 4 is little-endian only
        bsize, _, comp, blog = struct.unpack_from("<IIHH", raw, 12)
        used = struct.unpack_from("<Q", raw, 40)[0]
        ok = 1 <= comp <= 6 and 12 <= blog <= 20 and bsize == 1 << blog and used >= 96
    elif major in (1, 2, 3):  # squashfs 3.x layout: bytes_used moved to offset 63
        blog = struct.unpack_from(order + "H", raw, 34)[0]
        fmt, at = (order + "Q", 63) if major == 3 else (order + "I", 8)
        used = struct.unpack_from(fmt, raw, at)[0]
        ok = 12 <= blog <= 20 and used >= 64
    else:
        return None
    if not ok:
        return None
    end = start + used
    padded = (end + 0xFFF) & ~0xFFF  # mksquashfs pads to 4 KiB with zeros: part of the image
    if padded <= size and not _read(stream, end, padded - end).strip(b"\0"):
        end = padded
    return end, "squashfs"


def _ubi_header(raw: bytes) -> tuple[int, int, int] | None:
    """(vid header offset, data offset, image seq) of a valid UBI erase-counter header."""
    if len(raw) < 64 or raw[:4] != b"UBI#" or raw[4] != 1:
        return None
    if zlib.crc32(raw[:60]) ^ 0xFFFFFFFF != int.from_bytes(raw[60:64]):
        return None
    vid, data, seq = struct.unpack_from(">III", raw, 16)
    return vid, data, seq


def _ubi(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    first = _ubi_header(_read(stream, start, 64))
    if first is None or first[1] < 64:
        return None
    peb = next(
        (
            1 << k
            for k in range(10, 23)
            if (1 << k) > first[1] and _ubi_header(_read(stream, start + (1 << k), 64)) == first
        ),
        None,
    )
    if peb is None:  # one PEB; guess the smallest size that holds its data offset
        return start + (1 << max(first[1].bit_length(), 10)), "ubi"
    end = start + peb
    while _ubi_header(_read(stream, end, 64)) == first:
        end += peb
        ctx.check_time()
    return end, "ubi"


def _jffs2_node(raw: bytes) -> int | None:
    """Length of the valid JFFS2 node whose header is `raw`, else None."""
    if len(raw) < 12 or raw[:2] not in (b"\x85\x19", b"\x19\x85"):
        return None
    order = "<" if raw[0] == 0x85 else ">"
    totlen, crc = struct.unpack_from(order + "II", raw, 4)
    # the kernel's crc32(0, ...): no pre- or post-inversion, unlike zlib's
    if zlib.crc32(raw[:8], 0xFFFFFFFF) ^ 0xFFFFFFFF != crc or totlen < 12:
        return None
    return int(totlen)


def _jffs2(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    """Nodes follow each other 4-aligned; erased (0xFF) space runs to the next erase block.
    The image ends after the last node before a block that is neither nodes nor erased."""
    if _jffs2_node(_read(stream, start, 12)) is None:
        return None
    pos = last = start
    while pos < size:
        ctx.check_time()
        length = _jffs2_node(_read(stream, pos, 12))
        if length is not None:
            last = pos + length
            pos = (last + 3) & ~3
            continue
        boundary = min((pos + _ERASE) & ~(_ERASE - 1) if pos % _ERASE else pos + _ERASE, size)
        if _read(stream, pos, boundary - pos).strip(b"\xff"):
            break
        pos = boundary
    return last, "jffs2"


def _cramfs(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    raw = _read(stream, start, 64)
    if len(raw) < 64 or raw[16:32] != b"Compressed ROMFS":
        return None
    length = int.from_bytes(raw[4:8], "little" if raw[0] == 0x45 else "big")
    return (start + length, "cramfs") if length >= 76 else None


def _ext(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    sb = _read(stream, start + 1024, 1024)
    if len(sb) < 0x154:
        return None
    inodes, blocks, _, free, _, first, log_bs = struct.unpack_from("<7I", sb)
    per_group, ipg, rev = (
        *struct.unpack_from("<I4xI", sb, 32),
        struct.unpack_from("<I", sb, 76)[0],
    )
    if log_bs > 6 or first != (1 if log_bs == 0 else 0) or rev > 1:
        return None
    bs = 1024 << log_bs
    if sb[0x60] & 0x80:  # INCOMPAT_64BIT: the high half of the block count is valid
        blocks |= struct.unpack_from("<I", sb, 0x150)[0] << 32
    if not (inodes and blocks and free <= blocks and 0 < per_group <= 8 * bs and ipg > 0):
        return None
    return start + blocks * bs, "ext"


def _gzip(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    """One gzip member: decode bounded chunks (output discarded, ratio and time limits apply)
    until zlib reports its end; a stream cut short runs to the end of the dump."""
    head = _read(stream, start, 10)
    if len(head) < 10 or head[3] & 0xE0 or (head[9] > 13 and head[9] != 255):
        return None
    d = zlib.decompressobj(31)
    pos, produced, data, capped = start, 0, b"", False
    while not d.eof:
        if not data and not capped:
            if pos >= size:
                return (size, "gzip") if produced else None
            data = _read(stream, pos, min(CHUNK, size - pos))
            pos += len(data)
        try:
            out = d.decompress(data, CHUNK)
        except zlib.error:
            return None
        produced, data, capped = produced + len(out), d.unconsumed_tail, len(out) == CHUNK
        ctx.check_ratio(produced, pos - start, "gzip")
        ctx.check_time()
    return pos - len(d.unused_data), "gzip"


def _xz(stream: BinaryIO, start: int, size: int, ctx: WalkContext) -> Found | None:
    """One xz stream (header CRC checked), measured like `_gzip`."""
    head = _read(stream, start, 12)
    if len(head) < 12 or head[6] or head[7] & 0xF0:
        return None
    if zlib.crc32(head[6:8]) != int.from_bytes(head[8:12], "little"):
        return None
    d = lzma.LZMADecompressor(lzma.FORMAT_XZ)
    pos, produced = start, 0
    while not d.eof:
        data = b""
        if d.needs_input:
            if pos >= size:
                return (size, "xz") if produced else None
            data = _read(stream, pos, min(CHUNK, size - pos))
            pos += len(data)
        try:
            produced += len(d.decompress(data, CHUNK))
        except lzma.LZMAError:
            return None
        ctx.check_ratio(produced, pos - start, "xz")
        ctx.check_time()
    return pos - len(d.unused_data), "xz"


_MAGICS: tuple[tuple[bytes, int, Detector], ...] = (
    (b"\x27\x05\x19\x56", 0, _uimage),
    (b"\xd0\x0d\xfe\xed", 0, _fdt),
    (b"hsqs", 0, _squashfs),
    (b"sqsh", 0, _squashfs),
    (b"UBI#", 0, _ubi),
    (b"\x45\x3d\xcd\x28", 0, _cramfs),
    (b"\x28\xcd\x3d\x45", 0, _cramfs),
    (b"\x1f\x8b\x08", 0, _gzip),
    (b"\xfd7zXZ\x00", 0, _xz),
    (b"\x53\xef", _EXT_SB, _ext),
)

FORMAT = Flash()
