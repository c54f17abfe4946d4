"""Bytes of ext2/3/4 directory blocks that no entry occupies: where data can hide.

An entry's rec_len may run past its name, and a deleted entry (inode 0) keeps its whole
record: nothing lists those bytes, yet they stay on disk. `mke2fs -d` and `e2fsck -D` leave
them zero. What is not slack: each live entry's header and name, the metadata_csum tail entry
(inode 0, rec_len 12, type 0xde, checksum), and in a hashed (dir_index) directory the dx_root
and dx_node headers and their used hash entries; their unused hash slots are slack. Layout:
kernel fs/ext4/namei.c (dx_root, dx_node, dx_countlimit, dx_tail), ext2_fs.h.
"""

from __future__ import annotations

import struct

from dissect.extfs.extfs import ExtFS, INode

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges

Runs = list[tuple[int | None, int]]

INDEX_FL, COMPAT_DIR_INDEX, RO_CSUM = 0x1000, 0x20, 0x400
TAIL_SIZE, TAIL_TYPE = 12, 0xDE
DX_ROOT_LIMIT = 0x20  # dx_countlimit after '.', '..' and dx_root_info
MAX_LEVELS = 3  # largedir allows three levels below the root


def dir_slack(fs: ExtFS, node: INode, runs: Runs) -> Ranges:
    """Gaps of every block of a (non-inline) directory mapped by `runs`."""
    bs = fs.block_size
    blocks: list[int | None] = []
    for start, count in runs:
        if len(blocks) + count > fs.block_count:
            raise CorruptContainer(f"ext: directory inode {node.inum} maps too many blocks")
        blocks += [None] * count if start is None else range(start, start + count)
    del blocks[-(-node.size // bs) :]
    csum = bool(fs.sb.s_feature_ro_compat & RO_CSUM)
    end = bs - (4 if csum else 0)  # dx_tail's checksum; its reserved word is slack
    out: Ranges = []
    dx = _dx_nodes(fs, node, blocks, end) if blocks and blocks[0] is not None else {}
    for i, block in enumerate(blocks):
        if block is None:
            continue
        fs.fh.seek(block * bs)
        raw = fs.fh.read(bs)
        if len(raw) < bs:
            raise CorruptContainer(f"ext: directory block {block} beyond the image")
        base = block * bs
        if i in dx:
            out += [(base + a, n) for a, n in dx[i]]
        else:
            out += [(base + a, n) for a, n in _leaf_gaps(raw, csum, node.inum)]
    return out


def _leaf_gaps(raw: bytes, csum: bool, inum: int) -> Ranges:
    out: Ranges = []
    off, size = 0, len(raw)
    while off + 8 <= size:
        ino, rec_len, name_len, ftype = struct.unpack_from("<IHBB", raw, off)
        if csum and off == size - TAIL_SIZE and not ino and rec_len == TAIL_SIZE:
            if name_len or ftype != TAIL_TYPE:
                out.append((off + 6, 2))  # a tail that is not one: its header can carry data
            break
        if rec_len < 8 or off + rec_len > size or ino and 8 + name_len > rec_len:
            raise CorruptContainer(f"ext: bad directory entry in inode {inum}")
        used = 8 + name_len if ino else 8
        out.append((off + used, rec_len - used))
        off += rec_len
    if off < size and not (csum and off == size - TAIL_SIZE):
        out.append((off, size - off))
    return out


def _dx_nodes(fs: ExtFS, node: INode, blocks: list[int | None], end: int) -> dict[int, Ranges]:
    """The gaps of a hashed directory's index blocks by logical block (empty when the
    directory is not hashed), following the tree from the dx_root in block 0."""
    if not node.inode.i_flags & INDEX_FL or not fs.sb.s_feature_compat & COMPAT_DIR_INDEX:
        return {}
    bs = fs.block_size
    fs.fh.seek(blocks[0] * bs)
    root = fs.fh.read(bs)
    if len(root) < bs:
        return {}
    info_len, levels = root[0x1D], root[0x1E]
    if info_len != 8 or levels >= MAX_LEVELS:
        return {}  # not a dx_root the kernel would follow: read as a linear block
    out: dict[int, Ranges] = {0: [(9, 3), (0x16, 2), (0x18, 4), (0x1F, 1)]}
    todo = [(0, root, DX_ROOT_LIMIT, levels)]
    while todo:
        index, raw, at, depth = todo.pop()
        limit, count = struct.unpack_from("<HH", raw, at)
        if not 0 < count <= limit or at + limit * 8 > end:
            raise CorruptContainer(f"ext: bad hash index in directory inode {node.inum}")
        out.setdefault(index, []).append((at + count * 8, end - at - count * 8))
        if not depth:
            continue
        for k in range(count):
            child = struct.unpack_from("<I", raw, at + 4 + 8 * k)[0] & 0x0FFFFFFF
            if child in out or child >= len(blocks) or blocks[child] is None:
                raise CorruptContainer(f"ext: hash index of inode {node.inum} loops")
            fs.fh.seek(blocks[child] * bs)
            craw = fs.fh.read(bs)
            out[child] = []
            todo.append((child, craw, 8, depth - 1))
    return out
