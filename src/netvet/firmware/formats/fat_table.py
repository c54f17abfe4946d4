"""The file allocation table of a FAT volume, decoded once for accounting its clusters.

dissect reads the first FAT entry by entry and never looks at the other copies. Every copy is
written alike by mkfs.fat and mtools (and by the kernel), so a second FAT that differs from the
first is unexplained: a tool reading that copy sees other files. The entries past the last data
cluster, up to the end of the FAT's last sector, are written zero, and so are the four reserved
high bits of each FAT32 entry (Microsoft's FAT specification, "FAT Data Structure").
"""

from __future__ import annotations

import sys
from array import array
from typing import BinaryIO

from dissect.fat.fat import FATFS

from netvet.firmware.errors import CorruptContainer

FREE = 0
FIRST = 2  # clusters 0 and 1 are the media byte and the clean-shutdown flags
_EOC = {12: 0xFF8, 16: 0xFFF8, 32: 0x0FFFFFF8}
_BAD = {12: 0xFF7, 16: 0xFFF7, 32: 0x0FFFFFF7}


class Table:
    """The first FAT's entries for clusters 0 .. last, the copies checked against it."""

    def __init__(self, fs: FATFS, stream: BinaryIO) -> None:
        self.bits = {"FAT12": 12, "FAT16": 16, "FAT32": 32}[fs.type.name]
        self.clusters = (fs.total_sectors - fs.first_data_sector) // fs.bpb.BPB_SecPerClus
        if self.clusters < 1:
            raise CorruptContainer("fat: no data clusters")
        self.last = self.clusters + 1  # the highest valid cluster number
        self.eoc, self.bad = _EOC[self.bits], _BAD[self.bits]
        length = fs.fat_size * fs.sector_size
        start = fs.bpb.BPB_RsvdSecCnt * fs.sector_size
        stream.seek(start)
        raw = stream.read(length)
        if len(raw) != length:
            raise CorruptContainer("fat: the allocation table runs past the image")
        if (self.last + 1) * self.bits > length * 8:
            raise CorruptContainer(f"fat: {self.clusters} clusters do not fit the FAT")
        self.entries = _decode(raw, self.bits, self.last + 1)
        self.notes: list[str] = []
        self._check_copies(stream, raw, start, fs.bpb.BPB_NumFATs)
        self._check_unused(raw)
        self._check_reserved(fs.bpb.BPB_Media)

    def _check_copies(self, stream: BinaryIO, first: bytes, start: int, copies: int) -> None:
        for n in range(1, copies):
            stream.seek(start + n * len(first))
            other = stream.read(len(first))
            if other != first:
                at = _first_difference(first, other)
                entry = at * 8 // self.bits
                self.notes.append(
                    f"FAT copy {n + 1} differs from the first at entry {entry} "
                    f"(offset {start + n * len(first) + at:#x})"
                )

    def _check_unused(self, raw: bytes) -> None:
        tail = raw[((self.last + 1) * self.bits + 7) // 8 :]
        if self.bits == 12 and (self.last + 1) % 2:  # the half byte after the last entry
            tail = bytes([raw[(self.last + 1) * 12 // 8] >> 4]) + tail
        if tail.count(0) != len(tail):
            self.notes.append(f"FAT entries past cluster {self.last} are not zero")
        # entry 0 is often written 0xFFFFFFF8 (mformat, Windows): its high bits are left alone
        if self.bits == 32 and max(raw[11 : (self.last + 1) * 4 : 4], default=0) >= 0x10:
            self.notes.append("FAT32 entries have their reserved high bits set")

    def _check_reserved(self, media: int) -> None:
        """Entry 0 repeats the media byte, entry 1 is end-of-chain but for the clean-shutdown
        and no-error flags (FAT16 bits 15-14, FAT32 bits 27-26): nothing else fits there."""
        ones = (1 << min(self.bits, 28)) - 1
        flags = {12: 0, 16: 0xC000, 32: 0x0C000000}[self.bits]
        first, second = self.entries[0] & ones, self.entries[1] & ones
        if first != ones & ~0xFF | media or second | flags != ones:
            self.notes.append(f"FAT entries 0 and 1 are {first:#x} and {second:#x}")

    def chain(self, first: int, what: str) -> list[int]:
        """The clusters of the chain from `first`; a loop, a free, bad or out-of-range link is
        a corrupt image (dissect would follow it or fail mid-read)."""
        out: list[int] = []
        seen: set[int] = set()
        cluster = first
        while True:
            if not FIRST <= cluster <= self.last:
                raise CorruptContainer(f"fat: {what}: cluster {cluster} out of range")
            if cluster in seen:
                raise CorruptContainer(f"fat: {what}: cluster chain loops at cluster {cluster}")
            seen.add(cluster)
            out.append(cluster)
            value = self.entries[cluster]
            if value >= self.eoc:
                return out
            if value in (FREE, self.bad):
                raise CorruptContainer(f"fat: {what}: chain reaches free or bad cluster {cluster}")
            cluster = value


def _first_difference(a: bytes, b: bytes) -> int:
    at = 0
    while at < len(b) and a[at : at + 4096] == b[at : at + 4096]:
        at += 4096
    while at < len(b) and a[at] == b[at]:
        at += 1
    return at


def _decode(raw: bytes, bits: int, count: int) -> array[int]:
    if bits in (16, 32):
        out = array("H" if bits == 16 else "I", raw[: bits // 8 * count])
        if sys.byteorder == "big":
            out.byteswap()
        if bits == 32 and max(raw[3 : 4 * count : 4], default=0) >= 0x10:
            return array("I", (v & 0x0FFFFFFF for v in out))
        return out
    out = array("H", bytes(2 * count))  # FAT12: two entries in three bytes, low nibble first
    for i in range(count):
        at = i + i // 2
        pair = raw[at] | raw[at + 1] << 8 if at + 1 < len(raw) else raw[at]
        out[i] = pair >> 4 if i & 1 else pair & 0xFFF
    return out
