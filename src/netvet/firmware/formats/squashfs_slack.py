"""Every byte of a SquashFS image accounted for: what no structure references is reported.

Members compare equal whatever lies between the structures they are read from, so a payload
put between data blocks, between metadata blocks or after the last inode of the inode table
would leave a comparison "equivalent". mksquashfs leaves no such byte: it writes the superblock,
the compression options, each file's blocks and the fragment blocks back to back, then the
inode, directory, fragment, export, id and xattr tables, each table's index right after its
blocks, and packs inodes, directory listings and fragment pieces without a gap (SQUASHFS.md in
tests/fixtures/slack says which images this was checked on). So any unreferenced range is the
finding itself: `account` names each by where it lies, and the image ranges among them become
the listing's slack as well, so their bytes are compared too.

Two checks belong where blocks are decompressed (squashfs_data.py), not here: bytes after the
end of a block's compressed stream, and a fragment block longer than the pieces files take of
it (`fragment_ends` gives the length each should have).

The work is interval arithmetic over what the listing parsed, plus a few bounded reads: the
2-byte header of each block of the small indexed tables, and the metadata blocks past the last
referenced record of the inode and directory tables.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any, NamedTuple

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats.squashfs_data import DATA_UNCOMPRESSED, Data
from netvet.firmware.formats.squashfs_tables import (
    META_SIZE,
    META_UNCOMPRESSED,
    SUPER,
    Metadata,
    Super,
    Table,
)
from netvet.firmware.model import Member

COMP_OPT = 0x400  # superblock flag: a compression options block follows the superblock
# Size of each compressor's options (squashfs-tools' gzip.h, xz.h, lzo.h, lz4.h, zstd.h).
OPTION_SIZE = {1: 8, 3: 8, 4: 8, 5: 8, 6: 4}
SHOWN = 8  # findings named in the field; the count says how many more
_U16 = struct.Struct("<H")


class Layout:
    """What the image references. The tables read through an index are placed when the image
    is opened (`of`); the rest is gathered while the listing parses, as runs of adjacent
    records (squashfs.py `_Image._inode`): a comparison and an attribute store for most
    entries, a few thousand runs to sort for an image of 24,000 files. (A plain class: a
    dataclass costs a millisecond or two to create at import, in both processes.)"""

    __slots__ = ("sb", "shift", "regions", "found", "files", "pieces", "inodes", "listings")

    def __init__(self, sb: Super, regions: list[tuple[int, int, str]], found: list[str]) -> None:
        self.sb = sb
        # a piece's offset and end are below twice the block size: its key (fragment index
        # << shift | offset) keeps the index apart
        self.shift = sb.block_log + 1
        self.regions = regions  # (start, end, what) in the image
        self.found = found  # findings so far
        # (first block, block size words, path) of every file with blocks
        self.files: list[tuple[int, tuple[int, ...], str]] = []
        # (start, end) runs of inode records and of directory listings (positions in their
        # table's buffer), and of tail-end pieces as keys fragment index << shift | offset;
        # empty, repeated (hard links, duplicate files) and overlapping runs are fine
        self.inodes: list[tuple[int, int]] = []
        self.listings: list[tuple[int, int]] = []
        self.pieces: list[tuple[int, int]] = []

    @classmethod
    def of(cls, meta: Metadata, sb: Super) -> Layout:
        found: list[str] = []
        regions: list[tuple[int, int, str]] = [(0, SUPER.size, "the superblock")]
        if sb.flags & COMP_OPT:
            regions.append(_options(meta, sb, found))
        _indexed(meta, sb, regions, found)
        return cls(sb, regions, found)

    def stop(self, start: int) -> int:
        """Where the first structure after `start` begins (the end of a table found by
        walking its blocks): the tables' starts, the image's end."""
        sb = self.sb
        starts = [r[0] for r in self.regions]
        starts += (sb.inode_table_start, sb.directory_table_start, sb.bytes_used)
        return min((s for s in starts if s > start), default=sb.bytes_used)


class Accounted(NamedTuple):
    """The outcome: descriptions of unreferenced bytes, image ranges among them, and the
    decompressed length each used fragment block must have."""

    found: tuple[str, ...]
    slack: tuple[tuple[int, int], ...]
    fragment_ends: dict[int, int]

    def field_value(self) -> str:
        if not self.found:
            return "none"
        more = len(self.found) - SHOWN
        return "; ".join(self.found[:SHOWN]) + (f"; and {more} more" if more > 0 else "")


def account(
    layout: Layout, data: Data, inodes: Table, dirs: Table, members: Sequence[Member]
) -> Accounted:
    """Every referenced range of the image and of its tables, and what lies outside them.
    `members` name the files around a gap in a fragment block (only then looked at)."""
    found = list(layout.found)
    regions = list(layout.regions)
    for start, words, path in layout.files:
        length = sum(w & ~DATA_UNCOMPRESSED for w in words)
        if length:
            regions.append((start, start + length, f"data blocks of /{path}"))
    ends = _fragments(layout, data, regions, found, members)
    regions.append((inodes.start, inodes.finish(), "the inode table"))
    regions.append((dirs.start, dirs.finish(), "the directory table"))
    found += _records(inodes, layout.inodes, "inode table", "inode")
    found += _records(dirs, layout.listings, "directory table", "directory listing")
    slack = _gaps(regions, layout.sb.bytes_used, found)
    return Accounted(tuple(found), slack, ends)


def _options(meta: Metadata, sb: Super, found: list[str]) -> tuple[int, int, str]:
    data, following = meta.decode(SUPER.size)
    want = OPTION_SIZE.get(sb.compression, 0)
    if len(data) != want:
        found.append(f"compression options of {len(data)} bytes at {SUPER.size:#x}, not {want}")
    return SUPER.size, following, "the compression options"


def _fragments(
    layout: Layout,
    data: Data,
    regions: list[tuple[int, int, str]],
    found: list[str],
    members: Sequence[Member],
) -> dict[int, int]:
    """Fragment blocks used by files, as regions; a gap between pieces of one block is a
    finding; the returned end of the last piece is the length the block must decompress to."""
    shift, mask = layout.shift, (1 << layout.shift) - 1
    ends: dict[int, int] = {}
    frag, end = -1, 0
    gaps = []
    for key, stop in sorted(layout.pieces):
        if stop <= key:
            continue
        index, offset = key >> shift, key & mask
        if index != frag:
            start, word = data.fragments.entry(index)
            size = word & ~DATA_UNCOMPRESSED
            regions.append((start, start + size, f"fragment block {index}"))
            frag, end = index, 0
        if offset > end:
            gaps.append((index, end, offset))
        end = ends[index] = max(end, stop & mask)
    if gaps:
        found += _piece_gaps(layout, gaps, members)
    return ends


def _piece_gaps(
    layout: Layout, gaps: list[tuple[int, int, int]], members: Sequence[Member]
) -> list[str]:
    """Findings naming the files whose pieces surround each gap. Only then are the paths
    looked up: from the members' openers (squashfs.py binds each file's fragment and offset
    into a partial of FileStream: data, what, size, start, words, fragment, offset)."""
    block = 1 << layout.sb.block_log
    starts: dict[tuple[int, int], str] = {}
    ends: dict[tuple[int, int], str] = {}
    for m in members:
        args: tuple[Any, ...] = getattr(m.opener, "args", ())
        if len(args) == 7:
            size, words, fragment, offset = args[2], args[4], args[5], args[6]
            starts.setdefault((fragment, offset), m.name)
            ends.setdefault((fragment, offset + size - len(words) * block), m.name)
    out = []
    for index, lo, hi in gaps:
        before = ends.get((index, lo))
        after = starts.get((index, hi), "?")
        out.append(
            f"fragment block {index}: decompressed bytes {lo:#x}..{hi:#x} ({hi - lo} bytes) "
            f"between {'its start' if before is None else f'the piece of /{before}'} "
            f"and the piece of /{after}"
        )
    return out


def _indexed(
    meta: Metadata, sb: Super, regions: list[tuple[int, int, str]], found: list[str]
) -> None:
    """The tables read through an index of u64 block positions: blocks, then the index."""
    tables = [
        ("fragment table", sb.fragment_table_start, sb.fragments, 16),
        ("id table", sb.id_table_start, sb.no_ids, 4),
    ]
    if sb.lookup_table_start not in (-1, 0xFFFFFFFFFFFFFFFF):
        tables.append(("export table", sb.lookup_table_start, sb.inodes, 8))
    xattr = sb.xattr_id_table_start
    if xattr not in (-1, 0xFFFFFFFFFFFFFFFF):
        meta.fh.seek(xattr)
        head = meta.fh.read(16)
        if len(head) < 16:
            raise CorruptContainer("squashfs: truncated xattr id table")
        kv_start, count, _ = struct.unpack("<QII", head)
        regions.append((xattr, xattr + 16, "the xattr id table header"))
        tables.append(("xattr id table", xattr + 16, count, 16))
        # the key/value blocks run from their start to the first xattr id block
        first = meta.index(xattr + 16, count, 16)[:1]
        if count and first:
            regions.append((kv_start, _chain(meta, kv_start, first[0]), "the xattr table"))
    for what, start, count, entry in tables:
        blocks = meta.index(start, count, entry) if count else []
        regions.append((start, start + 8 * len(blocks), f"the {what} index"))
        for i, pos in enumerate(blocks):
            if i == len(blocks) - 1:
                raw, end = meta.block(pos)
                want = count * entry - i * META_SIZE
                if len(raw) != want:
                    found.append(
                        f"{what}: last metadata block at {pos:#x} holds {len(raw)} bytes, "
                        f"its entries {want}"
                    )
            else:
                end = _header_end(meta, pos)
            regions.append((pos, end, f"the {what}"))


def _header_end(meta: Metadata, pos: int) -> int:
    if not 0 <= pos <= meta.end - 2:
        raise CorruptContainer(f"squashfs: metadata block at {pos} outside the image")
    meta.fh.seek(pos)
    raw = meta.fh.read(2)
    if len(raw) < 2:
        raise CorruptContainer(f"squashfs: truncated metadata block at {pos}")
    length = _U16.unpack(raw)[0] & ~META_UNCOMPRESSED
    if length > META_SIZE:
        raise CorruptContainer(f"squashfs: bad metadata block header at {pos}")
    return pos + 2 + length


def _chain(meta: Metadata, start: int, bound: int) -> int:
    """End of the run of metadata blocks from `start` that stops at `bound`."""
    pos = start
    while pos < bound:
        pos = _header_end(meta, pos)
    if pos != bound:
        raise CorruptContainer(f"squashfs: metadata block at {start:#x}.. runs past {bound:#x}")
    return pos


def _records(table: Table, runs: list[tuple[int, int]], what: str, record: str) -> list[str]:
    """Decompressed bytes of a table outside every record: mksquashfs packs them."""
    found = []
    cursor = 0
    for start, end in sorted(runs):
        if start > cursor and end > start:
            found.append(
                _in_table(table, what, cursor, start, f"before the {record} at {start:#x}")
            )
        cursor = max(cursor, end)
    if cursor < len(table.buf):
        found.append(_in_table(table, what, cursor, len(table.buf), f"after the last {record}"))
    elif cursor > len(table.buf):
        raise CorruptContainer(f"squashfs: {what}: a {record} runs past the table's end")
    return found


def _in_table(table: Table, what: str, lo: int, hi: int, where: str) -> str:
    blocks = sorted((p, b) for b, p in table.at.items())
    i = bisect_right(blocks, (lo, 1 << 62)) - 1
    at, block = blocks[max(i, 0)]
    return (
        f"{what}: {hi - lo} decompressed bytes {where}, in the metadata block at "
        f"{table.start + block:#x} from offset {lo - at:#x}"
    )


def _gaps(
    regions: list[tuple[int, int, str]], end: int, found: list[str]
) -> tuple[tuple[int, int], ...]:
    """Image ranges below `end` in no region. Regions may not overlap, except the blocks of
    files sharing them (duplicates, hard links)."""
    slack = []
    cursor, before, data = 0, "the image's start", False
    for start, stop, what in sorted(regions):
        if stop > end or start < 0:
            raise CorruptContainer(f"squashfs: {what} ({start:#x}..{stop:#x}) outside the image")
        is_data = what.startswith("data blocks")
        if start > cursor:
            found.append(f"{start - cursor} bytes at {cursor:#x} between {before} and {what}")
            slack.append((cursor, start - cursor))
        elif start < cursor and not (is_data and data) and stop > start:
            raise CorruptContainer(f"squashfs: {what} at {start:#x} overlaps {before}")
        if stop >= cursor:
            cursor, before, data = stop, what, is_data
    if cursor < end:
        found.append(f"{end - cursor} bytes at {cursor:#x} between {before} and the image's end")
        slack.append((cursor, end - cursor))
    return tuple(slack)
