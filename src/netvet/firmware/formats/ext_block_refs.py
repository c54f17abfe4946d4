"""Blocks an ext2/3/4 block bitmap marks used that nothing references: where data can hide.

Free blocks (bit clear) are slack already, but a tool can set a block's bit and write anything
there: no member, header or journal reads it and the image still mounts (e2fsck would report
a "block bitmap difference"). So the blocks every structure references are collected (group
metadata, the journal, every member's data, extent-tree, indirect and xattr blocks, the resize
inode's double-indirect block, the bad-block, quota and orphan-file inodes, the MMP block) and
the used-but-unreferenced ones are returned as slack. `mke2fs -d` leaves none. Not applied with
bigalloc (bitmaps count clusters) or ea_inode (values in inodes not walked here).
"""

from __future__ import annotations

import re
import struct

from dissect.extfs.extfs import ExtFS, INode

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges

Runs = list[tuple[int | None, int]]

BLOCK_UNINIT = 0x2
RO_UNINIT_BG, RO_BIGALLOC, RO_CSUM = 0x10, 0x200, 0x400
INCOMPAT_MMP, INCOMPAT_EA_INODE, COMPAT_RESIZE_INODE = 0x100, 0x400, 0x10
RESIZE_INO, DIND_SLOT = 7, 13
NDIR = 12
_UNREF = re.compile(rb"1+")


def unreferenced(fs: ExtFS, descs: list[object], refs: Ranges) -> Ranges:
    """Byte ranges of the blocks marked used but referenced by nothing; `refs` are
    (first block, count) of every referenced block, group metadata included."""
    sb = fs.sb
    if sb.s_feature_ro_compat & RO_BIGALLOC or sb.s_feature_incompat & INCOMPAT_EA_INODE:
        return []
    bs, n, bpg, first = fs.block_size, fs.block_count, sb.s_blocks_per_group, sb.s_first_data_block
    mark = bytearray(n)
    for start, count in refs:
        lo, hi = max(0, start), min(n, start + count)
        if lo < hi:
            mark[lo:hi] = b"\1" * (hi - lo)
    lazy = bool(sb.s_feature_ro_compat & (RO_UNINIT_BG | RO_CSUM))
    out: Ranges = []
    for g, gd in enumerate(descs):
        start = first + g * bpg
        blocks = min(bpg, n - start)
        if blocks <= 0 or lazy and getattr(gd, "bg_flags", 0) & BLOCK_UNINIT:
            continue  # all free but metadata: the free-block computation has them
        bitmap = (getattr(gd, "bg_block_bitmap_hi", 0) << 32) | gd.bg_block_bitmap_lo  # type: ignore[attr-defined]
        fs.fh.seek(bitmap * bs)
        raw = fs.fh.read((blocks + 7) // 8)
        used = int.from_bytes(raw, "little") & ((1 << blocks) - 1)
        referenced = int(bytes(mark[start : start + blocks])[::-1].hex()[1::2] or "0", 2)
        left = used & ~referenced
        if not left:
            continue
        bits = format(left, f"0{blocks}b")[::-1].encode()
        out += [
            ((start + m.start()) * bs, (m.end() - m.start()) * bs) for m in _UNREF.finditer(bits)
        ]
    return out


def blockmap_blocks(fs: ExtFS, node: INode) -> Ranges:
    """(block, 1) of every data and indirect block of a block-mapped inode, up to its size.
    An indirect block met twice is refused: sharing them would make the walk explode."""
    bs = fs.block_size
    per = bs // 4
    need = -(-node.size // bs)
    slots = struct.unpack("<15I", bytes(node.inode.i_block))
    out: Ranges = [(b, 1) for b in slots[: min(need, NDIR)] if b]
    left, seen = need - NDIR, set[int]()
    for level in (1, 2, 3):
        if left <= 0:
            break
        take = min(left, per**level)
        left -= take
        todo = [(slots[NDIR - 1 + level], level, take)]
        while todo:
            ptr, lvl, count = todo.pop()
            if not ptr:
                continue
            if ptr >= fs.block_count:
                raise CorruptContainer(f"ext: indirect block {ptr} of inode {node.inum} beyond")
            if ptr in seen:
                raise CorruptContainer(f"ext: indirect block {ptr} of inode {node.inum} reused")
            seen.add(ptr)
            out.append((ptr, 1))
            fs.fh.seek(ptr * bs)
            raw = fs.fh.read(bs)
            unit = per ** (lvl - 1)
            used = min(per, -(-count // unit), len(raw) // 4)
            entries = struct.unpack_from(f"<{used}I", raw)
            if lvl == 1:
                out += [(b, 1) for b in entries if b]
            else:
                todo += [(b, lvl - 1, min(unit, count - i * unit)) for i, b in enumerate(entries)]
    return out


def inode_blocks(fs: ExtFS, node: INode, runs: Runs | None, tree: set[int]) -> Ranges:
    """Every block an inode references: its data (`runs`, or its block map when None), its
    extent-tree blocks (`tree`) and its xattr block."""
    out: Ranges = [(b, 1) for b in tree]
    if runs is None:
        out += blockmap_blocks(fs, node)
    else:
        out += [(s, c) for s, c in runs if s is not None]
    acl = (node.inode.i_file_acl_high << 32) | node.inode.i_file_acl_lo
    if acl:
        out.append((acl, 1))
    return out


def special_inodes(fs: ExtFS) -> list[int]:
    """Inodes outside the tree that own blocks: bad blocks, quota files, the orphan file. The
    resize inode is not walked: its blocks are the reserved GDT blocks and their copies (group
    metadata) and its double-indirect block (`resize_block`), whose unused slots are slack."""
    fs.fh.seek(1024)
    raw = fs.fh.read(1024)
    nums = [1]
    for off in (0x240, 0x244, 0x26C, 0x280):  # usr, grp, prj quota, orphan file
        nums.append(struct.unpack_from("<I", raw, off)[0])
    return [i for i in nums if 0 < i <= fs.sb.s_inodes_count]


def mmp_and_resize_blocks(fs: ExtFS) -> Ranges:
    """The multi-mount-protection block and the resize inode's double-indirect block."""
    out: Ranges = []
    if fs.sb.s_feature_incompat & INCOMPAT_MMP:
        out.append((fs.sb.s_mmp_block, 1))
    if fs.sb.s_feature_compat & COMPAT_RESIZE_INODE:
        slots = bytes(fs.get_inode(RESIZE_INO).inode.i_block)
        out.append((struct.unpack_from("<I", slots, DIND_SLOT * 4)[0], 1))
    return out
