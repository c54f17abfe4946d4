"""Which UBIFS nodes each area of the volume may hold, so a valid node is no hiding place either.

ubifs_scan accepts any node whose CRC matches, and a CRC is no secret: a made-up node of any
type, written into free space with its CRC computed, used to pass. The areas are fixed by the
superblock (fs/ubifs/ubifs-media.h): LEB 0 holds the superblock node, LEBs 1 and 2 the master
node twice, then the log (commit-start and reference nodes), the LPT (checked by ubifs_lpt), the
orphan area (orphan nodes) and the main area, where every node but padding must be reached by the
committed index. mkfs.ubifs writes no other node anywhere; a filesystem that was mounted keeps
superseded (obsolete) nodes in the main area until garbage collection, and the journal's nodes
are not in the index until the next commit. Those are reported as well, by LEB and offset: they
hold bytes no member shows, and an obsolete node cannot be told from a planted one.

mkfs.ubifs 2.1 writes one more node into LEB 0: an empty signature node, 64 bytes of which all
but the common header are zero, with its type left 0 when the image is not authenticated. It is
accepted only in that form. Inside the superblock and master nodes, the reserved bytes (and the
hash/HMAC fields of an image that is not authenticated) are zero as written by mkfs.ubifs and
the kernel; they are covered by the node CRC only, so any other value is reported. The two
master LEBs must agree node for node (the kernel refuses to mount otherwise), past the sequence
number each write gets. The same holds inside the main-area nodes the index references: the
unused half of a key, reserved fields, anything after an entry's NUL-terminated name, an index
node longer than its branches, an inode node longer than its inline data.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, BinaryIO

from netvet.firmware.formats.ubifs_lpt import Area, Heads, Superblock, geometry, walk
from netvet.firmware.formats.ubifs_scan import LOG_LNUM, Node, lpt_range, problems

INO, DATA, DENT, XENT, TRUN, PAD, SB, MST, REF, IDX, CS, ORPH, AUTH, SIG = range(14)
FLG_DOUBLE_HASH, FLG_ENCRYPTION, FLG_AUTHENTICATION = 0x08, 0x10, 0x20
INO_SZ, DENT_SZ, IDX_SZ, BRANCH_SZ = 160, 56, 28, 20
SB_SZ, MST_SZ, SIG_SZ, CH_SZ, PAD_SZ = 4096, 512, 64, 24, 28
# (start, end) of bytes that are always zero, and of the authentication fields
SB_RESERVED, SB_AUTH = ((24, 26), (86, 88), (322, SB_SZ)), ((128, 322),)
MST_RESERVED, MST_AUTH = ((360, MST_SZ),), ((168, 360),)
REF_RESERVED = ((36, 64),)
CH_SEQ_END = 16  # magic, CRC, sqnum: what differs between the two master copies


@dataclass(frozen=True)
class Layout:
    """The first LEB of each area, from the superblock."""

    lpt: int
    orph: int
    main: int
    auth: bool
    flags: int

    @classmethod
    def of(cls, sb: Superblock) -> Layout:
        lpt = LOG_LNUM + sb.log_lebs
        orph = lpt + sb.lpt_lebs
        auth = bool(sb.flags & FLG_AUTHENTICATION)
        return cls(lpt, orph, orph + sb.orph_lebs, auth, sb.flags)

    def area(self, lnum: int) -> str:
        if lnum == 0:
            return "superblock"
        if lnum < LOG_LNUM:
            return "master"
        if lnum < self.lpt:
            return "log"
        if lnum < self.orph:
            return "lpt"
        return "orphan" if lnum < self.main else "main"


ALLOWED = {"master": {MST}, "log": {CS, REF}, "orphan": {ORPH}}


class AreaRules:
    """The per-LEB callback of `ubifs_scan.problems`; remembers LEB 1 to compare LEB 2 with it."""

    def __init__(
        self, layout: Layout, referenced: set[tuple[int, int]], leb_size: int, min_io: int
    ) -> None:
        self.layout = layout
        self.referenced = referenced
        self.leb_size, self.min_io = leb_size, max(8, min_io)
        self.master1: list[tuple[int, bytes]] = []
        self.props: dict[int, tuple[int, int, bool]] = {}  # for the LPT's pnodes

    def __call__(self, lnum: int, data: bytes, nodes: list[Node]) -> list[str]:
        area = self.layout.area(lnum)
        found: list[str] = []
        masters: list[tuple[int, bytes]] = []
        for offs, ntype, length in nodes:
            node = data[offs : offs + length]
            what = self._check(area, lnum, offs, ntype, node)
            if what:
                found.append(f"LEB {lnum}:{offs:#x} {what}")
            if ntype == MST:
                masters.append((offs, node[CH_SEQ_END:]))
        if area == "main":
            self.props[lnum] = self._props(lnum, data, nodes)
        if lnum == 1:
            self.master1 = masters
        elif lnum == 2 and masters != self.master1:
            found.append(f"LEB 2:{_first_change(masters, self.master1):#x} master copies differ")
        return found

    def _props(self, lnum: int, data: bytes, nodes: list[Node]) -> tuple[int, int, bool]:
        """Free and dirty bytes and the index flag, as the LPT must record them."""
        end, used, index = 0, 0, False
        for offs, ntype, length in nodes:
            stop = offs + length
            if ntype == PAD and length == PAD_SZ:
                stop += int.from_bytes(data[offs + CH_SZ : offs + CH_SZ + 4], "little")
            end = max(end, stop)
            if ntype != PAD and (lnum, offs) in self.referenced:
                used += (length + 7) & ~7
                index |= ntype == IDX
        end = min(self.leb_size, -(-end // self.min_io) * self.min_io)
        return self.leb_size - end, end - used, index

    def _check(self, area: str, lnum: int, offs: int, ntype: int, node: bytes) -> str | None:
        if ntype == PAD:
            return None
        if area == "superblock":
            if ntype == SB and offs == 0:
                return _reserved(node, SB_SZ, SB_RESERVED, () if self.layout.auth else SB_AUTH)
            if ntype == SIG and self.layout.auth:
                return None
            if ntype in (INO, SIG) and len(node) == SIG_SZ and not node[CH_SZ:].strip(b"\0"):
                return None  # the empty signature node mkfs.ubifs 2.1 writes (type left 0)
        elif area == "main":
            if (lnum, offs) in self.referenced:
                return _leaf_slack(ntype, node, self.layout.flags)
            return f"node (type {ntype}, {len(node)} bytes) the index does not reference"
        elif ntype in ALLOWED[area]:
            if ntype == MST:
                return _reserved(node, MST_SZ, MST_RESERVED, () if self.layout.auth else MST_AUTH)
            return _reserved(node, len(node), REF_RESERVED) if ntype == REF else None
        return f"node of type {ntype} ({len(node)} bytes) does not belong in the {area} area"


def _reserved(
    node: bytes,
    size: int,
    spans: tuple[tuple[int, int], ...],
    more: tuple[tuple[int, int], ...] = (),
) -> str | None:
    if len(node) != size:
        return f"node of type {node[20]} is {len(node)} bytes, not {size}"
    for start, end in spans + more:
        chunk = node[start:end]
        if chunk.count(0) != len(chunk):
            return f"node of type {node[20]} has data in its reserved bytes {start:#x}-{end:#x}"
    return None


def _leaf_slack(ntype: int, node: bytes, flags: int) -> str | None:
    """Bytes of a referenced node that nothing reads: the unused half of its key, reserved
    fields, what follows a name's NUL, an index node's tail. mkfs.ubifs and the kernel write
    zeros and exact lengths there (fields that encryption uses are skipped when it is on)."""
    size = len(node)
    spans: tuple[tuple[int, int], ...] = ()
    if ntype == INO:
        (data_len,) = struct.unpack_from("<I", node, 112) if size >= INO_SZ else (-1,)
        if size != INO_SZ + data_len:
            return f"inode node of {size} bytes holds {data_len} bytes of data"
        spans = ((32, 40), (124, 128), (134, INO_SZ))
    elif ntype == DATA:
        spans = ((32, 40),) if flags & FLG_ENCRYPTION else ((32, 40), (46, 48))
    elif ntype in (DENT, XENT):
        nlen = int.from_bytes(node[50:52], "little")
        if size != DENT_SZ + nlen + 1 or node[-1]:
            return f"entry node of {size} bytes for a {nlen}-byte name"
        spans = ((48, 49),) if flags & FLG_DOUBLE_HASH else ((48, 49), (52, 56))
    elif ntype == IDX and not flags & FLG_AUTHENTICATION:  # branches carry a hash when on
        children = int.from_bytes(node[24:26], "little")
        if size != IDX_SZ + children * BRANCH_SZ:
            return f"index node of {size} bytes for {children} branches"
    for start, end in spans:
        if node[start:end].count(0) != end - start:
            return f"node of type {ntype} has data in its unused bytes {start:#x}-{end:#x}"
    return None


def _first_change(a: list[tuple[int, bytes]], b: list[tuple[int, bytes]]) -> int:
    """Offset of the first master node that is not the same in both lists."""
    for (aoffs, x), (boffs, y) in zip(a, b, strict=False):
        if (aoffs, x) != (boffs, y):
            return min(aoffs, boffs)
    longer = a if len(a) > len(b) else b
    return longer[min(len(a), len(b))][0]


def superblock(sb: Any) -> Superblock:
    """The numbers ubi-reader parsed, as plain integers."""
    names: tuple[str, ...] = ("leb_size", "leb_cnt", "max_leb_cnt", "log_lebs", "lpt_lebs")
    names += ("orph_lebs",)
    names += ("lsave_cnt", "flags", "min_io_size")
    return Superblock(*(int(getattr(sb, n)) for n in names))


def unaccounted(
    stream: BinaryIO, fs: Any, size: int, referenced: set[tuple[int, int]]
) -> list[str]:
    """Everything the LEB scan, the area rules and the LPT walk report."""
    sb, mst = superblock(fs.superblock_node), fs.master_node
    count = min(sb.leb_cnt, -(-size // sb.leb_size))
    lpt = lpt_range(sb.log_lebs, sb.lpt_lebs)
    rules = AreaRules(Layout.of(sb), referenced, sb.leb_size, sb.min_io)
    found = problems(stream, sb.leb_size, count, lpt, sb.min_io, rules)
    geo = geometry(sb)
    if isinstance(geo, str):
        found.append(f"LEB {lpt[0]}:0x0 {geo}")
    else:
        heads = Heads(
            (int(mst.lpt_lnum), int(mst.lpt_offs)),
            (int(mst.ltab_lnum), int(mst.ltab_offs)),
            (int(mst.lsave_lnum), int(mst.lsave_offs)),
        )
        area = Area(stream, range(lpt[0], min(lpt[1], count)), sb.leb_size)
        found.extend(walk(geo, heads, area, rules.props))
    return found
