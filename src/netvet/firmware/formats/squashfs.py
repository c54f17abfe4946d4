"""SquashFS 4 images (every compressor): the tree, each entry's metadata and content.

The tables are read by squashfs_tables.py (why not dissect.squashfs: see there) and contents by
squashfs_data.py. Here the directory tree is walked and turned into members: an entry's type is
its inode's, and a directory entry that names another type (what `readdir` would report) makes
the image corrupt rather than letting two readers see two different trees. So does one that
names another inode number, or two inodes of one number: the kernel looks an entry's inode up
in its inode cache by the number the entry gives (namei.c squashfs_lookup, squashfs_iget), so
two inodes of one number read as one there.
"""

from __future__ import annotations

import struct
from functools import partial
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded, NotThisFormat
from netvet.firmware.formats._fs import decode_dev, list_tree, parser_errors, root_fields
from netvet.firmware.formats.squashfs_data import COMPRESSORS, NO_FRAGMENT, Data, FileStream
from netvet.firmware.formats.squashfs_data import decompressor as _decompressor
from netvet.firmware.formats.squashfs_slack import Layout, account
from netvet.firmware.formats.squashfs_tables import (
    META_SIZE,
    NO_XATTR,
    SUPER,
    Fragments,
    Metadata,
    Super,
    Table,
    Xattrs,
    read_ids,
    read_super,
)
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Opener, Rule

MAGIC = b"hsqs"
DIR_COUNT = 256  # entries under one directory header (squashfs_fs.h SQUASHFS_DIR_COUNT)
MAX_TARGET = 1 << 16  # bytes of a symlink target; the kernel refuses more than a page
# inode type -> (kind, basic type a directory entry gives it, whether it is the extended form)
_TYPES = {
    1: Kind.DIR,
    2: Kind.FILE,
    3: Kind.SYMLINK,
    4: Kind.BLOCK,
    5: Kind.CHAR,
    6: Kind.FIFO,
    7: Kind.SOCKET,
}
_BASE = struct.Struct("<HHHHII")  # type, mode, uid index, gid index, mtime, inode number
_DIR = struct.Struct("<IIHHI")  # start block, nlink, size, offset, parent
_LDIR = struct.Struct("<IIIIHHI")  # nlink, size, start block, parent, index count, offset, xattr
_FILE = struct.Struct("<HHHHIIIIII")  # _BASE, then start block, fragment, offset, size
# A basic file inode's directory entry says 2 or 9 (extended); 0 is the root (no entry).
_FILE_ENTRY = frozenset((0, 2, 9))
_LREG = struct.Struct("<QQQIIII")  # start, size, sparse, nlink, fragment, offset, xattr
_II = struct.Struct("<II")
_U32 = struct.Struct("<I")
# bytes after the 16-byte common header of the inodes of a fixed size, by type
_ENDS = {1: 16, 4: 8, 5: 8, 6: 4, 7: 4, 11: 12, 12: 12, 13: 8, 14: 8}
_DIR_HEADER = struct.Struct("<III")  # count - 1, start block, inode number
_DIR_ENTRY = struct.Struct("<HhHH")  # offset, inode number delta, type, name size - 1
ROOT = -1  # the inode number a directory entry gives the root: none, it has no entry
# A node of the tree: inode reference, the type and the inode number its directory entry gives
Node = tuple[int, int, int]


class _Image:
    """One opened image: its tables, and the members built from them."""

    def __init__(self, fh: BinaryIO, size: int, ctx: WalkContext) -> None:
        sb = read_super(fh)
        if sb.s_magic != 0x73717368 or sb.s_major != 4:
            raise NotThisFormat(f"squashfs: magic/version {sb.s_magic:#x} {sb.s_major}")
        if sb.compression not in COMPRESSORS:
            raise NotThisFormat(f"squashfs: unknown compressor id {sb.compression}")
        if sb.block_size != 1 << sb.block_log or not 4096 <= sb.block_size <= 1 << 20:
            raise NotThisFormat(f"squashfs: implausible block size {sb.block_size}")
        if sb.bytes_used > size:
            raise CorruptContainer(f"squashfs: truncated ({size} of {sb.bytes_used} bytes)")
        self.sb = sb
        self.ctx = ctx
        self.meta = meta = Metadata(fh, sb.bytes_used, _decompressor(sb.compression, META_SIZE))
        data_decompress = _decompressor(sb.compression, max(sb.block_size, META_SIZE))
        self.data = Data(fh, sb.block_size, data_decompress, Fragments(meta, sb))
        self.ids = read_ids(meta, sb)
        self.xattrs = Xattrs(meta, sb)
        self.layout = layout = Layout.of(meta, sb)
        # what every entry adds to the layout (squashfs_slack.py), without attribute chains
        # The run of inode records, and of fragment pieces, that the last entries extended:
        # walked in about the order mksquashfs wrote them, most entries only move its end, and
        # the layout keeps a few thousand runs instead of an entry per record
        self._inode_from = self._inode_to = self._piece_from = self._piece_to = 0
        self._shift = layout.shift
        self._numbers = layout.numbers
        istart, dstart = sb.inode_table_start, sb.directory_table_start
        self.inodes = Table(meta, istart, layout.stop(istart), ctx, "inode")
        self.dirs = Table(meta, dstart, layout.stop(dstart), ctx, "directory")
        self._metas: dict[tuple[object, ...], Meta] = {}

    def inode(self, ref: int) -> tuple[int, int]:
        """(position of the inode `ref` in the inode table buffer, its type)."""
        table = self.inodes
        p = table.pos(ref >> 16, ref & 0xFFFF)
        table.need(p + 64)
        kind = table.buf[p] | table.buf[p + 1] << 8
        if not 1 <= kind <= 14:
            raise CorruptContainer(f"squashfs: unknown inode type {kind}")
        return p, kind

    def member(self, path: str, node: Node) -> Member:
        ref, entry_type, number = node
        p, itype = self.inode(ref)
        buf = self.inodes.buf
        if itype == 2 and entry_type in _FILE_ENTRY:  # most entries: one unpack, one lookup
            _, mode, uid, gid, mtime, ino, start, fragment, offset, size = _FILE.unpack_from(buf, p)
            if ino != number or self._numbers.setdefault(ino, ref) != ref:
                self._number(path, ref, ino, number)
            meta = self._metas.get((mode, uid, gid, None, None, NO_XATTR, mtime))
            if meta is None:
                meta = self._meta(mode, uid, gid, None, None, NO_XATTR, mtime)
            return Member(
                path,
                Kind.FILE,
                meta,
                size,
                self._opener(path, p, p + 32, start, size, fragment, offset),
            )
        basic = (itype - 1) % 7 + 1
        if entry_type and (entry_type - 1) % 7 + 1 != basic:
            raise CorruptContainer(
                f"squashfs: {path!r} is type {entry_type} in its directory, {itype} in its inode"
            )
        _, mode, uid, gid, mtime, ino = _BASE.unpack_from(buf, p)
        if ino != number or self._numbers.setdefault(ino, ref) != ref:
            self._number(path, ref, ino, number)
        kind = _TYPES[basic]
        xattr = NO_XATTR
        target = rdev = None
        size = 0
        opener: Opener | None = None
        q = p + 16
        end = q + _ENDS.get(itype, 0)  # where the inode's record ends, if of a fixed size
        if kind is Kind.FILE:
            start, size, _sparse, _nlink, fragment, offset, xattr = _LREG.unpack_from(buf, q)
            opener = self._opener(path, p, q + 40, start, size, fragment, offset)
        elif itype == 8:
            _n, _s, _b, _p, count, _o, xattr = _LDIR.unpack_from(buf, q)
            self._inode(p, self._dir_index_end(q + 24, count))
        elif kind is Kind.SYMLINK:
            _nlink, tsize = _II.unpack_from(buf, q)
            if tsize > MAX_TARGET:
                raise CorruptContainer(f"squashfs: {path!r}: symlink target of {tsize} bytes")
            self.inodes.need(q + 8 + tsize + 4)
            raw = buf[q + 8 : q + 8 + tsize]
            if len(raw) != tsize:
                raise CorruptContainer(f"squashfs: {path!r}: truncated symlink target")
            target = raw.decode("utf-8", "surrogateescape")
            end = q + 8 + tsize
            if itype == 10:
                (xattr,) = struct.unpack_from("<I", buf, end)
                end += 4
        elif kind in (Kind.BLOCK, Kind.CHAR):
            _nlink, dev = _II.unpack_from(buf, q)
            rdev = decode_dev(dev)
            if itype > 7:
                (xattr,) = struct.unpack_from("<I", buf, q + 8)
        elif itype > 7:  # extended fifo, socket
            (xattr,) = struct.unpack_from("<I", buf, q + 4)
        if end > q:
            self._inode(p, end)
        meta = self._meta(mode, uid, gid, target, rdev, xattr, mtime)
        return Member(path, kind, meta, size, opener)

    def _number(self, path: str, ref: int, ino: int, number: int) -> None:
        """The inode at `ref` is numbered `ino`, its directory entry says `number`: refused
        unless they agree and no other inode has that number (module docstring)."""
        if number != ROOT and ino != number:
            raise CorruptContainer(
                f"squashfs: {path!r} is inode {number} in its directory, {ino} in its inode"
            )
        other = self._numbers.setdefault(ino, ref)
        if other != ref:
            raise CorruptContainer(
                f"squashfs: {path!r}: inode number {ino} is also the inode's at "
                f"{other >> 16:#x}:{other & 0xFFFF:#x}"
            )

    def _inode(self, p: int, end: int) -> None:
        """The inode record p..end (positions in the inode table): the current run, or a new."""
        if p != self._inode_to:
            self.layout.inodes.append((self._inode_from, self._inode_to))
            self._inode_from = p
        self._inode_to = end

    def _piece(self, key: int, end: int) -> None:
        """A fragment piece, as keys (fragment << shift | offset): like `_inode`."""
        if key != self._piece_to:
            self.layout.pieces.append((self._piece_from, self._piece_to))
            self._piece_from = key
        self._piece_to = end

    def runs(self) -> None:
        """The runs still open, into the layout: the listing is complete."""
        self.layout.inodes.append((self._inode_from, self._inode_to))
        self.layout.pieces.append((self._piece_from, self._piece_to))

    def _dir_index_end(self, q: int, count: int) -> int:
        """End of an extended directory inode: its index entries (start, block, name)."""
        table = self.inodes
        for _ in range(count):
            table.need(q + 12)
            if q + 12 > len(table.buf):
                raise CorruptContainer("squashfs: directory index beyond the inode table")
            q += 13 + _U32.unpack_from(table.buf, q + 8)[0]
        return q

    def _meta(
        self,
        mode: int,
        uid: int,
        gid: int,
        target: str | None,
        rdev: tuple[int, int] | None,
        xattr: int,
        mtime: int,
    ) -> Meta:
        """Shared Meta objects: most entries of an image have the same metadata."""
        key = (mode, uid, gid, target, rdev, xattr, mtime)
        meta = self._metas.get(key)
        if meta is None:
            ids = self.ids
            if uid >= len(ids) or gid >= len(ids):
                raise CorruptContainer(f"squashfs: id index {max(uid, gid)} beyond the id table")
            self.layout.ids.update((uid, gid))  # a new key: the entries that any inode takes
            self.layout.xattrs.add(xattr)
            xattrs = self.xattrs.get(xattr)
            meta = Meta(mode & 0o7777, ids[uid], ids[gid], target, rdev, xattrs, mtime)
            self._metas[key] = meta
        return meta

    def _opener(
        self, path: str, p: int, q: int, start: int, size: int, fragment: int, offset: int
    ) -> Opener:
        bs = self.sb.block_size
        count = (size + bs - 1) // bs if fragment == NO_FRAGMENT else size // bs
        words: tuple[int, ...] = ()
        end = q + count * 4
        if count:
            self.inodes.need(end)
            if end > len(self.inodes.buf):
                raise CorruptContainer(f"squashfs: {path!r}: block list beyond the inode table")
            words = struct.unpack_from(f"<{count}I", self.inodes.buf, q)
            self.layout.files.append((start, words, path))
        if p == self._inode_to:
            self._inode_to = end
        else:
            self._inode(p, end)
        if fragment != NO_FRAGMENT:
            if offset >= bs:  # a piece starts inside its block (and its key packs it so)
                raise CorruptContainer(f"squashfs: {path!r}: fragment offset {offset}")
            key = fragment << self._shift | offset
            if key == self._piece_to:
                self._piece_to = key + size - count * bs
            else:
                self._piece(key, key + size - count * bs)
        what = f"squashfs: {path}"
        opener = partial(FileStream, self.data, what, size, start, words, fragment, offset)
        return opener  # type: ignore[return-value]  # a FileStream is a binary stream

    def children(self, node: Node) -> list[tuple[str, Node]]:
        if node[1] != 1:
            return []
        p, itype = self.inode(node[0])
        if itype == 1:
            start, _nlink, dsize, offset, _parent = _DIR.unpack_from(self.inodes.buf, p + 16)
        elif itype == 8:
            _nlink, dsize, start, _parent, _n, offset, _x = _LDIR.unpack_from(
                self.inodes.buf, p + 16
            )
        else:
            raise CorruptContainer(f"squashfs: inode type {itype} listed as a directory")
        if dsize <= 3:
            return []
        table = self.dirs
        p = table.pos(start, offset)
        end = p + dsize - 3
        table.need(end)
        self.layout.listings.append((p, end))
        buf = table.buf
        out: list[tuple[str, Node]] = []
        room = self.ctx.limits.max_entries - self.ctx.entries
        while p < end:
            count, block, base = _DIR_HEADER.unpack_from(buf, p)
            p += 12
            if count >= DIR_COUNT:
                raise CorruptContainer(f"squashfs: directory header of {count + 1} entries")
            if len(out) + count >= room:  # walk() counts them too; this bounds the list first
                raise LimitExceeded(
                    f"more than --max-entries ({self.ctx.limits.max_entries}) members"
                )
            for _ in range(count + 1):
                ioff, delta, etype, nsize = _DIR_ENTRY.unpack_from(buf, p)
                raw = buf[p + 8 : p + 9 + nsize]
                p += 9 + nsize
                if len(raw) != nsize + 1 or p > end:
                    raise CorruptContainer("squashfs: directory entry beyond its directory")
                name = raw.decode("utf-8", "surrogateescape")
                # the kernel's sum: u32 plus a signed 16-bit delta, in unsigned int
                out.append((name, ((block << 16) | ioff, etype, (base + delta) & 0xFFFFFFFF)))
        return out

    def root(self) -> Node:
        return (self.sb.root_inode, 0, ROOT)


def _dir_key(node: Node) -> int | None:
    return node[0] if node[1] == 1 else None


def _fields(sb: Super) -> tuple[Field, ...]:
    layout = (
        "inodes",
        "fragments",
        "no_ids",
        "bytes_used",
        "id_table_start",
        "xattr_id_table_start",
        "inode_table_start",
        "directory_table_start",
        "fragment_table_start",
        "lookup_table_start",
        "root_inode",
    )
    return (
        Field("version", f"{sb.s_major}.{sb.s_minor}", Rule.STRICT),
        Field("mkfs_time", str(sb.mkfs_time), Rule.TIMESTAMP),
        Field("compressor", COMPRESSORS[sb.compression], Rule.COMPRESSION),
        Field("block_size", str(sb.block_size), Rule.COMPRESSION),
        Field("flags", f"{sb.flags:#x}", Rule.COMPRESSION),
        *(Field(name, str(getattr(sb, name)), Rule.LAYOUT) for name in layout),
    )


class SquashfsFormat:
    name = "squashfs"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC) and size >= SUPER.size

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            img = _Image(stream, size, ctx)
            root = img.root()
            root_member = img.member("", root)  # its metadata; and a directory's table place
            if root_member.kind is Kind.DIR:
                root = (root[0], 1, ROOT)
            members = list_tree(root, img.children, _dir_key, img.member, ctx, self.name, size)
            img.runs()
            found = account(img.layout, img.data, img.inodes, img.dirs, members, ctx)
            img.data.fragment_ends = found.fragment_ends
        ctx.keep(stream)
        sb = img.sb
        trailing = (sb.bytes_used, size - sb.bytes_used) if size > sb.bytes_used else None
        # STRICT: an honest image has no unreferenced byte, so any is unexplained
        unaccounted = Field("unaccounted", found.field_value(), Rule.STRICT)
        return Listing(
            format=self.name,
            members=members,
            fields=(*_fields(sb), unaccounted, *root_fields(root_member.meta)),
            trailing=trailing,
            slack=found.slack,
        )


FORMAT = SquashfsFormat()
