"""The bytes of a CramFS image that no member shows: where data can hide.

mkcramfs (util-linux, and linux/Documentation/filesystems/cramfs.rst "Notes on Filesystem
Layout") writes the superblock with the root inode (76 bytes), every directory's inodes and
names (names NUL-padded to 4 bytes) one directory after the other, then for each regular file
and symlink of non-zero size its block pointer table and its blocks, each file padded to 4
bytes, and finally zeros up to the image size in the superblock (a multiple of 4 KiB). A block
pointer gives its block's end; the first block starts after the table, a hole is a block that
ends where it starts. Identical files share one data region (mkcramfs eliminates doubles).

Everything is accounted here from what the listing reads anyway (inodes, one pointer table per
file): the regions are sorted, overlapping ones are a corrupt image, and the gaps between them
are returned as slack (compared by the caller: equal or zero on both sides) and named in notes
when not zero. Bytes after a block's zlib stream end are refused when the block is read
(cramfs.py). What the superblock leaves unused (`future`, the name's bytes after its NUL,
unknown flag bits) and non-zero offsets of inodes that have no data are noted too.
"""

from __future__ import annotations

import stat
import struct
from typing import TYPE_CHECKING

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges

if TYPE_CHECKING:
    from netvet.firmware.formats.cramfs import _Image, _Inode

SUPER_END = 76  # the superblock with the root inode
BLOCK = 4096
KNOWN_FLAGS = 0x1 | 0x2 | 0x100 | 0x200 | 0x400 | 0x800
EXT_BLOCK_POINTERS = 0x800
UNCOMPRESSED, DIRECT = 1 << 31, 1 << 30
MAX_GAP_READ = 1 << 20  # larger gaps are left to the streamed slack comparison


def account(img: _Image) -> tuple[Ranges, list[str]]:
    """(slack ranges, notes) of the image: the gaps between the regions members use."""
    notes = _superblock(img)
    regions: list[tuple[int, int, str]] = [(0, SUPER_END, "the superblock")]
    shared: dict[int, tuple[int, str]] = {}  # data offset -> (size, first path)
    stack: list[tuple[str, _Inode]] = [("", img.root)]
    while stack:
        path, node = stack.pop()
        where = f"/{path}" if path else "/"
        if node.size:
            regions.append((node.offset, node.offset + node.size, f"the entries of {where}"))
        for name, child in img.children(node):
            sub = f"{path}/{name.decode('utf-8', 'surrogateescape')}".lstrip("/")
            if b"\0" in name:
                notes.append(f"name of /{sub} holds bytes after its NUL")
            if stat.S_ISDIR(child.mode):
                stack.append((sub, child))
            elif stat.S_ISREG(child.mode) or stat.S_ISLNK(child.mode):
                _data(img, child, f"/{sub}", regions, shared, notes)
            elif child.offset:
                notes.append(f"/{sub} has no data but an offset of {child.offset:#x}")
    return _gaps(img, regions, notes), notes


def _superblock(img: _Image) -> list[str]:
    head = img.read(0, SUPER_END)
    notes = []
    if struct.unpack_from(img.e + "I", head, 12)[0]:
        notes.append("superblock field 'future' is not zero")
    name = head[48:64]
    if b"\0" in name and name[name.index(b"\0") :].count(0) != len(name) - name.index(b"\0"):
        notes.append("superblock name holds bytes after its NUL")
    if img.flags & ~KNOWN_FLAGS:
        notes.append(f"superblock flags {img.flags & ~KNOWN_FLAGS:#x} are unknown")
    if img.root.name:
        notes.append("the root inode has a name")
    return notes


def _data(
    img: _Image,
    node: _Inode,
    path: str,
    regions: list[tuple[int, int, str]],
    shared: dict[int, tuple[int, str]],
    notes: list[str],
) -> None:
    """The region of one file's or symlink's pointer table and blocks."""
    if not node.size:
        if node.offset:
            notes.append(f"{path} is empty but has an offset of {node.offset:#x}")
        return
    if node.offset in shared:  # a double mkcramfs eliminated, or a hard link
        if shared[node.offset][0] != node.size:
            raise CorruptContainer(
                f"cramfs: {path} and {shared[node.offset][1]} share data but not their size"
            )
        return
    shared[node.offset] = (node.size, path)
    count = (node.size + BLOCK - 1) // BLOCK
    start = node.offset + 4 * count
    ends = struct.unpack(f"{img.e}{count}I", img.read(node.offset, 4 * count))
    ext = img.flags & EXT_BLOCK_POINTERS
    for pointer in ends:
        if ext and pointer & DIRECT:
            raise CorruptContainer(f"cramfs: {path}: direct block pointers are not supported")
        end = pointer & ~UNCOMPRESSED if ext else pointer
        if not start <= end <= img.length:
            raise CorruptContainer(f"cramfs: {path}: block pointer {pointer:#x} out of order")
        start = end
    regions.append((node.offset, start, f"the data of {path}"))


def _gaps(img: _Image, regions: list[tuple[int, int, str]], notes: list[str]) -> Ranges:
    regions.sort()
    out: Ranges = []
    at, before = 0, "the superblock"
    for start, end, what in regions:
        if start < at:
            raise CorruptContainer(f"cramfs: {what} overlaps {before} at {start:#x}")
        if start > at:
            _gap(img, at, start, f"between {before} and {what}", out, notes)
        at, before = end, what
    if at > img.length:
        raise CorruptContainer(f"cramfs: {before} runs past the image size")
    _gap(img, at, img.length, f"after {before}", out, notes)
    return out


def _gap(img: _Image, start: int, end: int, where: str, out: Ranges, notes: list[str]) -> None:
    if end <= start:
        return
    out.append((start, end - start))
    if end - start <= MAX_GAP_READ:
        data = img.read(start, end - start)
        if data.count(0) != len(data):
            first = start + len(data) - len(data.lstrip(b"\0"))
            notes.append(f"{end - start} bytes {where} at {start:#x} not zero (first {first:#x})")
