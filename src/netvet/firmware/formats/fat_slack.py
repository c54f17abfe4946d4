"""The bytes of a FAT volume's data area that no member shows: where data can hide.

Every cluster is accounted: the clusters a file's size needs (its last one past the size is a
tail), the clusters its chain holds beyond that, directory clusters (bytes after the 0x00
end-of-directory entry, deleted 0xE5 entries), clusters marked used that no entry reaches (lost
chains), bad clusters and free ones. All but the members' content are returned as slack, which
the comparison requires to be equal on both sides or zero on both; mkfs.fat + mcopy leave them
zero. Structural oddities honest tools do not write (a chain past its file's size, lost or bad
clusters, deleted entries, long-name entries with stray bytes) are returned as notes naming
where they are, and so are non-zero tails and directory slack, which are read here anyway
(they are small); free clusters can be most of the volume and are only streamed by the
comparison, located by offset.

The walk mirrors what dissect lists (fat.py): a run of long-name entries (attribute exactly
0x0F) is followed by the short entry it names whatever its first byte; volume-label entries and
the dot entries are no members, so clusters they point at are unreached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import BinaryIO

from dissect.fat.fat import FATFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges
from netvet.firmware.formats.fat_table import FIRST, FREE, Table

ENTRY = 32
LFN, VOLUME, DIRECTORY = 0x0F, 0x08, 0x10
END, DELETED = 0x00, 0xE5


@dataclass
class Accounting:
    """What fat_slack found: slack ranges (absolute, unsorted) and located notes."""

    slack: Ranges = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Volume:
    def __init__(self, fs: FATFS, stream: BinaryIO, table: Table) -> None:
        self.fs, self.stream, self.table = fs, stream, table
        self.cs = fs.cluster_size
        self.data = fs.first_data_sector * fs.sector_size
        self.owned = bytearray(table.last + 1)
        self.out = Accounting()

    def at(self, cluster: int) -> int:
        return self.data + (cluster - FIRST) * self.cs

    def read(self, at: int, n: int) -> bytes:
        self.stream.seek(at)
        data = self.stream.read(n)
        if len(data) != n:
            raise CorruptContainer(f"fat: {n} bytes at {at:#x} run past the image")
        return data

    def own(self, clusters: list[int], what: str) -> None:
        for c in clusters:
            if self.owned[c]:
                raise CorruptContainer(f"fat: cluster {c} of {what} belongs to another chain too")
            self.owned[c] = 1

    def note(self, text: str) -> None:
        self.out.notes.append(text)

    def slack(self, at: int, n: int, what: str) -> None:
        """A slack range; named in the notes when it is not zero (callers pass small ones)."""
        if n <= 0:
            return
        self.out.slack.append((at, n))
        data = self.read(at, n)
        if data.count(0) != n:
            first = n - len(data.lstrip(b"\0"))
            self.note(f"{what}: {n} bytes at {at:#x} not zero (first at {at + first:#x})")


def account(fs: FATFS, stream: BinaryIO, table: Table) -> Accounting:
    vol = _Volume(fs, stream, table)
    start = (fs.bpb.BPB_RsvdSecCnt + fs.fat_size * fs.bpb.BPB_NumFATs) * fs.sector_size
    fixed = fs.bpb.BPB_RootEntCnt * ENTRY  # the fixed root-directory region FAT12/16 use
    if fs.type.name == "FAT32":
        root = table.chain(fs.bpb_ext.BPB_RootClus, "the root directory")
        vol.own(root, "the root directory")
        spans = [(vol.at(c), vol.cs) for c in root]
        if fixed:
            # FAT32 keeps its root in clusters and requires a zero count; the region the count
            # still reserves before the data area is read by no one
            vol.note(f"FAT32 boot sector reserves {fs.bpb.BPB_RootEntCnt} root entries")
        fixed = 0
    else:
        spans = [(start, fixed)]
    # on FAT32 the whole region; on FAT12/16 nothing while dissect requires the count to fill
    # whole sectors, but the data area is where the region ends, whatever the count says
    vol.slack(start + fixed, vol.data - start - fixed, "after the fixed root-directory region")
    stack: list[tuple[str, list[tuple[int, int]]]] = [("", spans)]
    while stack:
        path, spans = stack.pop()
        stack += _directory(vol, path, spans)
    _clusters(vol)
    end, total = vol.at(table.last + 1), fs.total_sectors * fs.sector_size
    vol.slack(end, total - end, "sectors after the last cluster")
    return vol.out


def _directory(
    vol: _Volume, path: str, spans: list[tuple[int, int]]
) -> list[tuple[str, list[tuple[int, int]]]]:
    """Account one directory's entries, read span by span; the subdirectories to visit next."""
    where = f"/{path}" if path else "the root directory"
    subdirs: list[tuple[str, Ranges]] = []
    lfn: list[tuple[int, bytes]] = []  # (offset, entry) of the long-name run being read
    for n, (base, length) in enumerate(spans):
        data = vol.read(base, length)
        for i in range(0, length - ENTRY + 1, ENTRY):
            raw, at = data[i : i + ENTRY], base + i
            if raw[11] == LFN and (lfn or raw[0] not in (END, DELETED)):
                lfn.append((at, raw))
                continue
            if not lfn and raw[0] == END:
                for a, k in [(at, length - i), *spans[n + 1 :]]:
                    vol.slack(a, k, f"after the end-of-directory entry of {where}")
                return subdirs
            if not lfn and raw[0] == DELETED:
                vol.out.slack.append((at, ENTRY))
                vol.note(f"deleted entry in {where} at {at:#x}")
                continue
            name = _long_name(vol, lfn, raw, where) if lfn else _short_name(raw)
            lfn = []
            sub = _entry(vol, f"{path}/{name}" if path else name, raw, at)
            if sub is not None:
                subdirs.append(sub)
    if lfn:
        # long-name entries at the very end name no entry: dissect skips them unread
        for at, _ in lfn:
            vol.out.slack.append((at, ENTRY))
        vol.note(f"{len(lfn)} long-name entries in {where} at {lfn[0][0]:#x} name no entry")
    return subdirs


def _entry(vol: _Volume, path: str, raw: bytes, at: int) -> tuple[str, Ranges] | None:
    attr = raw[11]
    cluster = int.from_bytes(raw[20:22], "little") << 16 | int.from_bytes(raw[26:28], "little")
    size = int.from_bytes(raw[28:32], "little")
    if attr & VOLUME:
        if cluster or size:
            vol.note(f"volume-label entry at {at:#x} points at cluster {cluster} ({size} bytes)")
        return None
    if path.rsplit("/", 1)[-1] in (".", ".."):
        return None
    if attr & DIRECTORY:
        if cluster == 0:
            return None
        chain = vol.table.chain(cluster, f"/{path}")
        vol.own(chain, f"/{path}")
        return path, [(vol.at(c), vol.cs) for c in chain]
    if cluster == 0:
        return None  # fat.py refuses a file with bytes but no cluster
    chain = vol.table.chain(cluster, f"/{path}")
    vol.own(chain, f"/{path}")
    need = (size + vol.cs - 1) // vol.cs
    if len(chain) < need:
        raise CorruptContainer(f"fat: /{path}: {len(chain)} clusters hold less than {size} bytes")
    if size % vol.cs:
        used = size % vol.cs
        last = vol.at(chain[need - 1])
        vol.slack(last + used, vol.cs - used, f"tail of /{path} past its {size} bytes")
    extra = chain[need:]
    if extra:
        for c in extra:
            vol.out.slack.append((vol.at(c), vol.cs))
        vol.note(f"chain of /{path} holds {len(extra)} clusters past its size (from {extra[0]})")
    return None


def _short_name(raw: bytes) -> str:
    name = bytearray(raw[:11])
    if name[0] == 0x05:
        name[0] = DELETED
    base = name[:8].decode("cp437").rstrip("\x00").rstrip()
    ext = name[8:].decode("cp437").rstrip("\x00").rstrip()
    return f"{base}.{ext}" if ext else base


def _checksum(short: bytes) -> int:
    total = 0
    for b in short:
        total = ((total >> 1) | (total << 7 & 0x80)) + b & 0xFF
    return total


def _long_name(vol: _Volume, lfn: list[tuple[int, bytes]], raw: bytes, where: str) -> str:
    """The long name as dissect reads it (UTF-16 up to the first NUL); stray bytes in the
    entries (padding after the NUL other than 0xFFFF, a cluster or type field, a checksum not
    of the short entry) are noted: nothing reads them."""
    parts = []
    total = _checksum(raw[:11])
    for at, e in lfn:
        parts.append((e[0] & 0x3F, e[1:11] + e[14:26] + e[28:32]))
        if e[12] or e[26:28] != b"\0\0" or e[13] != total:
            vol.note(f"long-name entry in {where} at {at:#x}: stray type/cluster/sum")
    chars = b"".join(p for _, p in sorted(parts))
    text = chars.decode("utf-16-le", "surrogatepass")
    cut = text.find("\0")
    if cut >= 0:
        pad = chars[2 * cut + 2 :]
        if pad.count(0xFF) != len(pad):
            vol.note(f"long name in {where} ending at {lfn[-1][0]:#x}: padding not 0xFFFF")
        text = text[:cut]
    return text


def _clusters(vol: _Volume) -> None:
    """Free, lost (used but unreached) and bad clusters as slack, runs merged. The runs are
    found and checked by C-level scans: they can be millions of clusters."""
    table, entries = vol.table, vol.table.entries
    lost: list[int] = []
    bad: list[int] = []
    for run in re.finditer(rb"\0+", vol.owned):
        a, b = max(run.start(), FIRST), run.end()
        if a >= b:
            continue
        vol.out.slack.append((vol.at(a), (b - a) * vol.cs))
        if entries[a:b].count(FREE) != b - a:
            for c in range(a, b):
                if entries[c] != FREE:
                    (bad if entries[c] == table.bad else lost).append(c)
    if lost:
        vol.note(f"{len(lost)} clusters marked used reach no entry (first: {lost[0]})")
    if bad:
        vol.note(f"{len(bad)} clusters marked bad (first: {bad[0]})")
