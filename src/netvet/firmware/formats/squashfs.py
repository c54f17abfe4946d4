"""SquashFS 4 images (every compressor), listed through dissect.squashfs.

dissect.squashfs parses the tables and gives lazy file streams, but it decompresses each block
without an output bound (a crafted block could expand to gigabytes), only knows zstd through the
`backports.zstd` package, and does not read the xattr table. `_SquashFS` therefore sets up the
same tables with a bounded decompressor of ours (zstd via `zstandard`), and `_xattrs` reads the
xattr table (squashfs-tools' xattr.h layout) so `security.capability` is compared.

`_FileStream` works around dissect.squashfs 1.12 re-reading a file's tail-end fragment once per
buffered read (its fragment branch never moves to the next run): on images of many small files
that was a third of netvet's time. The bytes it returns are the same.
"""

from __future__ import annotations

import io
import lzma
import struct
import zlib
from functools import lru_cache, partial
from typing import BinaryIO

import lz4.block
import zstandard
from dissect.squashfs.c_squashfs import c_squashfs
from dissect.squashfs.squashfs import FileStream, INode, SquashFS
from lzallright import LZOCompressor

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
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule

MAGIC = b"hsqs"
META_SIZE = c_squashfs.SQUASHFS_METADATA_SIZE
NO_XATTR = 0xFFFFFFFF
_NO_FRAGMENT = c_squashfs.SQUASHFS_INVALID_FRAG  # cstruct constants are slow to look up
COMPRESSORS = {1: "gzip", 2: "lzma", 3: "lzo", 4: "xz", 5: "lz4", 6: "zstd"}
XATTR_PREFIXES = {0: "user.", 1: "trusted.", 2: "security."}
MAX_XATTRS = 4096  # per inode; the kernel's own limit on the value list is 64 KiB


def _decompress(comp: int, data: bytes, limit: int) -> bytes:
    """One block decompressed to at most `limit` bytes; a block that expands further is corrupt.

    A valid block is never stored compressed when that does not save space, so a compressed block
    longer than `limit` is refused before decompressing. LZO has no bounded decoder in the
    available libraries (lzallright takes a size hint only; dissect.util's native lzo ignores its
    bound and panics on some corrupt input): its output is checked afterwards, which the input
    bound keeps to a few hundred MiB at worst.
    """
    if len(data) > limit:
        raise CorruptContainer(f"squashfs: compressed block of {len(data)} bytes > {limit}")
    if comp == 1:
        zobj = zlib.decompressobj()
        out = zobj.decompress(data, limit)
        over = bool(zobj.unconsumed_tail)
    elif comp in (2, 4):
        fmt = lzma.FORMAT_ALONE if comp == 2 else lzma.FORMAT_XZ
        lobj = lzma.LZMADecompressor(format=fmt)
        out = lobj.decompress(data, limit)
        over = not lobj.eof and not lobj.needs_input
    elif comp == 3:
        out = LZOCompressor.decompress(data, output_size_hint=limit)
        over = len(out) > limit
    elif comp == 5:
        out = lz4.block.decompress(data, uncompressed_size=limit)
        over = False
    elif comp == 6:
        reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data))
        out = reader.read(limit + 1)
        over = len(out) > limit
    else:
        raise CorruptContainer(f"squashfs: unknown compressor id {comp}")
    if over:
        raise CorruptContainer(f"squashfs: a block expands beyond {limit} bytes")
    return out


class _Bounded:
    """The compression object dissect's block reader calls."""

    def __init__(self, comp: int, block_size: int) -> None:
        self.comp = comp
        self.limit = max(block_size, META_SIZE)

    def decompress(self, data: bytes, expected: int) -> bytes:
        return _decompress(self.comp, data, self.limit)


class _SquashFS(SquashFS):
    """dissect's SquashFS with our superblock checks and bounded decompressor."""

    def __init__(self, fh: BinaryIO, size: int) -> None:  # replaces dissect's: see module doc
        self.fh = fh
        fh.seek(0)
        sb = c_squashfs.squashfs_super_block(fh)
        if sb.s_magic != c_squashfs.SQUASHFS_MAGIC or sb.s_major != 4:
            raise NotThisFormat(f"squashfs: magic/version {sb.s_magic:#x} {sb.s_major}")
        if sb.compression not in COMPRESSORS:
            raise NotThisFormat(f"squashfs: unknown compressor id {sb.compression}")
        if sb.block_size != 1 << sb.block_log or not 4096 <= sb.block_size <= 1 << 20:
            raise NotThisFormat(f"squashfs: implausible block size {sb.block_size}")
        if sb.bytes_used > size:
            raise CorruptContainer(f"squashfs: truncated ({size} of {sb.bytes_used} bytes)")
        self.sb = sb
        self.block_size, self.block_log, self.flags = sb.block_size, sb.block_log, sb.flags
        self.major, self.minor, self.size = sb.s_major, sb.s_minor, sb.bytes_used
        self._read_block = lru_cache(32)(self._read_block)  # type: ignore[has-type]
        self._lookup_id = lru_cache(1024)(self._lookup_id)  # type: ignore[has-type]
        self._lookup_inode = lru_cache(1024)(self._lookup_inode)  # type: ignore[has-type]
        self._lookup_fragment = lru_cache(1024)(self._lookup_fragment)  # type: ignore[has-type]
        self._compression_options = None
        self._compression = _Bounded(sb.compression, sb.block_size)
        self.id_table = self._read_table(sb.id_table_start, sb.no_ids, 4)
        self.lookup_table = self._read_table(sb.lookup_table_start, sb.inodes, 8)
        self.fragment_table = self._read_table(
            sb.fragment_table_start, sb.fragments, len(c_squashfs.squashfs_fragment_entry)
        )
        self.root = self.inode(sb.root_inode >> 16, sb.root_inode & 0xFFFF, name="/")


def _xattr_index(node: INode) -> int:
    """The inode's index into the xattr id table, NO_XATTR when it has none."""
    hdr = node.header
    if hdr.inode_type == c_squashfs.SQUASHFS_LSYMLINK_TYPE:
        # the extended symlink keeps its xattr index after the target bytes
        _, _, data = node.fs._read_metadata(node.data_block, node.data_offset, hdr.symlink_size + 4)
        return int(struct.unpack("<I", data[-4:])[0])
    return int(getattr(hdr, "xattr", NO_XATTR))


class _Xattrs:
    """Reader of the xattr table: id table -> key/value list (squashfs-tools xattr.h)."""

    def __init__(self, fs: _SquashFS) -> None:
        self.fs = fs
        self.start = self.count = 0
        self.blocks: list[int] = []
        table = fs.sb.xattr_id_table_start
        if table in (-1, 0xFFFFFFFFFFFFFFFF):
            return
        fs.fh.seek(table)
        head = c_squashfs.squashfs_xattr_table(fs.fh)
        self.start, self.count = head.xattr_table_start, head.xattr_ids
        nblocks = (self.count * 16 + META_SIZE - 1) // META_SIZE
        self.blocks = list(c_squashfs.uint64[nblocks](fs.fh))

    def get(self, index: int) -> tuple[tuple[str, bytes], ...]:
        if index == NO_XATTR:
            return ()
        if index >= self.count:
            raise CorruptContainer(f"squashfs: xattr index {index} beyond table ({self.count})")
        block, offset = divmod(index * 16, META_SIZE)
        _, _, raw = self.fs._read_metadata(self.blocks[block], offset, 16)
        ref, count, _size = struct.unpack("<QII", raw)
        if count > MAX_XATTRS:
            raise CorruptContainer(f"squashfs: {count} xattrs on one inode")
        blk, off = self.start + (ref >> 16), ref & 0xFFFF
        out = []
        for _ in range(count):
            blk, off, raw = self.fs._read_metadata(blk, off, 4)
            typ, nlen = struct.unpack("<HH", raw)
            blk, off, name = self.fs._read_metadata(blk, off, nlen)
            blk, off, raw = self.fs._read_metadata(blk, off, 4)
            (vlen,) = struct.unpack("<I", raw)
            if vlen > 1 << 16:
                raise CorruptContainer(f"squashfs: xattr value of {vlen} bytes")
            blk, off, value = self.fs._read_metadata(blk, off, vlen)
            if typ & c_squashfs.SQUASHFS_XATTR_VALUE_OOL:
                value = self._out_of_line(value)
            prefix = XATTR_PREFIXES.get(typ & 0xFF, f"unknown-{typ & 0xFF}.")
            out.append((prefix + name.decode("utf-8", "surrogateescape"), value))
        return tuple(sorted(out))

    def _out_of_line(self, ref_bytes: bytes) -> bytes:
        (ref,) = struct.unpack("<Q", ref_bytes)
        blk, off, raw = self.fs._read_metadata(self.start + (ref >> 16), ref & 0xFFFF, 4)
        (vlen,) = struct.unpack("<I", raw)
        if vlen > 1 << 16:
            raise CorruptContainer(f"squashfs: xattr value of {vlen} bytes")
        return bytes(self.fs._read_metadata(blk, off, vlen)[2])


def _meta(node: INode, xattrs: _Xattrs) -> Meta:
    hdr = node.header
    rdev = decode_dev(hdr.rdev) if node.is_device() else None
    return Meta(
        mode=hdr.mode & 0o7777,
        uid=node.uid,
        gid=node.gid,
        target=node.link if node.is_symlink() else None,
        rdev=rdev,
        xattrs=xattrs.get(_xattr_index(node)),
        mtime=hdr.mtime,
    )


def _children(node: INode) -> list[tuple[str, INode]]:
    return [(child.name, child) for child in node.iterdir()] if node.is_dir() else []


def _dir_key(node: INode) -> int | None:
    return (node.block << 16) | node.offset if node.is_dir() else None


def _fields(sb: c_squashfs.squashfs_super_block) -> tuple[Field, ...]:
    layout = (
        "inodes",
        "fragments",
        "no_ids",
        "bytes_used",
        "id_table_start",
        "xattr_id_table_start",
        "inode_table_start",
        "directory_table_start",
        "fragment_table_start",
        "lookup_table_start",
        "root_inode",
    )
    return (
        Field("version", f"{sb.s_major}.{sb.s_minor}", Rule.STRICT),
        Field("mkfs_time", str(sb.mkfs_time), Rule.TIMESTAMP),
        Field("compressor", COMPRESSORS[sb.compression], Rule.COMPRESSION),
        Field("block_size", str(sb.block_size), Rule.COMPRESSION),
        Field("flags", f"{sb.flags:#x}", Rule.COMPRESSION),
        *(Field(name, str(getattr(sb, name)), Rule.LAYOUT) for name in layout),
    )


class SquashfsFormat:
    name = "squashfs"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC) and size >= len(c_squashfs.squashfs_super_block)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            fs = _SquashFS(stream, size)
            xattrs = _Xattrs(fs)
            member = partial(self._member, xattrs=xattrs)
            members = list_tree(fs.root, _children, _dir_key, member, ctx, self.name, size)
            root = _meta(fs.root, xattrs)
        ctx.keep(stream)
        trailing = (fs.sb.bytes_used, size - fs.sb.bytes_used) if size > fs.sb.bytes_used else None
        return Listing(
            format=self.name,
            members=members,
            fields=_fields(fs.sb) + root_fields(root),
            trailing=trailing,
        )

    def _member(self, path: str, node: INode, xattrs: _Xattrs) -> Member:
        kind = kind_of(node.mode, self.name)
        if kind is not Kind.FILE:
            return Member(path, kind, _meta(node, xattrs))
        return Member(
            path,
            kind,
            _meta(node, xattrs),
            size=node.size or 0,
            opener=guarded_opener(partial(_FileStream, node), f"{self.name}: {path}"),
        )


class _FileStream(FileStream):
    """dissect's file stream, reading the tail-end fragment once per request."""

    def _read(self, offset: int, length: int) -> bytes:
        if self.fragment == _NO_FRAGMENT:
            return super()._read(offset, length)
        full = (self.size // self.block_size) * self.block_size  # bytes held in whole blocks
        out = b""
        if offset < full:
            n = min(length, full - offset)
            out = super()._read(offset, n)
            offset, length = offset + n, length - n
        if length > 0 and offset >= full:
            tail = self.fs._read_fragment(self.fragment, self.fragment_offset, self.size - full)
            out += tail[offset - full : offset - full + length]
        return out


FORMAT = SquashfsFormat()
