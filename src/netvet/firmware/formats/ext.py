"""ext2/3/4 images, listed through dissect.extfs.

dissect.extfs reads the superblock, group descriptors and inodes. Mapping data and walking
directories is done here instead, because dissect's versions trust the image too far for hostile
input: its extent walk recurses through every index entry (a fan-out of index blocks pointing at
each other takes forever), in-inode xattrs are read past 128-byte inodes, inline data beyond
the 60 bytes of i_block is dropped, and inline-data directories are not read at all. Here each
extent-tree block is visited once, xattrs follow the on-disk layout (ext4 xattr.h), and inline
data, of files and directories, includes its `system.data` continuation. Feature flags are
split into layout and security-relevant ones in `ext_features`.
"""

from __future__ import annotations

import io
import stat
import struct
from collections.abc import Iterator
from functools import partial
from typing import BinaryIO
from uuid import UUID

from dissect.extfs.c_ext import c_ext
from dissect.extfs.extfs import ExtFS, INode
from dissect.util.stream import RunlistStream

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import (
    decode_dev,
    guarded_opener,
    kind_of,
    list_tree,
    parser_errors,
    root_fields,
)
from netvet.firmware.formats.ext_features import feature_fields
from netvet.firmware.formats.ext_member_slack import own_slack, special_slack
from netvet.firmware.formats.ext_slack import journal_fields, unaccounted
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule

SB_OFFSET = 1024
MAGIC_OFFSET = SB_OFFSET + 0x38
XATTR_MAGIC = 0xEA020000
EXTENT_MAGIC = 0xF30A
Spans = list[tuple[int, int]]  # (offset, length); `list` is a method name inside ExtFormat
INLINE_DATA_FL = 0x10000000
INLINE_SIZE = 60  # i_block: the in-inode part of inline data
INLINE_DOTDOT = 4  # an inline directory starts with its parent's inode number
EXTENTS_FL = 0x00080000
MAX_XATTR_VALUE = 1 << 16
XATTR_PREFIXES = {
    1: "user.",
    2: "system.posix_acl_access",
    3: "system.posix_acl_default",
    4: "trusted.",
    6: "security.",
    7: "system.",
    8: "system.richacl",
}


def _xattr_list(fs: ExtFS, buf: bytes, start: int, value_base: int) -> Iterator[tuple[str, bytes]]:
    """Entries of one xattr area (in-inode or block), ext4_xattr_entry by ext4_xattr_entry."""
    off = start
    while off + 16 <= len(buf) and buf[off : off + 4] != b"\0\0\0\0":
        nlen, index, voffs, vinum, vsize = struct.unpack_from("<BBHII", buf, off)
        name = buf[off + 16 : off + 16 + nlen].decode("utf-8", "surrogateescape")
        if vsize > MAX_XATTR_VALUE:
            raise CorruptContainer(f"ext: xattr {name!r} of {vsize} bytes")
        if vinum:  # ea_inode feature: the value lives in an inode of its own
            value = fs.get_inode(vinum).open().read(vsize)
        else:
            value = buf[value_base + voffs : value_base + voffs + vsize]
        if len(value) != vsize:
            raise CorruptContainer(f"ext: xattr {name!r} runs past its area")
        yield XATTR_PREFIXES.get(index, f"unknown-{index}.") + name, value
        off += (16 + nlen + 3) & ~3


def _xattrs(fs: ExtFS, node: INode) -> dict[str, bytes]:
    """All xattrs of an inode: the in-inode area (inodes > 128 bytes), then the xattr block."""
    out: dict[str, bytes] = {}
    ino = node.inode
    room = fs.sb.s_inode_size - 128 - ino.i_extra_isize
    if fs.sb.s_inode_size > 128 and room >= 4:
        area = bytes(ino.i_extra)[:room]
        if struct.unpack_from("<I", area)[0] == XATTR_MAGIC:
            out.update(_xattr_list(fs, area, 4, 4))
    block = (ino.i_file_acl_high << 32) | ino.i_file_acl_lo
    if block:
        if block >= fs.block_count:
            raise CorruptContainer(f"ext: xattr block {block} beyond the filesystem")
        fs.fh.seek(block * fs.block_size)
        area = fs.fh.read(fs.block_size)
        if len(area) < 32 or struct.unpack_from("<I", area)[0] != XATTR_MAGIC:
            raise CorruptContainer(f"ext: bad xattr block {block}")
        out.update(_xattr_list(fs, area, 32, 0))
    return out


def _extent_runs(
    fs: ExtFS, node: INode, tree: set[int] | None = None
) -> list[tuple[int | None, int]]:
    """The inode's extents as a dissect runlist; every tree block is read at most once (and
    added to `tree`)."""
    extents: list[tuple[int, int, int | None]] = []
    seen: set[int] = set()
    todo = [(bytes(node.inode.i_block), 6)]
    while todo:
        buf, depth_left = todo.pop()
        magic, entries, _max, depth = struct.unpack_from("<HHHH", buf)
        if magic != EXTENT_MAGIC or depth >= depth_left or 12 + entries * 12 > len(buf):
            raise CorruptContainer(f"ext: bad extent tree in inode {node.inum}")
        for i in range(entries):
            lblk, a, b, c = struct.unpack_from("<IHHI", buf, 12 + 12 * i)
            if depth:  # index entry: ei_block, ei_leaf_lo (a|b<<16), ei_leaf_hi (c & 0xffff)
                child = ((c & 0xFFFF) << 32) | (b << 16) | a
                if child in seen or child >= fs.block_count:
                    raise CorruptContainer(f"ext: extent tree of inode {node.inum} loops")
                seen.add(child)
                fs.fh.seek(child * fs.block_size)
                todo.append((fs.fh.read(fs.block_size), depth))
            else:  # leaf: ee_block, ee_len (a), ee_start_hi (b), ee_start_lo (c)
                length, start = a, (b << 32) | c
                if length > 32768:  # uninitialised extent: reads as zeros
                    extents.append((lblk, length - 32768, None))
                else:
                    extents.append((lblk, length, start))
    if tree is not None:
        tree |= seen
    runs: list[tuple[int | None, int]] = []
    pos = 0
    for lblk, length, start in sorted(extents):
        if lblk < pos:
            raise CorruptContainer(f"ext: overlapping extents in inode {node.inum}")
        if lblk > pos:
            runs.append((None, lblk - pos))
        runs.append((start, length))
        pos = lblk + length
    need = (node.size + fs.block_size - 1) // fs.block_size
    if pos < need:
        runs.append((None, need - pos))
    return runs


def _journal_runs(fs: ExtFS) -> list[tuple[int | None, int]]:
    """The internal journal's block runs (empty without one): its blocks are no member's."""
    inum = fs.sb.s_journal_inum
    if not fs.sb.s_feature_compat & c_ext.EXT3_FEATURE_COMPAT_HAS_JOURNAL or not inum:
        return []
    node = fs.get_inode(inum)
    if node.inode.i_flags & EXTENTS_FL:
        return _extent_runs(fs, node)
    return list(node.dataruns())


def _content(fs: ExtFS, node: INode) -> BinaryIO:
    """A fresh stream over the inode's bytes."""
    size = node.size
    if node.inode.i_flags & INLINE_DATA_FL:
        data = bytes(node.inode.i_block) + _xattrs(fs, node).get("system.data", b"")
        return io.BytesIO(data[:size])
    if node.inode.i_flags & EXTENTS_FL:
        return RunlistStream(fs.fh, _extent_runs(fs, node), size, fs.block_size)
    return node.open()  # ext2/3 block map: its depth is fixed at 3


def _children(fs: ExtFS, node: INode) -> Iterator[tuple[bytes, INode]]:
    """Entries of a directory, ext4_dir_entry_2 by ext4_dir_entry_2, without `.` and `..`.

    An inline-data directory (ext4 inline.c) keeps its parent's inode number in the first 4
    bytes of i_block, entries in the other 56, and any more in its `system.data` xattr; the
    entries of each of the two areas fill that area, so they are read as two separate lists.
    """
    if node.filetype != stat.S_IFDIR:
        return
    if node.size > fs.block_count * fs.block_size:
        raise CorruptContainer(f"ext: directory inode {node.inum} claims {node.size} bytes")
    data = _content(fs, node).read()
    if node.inode.i_flags & INLINE_DATA_FL:
        yield from _entries(fs, node, data[INLINE_DOTDOT:INLINE_SIZE])
        yield from _entries(fs, node, data[INLINE_SIZE:])
    else:
        yield from _entries(fs, node, data)


def _entries(fs: ExtFS, node: INode, data: bytes) -> Iterator[tuple[bytes, INode]]:
    off = 0
    while off + 8 <= len(data):
        inum, rec_len, name_len = struct.unpack_from("<IHB", data, off)
        if rec_len < 8 or off + rec_len > len(data) or 8 + name_len > rec_len:
            raise CorruptContainer(f"ext: bad directory entry in inode {node.inum}")
        name = data[off + 8 : off + 8 + name_len]
        if inum and name not in (b".", b".."):
            if inum > fs.sb.s_inodes_count:
                raise CorruptContainer(f"ext: entry {name!r} names inode {inum}")
            yield name, fs.get_inode(inum)
        off += rec_len


def _meta(fs: ExtFS, node: INode, xattrs: dict[str, bytes]) -> Meta:
    ino = node.inode
    rdev = None
    if stat.S_ISCHR(ino.i_mode) or stat.S_ISBLK(ino.i_mode):
        old, new = struct.unpack_from("<II", bytes(ino.i_block))
        rdev = ((old >> 8) & 0xFF, old & 0xFF) if old else decode_dev(new)
    target = None
    if stat.S_ISLNK(ino.i_mode):
        if node.size > MAX_XATTR_VALUE:
            raise CorruptContainer(f"ext: symlink inode {node.inum} claims {node.size} bytes")
        target = _content(fs, node).read().decode("utf-8", "surrogateescape")
    return Meta(
        mode=ino.i_mode & 0o7777,
        uid=ino.i_uid | (ino.i_uid_high << 16),
        gid=ino.i_gid | (ino.i_gid_high << 16),
        target=target,
        rdev=rdev,
        xattrs=tuple(sorted((k, v) for k, v in xattrs.items() if k != "system.data")),
        mtime=ino.i_mtime,
    )


def _fields(fs: ExtFS) -> tuple[Field, ...]:
    sb = fs.sb

    def text(raw: bytes) -> str:
        return bytes(raw).split(b"\0")[0].decode("utf-8", "surrogateescape")

    free_blocks = (sb.s_free_blocks_count_hi << 32) | sb.s_free_blocks_count_lo
    strict = {
        "volume_name": text(sb.s_volume_name),
        "default_mount_opts": f"{sb.s_default_mount_opts:#x}",
        "mount_opts": text(sb.s_mount_opts),
    }
    layout = {
        "block_size": fs.block_size,
        "blocks_count": fs.block_count,
        "inodes_count": sb.s_inodes_count,
        "free_blocks": free_blocks,
        "free_inodes": sb.s_free_inodes_count,
        "inode_size": sb.s_inode_size,
        "blocks_per_group": sb.s_blocks_per_group,
        "inodes_per_group": sb.s_inodes_per_group,
        "reserved_blocks": (sb.s_r_blocks_count_hi << 32) | sb.s_r_blocks_count_lo,
        "mount_count": sb.s_mnt_count,
        "state": sb.s_state,
        "kbytes_written": sb.s_kbytes_written,
        "last_mounted": text(sb.s_last_mounted),
        "lpf_ino": sb.s_lpf_ino,
    }
    times = ("s_mtime", "s_wtime", "s_mkfs_time", "s_lastcheck")
    features = feature_fields(sb.s_feature_compat, sb.s_feature_incompat, sb.s_feature_ro_compat)
    return (
        *(Field(k, v, Rule.STRICT) for k, v in strict.items()),
        *features,
        Field("uuid", str(UUID(bytes=bytes(sb.s_uuid))), Rule.RANDOM_ID),
        Field("hash_seed", bytes(sb.s_hash_seed).hex(), Rule.RANDOM_ID),
        Field("checksum_seed", str(sb.s_checksum_seed), Rule.RANDOM_ID),
        Field("journal_uuid", bytes(sb.s_journal_uuid).hex(), Rule.RANDOM_ID),
        *(Field(t[2:], str(getattr(sb, t)), Rule.TIMESTAMP) for t in times),
        *(Field(k, str(v), Rule.LAYOUT) for k, v in layout.items()),
        Field("sb_checksum", f"{sb.s_checksum:#x}", Rule.DERIVED),
    )


class ExtFormat:
    name = "ext"

    def probe(self, head: bytes, size: int) -> bool:
        return (
            len(head) >= MAGIC_OFFSET + 2 and head[MAGIC_OFFSET : MAGIC_OFFSET + 2] == b"\x53\xef"
        )

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            fs = self._open(stream, size)
            tails: Spans = []
            refs: Spans = []
            children, member = partial(_children, fs), partial(self._member, fs, tails, refs)
            members = list_tree(fs.root, children, self._dir_key, member, ctx, self.name, size)
            root = _meta(fs, fs.root, _xattrs(fs, fs.root))
            journal = _journal_runs(fs)
            tails += own_slack(fs, fs.root, refs, _extent_runs)
            tails += special_slack(fs, refs, _extent_runs)
            fields = _fields(fs) + journal_fields(fs, journal)
            slack = unaccounted(fs, journal, tails, refs)
        ctx.keep(stream)
        end = fs.block_count * fs.block_size
        notes = []
        if fs.sb.s_feature_incompat & c_ext.EXT3_FEATURE_INCOMPAT_RECOVER:
            notes.append("the journal holds unreplayed changes: listed as before replay")
        return Listing(
            format=self.name,
            members=members,
            fields=fields + root_fields(root),
            trailing=(end, size - end) if size > end else None,
            notes=tuple(notes),
            slack=tuple(slack),
        )

    def _open(self, stream: BinaryIO, size: int) -> ExtFS:
        try:
            fs = ExtFS(stream)
        except (EOFError, NotImplementedError) as exc:
            raise CorruptContainer(
                f"ext: superblock unreadable: {type(exc).__name__} {exc}"
            ) from exc
        except Exception as exc:  # dissect's "not a valid ExtFS" and friends
            raise NotThisFormat(f"ext: {exc}") from exc
        if fs.block_size > 65536:
            raise NotThisFormat(f"ext: implausible block size {fs.block_size}")
        if fs.block_count * fs.block_size > size:
            raise CorruptContainer(
                f"ext: truncated ({size} of {fs.block_count * fs.block_size} bytes)"
            )
        return fs

    @staticmethod
    def _dir_key(node: INode) -> int | None:
        return node.inum if node.filetype == stat.S_IFDIR else None

    def _member(self, fs: ExtFS, tails: Spans, refs: Spans, path: str, node: INode) -> Member:
        kind = kind_of(node.inode.i_mode, self.name)
        meta = _meta(fs, node, _xattrs(fs, node))
        tails.extend(own_slack(fs, node, refs, _extent_runs))
        if kind is not Kind.FILE:
            return Member(path, kind, meta)
        opener = guarded_opener(lambda: _content(fs, node), f"{self.name}: {path}")
        return Member(path, kind, meta, size=node.size, opener=opener)


FORMAT = ExtFormat()
