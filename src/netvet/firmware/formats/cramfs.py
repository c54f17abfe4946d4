"""CramFS images (little-endian), listed through dissect.cramfs.

dissect.cramfs inflates each 4 KiB block without an output bound and reads whatever length the
block pointers imply; `_CramFS._read_block` bounds both. Big-endian cramfs (mkcramfs -N big) is
not supported by dissect: its magic is recognised and reported as unsupported, not as a file.
CramFS has no timestamps, xattrs or hard links (mkcramfs stores each link as its own inode).
"""

from __future__ import annotations

import zlib
from typing import BinaryIO

from dissect.cramfs.c_cramfs import c_cramfs
from dissect.cramfs.cramfs import CramFS, INode

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import (
    guarded_opener,
    kind_of,
    list_tree,
    parser_errors,
)
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule

MAGIC_LE = b"\x45\x3d\xcd\x28"
MAGIC_BE = b"\x28\xcd\x3d\x45"
BLOCK = c_cramfs.CRAMFS_BLOCK_SIZE
UNCOMPRESSED = 1 << 30
DIRECT = 1 << 31
MAX_STORED = 2 * BLOCK  # deflate never needs twice the input to store one block


class _CramFS(CramFS):
    """dissect's CramFS with bounded block reads."""

    def _read_block(self, offset: int, size: int) -> bytes:
        if size == 0:  # a hole
            return b"\x00" * BLOCK
        if offset & DIRECT:
            raise CorruptContainer("cramfs: direct block pointers are not supported")
        if not 0 < size <= MAX_STORED:
            raise CorruptContainer(f"cramfs: block of {size} bytes at {offset & ~UNCOMPRESSED}")
        self.fh.seek(offset & ~UNCOMPRESSED)
        raw = self.fh.read(size)
        if len(raw) != size:
            raise CorruptContainer("cramfs: block runs past the end of the image")
        if offset & UNCOMPRESSED:
            return raw[:BLOCK]
        inflater = zlib.decompressobj()
        out = inflater.decompress(raw, BLOCK)
        if inflater.unconsumed_tail:
            raise CorruptContainer("cramfs: a block expands beyond 4096 bytes")
        return out


def _children(node: INode) -> list[tuple[str, INode]]:
    # names are read as the list is built: dissect finds the next entry from the file position
    return [(child.name, child) for child in node.iterdir()] if node.is_dir() else []


def _dir_key(node: INode) -> int | None:
    return node.data_offset if node.is_dir() else None


def _meta(node: INode) -> Meta:
    return Meta(
        mode=node.mode & 0o7777,
        uid=node.uid,
        gid=node.gid,
        target=node.link if node.is_symlink() else None,
        rdev=(node.major, node.minor) if node.is_device() else None,
    )


def _fields(fs: _CramFS) -> tuple[Field, ...]:
    sb = fs.sb
    return (
        Field("signature", bytes(sb.signature).decode("latin-1"), Rule.STRICT),
        Field("name", bytes(sb.name).rstrip(b"\0").decode("latin-1"), Rule.STRICT),
        Field("flags", f"{sb.flags:#x}", Rule.LAYOUT),
        Field("size", str(sb.size), Rule.LAYOUT),
        Field("edition", str(sb.fsid.edition), Rule.LAYOUT),
        Field("blocks", str(sb.fsid.blocks), Rule.LAYOUT),
        Field("files", str(sb.fsid.files), Rule.LAYOUT),
        Field("crc", f"{sb.fsid.crc:#x}", Rule.DERIVED),
    )


class CramfsFormat:
    name = "cramfs"

    def probe(self, head: bytes, size: int) -> bool:
        return head[:4] in (MAGIC_LE, MAGIC_BE)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            fs = self._open(stream, size)
            members = list_tree(fs.root, _children, _dir_key, self._member, ctx, self.name, size)
            root = _meta(fs.root)
        ctx.keep(stream)
        return Listing(
            format=self.name,
            members=members,
            fields=_fields(fs)
            + (
                Field("root.mode", oct(root.mode or 0), Rule.STRICT),
                Field("root.owner", f"{root.uid}:{root.gid}", Rule.STRICT),
            ),
            trailing=(fs.sb.size, size - fs.sb.size) if size > fs.sb.size else None,
        )

    def _open(self, stream: BinaryIO, size: int) -> _CramFS:
        stream.seek(0)
        if stream.read(4) == MAGIC_BE:
            raise CorruptContainer("cramfs: big-endian images are not supported")
        fs = _CramFS(stream)
        if bytes(fs.sb.signature) != c_cramfs.CRAMFS_SIGNATURE:
            raise NotThisFormat("cramfs: no 'Compressed ROMFS' signature")
        if fs.sb.size > size:
            raise CorruptContainer(f"cramfs: truncated ({size} of {fs.sb.size} bytes)")
        return fs

    def _member(self, path: str, node: INode) -> Member:
        kind = kind_of(node.mode, self.name)
        if kind is not Kind.FILE:
            return Member(path, kind, _meta(node))
        opener = guarded_opener(node.open, f"{self.name}: {path}")
        return Member(path, kind, _meta(node), size=node.size, opener=opener)


FORMAT = CramfsFormat()
