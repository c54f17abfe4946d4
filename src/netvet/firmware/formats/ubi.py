"""UBI images: the members are the volumes, each read as its LEB-ordered data.

ubi-reader parses the erase-counter and volume-id headers, the volume table and which PEB holds
the newest copy of each LEB. It wants a file path and an erase-block size; `_StreamUbiFile` gives
it our stream instead, and the PEB size is found here from the spacing of CRC-valid EC headers.
Its LEB sorting allocates a list as long as the largest LEB number a header claims, so volumes
are assembled here from the (checked) LEB numbers, without copying: `MappingStream` maps each LEB
to its PEB's data area, unmapped LEBs read as erased flash (0xFF).

Build noise: erase counters are dropped, image_seq is a random id, which PEB holds which LEB is
layout. PEBs that are neither UBI nor erased, UBI blocks of volumes missing from the volume
table, and UBI blocks with data where nothing is stored (between the headers, after the volume
table, after a static LEB's data, in a block with no volume header) can hide data: they are
counted in strict fields.
"""

from __future__ import annotations

import io
import zlib
from collections import Counter
from functools import partial
from typing import Any, BinaryIO

from dissect.util.stream import MappingStream
from ubireader.ubi import ubi
from ubireader.ubi_io import ubi_file

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats._fs import component, parser_errors, quiet_ubireader
from netvet.firmware.model import Field, Kind, Listing, Member, Rule
from netvet.firmware.streams import is_fill

MAGIC = b"UBI#"
EC_HDR = 64
SCAN_CHUNK = 1 << 20
MIN_PEB, MAX_PEB = 4096, 16 << 20
INTERNAL_VOL = 0x7FFFEFFF
STATIC = 2
VID_HDR = 64
VTBL_REC, MAX_VOLUMES = 172, 128


class _StreamUbiFile(ubi_file):
    """ubi-reader's image file over an already open stream (its own opens a path)."""

    def __init__(
        self, stream: BinaryIO, block_size: int, end: int
    ) -> None:  # replaces the path-opening one
        self.__name__ = "UBI_File"
        self.is_valid = True
        self._fhandle = stream  # type: ignore[assignment]
        self._start_offset = 0
        self._end_offset = end
        self._block_size = block_size
        self._last_read_addr = 0

    def close(self) -> None:
        """The stream belongs to the walk, not to ubi-reader."""


def _ec_valid(head: bytes) -> bool:
    """An EC header whose CRC (UBI's crc32 without final xor) matches."""
    if len(head) < EC_HDR or head[:4] != MAGIC:
        return False
    return (~zlib.crc32(head[:60]) & 0xFFFFFFFF) == int.from_bytes(head[60:64], "big")


def _ec_offsets(stream: BinaryIO, size: int) -> list[int]:
    """Offsets of CRC-valid EC headers on 512-byte boundaries (where PEBs can start)."""
    found = []
    pos = 0
    while pos < size:
        stream.seek(pos)
        chunk = stream.read(SCAN_CHUNK + EC_HDR)
        at = chunk.find(MAGIC)
        while 0 <= at < SCAN_CHUNK:
            if (pos + at) % 512 == 0 and _ec_valid(chunk[at : at + EC_HDR]):
                found.append(pos + at)
            at = chunk.find(MAGIC, at + 1)
        pos += SCAN_CHUNK
    return found


def _peb_size(offsets: list[int]) -> int:
    """The most common spacing of consecutive EC headers (ubi-reader's heuristic)."""
    if not offsets or offsets[0] != 0:
        raise NotThisFormat("ubi: no valid erase-counter header at offset 0")
    gaps = Counter(b - a for a, b in zip(offsets, offsets[1:], strict=False))
    if not gaps:
        raise CorruptContainer("ubi: a single erase block; cannot tell the erase-block size")
    peb = max(gaps.items(), key=lambda kv: (kv[1], -kv[0]))[0]
    if not MIN_PEB <= peb <= MAX_PEB or peb & (peb - 1):
        raise CorruptContainer(f"ubi: implausible erase-block size {peb}")
    return peb


def _foreign_pebs(stream: BinaryIO, size: int, peb: int, headers: set[int]) -> int:
    """Erase blocks that hold neither a UBI header nor erased flash: possible hidden data."""
    count = 0
    for start in range(0, size - size % peb, peb):
        if start in headers:
            continue
        stream.seek(start)
        if not is_fill(stream.read(peb)):
            count += 1
    return count


def _slack_pebs(stream: BinaryIO, image: Any, peb: int) -> int:
    """UBI erase blocks with data where UBI stores none; an equivalent rebuild leaves all of it
    erased (ubinize and the kernel write 0xFF there), while bytes there survive any reading."""
    count = 0
    for blk in image.blocks.values():
        ec, vid = blk.ec_hdr, blk.vid_hdr
        vid_at, data_at = ec.vid_hdr_offset, ec.data_offset
        if not EC_HDR <= vid_at <= data_at - VID_HDR or data_at > peb:
            count += 1
            continue
        spans = [(EC_HDR, vid_at)]
        if vid is None or vid.errors:  # no volume header: the rest of the block must be erased
            spans.append((vid_at, peb))
        else:
            spans.append((vid_at + VID_HDR, data_at))
            if vid.vol_id >= INTERNAL_VOL:  # the volume table: its records, then nothing
                records = min(MAX_VOLUMES, (peb - data_at) // VTBL_REC)
                spans.append((data_at + records * VTBL_REC, peb))
            elif vid.vol_type == STATIC:
                spans.append((data_at + vid.data_size, peb))
            else:
                spans.append((peb - vid.data_pad, peb))
        if any(not _erased(stream, blk.file_offset + a, b - a) for a, b in spans if b > a):
            count += 1
    return count


def _erased(stream: BinaryIO, offset: int, length: int) -> bool:
    stream.seek(offset)
    return is_fill(stream.read(length))


Run = tuple[int, int, BinaryIO, int]  # (volume offset, length, source stream, source offset)


def _volume_runs(
    image: Any, volume: Any, parent: BinaryIO, leb_size: int
) -> tuple[list[Run], int, int]:
    """Where each LEB of the volume lies (gaps as erased 0xFF); its size; how many LEBs mapped."""
    limit = volume.vol_rec.reserved_pebs
    by_leb = {}
    for blk in volume.get_blocks(image.blocks).values():
        if not 0 <= blk.leb_num < limit:
            raise CorruptContainer(f"ubi: LEB {blk.leb_num} beyond the volume's {limit} PEBs")
        by_leb[blk.leb_num] = blk
    if volume.vol_rec.vol_type == STATIC and by_leb:
        used = next(iter(by_leb.values())).vid_hdr.used_ebs
        if sorted(by_leb) != list(range(used)):
            raise CorruptContainer(f"ubi: static volume has LEBs {sorted(by_leb)} of {used}")
    erased = io.BytesIO(b"\xff" * leb_size)
    runs: list[Run] = []
    pos = 0
    for leb in range(max(by_leb) + 1 if by_leb else 0):
        blk = by_leb.get(leb)
        if blk is None:
            runs.append((pos, leb_size, erased, 0))
            pos += leb_size
            continue
        if volume.vol_rec.vol_type == STATIC:
            length = blk.vid_hdr.data_size
        else:
            length = blk.size - blk.ec_hdr.data_offset - blk.vid_hdr.data_pad
        if not 0 <= length <= leb_size:
            raise CorruptContainer(f"ubi: LEB {leb} claims {length} bytes")
        if length:
            runs.append((pos, length, parent, blk.file_offset + blk.ec_hdr.data_offset))
        pos += length
    return runs, pos, len(by_leb)


def _mapped(runs: list[Run], size: int) -> BinaryIO:
    """A fresh stream over the runs, with a position of its own."""
    stream = MappingStream(size)
    for run in runs:
        stream.add(*run)
    stream.size = size
    return stream


class UbiFormat:
    name = "ubi"

    def probe(self, head: bytes, size: int) -> bool:
        return _ec_valid(head[:EC_HDR])

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        with parser_errors(self.name), quiet_ubireader(self.name):
            offsets = _ec_offsets(stream, size)
            peb = _peb_size(offsets)
            end = size - size % peb
            if offsets[-1] >= end:
                raise CorruptContainer(f"ubi: the last erase block is cut short at {size} bytes")
            image = ubi(_StreamUbiFile(stream, peb, end))
            fields = [
                Field("peb_size", str(peb), Rule.LAYOUT),
                Field("leb_size", str(image.leb_size), Rule.LAYOUT),
                Field("min_io_size", str(image.min_io_size), Rule.LAYOUT),
                Field(
                    "foreign_pebs", str(_foreign_pebs(stream, size, peb, set(offsets))), Rule.STRICT
                ),
                Field("unassigned_pebs", str(self._unassigned(image)), Rule.STRICT),
                Field("slack_pebs", str(_slack_pebs(stream, image, peb)), Rule.STRICT),
            ]
            members = []
            for number, part in enumerate(image.images):
                prefix = f"image{number}/" if len(image.images) > 1 else ""
                fields.append(Field(f"{prefix}image_seq", str(part.image_seq), Rule.RANDOM_ID))
                for name, volume in sorted(part.volumes.items()):
                    ctx.check_time()
                    ctx.entry()
                    member, vol_fields = self._volume(image, volume, stream, prefix + name)
                    members.append(member)
                    fields.extend(vol_fields)
        ctx.keep(stream)
        return Listing(
            format=self.name,
            members=tuple(members),
            fields=tuple(fields),
            trailing=(end, size - end) if size > end else None,
        )

    @staticmethod
    def _unassigned(image: Any) -> int:
        """Valid data blocks of volumes that no volume table lists."""
        listed = {v.vol_id for part in image.images for v in part.volumes.values()}
        return sum(
            1
            for blk in image.blocks.values()
            if blk.is_valid
            and blk.vid_hdr is not None
            and blk.vid_hdr.vol_id < INTERNAL_VOL
            and blk.vid_hdr.vol_id not in listed
        )

    def _volume(
        self, image: Any, volume: Any, stream: BinaryIO, name: str
    ) -> tuple[Member, tuple[Field, ...]]:
        runs, size, mapped = _volume_runs(image, volume, stream, image.leb_size)
        rec = volume.vol_rec
        path = component(name)
        fields = (
            Field(f"{path}.vol_id", str(volume.vol_id), Rule.LAYOUT),
            Field(f"{path}.vol_type", "static" if rec.vol_type == STATIC else "dynamic"),
            Field(f"{path}.upd_marker", str(rec.upd_marker)),
            Field(f"{path}.flags", f"{rec.flags:#x}", Rule.LAYOUT),
            Field(f"{path}.alignment", str(rec.alignment), Rule.LAYOUT),
            Field(f"{path}.reserved_pebs", str(rec.reserved_pebs), Rule.LAYOUT),
            Field(f"{path}.mapped_lebs", str(mapped), Rule.LAYOUT),
        )
        opener = partial(_mapped, runs, size)
        return Member(path, Kind.FILE, size=size, opener=opener), fields


FORMAT = UbiFormat()
