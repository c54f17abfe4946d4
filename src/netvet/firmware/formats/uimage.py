"""U-Boot legacy uImage: a 64-byte big-endian header (magic 0x27051956), then the payload.

The header layout and the multi-file size table follow U-Boot's include/image.h and
boot/image.c (`image_multi_getimg`). No maintained Python parser for it exists, and it is one
`struct` call, so it is read here. Both CRCs are verified: a header or data CRC that does not
match is reported as the STRICT field `crc_valid` = "false", never silently accepted.
Multi-file and script images (types 4 and 6) list each part as `payload/<n>`; a compressed
payload is peeled by the codecs when the walker descends into the `payload` member.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.model import Field, Kind, Listing, Member, Rule
from netvet.firmware.streams import view

MAGIC = b"\x27\x05\x19\x56"
HEADER_SIZE = 64
# A stream at least this big with non-padding bytes after the image is a flash dump: decline so
# that the flash scanner lists every image in it (same threshold as flash.py's probe).
FLASH_MIN = 64 << 10

_HEADER = struct.Struct(">7I4B32s")
_OS = (  # noqa: SIM905 - one word per table slot, in U-Boot order
    "invalid openbsd netbsd freebsd 4_4bsd linux svr4 esix solaris irix sco dell ncr lynxos "
    "vxworks psos qnx u-boot rtems artos unity integrity ose plan9 openrtos "
    "arm-trusted-firmware tee opensbi efi"
).split()
_ARCH = (  # noqa: SIM905 - one word per table slot, in U-Boot order
    "invalid alpha arm x86 ia64 mips mips64 powerpc s390 sh sparc sparc64 m68k nios "
    "microblaze nios2 blackfin avr32 st200 sandbox nds32 or1k arm64 arc x86_64 xtensa "
    "riscv"
).split()
_TYPE = (  # noqa: SIM905 - one word per table slot, in U-Boot order
    "invalid standalone kernel ramdisk multi firmware script filesystem flat_dt kwbimage "
    "imximage ubl omapimage aisimage kernel_noload pblimage mxsimage gpimage atmelimage "
    "socfpgaimage x86_setup lpc32xximage loadable rkimage rksd rkspi zynqimage "
    "zynqmpimage"
).split()
_COMP = "none gzip bzip2 lzma lzo lz4 zstd".split()  # noqa: SIM905
# Types whose payload starts with a zero-terminated table of part sizes.
_TABLE_TYPES = {4, 6}


@dataclass(frozen=True, slots=True)
class Header:
    hcrc: int
    time: int
    size: int
    load: int
    ep: int
    dcrc: int
    os: int
    arch: int
    type: int
    comp: int
    name: bytes
    crc_ok: bool

    @classmethod
    def parse(cls, raw: bytes) -> Header:
        _, hcrc, time, size, load, ep, dcrc, os_, arch, typ, comp, name = _HEADER.unpack(raw)
        crc = zlib.crc32(raw[:4] + b"\0\0\0\0" + raw[8:HEADER_SIZE])
        return cls(hcrc, time, size, load, ep, dcrc, os_, arch, typ, comp, name, crc == hcrc)


class UImage:
    """The uImage container: header fields plus the payload member(s)."""

    name = "uimage"

    def probe(self, head: bytes, size: int) -> bool:
        return size >= HEADER_SIZE and head[:4] == MAGIC

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        stream.seek(0)
        raw = stream.read(HEADER_SIZE)
        if len(raw) < HEADER_SIZE or raw[:4] != MAGIC:
            raise NotThisFormat("uimage: no header")
        h = Header.parse(raw)
        end = HEADER_SIZE + h.size
        if end > size:
            if not h.crc_ok:
                raise NotThisFormat("uimage: bad header CRC and impossible size")
            raise CorruptContainer(
                f"uimage: payload truncated ({h.size} bytes declared, {size - HEADER_SIZE} present)"
            )
        if size > end and size >= FLASH_MIN and not is_padding(stream, end, size - end, ctx):
            raise NotThisFormat("uimage: data follows the image; a flash dump")
        data_ok = _crc(stream, HEADER_SIZE, h.size, ctx) == h.dcrc
        notes = []
        if not h.crc_ok:
            notes.append("header CRC does not match the header")
        if not data_ok:
            notes.append("data CRC does not match the payload")
        fields = _fields(h, h.crc_ok and data_ok)
        if h.type in _TABLE_TYPES:
            members, extra = _parts(stream, h.size, ctx)
            fields += extra
        else:
            ctx.entry()
            members = (_file("payload", stream, HEADER_SIZE, h.size),)
        trailing = (end, size - end) if size > end else None
        return Listing(self.name, members, fields, trailing, tuple(notes))


def _fields(h: Header, crc_valid: bool) -> tuple[Field, ...]:
    stamp = datetime.fromtimestamp(h.time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        Field("timestamp", stamp, Rule.TIMESTAMP),
        Field("header_crc", f"0x{h.hcrc:08x}", Rule.DERIVED),
        Field("data_crc", f"0x{h.dcrc:08x}", Rule.DERIVED),
        Field("data_size", str(h.size), Rule.DERIVED),
        Field("crc_valid", "true" if crc_valid else "false"),
        Field("load_address", f"0x{h.load:08x}"),
        Field("entry_point", f"0x{h.ep:08x}"),
        Field("os", _label(_OS, h.os)),
        Field("arch", _label(_ARCH, h.arch)),
        Field("type", _label(_TYPE, h.type)),
        Field("compression", _label(_COMP, h.comp)),
        # The whole 32-byte field: bytes after the terminating NUL are shown, not dropped.
        Field("name", h.name.rstrip(b"\0").decode("latin-1").replace("\0", "\\x00")),
    )


def _label(table: list[str], value: int) -> str:
    return table[value] if value < len(table) else f"unknown ({value})"


def _file(name: str, stream: BinaryIO, offset: int, length: int) -> Member:
    return Member(
        name, Kind.FILE, size=length, opener=lambda: view(stream, offset, length), offset=offset
    )


def _parts(
    stream: BinaryIO, size: int, ctx: WalkContext
) -> tuple[tuple[Member, ...], tuple[Field, ...]]:
    """Members of a multi-file payload: a zero-terminated u32 size table, then each part
    aligned to 4 bytes (U-Boot `image_multi_getimg`)."""
    sizes = _size_table(stream, size, ctx)
    pos = HEADER_SIZE + 4 * (len(sizes) + 1)
    end = HEADER_SIZE + size
    members: list[Member] = []
    pads = b""
    for i, part in enumerate(sizes):
        if pos + part > end:
            raise CorruptContainer(f"uimage: part {i} ({part} bytes) runs past the payload")
        members.append(_file(f"payload/{i}", stream, pos, part))
        pos += part
        if i + 1 < len(sizes):
            aligned = min((pos + 3) & ~3, end)
            stream.seek(pos)
            pads += stream.read(aligned - pos)
            pos = aligned
    if pos < end:  # bytes inside the CRC'ed payload that no part claims
        ctx.entry()
        members.append(
            Member(
                "payload/tail",
                Kind.REGION,
                size=end - pos,
                opener=lambda: view(stream, pos, end - pos),
                offset=pos,
            )
        )
    padding = "zero" if not pads.strip(b"\0") else pads.hex()
    return tuple(members), (Field("part_padding", padding),)


def _size_table(stream: BinaryIO, size: int, ctx: WalkContext) -> list[int]:
    sizes: list[int] = []
    stream.seek(HEADER_SIZE)
    buf = b""
    while True:
        if 4 * (len(sizes) + 1) > size:
            raise CorruptContainer("uimage: multi-file size table has no end")
        if not buf:
            buf = stream.read(min(4096, size - 4 * len(sizes)) & ~3)
            if len(buf) < 4:
                raise CorruptContainer("uimage: multi-file size table truncated")
        (part,) = struct.unpack_from(">I", buf)
        buf = buf[4:]
        if part == 0:
            return sizes
        ctx.entry()
        sizes.append(part)


def _crc(stream: BinaryIO, offset: int, length: int, ctx: WalkContext) -> int:
    crc = 0
    stream.seek(offset)
    while length > 0:
        chunk = stream.read(min(CHUNK, length))
        if not chunk:
            break
        crc = zlib.crc32(chunk, crc)
        length -= len(chunk)
        ctx.check_time()
    return crc


def is_padding(stream: BinaryIO, offset: int, length: int, ctx: WalkContext) -> bool:
    """True when `length` bytes at `offset` are one byte repeated (erased flash, zeros)."""
    stream.seek(offset)
    fill: int | None = None
    while length > 0:
        chunk = stream.read(min(CHUNK, length))
        if not chunk:
            break
        fill = chunk[0] if fill is None else fill
        if chunk.count(fill) != len(chunk):
            return False
        length -= len(chunk)
        ctx.check_time()
    return True


FORMAT = UImage()
