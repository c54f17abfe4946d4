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

The entries of the tables read through an index are checked too, for what mksquashfs always
writes there: a fragment entry's `unused` word 0 and every fragment entry used by a file, every
id used by an inode, export entry i the reference of inode number i + 1 (the inode numbers,
1..inodes and one per inode, are checked while the listing parses: squashfs.py), every xattr id
used by an inode and its `size` what its key/value list holds. The key/value lists the xattr ids
point at, and the values their out-of-line entries point at, must tile the decompressed xattr
table: an id no inode takes is a list no member shows, and bytes no id reaches are read by none.

The work is interval arithmetic over what the listing parsed, plus bounded reads: the blocks of
the indexed tables (each decoded once, in order, at most MAX_TABLE bytes in all), and the
metadata blocks past the last referenced record of the inode and directory tables, and the
xattr key/value blocks (each list parsed once, all of them at most one entry per 8 bytes of the
table: ids pointing into one another's lists are refused, not re-read). Findings are
kept up to _notes.MAX_NOTES, the rest counted and digested: a hostile image of a million bad records
costs a million short strings hashed, not a million kept.
"""

from __future__ import annotations

import hashlib
import struct
from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded
from netvet.firmware.formats._notes import Notes
from netvet.firmware.formats.squashfs_data import DATA_UNCOMPRESSED, Data
from netvet.firmware.formats.squashfs_tables import (
    MAX_TABLE,
    META_SIZE,
    META_UNCOMPRESSED,
    SUPER,
    XATTR_PREFIXES,
    XATTR_VALUE_OOL,
    Metadata,
    Super,
    Table,
)
from netvet.firmware.model import Member

COMP_OPT = 0x400  # superblock flag: a compression options block follows the superblock
# Size of each compressor's options (squashfs-tools' gzip.h, xz.h, lzo.h, lz4.h, zstd.h).
OPTION_SIZE = {1: 8, 3: 8, 4: 8, 5: 8, 6: 4}
SHOWN_ENTRIES = 8  # table entries named in one finding
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_FRAGMENT = struct.Struct("<QII")  # start, size word, unused (squashfs_fs.h fragment_entry)
_XATTR_ID = struct.Struct("<QII")  # key/value list reference, count, size (xattr_id)


class Layout:
    """What the image references. The tables read through an index are placed when the image
    is opened (`of`); the rest is gathered while the listing parses, as runs of adjacent
    records (squashfs.py `_Image._inode`): a comparison and an attribute store for most
    entries, a few thousand runs to sort for an image of 24,000 files. (A plain class: a
    dataclass costs a millisecond or two to create at import, in both processes.)"""

    __slots__ = (
        "sb",
        "shift",
        "regions",
        "found",
        "indexed",
        "files",
        "pieces",
        "inodes",
        "listings",
        "numbers",
        "ids",
        "xattrs",
        "kv",
    )

    def __init__(self, sb: Super, regions: list[tuple[int, int, str]], found: list[str]) -> None:
        self.sb = sb
        # a piece's offset and end are below twice the block size: its key (fragment index
        # << shift | offset) keeps the index apart
        self.shift = sb.block_log + 1
        self.regions = regions  # (start, end, what) in the image
        self.found = found  # findings so far
        # (what, block positions, entries, entry size) of each table read through an index
        self.indexed: list[tuple[str, list[int], int, int]] = []
        # (first block, block size words, path) of every file with blocks
        self.files: list[tuple[int, tuple[int, ...], str]] = []
        # (start, end) runs of inode records and of directory listings (positions in their
        # table's buffer), and of tail-end pieces as keys fragment index << shift | offset;
        # empty, repeated (hard links, duplicate files) and overlapping runs are fine
        self.inodes: list[tuple[int, int]] = []
        self.listings: list[tuple[int, int]] = []
        self.pieces: list[tuple[int, int]] = []
        # inode number -> the reference of the inode that has it; id table indexes used
        self.numbers: dict[int, int] = {}
        self.ids: set[int] = set()
        # xattr id table indexes used; (start, end) of the xattr key/value blocks, if any
        self.xattrs: set[int] = set()
        self.kv: tuple[int, int] | None = None

    @classmethod
    def of(cls, meta: Metadata, sb: Super) -> Layout:
        found: list[str] = []
        regions: list[tuple[int, int, str]] = [(0, SUPER.size, "the superblock")]
        if sb.flags & COMP_OPT:
            regions.append(_options(meta, sb, found))
        layout = cls(sb, regions, found)
        layout.kv = _indexed(meta, sb, regions, layout.indexed)
        return layout

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

    found: Notes
    slack: tuple[tuple[int, int], ...]
    fragment_ends: dict[int, int]

    def field_value(self) -> str:
        return self.found.value()


def account(
    layout: Layout,
    data: Data,
    inodes: Table,
    dirs: Table,
    members: Sequence[Member],
    ctx: WalkContext,
) -> Accounted:
    """Every referenced range of the image and of its tables, and what lies outside them.
    `members` name the files around a gap in a fragment block (only then looked at)."""
    found = Notes(layout.found)
    regions = list(layout.regions)
    for start, words, path in layout.files:
        length = sum(w & ~DATA_UNCOMPRESSED for w in words)
        if length:
            regions.append((start, start + length, f"data blocks of /{path}"))
    ends = _fragments(layout, data, regions, found, members)
    regions.append((inodes.start, inodes.finish(), "the inode table"))
    regions.append((dirs.start, dirs.finish(), "the directory table"))
    _records(inodes, layout.inodes, "inode table", "inode", found)
    _records(dirs, layout.listings, "directory table", "directory listing", found)
    slack = _gaps(regions, layout.sb.bytes_used, found)
    _numbers(layout, found)
    # after _gaps: the tables' blocks are known apart, each is decoded once
    meta = data.fragments.meta
    lists = None
    if layout.kv is not None:
        table = Table(meta, *layout.kv, ctx, "xattr")
        table.finish()
        lists = _Lists(table)
    _entries(layout, meta, ctx, ends, found, lists)
    if lists is not None:
        lists.note(found)
    return Accounted(found, slack, ends)


def _numbers(layout: Layout, found: Notes) -> None:
    """Inode numbers run 1..inodes, one per inode (squashfs.py refuses two inodes of one
    number): the export table and NFS file handles name inodes by them."""
    count = layout.sb.inodes
    wrong = _Wrong(f"inode numbers outside 1..{count}")
    for number, ref in layout.numbers.items():
        if not 1 <= number <= count:
            wrong.add(f"{number} (the inode at {ref >> 16:#x}:{ref & 0xFFFF:#x})")
    wrong.note("inode table", found)
    if len(layout.numbers) != count:
        found.append(f"the superblock counts {count} inodes, the tree has {len(layout.numbers)}")


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
    found: Notes | list[str],
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
        found.extend(_piece_gaps(layout, gaps, members))
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
    meta: Metadata,
    sb: Super,
    regions: list[tuple[int, int, str]],
    indexed: list[tuple[str, list[int], int, int]],
) -> tuple[int, int] | None:
    """The tables read through an index of u64 block positions: blocks, then the index, placed
    by their headers (their contents: `_entries`, once every region is known); where the xattr
    key/value blocks lie."""
    kv = None
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
            kv = (kv_start, _chain(meta, kv_start, first[0]))
            regions.append((*kv, "the xattr table"))
    for what, start, count, entry in tables:
        blocks = meta.index(start, count, entry) if count else []
        regions.append((start, start + 8 * len(blocks), f"the {what} index"))
        for pos in blocks:
            regions.append((pos, _header_end(meta, pos), f"the {what}"))
        indexed.append((what, blocks, count, entry))
    return kv


class _Wrong:
    """Entries of one table failing one check: counted, the first few named (one finding per
    table and check, not one per entry: 65,536 unused ids would bury every other finding)."""

    __slots__ = ("why", "count", "named")

    def __init__(self, why: str) -> None:
        self.why = why
        self.count = 0
        self.named: list[str] = []

    def add(self, entry: str) -> None:
        self.count += 1
        if len(self.named) < SHOWN_ENTRIES:
            self.named.append(entry)

    def note(self, what: str, found: Notes) -> None:
        if self.count:
            more = ", ..." if self.count > len(self.named) else ""
            found.append(f"{what}: {self.why} ({self.count}): {', '.join(self.named)}{more}")


def _entries(
    layout: Layout,
    meta: Metadata,
    ctx: WalkContext,
    ends: dict[int, int],
    found: Notes,
    lists: _Lists | None = None,
) -> None:
    """Every block of the indexed tables decoded, in order: bytes after a block's compressed
    stream refuse the image there (squashfs_data.HiddenBytes). The kernel finds entry i in
    block i * size // 8 KiB at offset i * size % 8 KiB (squashfs_fs.h SQUASHFS_ID_BLOCK and
    the like), so every block but the last must decode to 8 KiB, the last to the rest;
    otherwise its reading and this one's differ, and the entries past it are not checked."""
    total = sum(count * entry for _, _, count, entry in layout.indexed)
    if total > MAX_TABLE:
        raise LimitExceeded(f"squashfs indexed tables of {total} bytes (> {MAX_TABLE})")
    decoded = consumed = 0
    for what, blocks, count, entry in layout.indexed:
        checks = _checks(what, layout, ends, lists)
        for i, pos in enumerate(blocks):
            raw, end = meta.block(pos)
            decoded += len(raw)
            consumed += end - pos
            ctx.check_ratio(decoded, consumed, f"squashfs {what}")
            want = min(META_SIZE, count * entry - i * META_SIZE)
            if len(raw) != want:
                last = i == len(blocks) - 1
                found.append(
                    f"{what}: {'last ' if last else ''}metadata block at {pos:#x} holds "
                    f"{len(raw)} bytes, {'its entries' if last else 'not'} {want}"
                )
                checks = []
            for check, wrong in checks:
                check(raw, i * META_SIZE // entry, wrong)
        for _, wrong in checks:
            wrong.note(what, found)


Check = Callable[[bytes, int, _Wrong], None]  # a block's bytes, the index of its first entry


def _checks(
    what: str, layout: Layout, ends: dict[int, int], lists: _Lists | None
) -> list[tuple[Check, _Wrong]]:
    """The checks of one indexed table's entries, each with what it finds wrong."""
    if what == "fragment table":
        return [
            (_fragment_unused, _Wrong("entries with a non-zero unused field")),
            (partial(_fragment_used, ends), _Wrong("entries no file uses")),
        ]
    if what == "id table":
        return [(partial(_id_used, layout.ids), _Wrong("ids no inode uses"))]
    if what == "export table":
        why = "entries not the reference of the inode numbered one more"
        return [(partial(_exported, layout.numbers), _Wrong(why))]
    if what == "xattr id table":
        checks: list[tuple[Check, _Wrong]] = [
            (partial(_xattr_used, layout.xattrs), _Wrong("ids no inode uses"))
        ]
        if lists is not None:
            why = "entries whose size is not their key/value list's"
            checks.append((lists.reach, _Wrong(why)))
        return checks
    return []


# Each check first compares the whole block at C speed (an honest block passes there), then
# names the entries that fail.


def _fragment_unused(raw: bytes, first: int, wrong: _Wrong) -> None:
    unused = struct.unpack(f"<{len(raw) // 4}I", raw)[3::4]  # start (2 words), size, unused
    if any(unused):  # mksquashfs and the kernel write 0
        for j, word in enumerate(unused, first):
            if word:
                wrong.add(f"{j} ({word:#x})")


def _fragment_used(ends: dict[int, int], raw: bytes, first: int, wrong: _Wrong) -> None:
    # mksquashfs writes a fragment block once a file's piece is in it
    for j in sorted(set(range(first, first + len(raw) // _FRAGMENT.size)).difference(ends)):
        wrong.add(str(j))


def _id_used(ids: set[int], raw: bytes, first: int, wrong: _Wrong) -> None:
    # mksquashfs adds an id to the table when an inode takes it
    for j in sorted(set(range(first, first + len(raw) // _U32.size)).difference(ids)):
        wrong.add(f"{j} ({_U32.unpack_from(raw, (j - first) * _U32.size)[0]})")


def _exported(numbers: dict[int, int], raw: bytes, first: int, wrong: _Wrong) -> None:
    refs = struct.unpack(f"<{len(raw) // 8}Q", raw)
    want = tuple(map(numbers.get, range(first + 1, first + 1 + len(refs))))
    if refs != want:
        for j, (ref, inode) in enumerate(zip(refs, want, strict=True), first):
            if ref != inode:
                wrong.add(f"{j} ({ref:#x})")


def _xattr_used(used: set[int], raw: bytes, first: int, wrong: _Wrong) -> None:
    # mksquashfs adds an xattr id when an inode takes its list
    for j in sorted(set(range(first, first + len(raw) // _XATTR_ID.size)).difference(used)):
        ref, count, size = _XATTR_ID.unpack_from(raw, (j - first) * _XATTR_ID.size)
        wrong.add(f"{j} ({ref >> 16:#x}:{ref & 0xFFFF:#x}, {count} xattrs, {size} bytes)")


class _Lists:
    """The xattr key/value table decoded, and what the xattr ids reach of it: each id's list of
    `count` entries (u16 type, u16 name size, name, u32 value size, value), and the value an
    out-of-line entry's 8-byte value points at (mksquashfs writes a long value that several
    lists share once, as a record of its own, and points them at it: xattr.c). mksquashfs
    writes each distinct list once, back to back, so lists and shared values tile the table.
    An id's `size` is what listxattr and getxattr give of its list: each prefixed name with its
    NUL, and each value (the one an out-of-line entry points at)."""

    __slots__ = ("table", "runs", "spans", "budget")

    def __init__(self, table: Table) -> None:
        self.table = table
        self.runs: list[tuple[int, int]] = []  # lists and the values they point at
        # (ref, count) -> (start, end, size) of each list parsed
        self.spans: dict[tuple[int, int], tuple[int, int, int]] = {}
        # honest lists do not overlap, so they hold at most one 8-byte entry head per 8 bytes:
        # ids pointing into each other's lists cost no more than that
        self.budget = len(table.buf) // 8 + 1

    def _at(self, ref: int) -> int:
        return self.table.pos(ref >> 16, ref & 0xFFFF)

    def _u32(self, at: int) -> int:
        buf = self.table.buf
        if at + 4 > len(buf):
            raise CorruptContainer(f"squashfs: xattr table: an entry runs past its end ({at:#x})")
        return int(_U32.unpack_from(buf, at)[0])

    def reach(self, raw: bytes, first: int, wrong: _Wrong) -> None:
        for j, (ref, count, size) in enumerate(_XATTR_ID.iter_unpack(raw), first):
            span = self.spans.get((ref, count))
            if span is None:
                span = self.spans[ref, count] = self._parse(ref, count)
            if span[2] != size:
                wrong.add(f"{j} ({size}, the list holds {span[2]})")

    def _parse(self, ref: int, count: int) -> tuple[int, int, int]:
        self.budget -= count
        if self.budget < 0:
            raise CorruptContainer("squashfs: xattr id lists overlap (more entries than fit)")
        buf = self.table.buf
        start = at = self._at(ref)
        size = 0
        for _ in range(count):
            head = self._u32(at)
            typ, nlen = head & 0xFFFF, head >> 16
            vlen = self._u32(at + 4 + nlen)
            value = at + 8 + nlen
            at = value + vlen
            if at > len(buf):
                raise CorruptContainer(
                    f"squashfs: xattr table: a value runs past its end ({at:#x})"
                )
            if typ & XATTR_VALUE_OOL:
                if vlen != 8:
                    raise CorruptContainer(f"squashfs: out-of-line xattr reference of {vlen} bytes")
                q = self._at(_U64.unpack_from(buf, value)[0])
                vlen = self._u32(q)
                self.runs.append((q, q + 4 + vlen))
            # what listxattr and getxattr return: the full name, its NUL, the value
            size += len(XATTR_PREFIXES.get(typ & 0xFF, "")) + nlen + 1 + vlen
        self.runs.append((start, at))
        return start, at, size

    def note(self, found: Notes) -> None:
        """Lists running into the next one, and bytes no list or value covers."""
        wrong = _Wrong("lists running into the next")
        spans = sorted(set(self.spans.values()))
        for (start, end, _), (following, _, _) in zip(spans, spans[1:], strict=False):
            if start < following < end:
                wrong.add(f"{start:#x}..{end:#x} into {following:#x}")
        wrong.note("xattr table", found)
        if self.table.buf:
            _records(self.table, self.runs, "xattr table", "key/value list", found)


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


def _records(
    table: Table, runs: list[tuple[int, int]], what: str, record: str, found: Notes
) -> None:
    """Decompressed bytes of a table outside every record: mksquashfs packs them."""
    # (position in the buffer, block offset) of every block, sorted once: a finding's block is
    # looked up by bisection, so a hostile table of many gaps costs n log n, not n * blocks
    blocks = sorted((p, b) for b, p in table.at.items())
    cursor = 0
    for start, end in sorted(runs):
        if start > cursor and end > start:
            where = f"before the {record} at {start:#x}"
            found.append(_in_table(table, blocks, what, cursor, start, where))
        cursor = max(cursor, end)
    if cursor < len(table.buf):
        where = f"after the last {record}"
        found.append(_in_table(table, blocks, what, cursor, len(table.buf), where))
    elif cursor > len(table.buf):
        raise CorruptContainer(f"squashfs: {what}: a {record} runs past the table's end")


def _in_table(
    table: Table, blocks: list[tuple[int, int]], what: str, lo: int, hi: int, where: str
) -> str:
    i = bisect_right(blocks, (lo, 1 << 62)) - 1
    at, block = blocks[max(i, 0)]
    # the bytes' digest too: they are in no image range that slack compares, and two payloads
    # of one size at one place must not read alike
    digest = hashlib.sha256(table.buf[lo:hi]).hexdigest()[:16]
    return (
        f"{what}: {hi - lo} decompressed bytes {where}, in the metadata block at "
        f"{table.start + block:#x} from offset {lo - at:#x} (sha256 {digest})"
    )


def _gaps(
    regions: list[tuple[int, int, str]], end: int, found: Notes
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
