"""Bytes of an ext2/3/4 image's superblock and descriptor copies that hold nothing.

Groups with a superblock copy (all, or the sparse_super ones: 1 and powers of 3, 5 and 7)
also hold a copy of the group descriptors and the reserved GDT blocks kept for online resize
(resize_inode). No member or header field reads the copies, so these parts are slack: each
superblock's s_reserved words and, with blocks above 1 KiB, a copy's block past its 1024
bytes; descriptor slots past the last group; the reserved GDT blocks' copies (zero until a
resize fills them) and, in the primary ones, the slots past the list of their backups; the
resize inode's double-indirect block but for its pointers to the primary reserved blocks.
`mke2fs` leaves all of these zero (e2fsprogs lib/ext2fs/res_gdt.c, closefs.c). The copies'
own fields (a backup superblock's counts, a descriptor copy's checksums) differ per build and
are left alone.
"""

from __future__ import annotations

import struct

from dissect.extfs.extfs import ExtFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges

INCOMPAT_META_BG, COMPAT_RESIZE_INODE = 0x10, 0x10
SB_SIZE, SB_RESERVED, SB_CHECKSUM = 1024, 0x284, 0x3FC  # s_reserved[94], then s_checksum
RESIZE_INO, DIND_SLOT = 7, 13


def group_slack(fs: ExtFS, backups: list[int]) -> Ranges:
    """Slack of the primary superblock and of every group holding a copy (`backups`: the
    groups past 0 that do)."""
    sb, bs = fs.sb, fs.block_size
    first, bpg = sb.s_first_data_block, sb.s_blocks_per_group
    out: Ranges = [(SB_SIZE + SB_RESERVED, SB_CHECKSUM - SB_RESERVED)]
    meta_bg = bool(sb.s_feature_incompat & INCOMPAT_META_BG)
    desc_size = fs._group_desc_size
    gdt = -(-fs.groups_count // (bs // desc_size))
    rsv = sb.s_reserved_gdt_blocks if sb.s_feature_compat & COMPAT_RESIZE_INODE else 0
    if rsv > bs // 4:  # mke2fs caps it at the pointers of one block
        raise CorruptContainer(f"ext: {rsv} reserved GDT blocks")
    unused_desc = gdt * bs - fs.groups_count * desc_size
    for g in (0, *backups):
        start = first + g * bpg
        if g:
            out.append((start * bs + SB_RESERVED, SB_CHECKSUM - SB_RESERVED))
            if bs > SB_SIZE:
                out.append((start * bs + SB_SIZE, bs - SB_SIZE))
        if meta_bg:
            continue
        out.append(((start + 1) * bs + fs.groups_count * desc_size, unused_desc))
        if g:
            out.append(((start + 1 + gdt) * bs, rsv * bs))
    if rsv and not meta_bg:
        listed = min(len(backups), bs // 4) * 4
        for k in range(rsv):
            out.append(((first + 1 + gdt + k) * bs + listed, bs - listed))
        out += _resize_dind(fs, gdt, rsv)
    end = fs.block_count * bs
    if any(a + n > end for a, n in out):
        raise CorruptContainer("ext: superblock copies beyond the filesystem")
    return out


def _resize_dind(fs: ExtFS, gdt: int, rsv: int) -> Ranges:
    """The resize inode's double-indirect block: slot (gdt + k) % per points at the k-th
    primary reserved GDT block (res_gdt.c); every other slot is unused."""
    bs = fs.block_size
    per = bs // 4
    node = fs.get_inode(RESIZE_INO)
    dind = struct.unpack_from("<I", bytes(node.inode.i_block), DIND_SLOT * 4)[0]
    if not dind:
        return []
    if dind >= fs.block_count:
        raise CorruptContainer(f"ext: resize inode block {dind} beyond the filesystem")
    used = sorted({(gdt + k) % per for k in range(rsv)})
    out: Ranges = []
    prev = 0
    for slot in [*used, per]:
        if slot > prev:
            out.append((dind * bs + prev * 4, (slot - prev) * 4))
        prev = slot + 1
    return out
