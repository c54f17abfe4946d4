"""The reserved area of a FAT volume: boot sector code, the FAT32 FSInfo and backup sectors.

The boot sector's jump and code (bytes 0-2 and 62-509, or 90-509 on FAT32) run before any
operating system: they are compared strictly, as a digest. mkfs.fat writes the same stub ("This
is not a bootable disk") on every build, and mcopy leaves it alone. The BPB bytes no other
field shows are fields too: the file-system type string strictly, the drive geometry as layout.

On FAT32, sector 1 holds FSInfo and sector 6 a backup of the boot sector followed by a backup of
FSInfo (Microsoft's FAT specification, mkfs.fat). FSInfo's free-cluster count and next-free hint
are derived from the FAT and go stale (mcopy updates the primary only): layout. Its reserved
bytes are zero and its signatures fixed; the backup boot sector equals sector 0; the backup
FSInfo equals FSInfo but for the two hints, or is all zero (mformat writes none). Every other
reserved sector is returned as slack (zero as mkfs.fat leaves it), like the bytes of sector 0
past 512 on bigger sectors.
"""

from __future__ import annotations

import hashlib
import struct
from typing import BinaryIO

from dissect.fat.fat import FATFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._ranges import Ranges
from netvet.firmware.model import Field, Rule

BOOT = 512
FSINFO_SIGS = ((0, 0x41615252), (484, 0x61417272), (508, 0xAA550000))
FSINFO_ZERO = ((4, 484), (496, 508))
FSINFO_HINTS = (488, 496)


def boot_area(fs: FATFS, stream: BinaryIO) -> tuple[tuple[Field, ...], Ranges, list[str]]:
    """Fields of the boot sector and FSInfo, slack ranges and notes of the reserved area."""
    ss, reserved = fs.sector_size, fs.bpb.BPB_RsvdSecCnt
    stream.seek(0)
    area = stream.read(reserved * ss)
    if len(area) != reserved * ss:
        raise CorruptContainer("fat: the reserved sectors run past the image")
    fat32 = fs.type.name == "FAT32"
    boot = area[:BOOT]
    code = boot[:3] + boot[90 if fat32 else 62 : 510]
    ext = 64 if fat32 else 36  # where the FAT12/16 or FAT32 extended BPB starts
    drive, zero, sig = boot[ext], boot[ext + 1], boot[ext + 2]
    fields = [
        Field("boot_code", hashlib.sha256(code).hexdigest(), Rule.STRICT),
        Field("fs_type_string", boot[ext + 18 : ext + 26].decode("latin-1"), Rule.STRICT),
        Field(
            "boot_geometry",
            f"sectors/track={struct.unpack_from('<H', boot, 24)[0]} "
            f"heads={struct.unpack_from('<H', boot, 26)[0]} "
            f"hidden={struct.unpack_from('<I', boot, 28)[0]} drive={drive:#x} boot_sig={sig:#x}",
            Rule.LAYOUT,
        ),
    ]
    notes = []
    if zero:
        notes.append(f"boot sector byte {ext + 1} (reserved) is {zero:#x}")
    if fat32 and boot[52:64].count(0) != 12:
        notes.append("boot sector bytes 52-63 (FAT32 reserved) are not zero")
    special = {0}
    slack: Ranges = [(BOOT, ss - BOOT)] if ss > BOOT else []
    if fat32:
        info, backup = struct.unpack_from("<HH", boot, 48)
        special.add(info)
        if 0 < backup < reserved:
            # BkBootSec 0 means no backup: sector 1 is then not exempt on its account
            special |= {backup, backup + 1}
        fields += _fsinfo(area, ss, info, backup, notes)
        if 0 < backup < reserved and area[backup * ss : backup * ss + ss] != area[:ss]:
            notes.append(f"backup boot sector {backup} differs from sector 0")
    for n in range(1, reserved):
        if n not in special:
            slack.append((n * ss, ss))
            if area[n * ss : n * ss + ss].count(0) != ss:
                notes.append(f"reserved sector {n} at {n * ss:#x} is not zero")
    return tuple(fields), slack, notes


def _fsinfo(area: bytes, ss: int, info: int, backup: int, notes: list[str]) -> list[Field]:
    if not 0 < info < len(area) // ss:
        notes.append(f"FSInfo sector number {info} is outside the reserved sectors")
        return [Field("fsinfo", "none", Rule.LAYOUT)]
    sector = area[info * ss : info * ss + ss]
    for at, sig in FSINFO_SIGS:
        if struct.unpack_from("<I", sector, at)[0] != sig:
            notes.append(f"FSInfo signature at byte {at} is not {sig:#x}")
    for a, b in FSINFO_ZERO:
        if sector[a:b].count(0) != b - a:
            notes.append(f"FSInfo reserved bytes {a}-{b - 1} at {info * ss + a:#x} are not zero")
    if sector[BOOT:].count(0) != ss - BOOT:
        notes.append(f"FSInfo sector bytes past 512 at {info * ss + BOOT:#x} are not zero")
    a, b = FSINFO_HINTS
    spare = backup + 1
    if backup > 0 and spare < len(area) // ss:
        copy = area[spare * ss : spare * ss + ss]
        same = copy[:a] + copy[b:] == sector[:a] + sector[b:]
        if not same and copy.count(0) != ss:  # mformat writes no backup: zeros are fine
            notes.append(f"backup FSInfo sector {spare} differs from FSInfo beyond its hints")
    free, following = struct.unpack_from("<II", sector, FSINFO_HINTS[0])
    return [Field("fsinfo", f"free_clusters={free} next_free={following}", Rule.LAYOUT)]
