"""What the live LPT nodes say, checked against what the LEBs hold.

A live LPT node whose CRC16 matches still has room for data: a pnode's free and dirty counts and
index flag for four main-area LEBs, the ltab's free and dirty counts of each LPT LEB, and the
lsave's list of LEB numbers (in the big model 256 entries of up to 12 bits: 384 bytes). Only the
kernel reads them, and trusts them. Each is recomputed here from the image:

- pnode: free is the LEB size less the end of its last node rounded up to the write unit; dirty
  is that end less the 8-aligned lengths of the nodes the index references; the index flag is set
  when it holds index nodes; entries past the main area are empty. This is UBIFS's own
  accounting of a committed image (what the kernel's lprops debug checks recompute).
- ltab: free is the LEB size less the end of its live LPT nodes rounded up to the write unit;
  dirty is what in that part no live node holds.
- lsave: one of the two lists mkfs.ubifs (main_first + i) and the kernel's
  ubifs_create_dflt_lpt (main LEBs, then main_first) write. The kernel rewrites it from its
  LEB lists at commit, so a mounted image differs here (as it does by its obsolete nodes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netvet.firmware.formats.ubifs_lpt import Geometry

PNODE, LTAB, LSAVE = 0, 2, 3
FANOUT = 4
Props = Mapping[int, tuple[int, int, bool]]  # main-area LEB: free, dirty, holds index nodes
Body = tuple[int, tuple[int, int], int, int]  # node type, LEB:offset, index in its level, bits


def contents(
    geo: Geometry, bodies: list[Body], spans: Mapping[int, list[tuple[int, int]]], props: Props
) -> Iterator[str]:
    for ntype, (lnum, offs), index, body in bodies:
        where = f"LEB {lnum}:{offs:#x} LPT"
        if ntype == PNODE:
            yield from _pnode(geo, where, index, body, props)
        elif ntype == LTAB:
            yield from _ltab(geo, where, body, spans)
        elif ntype == LSAVE:
            yield from _lsave(geo, where, body)


def _pnode(geo: Geometry, where: str, index: int, body: int, props: Props) -> Iterator[str]:
    if geo.big:
        if body & ((1 << geo.pcnt_bits) - 1) != index:
            yield f"{where} pnode is not number {index}"
        body >>= geo.pcnt_bits
    bits = geo.leb_size.bit_length() - 3
    mask = (1 << bits) - 1
    for entry in range(FANOUT):
        free, dirty, index_flag = (body & mask) << 3, (body >> bits & mask) << 3, body >> 2 * bits
        body >>= 2 * bits + 1
        lnum = geo.main_first + index * FANOUT + entry
        want = props.get(lnum, (geo.leb_size, 0, False))
        if (free, dirty, bool(index_flag & 1)) != want:
            yield (
                f"{where} pnode says LEB {lnum} has {free} free, {dirty} dirty bytes"
                f"{' (index)' if index_flag & 1 else ''}; it has {want[0]} free, {want[1]} dirty"
            )


def _ltab(
    geo: Geometry, where: str, body: int, spans: Mapping[int, list[tuple[int, int]]]
) -> Iterator[str]:
    bits = geo.leb_size.bit_length()
    mask = (1 << bits) - 1
    for lnum in range(geo.first, geo.first + geo.lebs):
        free, dirty = body & mask, body >> bits & mask
        body >>= 2 * bits
        live = spans.get(lnum, [])
        end = -(-max((e for _, e in live), default=0) // geo.min_io) * geo.min_io
        want = geo.leb_size - end, end - sum(e - s for s, e in live)
        if (free, dirty) != want:
            yield (
                f"{where} ltab says LEB {lnum} has {free} free, {dirty} dirty bytes;"
                f" it has {want[0]} free, {want[1]} dirty"
            )


def _lsave(geo: Geometry, where: str, body: int) -> Iterator[str]:
    mask = (1 << geo.leb_bits) - 1
    found = [body >> geo.leb_bits * i & mask for i in range(geo.lsave_cnt)]
    first, lebs = geo.main_first, geo.main_lebs
    mkfs = [(first + i) & mask for i in range(geo.lsave_cnt)]
    kernel = [(first + i if i < lebs else first) & mask for i in range(geo.lsave_cnt)]
    if found not in (mkfs, kernel):
        near = max(mkfs, kernel, key=lambda want: sum(map(int.__eq__, found, want)))
        at = next(i for i, (a, b) in enumerate(zip(found, near, strict=True)) if a != b)
        yield (
            f"{where} lsave entry {at} is {found[at]}, not what mkfs.ubifs writes"
            " (a mounted filesystem rewrites it; or data)"
        )
