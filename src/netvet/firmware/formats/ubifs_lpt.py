"""The UBIFS LPT area: which bytes its live nodes hold, so every other byte must be erased.

The LEB properties tree (Linux fs/ubifs/lpt.c, lpt_commit.c) is not made of UBIFS nodes but of
bit-packed records, each opening with a CRC16 and a 4-bit type: pnodes (free/dirty/flags of four
main-area LEBs), nnodes (four branches to LPT LEB:offset), the ltab (free/dirty of each LPT LEB)
and, in the big model, lsave. Nothing in the listing reads them, so before this module the LPT
LEBs were not scanned at all and bytes written after the last node survived every comparison.

The live nodes are the ones the master node reaches: the root nnode, level by level down to the
pnodes, the ltab and the lsave. mkfs.ubifs writes exactly those, back to back from the start of
the first LPT LEB, and pads the write unit with 0xFF; the kernel writes new nodes at the LPT head
and leaves superseded ones as dirty space until it garbage-collects the LEB. So an honest image
built by mkfs.ubifs has live nodes and 0xFF only, and every other byte is reported by LEB and
offset: an obsolete node of a mounted filesystem, or hidden data. Sizes follow do_calc_lpt_geom();
geometry that does not fit the LEBs, a branch out of the area, a bad CRC16 or a node reached
twice is reported, never followed further, and the walk visits at most the node count the
geometry allows. What the live nodes say (free and dirty counts, lsave) is checked against the
image by ubifs_lprops.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from netvet.firmware.formats.ubifs_lprops import Props, contents

FANOUT = 4
CRC_BITS, TYPE_BITS = 16, 4
PNODE, NNODE, LTAB, LSAVE = 0, 1, 2, 3
NAMES = ("pnode", "nnode", "ltab", "lsave")
FLG_BIGLPT = 0x02
LOG_LNUM = 3


def _crc16_table() -> tuple[int, ...]:
    """The kernel's lib/crc16 (polynomial 0x8005, bit-reversed)."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_CRC16 = _crc16_table()


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    for byte in data:
        crc = (crc >> 8) ^ _CRC16[(crc ^ byte) & 0xFF]
    return crc


@dataclass(frozen=True)
class Geometry:
    """What do_calc_lpt_geom() derives from the superblock."""

    first: int  # the first LPT LEB
    lebs: int
    leb_size: int
    height: int
    big: bool
    lnum_bits: int  # LPT LEB number in an nnode branch
    offs_bits: int
    pcnt_bits: int  # node number, big model only
    bits: tuple[int, int, int, int]  # bits of a pnode, nnode, ltab, lsave
    sizes: tuple[int, int, int, int]  # their bytes
    max_nodes: int
    main_first: int
    main_lebs: int
    lsave_cnt: int
    leb_bits: int  # a main-area LEB number in the lsave
    min_io: int


@dataclass(frozen=True)
class Superblock:
    leb_size: int
    leb_cnt: int
    max_leb_cnt: int
    log_lebs: int
    lpt_lebs: int
    orph_lebs: int
    lsave_cnt: int
    flags: int
    min_io: int = 8


@dataclass(frozen=True)
class Heads:
    """Where the master node says the tree's root, the ltab and the lsave are."""

    root: tuple[int, int]
    ltab: tuple[int, int]
    lsave: tuple[int, int]


@dataclass(frozen=True)
class Area:
    """The LPT LEBs present in the image, read a node or a LEB at a time."""

    stream: BinaryIO
    lebs: range
    leb_size: int

    def read(self, lnum: int, offs: int, size: int) -> bytes | None:
        if lnum not in self.lebs or not 0 <= offs <= self.leb_size - size:
            return None
        self.stream.seek(lnum * self.leb_size + offs)
        data = self.stream.read(size)
        return data if len(data) == size else None


def geometry(sb: Superblock) -> Geometry | str:
    """The LPT's node sizes and tree height, or why the superblock's numbers cannot hold one."""
    main_first = LOG_LNUM + sb.log_lebs + sb.lpt_lebs + sb.orph_lebs
    main_lebs = sb.leb_cnt - main_first
    if not (sb.lpt_lebs > 0 and main_lebs > 0 and sb.leb_cnt <= sb.max_leb_cnt < 1 << 31):
        return f"LPT geometry impossible: {sb.lpt_lebs} LPT LEBs, {main_lebs} main LEBs"
    max_pnodes = -(-(main_lebs + sb.max_leb_cnt - sb.leb_cnt) // FANOUT)
    height, reach = 1, FANOUT
    while reach < max_pnodes:
        height, reach = height + 1, reach * FANOUT
    pnodes = -(-main_lebs // FANOUT)
    nnodes, level = 0, pnodes
    for _ in range(height):
        level = -(-level // FANOUT)
        nnodes += level
    big = bool(sb.flags & FLG_BIGLPT)
    space_bits = sb.leb_size.bit_length() - 3
    lnum_bits, offs_bits = sb.lpt_lebs.bit_length(), (sb.leb_size - 1).bit_length()
    pcnt_bits = (-(-sb.max_leb_cnt // FANOUT) - 1).bit_length()
    head = CRC_BITS + TYPE_BITS
    num = pcnt_bits if big else 0
    bits = (
        head + num + (space_bits * 2 + 1) * FANOUT,
        head + num + (lnum_bits + offs_bits) * FANOUT,
        head + sb.lpt_lebs * sb.leb_size.bit_length() * 2,
        head + (sb.max_leb_cnt - 1).bit_length() * sb.lsave_cnt,
    )
    sizes = (bits[0] + 7) // 8, (bits[1] + 7) // 8, (bits[2] + 7) // 8, (bits[3] + 7) // 8
    if max(sizes[:3]) > sb.leb_size or big and sizes[LSAVE] > sb.leb_size:
        # the lsave bound also bounds lsave_cnt (a LEB number has at least 2 bits)
        return f"LPT geometry impossible: nodes of {max(sizes)} bytes in {sb.leb_size}-byte LEBs"
    first = LOG_LNUM + sb.log_lebs
    return Geometry(
        first, sb.lpt_lebs, sb.leb_size, height, big, lnum_bits, offs_bits, pcnt_bits, bits,
        sizes,
        max_nodes=pnodes + nnodes + 2, main_first=main_first, main_lebs=main_lebs,
        lsave_cnt=sb.lsave_cnt, leb_bits=(sb.max_leb_cnt - 1).bit_length(),
        min_io=max(1, sb.min_io),
    )  # fmt: skip


class _Walk:
    """The live nodes: their spans per LEB, and what kept a node from being read."""

    def __init__(self, geo: Geometry, area: Area) -> None:
        self.geo = geo
        self.area = area
        self.spans: dict[int, list[tuple[int, int]]] = {}
        self.problems: list[str] = []
        self.seen: set[tuple[int, int]] = set()
        self.bodies: list[tuple[int, tuple[int, int], int, int]] = []  # type, where, index, bits

    def node(self, where: tuple[int, int], ntype: int, index: int = 0) -> int | None:
        """The node's bits after its type (as one integer), or None when it is unusable."""
        lnum, offs = where
        size = self.geo.sizes[ntype]
        name = NAMES[ntype]
        if where in self.seen:
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT {name} is reached twice")
            return None
        if len(self.seen) >= self.geo.max_nodes:
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT has more nodes than its geometry")
            return None
        raw = self.area.read(lnum, offs, size)
        if raw is None:
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT {name} lies outside the LPT area")
            return None
        self.seen.add(where)
        value = int.from_bytes(raw, "little")
        self.spans.setdefault(lnum, []).append((offs, offs + size))
        if crc16(raw[2:]) != value & 0xFFFF:
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT {name} fails its CRC16")
            return None
        found = value >> CRC_BITS & 0xF
        if found != ntype:
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT node of type {found}, not {name}")
            return None
        if value >> self.geo.bits[ntype]:  # pack_bits() leaves the last byte's spare bits 0
            self.problems.append(f"LEB {lnum}:{offs:#x} LPT {name} has data in its spare bits")
        body = value >> CRC_BITS + TYPE_BITS
        self.bodies.append((ntype, where, index, body))
        return body

    def tree(self, root: tuple[int, int]) -> None:
        geo = self.geo
        todo = [(root, geo.height, 0)]  # where, level (0: pnodes), index within the level
        while todo:
            where, level, index = todo.pop()
            ntype = PNODE if level == 0 else NNODE
            body = self.node(where, ntype, index)
            if body is None or ntype == PNODE:
                continue
            if geo.big:
                num = _nnode_num(geo.height - level, index)
                if body & ((1 << geo.pcnt_bits) - 1) != num:
                    self.problems.append(f"LEB {where[0]}:{where[1]:#x} LPT nnode is not {num}")
                body >>= geo.pcnt_bits
            for branch in range(FANOUT):
                lnum = (body & ((1 << geo.lnum_bits) - 1)) + geo.first
                body >>= geo.lnum_bits
                offs = body & ((1 << geo.offs_bits) - 1)
                body >>= geo.offs_bits
                if lnum != geo.first + geo.lebs:  # one past the last LPT LEB: no branch
                    todo.append(((lnum, offs), level - 1, index * FANOUT + branch))
                elif offs:  # pack_nnode() writes an absent branch's offset as 0
                    at = f"LEB {where[0]}:{where[1]:#x}"
                    self.problems.append(f"{at} LPT nnode has data in absent branch {branch}")


def _nnode_num(row: int, col: int) -> int:
    """calc_nnode_num(): the number an nnode of the big model carries."""
    num = 1
    for _ in range(row):
        num = num << 2 | col & (FANOUT - 1)
        col >>= 2
    return num


def walk(geo: Geometry, heads: Heads, area: Area, props: Props | None = None) -> Iterator[str]:
    """`LEB n:offset what` for unusable live nodes, bytes no live node holds and, given what
    the main-area LEBs hold (`props`), live nodes whose numbers disagree with it."""
    state = _Walk(geo, area)
    state.tree(heads.root)
    state.node(heads.ltab, LTAB)
    if geo.big:
        state.node(heads.lsave, LSAVE)
    yield from state.problems
    if props is not None:
        yield from contents(geo, state.bodies, state.spans, props)
    for lnum in area.lebs:
        data = area.read(lnum, 0, area.leb_size) or b""
        yield from _gaps(lnum, data, sorted(state.spans.get(lnum, [])))


def _gaps(lnum: int, data: bytes, spans: list[tuple[int, int]]) -> Iterator[str]:
    """Bytes between and after the live nodes that are not erased flash (0xFF)."""
    pos = 0
    for start, end in [*spans, (len(data), len(data))]:
        if start < pos:
            yield f"LEB {lnum}:{start:#x} LPT nodes overlap"
        gap = data[pos:start]
        if gap.count(0xFF) != len(gap):
            first = pos + len(gap) - len(gap.lstrip(b"\xff"))
            last = pos + len(gap.rstrip(b"\xff"))
            yield f"LEB {lnum}:{first:#x} {last - first} bytes in the LPT outside its live nodes"
        pos = max(pos, end)
