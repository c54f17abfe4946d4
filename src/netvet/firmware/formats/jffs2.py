"""JFFS2 images of either byte order, with a node scanner of our own.

dissect.jffs was the first choice, but it reads little-endian images only, does not decode the
`rtime` compressor mkfs.jffs2 enables by default nor OpenWrt's LZMA nodes, reads neither device
numbers nor xattrs, inflates nodes without an output bound, checks no CRC, and fails with a
KeyError on a deletion dirent it has not seen. JFFS2 is a log of self-describing nodes, so this
module scans them the way the kernel does (fs/jffs2/scan.c, readinode.c): CRC-checked nodes,
the newest version of each dirent and inode wins, data nodes are played in version order into a
fragment map, and each fragment is decoded only when read, bounded by its declared size.

Build noise: cleanmarkers, padding, summary and obsolete nodes are layout. Bytes between nodes
that are not erased flash (0xFF), nodes with bad CRCs and unknown node types are counted in
strict fields, since data can hide there. What else no member shows (node tails, obsolete,
superseded and unreachable nodes, summaries) is accounted in jffs2_slack.py.
"""

from __future__ import annotations

import bisect
import stat
import struct
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import (
    ExtentStream,
    decode_dev,
    kind_of,
    parser_errors,
    root_fields,
)
from netvet.firmware.formats._members import list_inodes
from netvet.firmware.formats._notes import unaccounted
from netvet.firmware.formats.jffs2_compr import decode
from netvet.firmware.formats.jffs2_slack import SUMMARY, _crc, account, summary, tail
from netvet.firmware.model import Field, Kind, Listing, Meta, Rule

MAGIC = 0x1985
DIRENT, INODE, XATTR, XREF = 0xE001, 0xE002, 0xE008, 0xE009
LAYOUT_NODES = {0x2003: "cleanmarkers", 0x2004: "padding_nodes", 0x2006: "summary_nodes"}
ACCURATE, INCOMPAT_MASK = 0x2000, 0xC000
MAX_NODE_DATA = 1 << 16  # the kernel writes at most one page per data node
XPREFIX = {1: "user.", 2: "security.", 3: "system.posix_acl_access",
           4: "system.posix_acl_default", 5: "trusted."}  # fmt: skip
SCAN_CHUNK = 1 << 16
ROOT = 1


@dataclass
class _Data:
    """One inode node: metadata plus where its (compressed) data lies."""

    version: int
    mode: int
    uid: int
    gid: int
    isize: int
    mtime: int
    offset: int
    csize: int
    dsize: int
    compr: int
    at: int  # data offset in the image


@dataclass
class _Image:
    """What the scan found: newest dirents, every inode node, xattrs, and counters."""

    endian: str
    inodes: dict[int, list[_Data]] = field(default_factory=dict)
    dirents: dict[tuple[int, bytes], tuple[int, int]] = field(default_factory=dict)
    xattrs: dict[int, tuple[int, str, bytes]] = field(default_factory=dict)
    xrefs: dict[tuple[int, int], int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    slack: list[tuple[int, int]] = field(default_factory=list)  # gaps holding non-0xFF bytes
    end: int = 0  # end of the last valid node: erased flash after it is padding
    notes: list[str] = field(default_factory=list)  # for the `unaccounted` field
    hidden: list[tuple[int, int, str]] = field(default_factory=list)  # nodes noted with a digest
    # where the live version of each dirent, xattr and xattr ref lies: (offset, length)
    dirent_at: dict[tuple[int, bytes], tuple[int, int]] = field(default_factory=dict)
    xattr_at: dict[int, tuple[int, int]] = field(default_factory=dict)
    xref_at: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    # offset -> a summary record's bytes before and after its offset field (jffs2_slack.summary)
    records: dict[int, tuple[bytes, bytes]] = field(default_factory=dict)
    record_at: list[int] = field(default_factory=list)  # the offsets of `records`, ascending
    cleanmarkers: dict[int, int] = field(default_factory=dict)  # offset -> length


class _Scanner:
    """Walks the node log once (fs/jffs2/scan.c), keeping what the kernel would keep."""

    def __init__(self, stream: BinaryIO, size: int, endian: str, ctx: WalkContext) -> None:
        self.stream, self.size, self.ctx = stream, size, ctx
        self.e = endian
        self.magic = struct.pack(endian + "H", MAGIC)
        self.img = _Image(endian)

    def run(self) -> _Image:
        pos = 0
        while pos + 12 <= self.size:
            self.ctx.check_time()
            pos = self._skip_to_magic(pos)
            if pos + 12 > self.size:
                break
            self.stream.seek(pos)
            head = self.stream.read(12)
            _, ntype, totlen, hcrc = struct.unpack(self.e + "HHII", head)
            if _crc(head[:8]) != hcrc or totlen < 12:
                self.img.counts["bad_crc_nodes"] += 1
                pos += 4
                continue
            if pos + totlen > self.size:
                raise CorruptContainer(f"jffs2: node at {pos} runs past the end (truncated)")
            node = head + self.stream.read(min((totlen + 3) & ~3, self.size - pos) - 12)
            tail(self.img, pos, node, self._node(ntype, node[:totlen], pos), ntype)
            pos += (totlen + 3) & ~3
            self.img.end = min(pos, self.size)
        return self.img

    def _skip_to_magic(self, pos: int) -> int:
        """The next 4-aligned node magic at or after pos; gaps holding non-0xFF bytes are slack."""
        start = pos
        stray = False
        while pos < self.size:
            self.stream.seek(pos)
            chunk = self.stream.read(SCAN_CHUNK)
            at = chunk.find(self.magic)
            while at >= 0 and at % 4:
                at = chunk.find(self.magic, at + 1)
            gap = chunk if at < 0 else chunk[:at]
            stray = stray or gap.count(0xFF) != len(gap)
            if at >= 0:
                if stray:
                    self.img.slack.append((start, pos + at - start))
                return pos + at
            pos += len(chunk) - len(chunk) % 4 if len(chunk) >= 4 else len(chunk)
        if stray:
            self.img.slack.append((start, self.size - start))
        return pos

    def _node(self, ntype: int, node: bytes, pos: int) -> int:
        """Read one node; returns how many of its bytes it uses (the rest is checked as fill)."""
        if ntype in LAYOUT_NODES:
            self.img.counts[LAYOUT_NODES[ntype]] += 1
            if ntype == SUMMARY:
                summary(self.img, pos, node)
                return len(node)
            if ntype == 0x2003:
                self.img.cleanmarkers[pos] = len(node)
            return 12
        if not ntype & ACCURATE:
            self.img.counts["obsolete_nodes"] += 1
            self.img.hidden.append((pos, len(node), f"obsolete node {ntype:#06x}"))
            return len(node)
        if ntype in (DIRENT, INODE, XATTR, XREF):
            handler = {DIRENT: self._dirent, INODE: self._inode, XATTR: self._xattr}
            return handler.get(ntype, self._xref)(node, pos)
        if ntype & INCOMPAT_MASK == INCOMPAT_MASK:
            raise CorruptContainer(f"jffs2: incompatible node type {ntype:#x} at {pos}")
        self.img.counts["unknown_nodes"] += 1
        self.img.hidden.append((pos, len(node), f"unknown node {ntype:#06x}"))
        return len(node)

    def _bad(self, node: bytes, pos: int) -> int:
        """A node whose CRC fails: the kernel treats it as obsolete; we count and note it."""
        self.img.counts["bad_crc_nodes"] += 1
        self.img.hidden.append((pos, len(node), "node whose CRC fails"))
        return len(node)

    def _record(self, pos: int, head: bytes, rest: bytes) -> None:
        """What a summary says of this node: `head`, its offset in the erase block, `rest`."""
        self.img.records[pos] = (head, rest)
        self.img.record_at.append(pos)

    def _supersede(self, older: tuple[int, int], what: str) -> None:
        self.img.hidden.append((*older, f"superseded {what}"))

    def _dirent(self, node: bytes, pos: int) -> int:
        pino, version, ino, _mctime, nsize, typ, ncrc, namecrc = struct.unpack_from(
            self.e + "IIIIBBxxII", node, 12
        )
        name = node[40 : 40 + nsize]
        if _crc(node[:32]) != ncrc or _crc(name) != namecrc or len(name) != nsize:
            return self._bad(node, pos)
        head = struct.pack(self.e + "HI", DIRENT, len(node))
        self._record(
            pos, head, struct.pack(self.e + "IIIBB", pino, version, ino, nsize, typ) + name
        )
        key, here = (pino, name), (pos, len(node))
        if key not in self.img.dirents or self.img.dirents[key][0] < version:
            if key in self.img.dirent_at:
                self._supersede(self.img.dirent_at[key], "dirent")
            self.img.dirents[key] = (version, ino)
            self.img.dirent_at[key] = here
        else:
            self._supersede(here, "dirent")
        return 40 + nsize

    def _inode(self, node: bytes, pos: int) -> int:
        f = struct.unpack_from(self.e + "IIIHHIIIIIIIBBHII", node, 12)
        ino, version, mode, uid, gid, isize, _at, mtime, _ct, offset, csize, dsize = f[:12]
        compr, dcrc, ncrc = f[12], f[15], f[16]
        raw = node[68 : 68 + csize]
        if _crc(node[:60]) != ncrc or len(raw) != csize or _crc(raw) != dcrc:
            return self._bad(node, pos)
        if csize > MAX_NODE_DATA or dsize > MAX_NODE_DATA:
            raise CorruptContainer(f"jffs2: data node of {dsize} bytes at {pos}")
        data = _Data(version, mode, uid, gid, isize, mtime, offset, csize, dsize, compr, pos + 68)
        self.img.inodes.setdefault(ino, []).append(data)
        head = struct.pack(self.e + "HII", INODE, ino, version)
        self._record(pos, head, struct.pack(self.e + "I", len(node)))
        return 68 + csize

    def _xattr(self, node: bytes, pos: int) -> int:
        xid, version, prefix, nlen, vlen, dcrc, ncrc = struct.unpack_from(
            self.e + "IIBBHII", node, 12
        )
        data = node[32 : 32 + nlen + 1 + vlen]
        if _crc(node[:28]) != ncrc or _crc(data) != dcrc:
            return self._bad(node, pos)
        head = struct.pack(self.e + "HII", XATTR, xid, version)
        self._record(pos, head, struct.pack(self.e + "I", len(node)))
        here = (pos, len(node))
        if xid not in self.img.xattrs or self.img.xattrs[xid][0] < version:
            name = XPREFIX.get(prefix, f"unknown-{prefix}.") + data[:nlen].decode(
                "utf-8", "surrogateescape"
            )
            if xid in self.img.xattr_at:
                self._supersede(self.img.xattr_at[xid], "xattr")
            self.img.xattrs[xid] = (version, name, data[nlen + 1 :])
            self.img.xattr_at[xid] = here
        else:
            self._supersede(here, "xattr")
        return min(32 + nlen + 1 + vlen, len(node))

    def _xref(self, node: bytes, pos: int) -> int:
        ino, xid, seqno, ncrc = struct.unpack_from(self.e + "IIII", node, 12)
        if _crc(node[:24]) != ncrc:
            return self._bad(node, pos)
        self._record(pos, struct.pack(self.e + "H", XREF), b"")
        key, here = (ino, xid), (pos, len(node))
        if self.img.xrefs.get(key, -1) < seqno:
            if key in self.img.xref_at:
                self._supersede(self.img.xref_at[key], "xattr ref")
            self.img.xrefs[key] = seqno
            self.img.xref_at[key] = here
        else:
            self._supersede(here, "xattr ref")
        return 28


def _fragments(nodes: list[_Data]) -> list[tuple[int, int, _Data, int]]:
    """(start, end, node, offset in node) runs after playing nodes in version order."""
    starts: list[int] = []
    frags: list[tuple[int, int, _Data, int]] = []
    for node in sorted(nodes, key=lambda n: n.version):
        start, end = node.offset, node.offset + node.dsize
        if end == start:
            continue
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and frags[i][0] < start < frags[i][1]:  # split the one we land inside
            s, e, old, k = frags[i]
            frags[i] = (s, start, old, k)
            starts.insert(i + 1, start)
            frags.insert(i + 1, (start, e, old, k + start - s))
        i = bisect.bisect_left(starts, start)
        j = i
        while j < len(frags) and frags[j][0] < end:
            s, e, old, k = frags[j]
            if e > end:  # keep the tail beyond the new node
                frags[j] = (end, e, old, k + end - s)
                starts[j] = end
                break
            j += 1
        del frags[i:j], starts[i:j]
        frags.insert(i, (start, end, node, 0))
        starts.insert(i, start)
    return frags


class _Tree:
    """The filesystem the scan describes."""

    def __init__(self, img: _Image, stream: BinaryIO) -> None:
        self.img, self.stream = img, stream
        self._fragments: dict[int, list[tuple[int, int, _Data, int]]] = {}
        self.children_of: dict[int, list[tuple[bytes, int]]] = {}
        for (pino, name), (_, ino) in sorted(img.dirents.items()):
            if ino:  # ino 0 marks a deleted name
                self.children_of.setdefault(pino, []).append((name, ino))

    def latest(self, ino: int) -> _Data:
        nodes = self.img.inodes.get(ino)
        if not nodes:
            if ino == ROOT:  # mkfs.jffs2 writes no node for the root; the kernel fakes one
                return _Data(0, stat.S_IFDIR | 0o755, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            raise CorruptContainer(f"jffs2: inode {ino} is named but has no nodes")
        return max(nodes, key=lambda n: n.version)

    def children(self, ino: int) -> list[tuple[bytes, int]]:
        return self.children_of.get(ino, []) if self.dir_key(ino) is not None else []

    def dir_key(self, ino: int) -> int | None:
        return ino if stat.S_ISDIR(self.latest(ino).mode) else None

    def mode(self, ino: int) -> int:
        return self.latest(ino).mode

    def size(self, ino: int) -> int:
        return self.latest(ino).isize

    def _load(self, node: _Data) -> Callable[[], bytes]:
        def load() -> bytes:
            self.stream.seek(node.at)
            try:
                return decode(node.compr, self.stream.read(node.csize), node.dsize)
            except CorruptContainer as exc:
                raise CorruptContainer(f"{exc} in the data node at {node.at - 68:#x}") from exc

        return load

    def fragments(self, ino: int) -> list[tuple[int, int, _Data, int]]:
        """The file's data runs, played once: the accounting and every read share them."""
        found = self._fragments.get(ino)
        if found is None:
            found = self._fragments[ino] = _fragments(self.img.inodes.get(ino, []))
        return found

    def content(self, ino: int, what: str) -> BinaryIO:
        extents = []
        for start, end, node, skip in self.fragments(ino):
            extents.append((start, end - start, _skipping(self._load(node), skip)))
        return ExtentStream(self.latest(ino).isize, extents, what)  # type: ignore[return-value]

    def meta(self, ino: int) -> Meta:
        node = self.latest(ino)
        kind = kind_of(node.mode, "jffs2")
        inline = self._load(node)() if kind in (Kind.SYMLINK, Kind.CHAR, Kind.BLOCK) else b""
        rdev = None
        if kind in (Kind.CHAR, Kind.BLOCK):
            if len(inline) == 2:
                (old,) = struct.unpack(self.img.endian + "H", inline)
                rdev = (old >> 8, old & 0xFF)
            elif len(inline) == 4:
                rdev = decode_dev(struct.unpack(self.img.endian + "I", inline)[0])
            else:
                raise CorruptContainer(f"jffs2: device inode {ino} has {len(inline)} data bytes")
        return Meta(
            mode=node.mode & 0o7777,
            uid=node.uid,
            gid=node.gid,
            target=inline.decode("utf-8", "surrogateescape") if kind is Kind.SYMLINK else None,
            rdev=rdev,
            xattrs=self.xattrs(ino),
            mtime=node.mtime,
        )

    def xattrs(self, ino: int) -> tuple[tuple[str, bytes], ...]:
        out = []
        for (owner, xid), seqno in self.img.xrefs.items():
            if owner == ino and not seqno & 1 and xid in self.img.xattrs:  # odd: deleted
                _, name, value = self.img.xattrs[xid]
                out.append((name, value))
        return tuple(sorted(out))


def _skipping(load: Callable[[], bytes], skip: int) -> Callable[[], bytes]:
    """A loader for a fragment that starts `skip` bytes into its node's data."""
    return lambda: load()[skip:]


def _endian(head: bytes) -> str:
    if head[:2] == struct.pack("<H", MAGIC):
        return "<"
    if head[:2] == struct.pack(">H", MAGIC):
        return ">"
    raise NotThisFormat("jffs2: no node magic at offset 0")


class Jffs2Format:
    name = "jffs2"

    def probe(self, head: bytes, size: int) -> bool:
        if len(head) < 12:
            return False
        for e in "<>":
            magic, _, _, hcrc = struct.unpack(e + "HHII", head[:12])
            if magic == MAGIC and _crc(head[:8]) == hcrc:
                return True
        return False

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            stream.seek(0)
            img = _Scanner(stream, size, _endian(stream.read(2)), ctx).run()
            tree = _Tree(img, stream)
            members = list_inodes(tree, ROOT, ctx, self.name, size)
            root = tree.meta(ROOT)
            ranges, notes = account(img, stream, tree)
        ctx.keep(stream)
        # Slack that runs to the end of the image is compared as trailing data instead.
        slack = tuple(r for r in ranges if r[0] + r[1] < size)
        return Listing(
            format=self.name,
            members=members,
            fields=(*_fields(img), unaccounted(notes), *root_fields(root)),
            trailing=(img.end, size - img.end) if img.end < size else None,
            slack=slack,
        )


def _fields(img: _Image) -> tuple[Field, ...]:
    c = img.counts
    layout = ("cleanmarkers", "padding_nodes", "summary_nodes", "obsolete_nodes")
    strict = ("bad_crc_nodes", "unknown_nodes")
    return (
        Field("byte_order", "little" if img.endian == "<" else "big", Rule.LAYOUT),
        *(Field(name, str(c[name]), Rule.LAYOUT) for name in layout),
        *(Field(name, str(c[name]), Rule.STRICT) for name in strict),
    )


FORMAT = Jffs2Format()
