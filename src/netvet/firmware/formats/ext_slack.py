"""The bytes of an ext2/3/4 image that no member or header accounts for: where data can hide.

Members cover what the directory tree reaches. Unallocated blocks (clear in the block bitmaps),
the journal's blocks and the boot area before the superblock are not reached by any path, yet a
tool can write anything there and the image still mounts: they are returned as slack, which the
comparison requires to be equal on both sides or fill (zeros) on both. Two honest `mke2fs -d`
builds of one tree leave all of it zero, except the journal superblock's UUID, which is
returned as a field instead.

Groups flagged BLOCK_UNINIT (uninit_bg, metadata_csum) have no bitmap on disk: every block of
theirs is free but for the superblock and descriptor copies they hold and any group's bitmaps
or inode table that flex_bg placed there (the kernel's ext4_init_block_bitmap, mke2fs). Layout:
e2fsprogs lib/ext2fs/ext2_fs.h, alloc_sb.c (ext2fs_super_and_bgd_loc2), kernel jbd2.h.
"""

from __future__ import annotations

import bisect
import re
import struct

from dissect.extfs.extfs import ExtFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges, merge
from netvet.firmware.formats.ext_block_refs import unreferenced
from netvet.firmware.formats.ext_group_slack import group_slack
from netvet.firmware.formats.ext_inode_slack import inode_slack
from netvet.firmware.model import Field, Rule

BLOCK_UNINIT = 0x0002
RO_SPARSE_SUPER, RO_UNINIT_BG, RO_BIGALLOC, RO_CSUM = 0x1, 0x10, 0x200, 0x400
COMPAT_HAS_JOURNAL, COMPAT_SPARSE_SUPER2 = 0x4, 0x200
INCOMPAT_META_BG = 0x10
JBD2_MAGIC = 0xC03B3998
# jbd2 superblock bytes that are neither a field below nor its UUID/checksum: padding, s_users
_JSB_SPARE = ((0x51, 0x54), (0x5C, 0xFC), (0x100, None))
_JSB_NAMES = [
    "header_seq",
    "blocksize",
    "maxlen",
    "first",
    "sequence",
    "start",
    "compat",
    "incompat",
    "ro_compat",
    "nr_users",
    "dynsuper",
    "max_transaction",
    "max_trans_data",
    "csum_type",
    "fc_blocks",
    "head",
]
_FREE = re.compile(rb"0+")


def unaccounted(
    fs: ExtFS, journal_runs: list[tuple[int | None, int]], tails: Ranges, refs: Ranges
) -> Ranges:
    """Byte ranges of the image (sorted, merged) that belong to no member or header field;
    `tails` are the members' own (ext_member_slack, ext_dir_slack), `refs` the (block, count)
    every inode references; the inode tables', the superblock copies' and the used but
    unreferenced blocks are added here."""
    bs = fs.block_size
    out: Ranges = [(0, 1024), *tails]  # boot area before the superblock
    if bs > 2048:  # block 0 holds the superblock at 1024..2048; the rest of it is unused
        out.append((2048, bs - 2048))
    descs = [fs._read_group_desc(g) for g in range(fs.groups_count)]
    out += [(b * bs, n * bs) for b, n in _free_blocks(fs, descs)]
    out += inode_slack(fs, descs)
    backups = [g for g in range(1, fs.groups_count) if _has_super(fs, g)]
    out += group_slack(fs, backups)
    base, bpg = fs.sb.s_first_data_block, fs.sb.s_blocks_per_group
    # every group: meta_bg puts descriptor blocks in groups without a superblock copy too
    heads = [(base + g * bpg, _super_and_gdt(fs, g)) for g in range(fs.groups_count)]
    meta = [(a, b - a) for a, b in _metadata(fs, descs)]
    out += unreferenced(fs, descs, refs + heads + meta)
    first = True
    for start, count in journal_runs:
        if start is None:
            continue
        if first:  # the journal superblock: its spare bytes only
            base = start * bs
            out += [(base + a, (b or bs) - a) for a, b in _JSB_SPARE]
            start, count, first = start + 1, count - 1, False
        if count > 0:
            out.append((start * bs, count * bs))
    return merge(out)


def journal_fields(fs: ExtFS, journal_runs: list[tuple[int | None, int]]) -> tuple[Field, ...]:
    """The jbd2 superblock as fields: its UUID differs per build, the rest follows the layout.

    A journal or none is layout (ext2 vs ext4), so an absent journal gives the same fields with
    the value `none`; a header that is not a clean jbd2 superblock (magic, type, errno) is
    STRICT, since the bytes then hold something else.
    """

    if not journal_runs or journal_runs[0][0] is None:
        return (
            Field("journal.header", "none", Rule.LAYOUT),
            Field("journal.layout", "none", Rule.LAYOUT),
            Field("journal.uuid", "none", Rule.RANDOM_ID),
            Field("journal.checksum", "none", Rule.DERIVED),
        )
    fs.fh.seek(journal_runs[0][0] * fs.block_size)
    raw = fs.fh.read(0x100)
    if len(raw) < 0x100:
        raise CorruptContainer("ext: journal superblock beyond the image")
    magic, btype, errno = *struct.unpack_from(">II", raw), struct.unpack_from(">i", raw, 0x20)[0]
    nums = struct.unpack_from(">6I", raw, 0x8) + struct.unpack_from(">3I", raw, 0x24)
    nums += struct.unpack_from(">4I", raw, 0x40) + (raw[0x50],)
    nums += struct.unpack_from(">II", raw, 0x54)
    clean = magic == JBD2_MAGIC and btype in (3, 4) and errno == 0
    header = f"magic={magic:#x} type={btype} errno={errno}"
    layout = " ".join(f"{k}={v}" for k, v in zip(_JSB_NAMES, nums, strict=True))
    return (
        Field("journal.header", "jbd2" if clean else header, Rule.LAYOUT if clean else Rule.STRICT),
        Field("journal.layout", layout, Rule.LAYOUT),
        Field("journal.uuid", raw[0x30:0x40].hex(), Rule.RANDOM_ID),
        Field("journal.checksum", raw[0xFC:0x100].hex(), Rule.DERIVED),
    )


def _free_blocks(fs: ExtFS, descs: list[object]) -> Ranges:
    """(first block, count) of every unallocated block, group by group."""
    sb = fs.sb
    bs, bpg, first = fs.block_size, sb.s_blocks_per_group, sb.s_first_data_block
    unit = 1
    if sb.s_feature_ro_compat & RO_BIGALLOC:
        unit = 1 << max(0, sb.s_log_cluster_size - sb.s_log_block_size)
    if bpg < 8 or bpg > 8 * bs * unit or bpg % unit:
        raise CorruptContainer(f"ext: implausible {bpg} blocks per group")
    if not 0 < sb.s_inodes_per_group <= 8 * bs:  # one inode bitmap block per group
        raise CorruptContainer(f"ext: implausible {sb.s_inodes_per_group} inodes per group")
    lazy = bool(sb.s_feature_ro_compat & (RO_UNINIT_BG | RO_CSUM))
    meta = _metadata(fs, descs)
    out: Ranges = []
    for g, gd in enumerate(descs):
        start = first + g * bpg
        blocks = min(bpg, fs.block_count - start)
        flags = getattr(gd, "bg_flags", 0)
        if lazy and flags & BLOCK_UNINIT:
            out += _uninit_free(fs, g, start, blocks, meta)
            continue
        fs.fh.seek(_bitmap_block(gd) * bs)
        bitmap = fs.fh.read((blocks // unit + 7) // 8)
        bits = format(int.from_bytes(bitmap, "little"), f"0{len(bitmap) * 8}b")[::-1]
        for m in _FREE.finditer(bits.encode()):
            a, b = m.start() * unit, min(m.end() * unit, blocks)
            if a < b:
                out.append((start + a, b - a))
    return out


def _bitmap_block(gd: object) -> int:
    return (getattr(gd, "bg_block_bitmap_hi", 0) << 32) | gd.bg_block_bitmap_lo  # type: ignore[attr-defined]


def _metadata(fs: ExtFS, descs: list[object]) -> list[tuple[int, int]]:
    """Every group's block bitmap, inode bitmap and inode table as (first block, end), sorted,
    so a group's share is found by bisection (thousands of groups in a big image)."""
    sb = fs.sb
    table = (sb.s_inodes_per_group * sb.s_inode_size + fs.block_size - 1) // fs.block_size
    out = []
    for gd in descs:
        hi = getattr(gd, "bg_inode_bitmap_hi", 0), getattr(gd, "bg_inode_table_hi", 0)
        inode_bitmap = (hi[0] << 32) | gd.bg_inode_bitmap_lo  # type: ignore[attr-defined]
        inode_table = (hi[1] << 32) | gd.bg_inode_table_lo  # type: ignore[attr-defined]
        out.append((_bitmap_block(gd), _bitmap_block(gd) + 1))
        out.append((inode_bitmap, inode_bitmap + 1))
        out.append((inode_table, inode_table + table))
    return sorted(out)


def _uninit_free(fs: ExtFS, g: int, start: int, blocks: int, meta: list[tuple[int, int]]) -> Ranges:
    """Free blocks of a BLOCK_UNINIT group: all but its superblock/descriptor copies and any
    group's bitmaps or inode table lying inside it."""
    used = bytearray(blocks)
    head = min(_super_and_gdt(fs, g), blocks)
    used[:head] = b"\1" * head
    longest = (fs.sb.s_inodes_per_group * fs.sb.s_inode_size) // fs.block_size + 1
    i = bisect.bisect_left(meta, (start - longest, 0))
    while i < len(meta) and meta[i][0] < start + blocks:
        lo, hi = max(meta[i][0], start), min(meta[i][1], start + blocks)
        if lo < hi:
            used[lo - start : hi - start] = b"\1" * (hi - lo)
        i += 1
    return [(start + m.start(), m.end() - m.start()) for m in re.finditer(rb"\0+", used)]


def _super_and_gdt(fs: ExtFS, g: int) -> int:
    """Blocks at the start of group `g` holding a superblock and descriptor copy."""
    sb = fs.sb
    has_super = _has_super(fs, g)
    desc_size = fs._group_desc_size
    per_block = max(1, fs.block_size // desc_size)
    if sb.s_feature_incompat & INCOMPAT_META_BG:
        n = has_super * (1 + sb.s_first_meta_bg + sb.s_reserved_gdt_blocks)
        if g >= sb.s_first_meta_bg * per_block and g % per_block in (0, 1, per_block - 1):
            n = max(n, int(has_super) + 1)
        return n
    gdt = (fs.groups_count + per_block - 1) // per_block
    return has_super * (1 + gdt + sb.s_reserved_gdt_blocks)


def _has_super(fs: ExtFS, g: int) -> int:
    sb = fs.sb
    if g == 0:
        return 1
    if sb.s_feature_compat & COMPAT_SPARSE_SUPER2:
        return int(g in tuple(sb.s_backup_bgs))
    if g == 1 or not sb.s_feature_ro_compat & RO_SPARSE_SUPER:
        return 1
    for base in (3, 5, 7):
        n = base
        while n < g:
            n *= base
        if n == g:
            return 1
    return 0
