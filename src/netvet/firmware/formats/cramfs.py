"""CramFS images of either byte order, read by a small parser of our own.

dissect.cramfs reads little-endian images only: its magic check and its cstruct bitfields assume
the little-endian inode layout, while a big-endian image (mkcramfs -N big, as on MIPS and
PowerPC boards) packs every 32-bit inode word with its fields in the opposite bit order, which
no byte-swapped view can express. It also inflates blocks without an output bound. CramFS is
small (linux/cramfs_fs.h: a 64-byte superblock head, 12-byte inodes, block pointer tables,
zlib blocks of at most 4 KiB), so this module reads both orders with one code path: the three
inode words are unpacked in the image's order and split per `_FIELDS`.

CramFS has no timestamps, xattrs or hard links (mkcramfs stores each link as its own inode); the
image's byte order is layout. Blocks are decoded one at a time when read, each bounded to 4 KiB;
a block must decode to exactly the bytes of the file it covers (extra output would be bytes no
one reads) and a zlib stream must end exactly where its block does. cramfs_slack accounts every
other byte of the image (tests/fixtures/slack/CRAMFS.md).
"""

from __future__ import annotations

import stat
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import ExtentStream, parser_errors, root_fields
from netvet.firmware.formats._members import list_inodes
from netvet.firmware.formats._notes import unaccounted
from netvet.firmware.formats.cramfs_slack import (
    BLOCK,
    DIRECT,
    EXT_BLOCK_POINTERS,
    UNCOMPRESSED,
    account,
)
from netvet.firmware.model import Field, Listing, Meta, Rule

MAGIC_LE = b"\x45\x3d\xcd\x28"
MAGIC_BE = b"\x28\xcd\x3d\x45"
SIGNATURE = b"Compressed ROMFS"
SUPER = struct.Struct("4xIII16sIIII16s")  # after the magic: size .. name; the root inode follows
ROOT_AT = 64
# BLOCK and the block pointer flags (linux cramfs_fs.h) come from cramfs_slack, which cannot
# import this module
MAX_STORED = 2 * BLOCK  # deflate never needs twice the input to store one block
FSID_VERSION_2 = 0x1  # fsid.crc holds the image's CRC-32, taken with the field zeroed
CRC_AT = 32
MAX_LINK = 4096  # the kernel reads a symlink target as one page
# (shift, width) of mode, uid, size, gid, namelen, offset in the three inode words: C bitfields
# are allocated from the low bit on little-endian hosts and from the high bit on big-endian ones.
_FIELDS = {
    "<": ((0, 16), (16, 16), (0, 24), (24, 8), (0, 6), (6, 26)),
    ">": ((16, 16), (0, 16), (8, 24), (0, 8), (26, 6), (0, 26)),
}


@dataclass(frozen=True, slots=True)
class _Inode:
    mode: int
    uid: int
    size: int  # the device number for device nodes
    gid: int
    offset: int  # bytes: first child inode, or the block pointer table
    name: bytes
    end: int  # where the next inode of the same directory starts


class _Image:
    """One cramfs image: inodes read on demand, files as streams of bounded blocks."""

    def __init__(self, stream: BinaryIO, size: int, endian: str) -> None:
        self.stream, self.e = stream, endian
        head = self.read(0, ROOT_AT)
        fields = struct.unpack(endian + SUPER.format, head)
        self.length, self.flags, _future, signature = fields[:4]
        self.crc, self.edition, self.blocks, self.files, name = fields[4:]
        if signature != SIGNATURE:
            raise NotThisFormat("cramfs: no 'Compressed ROMFS' signature")
        if self.length > size:
            raise CorruptContainer(f"cramfs: truncated ({size} of {self.length} bytes)")
        self.name = name.rstrip(b"\0").decode("latin-1")
        if self.flags & FSID_VERSION_2:
            self._check_crc()
        self.root = self.inode(ROOT_AT)
        if not stat.S_ISDIR(self.root.mode):
            raise CorruptContainer("cramfs: the root inode is not a directory")

    def _check_crc(self) -> None:
        """What cramfsck checks first: a flipped byte anywhere is a corrupt image, not a file."""
        head = bytearray(self.read(0, ROOT_AT))
        head[CRC_AT : CRC_AT + 4] = bytes(4)
        crc = zlib.crc32(head)
        at = ROOT_AT
        while at < self.length:
            n = min(1 << 16, self.length - at)
            crc = zlib.crc32(self.read(at, n), crc)
            at += n
        if crc != self.crc:
            raise CorruptContainer(f"cramfs: CRC {crc:#x} does not match the superblock's")

    def read(self, at: int, n: int) -> bytes:
        self.stream.seek(at)
        data = self.stream.read(n)
        if len(data) != n:
            raise CorruptContainer(f"cramfs: {n} bytes at {at} run past the end of the image")
        return data

    def inode(self, at: int) -> _Inode:
        words = struct.unpack(self.e + "III", self.read(at, 12))
        mode, uid, size, gid, namelen, offset = (
            (words[i // 2] >> shift) & ((1 << width) - 1)
            for i, (shift, width) in enumerate(_FIELDS[self.e])
        )
        name = self.read(at + 12, namelen * 4).rstrip(b"\0")
        return _Inode(mode, uid, size, gid, offset * 4, name, at + 12 + namelen * 4)

    # -- the InodeTree protocol ------------------------------------------------------------------
    def children(self, node: _Inode) -> Iterator[tuple[bytes, _Inode]]:
        if not stat.S_ISDIR(node.mode):
            return
        at, end = node.offset, node.offset + node.size
        if end > self.length:
            raise CorruptContainer(f"cramfs: directory {node.name!r} runs past the image")
        while at < end:  # a directory's size is the bytes of its children's inodes
            child = self.inode(at)  # seeks itself: safe to interleave with other reads
            yield child.name, child
            at = child.end

    def dir_key(self, node: _Inode) -> int | None:
        # every empty directory has offset 0: only non-empty ones can be part of a cycle
        return node.offset if stat.S_ISDIR(node.mode) and node.size else None

    def mode(self, node: _Inode) -> int:
        return node.mode

    def size(self, node: _Inode) -> int:
        return 0 if stat.S_ISCHR(node.mode) or stat.S_ISBLK(node.mode) else node.size

    def meta(self, node: _Inode) -> Meta:
        device = stat.S_ISCHR(node.mode) or stat.S_ISBLK(node.mode)
        target = None
        if stat.S_ISLNK(node.mode):
            if node.size > MAX_LINK:
                raise CorruptContainer(f"cramfs: symlink {node.name!r} of {node.size} bytes")
            link = self.content(node, f"cramfs: symlink {node.name!r}").read()
            target = link.decode("utf-8", "surrogateescape")
        return Meta(
            mode=node.mode & 0o7777,
            uid=node.uid,
            gid=node.gid,
            target=target,
            rdev=((node.size >> 8) & 0xFF, node.size & 0xFF) if device else None,
        )

    def content(self, node: _Inode, what: str) -> BinaryIO:
        count = (node.size + BLOCK - 1) // BLOCK
        ends = struct.unpack(f"{self.e}{count}I", self.read(node.offset, 4 * count))
        extents = []
        start = node.offset + 4 * count
        for i, pointer in enumerate(ends):
            if pointer & (UNCOMPRESSED | DIRECT) and not self.flags & EXT_BLOCK_POINTERS:
                raise CorruptContainer(f"cramfs: block pointer {pointer:#x} past the image")
            length = min(BLOCK, node.size - i * BLOCK)
            extents.append(
                (i * BLOCK, length, self._block(start, pointer, length, f"{what}: block {i}"))
            )
            start = pointer & ~(UNCOMPRESSED | DIRECT)
        return ExtentStream(node.size, extents, what)  # type: ignore[return-value]

    def _block(self, start: int, pointer: int, want: int, what: str) -> Callable[[], bytes]:
        """A loader for the block from `start` to the end the pointer names (fs/cramfs/inode.c).

        A block holds exactly the `want` bytes of the file it covers (a full block, or what is
        left of the file), or nothing for a hole: mkcramfs compresses (or stores) exactly that
        much, and the kernel would read bytes past it as nobody's. A zlib stream must end
        exactly at the block's end: mkcramfs stores nothing after it, and bytes there are read
        by no one (cramfs_slack leaves block contents to these checks).
        """

        def load() -> bytes:
            if pointer & DIRECT:
                raise CorruptContainer(f"{what}: direct block pointers are not supported")
            end = pointer & ~UNCOMPRESSED
            if end == start:  # a hole: reads as zeros
                return b""
            if not 0 < end - start <= MAX_STORED:
                raise CorruptContainer(f"{what} at {start:#x} spans {end - start} bytes")
            raw = self.read(start, end - start)
            out = raw if pointer & UNCOMPRESSED else _inflate(raw, start, end, what)
            if len(out) != want:
                raise CorruptContainer(
                    f"{what} at {start:#x} holds {len(out)} bytes, the file uses {want}"
                )
            return out

        return load


def _inflate(raw: bytes, start: int, end: int, what: str) -> bytes:
    """One block's zlib stream, bounded to a block and ending exactly at `end`."""
    inflater = zlib.decompressobj()
    out = inflater.decompress(raw, BLOCK)
    if inflater.unconsumed_tail:
        raise CorruptContainer(f"{what} at {start:#x} expands beyond {BLOCK} bytes")
    if inflater.unused_data or not inflater.eof:
        extra = len(inflater.unused_data)
        raise CorruptContainer(
            f"{what}: the zlib stream at {start:#x} ends {extra} bytes "
            f"before the block's end at {end:#x}"
            if inflater.eof
            else f"{what}: the zlib stream at {start:#x} is cut short"
        )
    return out


def _fields(img: _Image) -> tuple[Field, ...]:
    return (
        Field("signature", SIGNATURE.decode(), Rule.STRICT),
        Field("name", img.name, Rule.STRICT),
        Field("byte_order", "little" if img.e == "<" else "big", Rule.LAYOUT),
        Field("flags", f"{img.flags:#x}", Rule.LAYOUT),
        Field("size", str(img.length), Rule.LAYOUT),
        Field("edition", str(img.edition), Rule.LAYOUT),
        Field("blocks", str(img.blocks), Rule.LAYOUT),
        Field("files", str(img.files), Rule.LAYOUT),
        Field("crc", f"{img.crc:#x}", Rule.DERIVED),
    )


class CramfsFormat:
    name = "cramfs"

    def probe(self, head: bytes, size: int) -> bool:
        return head[:4] in (MAGIC_LE, MAGIC_BE)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            stream.seek(0)
            magic = stream.read(4)
            if magic not in (MAGIC_LE, MAGIC_BE):
                raise NotThisFormat("cramfs: no magic at offset 0")
            img = _Image(stream, size, "<" if magic == MAGIC_LE else ">")
            members = list_inodes(img, img.root, ctx, self.name, size)
            root = img.meta(img.root)
            slack, notes = account(img)
        ctx.keep(stream)
        return Listing(
            format=self.name,
            members=members,
            # cramfs has no xattrs
            fields=(*_fields(img), *root_fields(root)[:2], unaccounted(notes)),
            trailing=(img.length, size - img.length) if size > img.length else None,
            slack=tuple(slack),
        )


FORMAT = CramfsFormat()
