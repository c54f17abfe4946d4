"""Bytes a member's own blocks hold beyond its content: where data can hide in a used block.

A file's last block past its size, blocks mapped past its last block, and the pointer slots
of ext2/3 indirect blocks past the last block are read by nothing, yet kept by the filesystem.
`mke2fs -d` leaves them zero. The block map (ext2_fs.h: 12 direct pointers, then one single,
double and triple indirect block) is walked along its rightmost path only, so the cost is a
handful of reads per file whatever it claims; the walk that reads the content is dissect's.
Each inode's blocks are also collected here for ext_block_refs (used but unreferenced blocks).
"""

from __future__ import annotations

import stat
import struct
from collections.abc import Callable

from dissect.extfs.extfs import ExtFS, INode

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges
from netvet.firmware.formats.ext_block_refs import (
    inode_blocks,
    mmp_and_resize_blocks,
    special_inodes,
)
from netvet.firmware.formats.ext_dir_slack import dir_slack

Runs = list[tuple[int | None, int]]
ExtentRuns = Callable[[ExtFS, INode, set[int]], Runs]  # ext._extent_runs, tree blocks added
NDIR = 12
INLINE_SIZE, HAS_JOURNAL = 60, 0x4
EXTENTS_FL, VERITY_FL, INLINE_DATA_FL = 0x80000, 0x100000, 0x10000000


def own_slack(fs: ExtFS, node: INode, refs: Ranges, extent_runs: ExtentRuns) -> Ranges:
    """Bytes in a member's own blocks that its content does not use: a file's or symlink's
    last block past its size, blocks mapped past it, unused indirect slots, directory gaps.
    Every block the inode references goes to `refs`."""
    flags, kind = node.inode.i_flags, node.filetype
    runs = _refs(fs, node, refs, extent_runs)
    if runs is None or kind not in (stat.S_IFREG, stat.S_IFLNK, stat.S_IFDIR):
        return []
    tail = kind != stat.S_IFDIR
    if not tail and node.size > fs.block_count * fs.block_size:
        raise CorruptContainer(f"ext: directory inode {node.inum} claims {node.size} bytes")
    if flags & EXTENTS_FL:
        # fs-verity keeps its Merkle tree past the end: blocks there are the file's
        out = [] if flags & VERITY_FL else extent_slack(fs, node, runs, tail)
    else:
        out = blockmap_slack(fs, node, tail)
        runs = node.dataruns() if kind == stat.S_IFDIR else []
    return out + dir_slack(fs, node, runs) if kind == stat.S_IFDIR else out


def special_slack(fs: ExtFS, refs: Ranges, extent_runs: ExtentRuns) -> Ranges:
    """An ext3 journal's unused indirect slots (its blocks are slack already); the blocks of
    the journal and of the inodes outside the tree go to `refs`."""
    out: Ranges = []
    inum = fs.sb.s_journal_inum
    if fs.sb.s_feature_compat & HAS_JOURNAL and inum:
        node = fs.get_inode(inum)
        if not node.inode.i_flags & EXTENTS_FL:
            out = blockmap_slack(fs, node, False)
        _refs(fs, node, refs, extent_runs)
    for inum in special_inodes(fs):
        _refs(fs, fs.get_inode(inum), refs, extent_runs)
    refs += mmp_and_resize_blocks(fs)
    return out


def _refs(fs: ExtFS, node: INode, refs: Ranges, extent_runs: ExtentRuns) -> Runs | None:
    """Add the inode's blocks to `refs`; its extent runs ([] when block-mapped), or None when
    it has no blocks of its own (inline data, a fast symlink, a device)."""
    flags, kind = node.inode.i_flags, node.filetype
    tree: set[int] = set()
    fast_link = kind == stat.S_IFLNK and node.size < INLINE_SIZE and not flags & EXTENTS_FL
    if flags & INLINE_DATA_FL or fast_link or kind in (stat.S_IFCHR, stat.S_IFBLK):
        refs += inode_blocks(fs, node, [], tree)
        return None
    if flags & EXTENTS_FL:
        runs = extent_runs(fs, node, tree)
        refs += inode_blocks(fs, node, runs, tree)
        return runs
    refs += inode_blocks(fs, node, None, tree)
    return []


def extent_slack(fs: ExtFS, node: INode, runs: Runs, tail: bool) -> Ranges:
    """The last block's bytes past the size (`tail`) and blocks mapped past the last block."""
    bs = fs.block_size
    need, used = -(-node.size // bs), node.size % bs
    out: Ranges = []
    pos = 0
    for start, count in runs:
        if start is not None:
            if tail and used and pos <= need - 1 < pos + count:
                out.append(((start + need - 1 - pos) * bs + used, bs - used))
            lo = max(pos, need)
            if lo < pos + count:
                out.append(((start + lo - pos) * bs, (pos + count - lo) * bs))
        pos += count
    return out


def blockmap_slack(fs: ExtFS, node: INode, tail: bool) -> Ranges:
    """Slots of the indirect blocks past the last block, blocks that unused slots of the inode
    point at, and (with `tail`) the last block's bytes past the size."""
    bs = fs.block_size
    per = bs // 4
    need = -(-node.size // bs)
    slots = struct.unpack("<15I", bytes(node.inode.i_block))
    out: Ranges = []
    last: int | None = slots[need - 1] if 0 < need <= NDIR else None
    out += [_block(fs, b) for b in slots[need:NDIR] if b]
    left = need - NDIR
    for level in (1, 2, 3):
        ptr = slots[NDIR - 1 + level]
        if left <= 0:
            if ptr:  # an indirect block the file does not need: all of it is unread
                out.append(_block(fs, ptr))
            continue
        take = min(left, per**level)
        left -= take
        last = _rightmost(fs, ptr, level, take, out) if ptr else None
    if tail and last and node.size % bs:
        used = node.size % bs
        out.append((last * bs + used, bs - used))
    return out


def _rightmost(fs: ExtFS, ptr: int, level: int, take: int, out: Ranges) -> int | None:
    """Walk down the last used slot of each indirect block, recording the unused slots."""
    bs = fs.block_size
    per = bs // 4
    while True:
        _block(fs, ptr)  # bounds check
        unit = per ** (level - 1)
        used = -(-take // unit)
        if used < per:
            out.append((ptr * bs + used * 4, (per - used) * 4))
        fs.fh.seek(ptr * bs + (used - 1) * 4)
        raw = fs.fh.read(4)
        if len(raw) < 4:
            raise CorruptContainer(f"ext: indirect block {ptr} beyond the image")
        child = struct.unpack("<I", raw)[0]
        if level == 1 or not child:
            return child or None
        take -= (used - 1) * unit
        ptr, level = child, level - 1


def _block(fs: ExtFS, block: int) -> tuple[int, int]:
    if block >= fs.block_count:
        raise CorruptContainer(f"ext: block pointer {block} beyond the filesystem")
    return block * fs.block_size, fs.block_size
