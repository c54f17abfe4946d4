"""UBIFS images: the LEB-ordered content of a UBI volume, or a bare image from mkfs.ubifs.

ubi-reader parses the superblock, master node and every node type. Its index walk and file
reader are not used: the walk recurses through index branches without remembering where it has
been (a crafted index that points back at itself never ends) and the reader inflates a whole file
into memory, zero-filling whatever block-number gap a data node claims. Here the index is walked
iteratively, each node at most once, and file content is decoded block by block when read
(`ExtentStream`), each block bounded to UBIFS_BLOCK_SIZE.

Only the committed index is read: changes still in the journal of a mounted, unclean filesystem
are not replayed. Encrypted (fscrypt) UBIFS is not supported.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from lzallright import LZOCompressor
from ubireader.ubifs import nodes, ubifs
from ubireader.ubifs.defines import (
    UBIFS_BLOCK_SIZE,
    UBIFS_COMMON_HDR_SZ,
    UBIFS_COMPR_LZO,
    UBIFS_COMPR_NONE,
    UBIFS_COMPR_ZLIB,
    UBIFS_COMPR_ZSTD,
    UBIFS_DATA_NODE,
    UBIFS_DENT_NODE,
    UBIFS_IDX_NODE,
    UBIFS_INO_NODE,
    UBIFS_NODE_MAGIC,
    UBIFS_ROOT_INO,
    UBIFS_S_KEY_BLOCK_MASK,
    UBIFS_XENT_NODE,
)

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats import _notes
from netvet.firmware.formats._fs import (
    ExtentStream,
    decode_dev,
    kind_of,
    parser_errors,
    quiet_ubireader,
    root_fields,
)
from netvet.firmware.formats._members import list_inodes
from netvet.firmware.formats.ubifs_areas import unaccounted
from netvet.firmware.formats.ubifs_scan import master_scan_hang
from netvet.firmware.formats.zstd import one_frame
from netvet.firmware.model import Field, Kind, Listing, Meta, Rule

SB_NODE = 6
COMPRESSORS = {0: "none", 1: "lzo", 2: "zlib", 3: "zstd"}
MAX_STORED = 2 * UBIFS_BLOCK_SIZE
DATA_HDR = UBIFS_COMMON_HDR_SZ + struct.calcsize("<16sIHH")  # where a data node's payload starts


class _LebFile:
    """The file object ubi-reader's ubifs class reads through, over our stream."""

    __name__ = "UBIFS_File"

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._last = 0

    def reset(self) -> None:
        self._stream.seek(0)

    def seek(self, offset: int) -> None:
        self._stream.seek(offset)

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int) -> bytes:
        self._last = self._stream.tell()
        return self._stream.read(size)

    def last_read_addr(self) -> int:
        return self._last


@dataclass
class _Inode:
    """Everything the index holds for one inode number."""

    ino: nodes.ino_node | None = None
    data: list[nodes.data_node] = field(default_factory=list)
    dents: list[nodes.dent_node] = field(default_factory=list)
    xents: list[nodes.xent_node] = field(default_factory=list)


def _read_node(fs: ubifs, lnum: int, offs: int) -> tuple[int, bytes, int]:
    """(node type, body, absolute body offset) of the node at lnum:offs, CRC-checked."""
    pos = fs.leb_size * lnum + offs
    fs.file.seek(pos)
    head = fs.file.read(UBIFS_COMMON_HDR_SZ)
    if len(head) < UBIFS_COMMON_HDR_SZ or head[:4] != UBIFS_NODE_MAGIC:
        raise CorruptContainer(f"ubifs: no node at LEB {lnum}:{offs}")
    hdr = nodes.common_hdr(head)
    if not UBIFS_COMMON_HDR_SZ <= hdr.len <= fs.leb_size - offs:
        raise CorruptContainer(f"ubifs: node at LEB {lnum}:{offs} has length {hdr.len}")
    body = fs.file.read(hdr.len - UBIFS_COMMON_HDR_SZ)
    if len(body) != hdr.len - UBIFS_COMMON_HDR_SZ:
        raise CorruptContainer(f"ubifs: node at LEB {lnum}:{offs} is truncated")
    if ~zlib.crc32(head[8:] + body) & 0xFFFFFFFF != hdr.crc:
        raise CorruptContainer(f"ubifs: bad CRC in node at LEB {lnum}:{offs}")
    return hdr.node_type, body, pos + UBIFS_COMMON_HDR_SZ


def _index(fs: ubifs, ctx: WalkContext) -> tuple[dict[int, _Inode], set[tuple[int, int]]]:
    """Walk the committed index from the master node; every index node is visited once.
    Also where every node it reaches lies: any other node in the main area is unaccounted."""
    mst = fs.master_node
    inodes: dict[int, _Inode] = {}
    todo = [(mst.root_lnum, mst.root_offs)]
    seen: set[tuple[int, int]] = set()
    while todo:
        where = todo.pop()
        if where in seen:
            raise CorruptContainer(f"ubifs: index reaches LEB {where[0]}:{where[1]} twice")
        seen.add(where)
        ctx.check_time()
        ntype, body, at = _read_node(fs, *where)
        if ntype == UBIFS_IDX_NODE:
            todo.extend((b.lnum, b.offs) for b in nodes.idx_node(body).branches)
        elif ntype == UBIFS_INO_NODE:
            ino = nodes.ino_node(body)
            inodes.setdefault(ino.key["ino_num"], _Inode()).ino = ino
        elif ntype == UBIFS_DATA_NODE:
            dat = nodes.data_node(body, at - UBIFS_COMMON_HDR_SZ + DATA_HDR)
            inodes.setdefault(dat.key["ino_num"], _Inode()).data.append(dat)
        elif ntype == UBIFS_DENT_NODE:
            dent = nodes.dent_node(body)
            inodes.setdefault(dent.key["ino_num"], _Inode()).dents.append(dent)
        elif ntype == UBIFS_XENT_NODE:
            xent = nodes.xent_node(body)
            inodes.setdefault(xent.key["ino_num"], _Inode()).xents.append(xent)
        else:
            raise CorruptContainer(f"ubifs: unexpected node type {ntype} in the index")
    return inodes, seen


def _decompress(ctype: int, raw: bytes) -> bytes:
    """One data block, at most UBIFS_BLOCK_SIZE bytes."""
    if len(raw) > MAX_STORED:
        raise CorruptContainer(f"ubifs: data node of {len(raw)} bytes")
    if ctype == UBIFS_COMPR_NONE:
        out = raw
    elif ctype == UBIFS_COMPR_ZLIB:  # raw deflate (the kernel uses windowBits -11)
        inflater = zlib.decompressobj(-15)
        out = inflater.decompress(raw, UBIFS_BLOCK_SIZE)
        if inflater.unused_data or inflater.unconsumed_tail:  # bytes no decoder reads
            raise CorruptContainer("ubifs: data after the end of a compressed block")
    elif ctype == UBIFS_COMPR_ZSTD:
        decoded = one_frame(raw, UBIFS_BLOCK_SIZE, "ubifs")
        if decoded is None:
            raise CorruptContainer("ubifs: a data block expands beyond 4096 bytes")
        out, after = decoded
        if after:  # bytes no decoder reads
            raise CorruptContainer("ubifs: data after the end of a compressed block")
    elif ctype == UBIFS_COMPR_LZO:  # no bounded LZO decoder; the input bound caps the output
        out = LZOCompressor.decompress(raw, output_size_hint=UBIFS_BLOCK_SIZE)
    else:
        raise CorruptContainer(f"ubifs: unknown compression type {ctype}")
    if len(out) > UBIFS_BLOCK_SIZE:
        raise CorruptContainer("ubifs: a data block expands beyond 4096 bytes")
    return bytes(out)


class _Tree:
    """The listed filesystem: the index plus the stream its data nodes point into."""

    def __init__(self, fs: ubifs, inodes: dict[int, _Inode], stream: BinaryIO) -> None:
        self.fs = fs
        self.inodes = inodes
        self.stream = stream

    def ino(self, num: int) -> nodes.ino_node:
        rec = self.inodes.get(num)
        if rec is None or rec.ino is None:
            raise CorruptContainer(f"ubifs: inode {num} is named but missing")
        return rec.ino

    def children(self, num: int) -> Iterator[tuple[bytes, int]]:
        if kind_of(self.ino(num).mode, "ubifs") is Kind.DIR:
            for dent in self.inodes[num].dents:
                yield dent.raw_name, dent.inum

    def dir_key(self, num: int) -> int | None:
        return num if kind_of(self.ino(num).mode, "ubifs") is Kind.DIR else None

    def mode(self, num: int) -> int:
        return int(self.ino(num).mode)

    def size(self, num: int) -> int:
        return int(self.ino(num).size)

    def meta(self, num: int) -> Meta:
        ino = self.ino(num)
        kind = kind_of(ino.mode, "ubifs")
        inline = bytes(ino.data[: ino.data_len])
        rdev = None
        if kind in (Kind.CHAR, Kind.BLOCK) and len(inline) in (4, 8):
            rdev = decode_dev(int.from_bytes(inline, "little"))
        xattrs = []
        for xent in self.inodes[num].xents:
            value = self.ino(xent.inum)
            xattrs.append((xent.name, bytes(value.data[: value.data_len])))
        return Meta(
            mode=ino.mode & 0o7777,
            uid=ino.uid,
            gid=ino.gid,
            target=inline.decode("utf-8", "surrogateescape") if kind is Kind.SYMLINK else None,
            rdev=rdev,
            xattrs=tuple(sorted(xattrs)),
            mtime=ino.mtime_sec,
        )

    def content(self, num: int, what: str) -> BinaryIO:
        extents = []
        for dat in sorted(self.inodes[num].data, key=lambda d: d.key["khash"]):
            block = dat.key["khash"] & UBIFS_S_KEY_BLOCK_MASK
            extents.append((block * UBIFS_BLOCK_SIZE, dat.size, self._loader(dat)))
        for (a, alen, _), (b, _, _) in zip(extents, extents[1:], strict=False):
            if a + alen > b:
                raise CorruptContainer(f"{what}: overlapping data blocks")
        return ExtentStream(self.ino(num).size, extents, what)  # type: ignore[return-value]

    def _loader(self, dat: nodes.data_node) -> Callable[[], bytes]:
        node = dat.offset - DATA_HDR
        where = f"data node at LEB {node // self.fs.leb_size}:{node % self.fs.leb_size:#x}"

        def load() -> bytes:
            self.stream.seek(dat.offset)
            try:
                block = _decompress(dat.compr_type, self.stream.read(dat.compr_len))
            except CorruptContainer as exc:
                raise CorruptContainer(f"{exc} ({where})") from exc
            if len(block) != dat.size:  # the kernel's read_block() refuses it too
                raise CorruptContainer(f"ubifs: {len(block)}-byte block sized {dat.size} ({where})")
            return block

        return load


def _fields(fs: ubifs) -> tuple[Field, ...]:
    sb, mst = fs.superblock_node, fs.master_node
    layout_sb: tuple[str, ...] = (
        "min_io_size",
        "leb_size",
        "leb_cnt",
        "max_leb_cnt",
        "max_bud_bytes",
    )
    layout_sb += ("log_lebs", "lpt_lebs", "orph_lebs", "jhead_cnt", "fanout", "lsave_cnt")
    layout_sb += ("rp_uid", "rp_gid", "rp_size", "key_hash", "key_fmt")
    layout_mst: tuple[str, ...] = ("highest_inum", "cmt_no", "root_lnum", "root_offs", "index_size")
    layout_mst += ("total_free", "total_dirty", "total_used", "total_dead", "total_dark")
    return (
        Field("fmt_version", str(sb.fmt_version), Rule.STRICT),
        Field("ro_compat_version", str(sb.ro_compat_version), Rule.STRICT),
        Field("flags", f"{sb.flags:#x}", Rule.STRICT),
        Field("time_gran", str(sb.time_gran), Rule.STRICT),
        Field("uuid", bytes(sb.uuid).hex(), Rule.RANDOM_ID),
        Field(
            "default_compr",
            COMPRESSORS.get(sb.default_compr, str(sb.default_compr)),
            Rule.COMPRESSION,
        ),
        *(Field(name, str(getattr(sb, name)), Rule.LAYOUT) for name in layout_sb),
        *(Field(f"master.{name}", str(getattr(mst, name)), Rule.LAYOUT) for name in layout_mst),
    )


def _scan_field(
    fs: ubifs, stream: BinaryIO, size: int, referenced: set[tuple[int, int]]
) -> tuple[Field, ...]:
    """What the LEB scan finds outside the nodes (free space, gaps, bad CRCs, nodes out of place
    or unreferenced, bytes outside the live LPT nodes): STRICT."""
    return (_notes.unaccounted(unaccounted(stream, fs, size, referenced)),)


class UbifsFormat:
    name = "ubifs"

    def probe(self, head: bytes, size: int) -> bool:
        # a UBIFS image starts with its superblock node
        return head[:4] == UBIFS_NODE_MAGIC and len(head) > 20 and head[20] == SB_NODE

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name), quiet_ubireader(self.name):
            hang = master_scan_hang(stream)
            if hang is not None:
                raise CorruptContainer(f"ubifs: master area: {hang}")
            fs = ubifs(_LebFile(stream))  # type: ignore[arg-type]
            if fs.leb_size <= 0 or fs.master_node is None:
                raise NotThisFormat("ubifs: no usable superblock or master node")
            inodes, referenced = _index(fs, ctx)
            tree = _Tree(fs, inodes, stream)
            members = list_inodes(tree, UBIFS_ROOT_INO, ctx, self.name, size)
            root = tree.meta(UBIFS_ROOT_INO)
            fields = _fields(fs) + _scan_field(fs, stream, size, referenced)
        ctx.keep(stream)
        return Listing(format=self.name, members=members, fields=fields + root_fields(root))


FORMAT = UbifsFormat()
