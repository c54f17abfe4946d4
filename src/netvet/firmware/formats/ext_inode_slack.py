"""Inode-table and bitmap bytes of an ext2/3/4 image that hold nothing: where data can hide.

No member reads an inode whose bit is clear in the inode bitmap, nor the bytes of a used inode
past its in-inode xattrs or the part of its i_block it does not use (past a fast symlink's
target or a device number), nor a bitmap block's bytes past the group's last bit, yet all of
them survive a mount. `mke2fs -d` leaves unused inodes and in-inode free space zero and pads
bitmap blocks with 0xff, the same in every build, so they are returned as slack (equal on both
sides or zero on both). Groups flagged INODE_UNINIT (uninit_bg, metadata_csum) have no inode
bitmap on disk: all their inodes are unused and the bitmap block itself holds nothing; likewise
the block bitmap of a BLOCK_UNINIT group. Layout: e2fsprogs lib/ext2fs/ext2_fs.h, kernel
fs/ext4/xattr.h (in-inode xattrs: magic, entries, then values addressed from the first entry).
"""

from __future__ import annotations

import re
import stat
import struct

from dissect.extfs.extfs import ExtFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges

INODE_UNINIT, BLOCK_UNINIT = 0x1, 0x2
RO_UNINIT_BG, RO_BIGALLOC, RO_CSUM = 0x10, 0x200, 0x400
XATTR_MAGIC = 0xEA020000
EXTENTS_FL, INLINE_DATA_FL = 0x80000, 0x10000000
I_BLOCK, I_BLOCK_SIZE = 0x28, 60
GOOD_OLD_INODE = 128
_CLEAR = re.compile(rb"0+")
_NOT_PAD = re.compile(rb"[^\xff]+")


def inode_slack(fs: ExtFS, descs: list[object]) -> Ranges:
    """Unused inodes, free in-inode xattr space of used ones, and bitmap bytes past the
    group's bits (or whole bitmaps of uninitialised groups), group by group."""
    sb, bs = fs.sb, fs.block_size
    ipg, isz, bpg = sb.s_inodes_per_group, sb.s_inode_size, sb.s_blocks_per_group
    if isz < GOOD_OLD_INODE or isz > bs or isz & (isz - 1):
        raise CorruptContainer(f"ext: implausible inode size {isz}")
    lazy = bool(sb.s_feature_ro_compat & (RO_UNINIT_BG | RO_CSUM))
    end = fs.block_count * bs
    if len(descs) * ipg * isz > end:  # tables that overlap: each would be read again
        raise CorruptContainer(f"ext: {len(descs)} inode tables of {ipg} do not fit the image")
    shift = 0
    if sb.s_feature_ro_compat & RO_BIGALLOC:  # the block bitmap counts clusters
        shift = max(0, sb.s_log_cluster_size - sb.s_log_block_size)
    out: Ranges = []
    for g, gd in enumerate(descs):
        blocks = min(bpg, fs.block_count - sb.s_first_data_block - g * bpg)  # the last is short
        flags = getattr(gd, "bg_flags", 0) if lazy else 0
        ibitmap, table = _loc(gd, "inode_bitmap") * bs, _loc(gd, "inode_table") * bs
        bbitmap = _loc(gd, "block_bitmap") * bs
        if table + ipg * isz > end or ibitmap + bs > end or bbitmap + bs > end:
            raise CorruptContainer("ext: inode table or bitmap beyond the filesystem")
        out += (
            [(bbitmap, bs)]
            if flags & BLOCK_UNINIT
            else _pad(fs, bbitmap, (blocks + (1 << shift) - 1) >> shift)
        )
        if flags & INODE_UNINIT:
            out += [(ibitmap, bs), (table, ipg * isz)]
            continue
        out += _pad(fs, ibitmap, ipg)
        fs.fh.seek(ibitmap)
        bitmap = fs.fh.read((ipg + 7) // 8)
        bits = format(int.from_bytes(bitmap, "little"), f"0{len(bitmap) * 8}b")[::-1][:ipg]
        for m in _CLEAR.finditer(bits.encode()):
            out.append((table + m.start() * isz, (m.end() - m.start()) * isz))
        fs.fh.seek(table)
        raw = fs.fh.read(ipg * isz)
        for i in (m.start() for m in re.finditer(b"1", bits.encode())):
            inode = raw[i * isz : (i + 1) * isz]
            out += _i_block_free(inode, table + i * isz)
            if isz > GOOD_OLD_INODE:
                out += _in_inode_free(inode, table + i * isz)
    return out


def _i_block_free(raw: bytes, base: int) -> Ranges:
    """The part of i_block (60 bytes at 0x28) a used inode does not use: past a fast
    symlink's target, past a device number, all of it for a fifo or socket."""
    mode, flags = struct.unpack_from("<H", raw)[0], struct.unpack_from("<I", raw, 0x20)[0]
    kind, size = stat.S_IFMT(mode), struct.unpack_from("<I", raw, 4)[0]
    used = I_BLOCK_SIZE
    if flags & (INLINE_DATA_FL | EXTENTS_FL):
        # e2fsck -D leaves stale extents past eh_entries when it shrinks a directory: honest
        # bytes that differ with the allocation, so unused extent slots are not slack
        return []
    if kind == stat.S_IFLNK and size < I_BLOCK_SIZE:
        used = size
    elif kind in (stat.S_IFCHR, stat.S_IFBLK):
        used = 8  # the old and the new encoding of the device number
    elif kind in (stat.S_IFIFO, stat.S_IFSOCK):
        used = 0
    return [(base + I_BLOCK + used, I_BLOCK_SIZE - used)] if used < I_BLOCK_SIZE else []


def _loc(gd: object, name: str) -> int:
    return (getattr(gd, f"bg_{name}_hi", 0) << 32) | getattr(gd, f"bg_{name}_lo")


def _pad(fs: ExtFS, offset: int, bits: int) -> Ranges:
    """A bitmap block's bytes past the byte holding its last bit that are not 0xff, the
    padding e2fsprogs and the kernel (ext4_mark_bitmap_end) write: the 0xff runs are left out
    so that bitmaps at other places (another layout) still compare as fill."""
    used = (bits + 7) // 8
    fs.fh.seek(offset + used)
    pad = fs.fh.read(fs.block_size - used)
    return [(offset + used + m.start(), m.end() - m.start()) for m in _NOT_PAD.finditer(pad)]


def _in_inode_free(raw: bytes, base: int) -> Ranges:
    """The bytes of one used inode past i_extra_isize that no in-inode xattr entry or value
    occupies (all of them without the xattr magic)."""
    extra = struct.unpack_from("<H", raw, GOOD_OLD_INODE)[0]
    start = GOOD_OLD_INODE + extra
    if extra % 4 or start > len(raw):  # the kernel refuses such an inode
        raise CorruptContainer(f"ext: inode at {base:#x} has i_extra_isize {extra}")
    area = raw[start:]
    if len(area) < 4 or struct.unpack_from("<I", area)[0] != XATTR_MAGIC:
        return [(base + start, len(area))] if area else []
    used = bytearray(len(area))
    used[:4] = b"\1\1\1\1"
    off = 4
    while off + 4 <= len(area):
        if area[off : off + 4] == b"\0\0\0\0":
            used[off : off + 4] = b"\1\1\1\1"  # the list's terminator
            break
        if off + 16 > len(area):
            raise CorruptContainer("ext: in-inode xattr entry runs past the inode")
        nlen, _index, voffs, vinum, vsize = struct.unpack_from("<BBHII", area, off)
        step = (16 + nlen + 3) & ~3
        used[off : off + step] = b"\1" * min(step, len(area) - off)
        if not vinum and vsize:
            lo, hi = 4 + voffs, 4 + voffs + ((vsize + 3) & ~3)
            if hi > len(area):
                raise CorruptContainer("ext: in-inode xattr value runs past the inode")
            used[lo:hi] = b"\1" * (hi - lo)
        off += step
    return [(base + start + m.start(), m.end() - m.start()) for m in re.finditer(rb"\0+", used)]
