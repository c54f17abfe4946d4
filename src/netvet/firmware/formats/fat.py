"""FAT12/16/32 volumes, listed through dissect.fat.

FAT has no unix modes or owners: members carry Meta(mode=None). dissect follows cluster chains
without a bound, so a chain that loops (a cluster pointing back into its own chain) would never
end; `_BoundedFAT` replaces the table reader with one that stops at the first repeated cluster.

dissect shows the members only. What else the volume holds is accounted by fat_boot (boot code,
reserved sectors, FSInfo), fat_table (every FAT copy) and fat_slack (every cluster, directory
slack): anything no member shows is slack or a STRICT `unaccounted` note (tests/fixtures/slack
/FAT.md says what honest images hold).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import BinaryIO

from dissect.fat.exceptions import InvalidBPB
from dissect.fat.fat import FAT, FATFS, DirectoryEntry, RootDirectory

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import guarded_opener, list_tree, parser_errors
from netvet.firmware.formats._notes import unaccounted
from netvet.firmware.formats._ranges import merge
from netvet.firmware.formats.fat_boot import boot_area
from netvet.firmware.formats.fat_slack import account
from netvet.firmware.formats.fat_table import Table
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule


class _BoundedFAT(FAT):
    """dissect's FAT reader whose chains end with an error at the first repeated cluster."""

    def chain(self, cluster: int) -> Iterator[int]:
        seen: set[int] = set()
        for link in super().chain(cluster):
            if link in seen:
                raise CorruptContainer(f"fat: cluster chain loops at cluster {link}")
            seen.add(link)
            yield link


def _children(node: DirectoryEntry) -> Iterator[tuple[str, DirectoryEntry]]:
    if not node.is_directory():
        return
    for entry in node.iterdir():
        if entry.is_volume_id() or entry.name in (".", ".."):
            continue
        yield entry.name, entry


def _dir_key(node: DirectoryEntry) -> int | None:
    if isinstance(node, RootDirectory):
        return -1
    return node.cluster if node.is_directory() else None


def _mtime(entry: DirectoryEntry) -> int | None:
    try:
        stamp = entry.mtime
    except (ValueError, OverflowError):  # a date FAT can encode but datetime cannot
        return None
    return int(stamp.replace(tzinfo=datetime.UTC).timestamp())


def _label_entry(fs: FATFS) -> str:
    """The volume label as the root directory's label entry states it (may differ from BPB)."""
    for entry in fs.root.iterdir():
        if entry.is_volume_id() and not entry.is_directory():
            return bytes(entry.dirent.DIR_Name).decode(fs.encoding).rstrip()
    return ""


def _fields(fs: FATFS) -> tuple[Field, ...]:
    bpb = fs.bpb
    return (
        Field("volume_label", fs.volume_label, Rule.STRICT),
        Field("volume_label_entry", _label_entry(fs), Rule.STRICT),
        Field("volume_id", fs.volume_id, Rule.RANDOM_ID),
        Field("fat_type", fs.type.name, Rule.LAYOUT),
        Field("oem_name", bytes(bpb.BS_OEMName).decode("latin-1"), Rule.LAYOUT),
        Field("bytes_per_sector", str(bpb.BPB_BytsPerSec), Rule.LAYOUT),
        Field("sectors_per_cluster", str(bpb.BPB_SecPerClus), Rule.LAYOUT),
        Field("reserved_sectors", str(bpb.BPB_RsvdSecCnt), Rule.LAYOUT),
        Field("fats", str(bpb.BPB_NumFATs), Rule.LAYOUT),
        Field("root_entries", str(bpb.BPB_RootEntCnt), Rule.LAYOUT),
        Field("total_sectors", str(fs.total_sectors), Rule.LAYOUT),
        Field("media", f"{bpb.BPB_Media:#x}", Rule.LAYOUT),
    )


def _accounted(
    fs: FATFS, stream: BinaryIO, fields: tuple[Field, ...]
) -> tuple[tuple[Field, ...], list[tuple[int, int]]]:
    """The header fields with the boot area's and what no member accounts for; the slack."""
    boot, slack, notes = boot_area(fs, stream)
    table = Table(fs, stream)
    found = account(fs, stream, table)
    notes += table.notes + found.notes
    return fields + boot + (unaccounted(notes),), merge(slack + found.slack)


class FatFormat:
    name = "fat"

    def probe(self, head: bytes, size: int) -> bool:
        # boot sector signature plus a jump instruction; the BPB check in list() decides
        return (
            len(head) >= 512
            and head[510:512] == b"\x55\xaa"
            and (head[0] == 0xE9 or (head[0] == 0xEB and head[2] == 0x90))
        )

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name):
            fs = self._open(stream, size)
            members = list_tree(fs.root, _children, _dir_key, self._member, ctx, self.name, size)
            fields, slack = _accounted(fs, stream, _fields(fs))
        ctx.keep(stream)
        end = fs.total_sectors * fs.sector_size
        return Listing(
            format=self.name,
            members=members,
            fields=fields,
            trailing=(end, size - end) if size > end else None,
            slack=tuple(slack),
        )

    def _open(self, stream: BinaryIO, size: int) -> FATFS:
        try:
            fs = FATFS(stream)
        except InvalidBPB as exc:
            raise NotThisFormat(f"fat: {exc}") from exc
        if fs.fat_size == 0 or fs.first_data_sector * fs.sector_size > size:
            raise NotThisFormat("fat: implausible boot sector")
        if fs.total_sectors * fs.sector_size > size:
            raise CorruptContainer(
                f"fat: truncated ({size} of {fs.total_sectors * fs.sector_size} bytes)"
            )
        fs.fat = _BoundedFAT(fs.fat.fh, fs.type)
        return fs

    def _member(self, path: str, node: DirectoryEntry) -> Member:
        assert isinstance(node, DirectoryEntry)
        meta = Meta(mtime=_mtime(node))
        if node.is_directory():
            return Member(path, Kind.DIR, meta)
        if node.dirent.DIR_FileSize and node.cluster < 2:
            raise CorruptContainer(f"fat: {path!r} has data but no first cluster")
        opener = guarded_opener(node.open, f"{self.name}: {path}")
        return Member(path, Kind.FILE, meta, size=node.size, opener=opener)


FORMAT = FatFormat()
