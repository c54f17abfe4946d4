"""cpio archives: newc (070701), crc (070702), odc (070707) and old binary (both byte orders).

Parsed here rather than with libarchive-c: its API is sequential (each entry's data must be
read before the next header), so re-openable member streams would mean copying every member
out of the archive; here members are views of the archive itself.

Layouts follow GNU cpio and the kernel's init/initramfs.c: newc/crc headers are 110 bytes of
hex fields with name and data padded to 4 bytes; odc headers are 76 bytes of octal fields,
unpadded; binary headers are 13 16-bit words with name and data padded to 2 bytes. Like the
kernel, concatenated archives (microcode + rootfs initramfs) are read one after another, and
hard links (same inode within one archive) all get the data, which newc stores on the last link.
"""

from __future__ import annotations

import re
import stat
import struct
from dataclasses import dataclass, replace
from typing import BinaryIO

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.model import (
    Field,
    Kind,
    Listing,
    Member,
    Meta,
    Opener,
    Rule,
    clean_name,
    has_traversal,
)
from netvet.firmware.streams import view

PATH_MAX = 4096  # the kernel refuses longer names and symlink targets
TRAILER = b"TRAILER!!!"
BLOCK = 512  # GNU cpio pads its output to whole 512-byte blocks
_ASCII = (b"070701", b"070702", b"070707")
_BIN = {b"\xc7\x71": "<", b"\x71\xc7": ">"}  # 070707 as a 16-bit word, little/big endian
# The variant is layout: the same tree written as newc or odc is the same tree.
_VARIANTS = {b"070701": "newc", b"070702": "crc", b"070707": "odc"}
_HEX = re.compile(rb"[0-9A-Fa-f]{104}")
_OCT = re.compile(rb"[0-7]{70}")
_KINDS = {
    stat.S_IFREG: Kind.FILE, stat.S_IFDIR: Kind.DIR, stat.S_IFLNK: Kind.SYMLINK,
    stat.S_IFCHR: Kind.CHAR, stat.S_IFBLK: Kind.BLOCK, stat.S_IFIFO: Kind.FIFO,
    stat.S_IFSOCK: Kind.SOCKET,
}  # fmt: skip


@dataclass(slots=True)
class _Entry:
    """One header as read, before hard links are resolved."""

    raw_name: bytes
    link_key: tuple[int, ...]
    mode: int
    uid: int
    gid: int
    nlink: int
    mtime: int
    rdev: tuple[int, int]
    data: int  # offset of the data
    size: int
    check: int | None  # crc format: sum of the data bytes


def _read(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)


def _align(n: int, to: int) -> int:
    return -(-n // to) * to


_Parsed = tuple[_Entry, int, int, int]  # entry, name offset, name size, next header offset


def _newc(stream: BinaryIO, off: int, archive: int, crc: bool) -> _Parsed:
    hdr = _read(stream, off, 110)
    if not _HEX.fullmatch(hdr[6:110]):
        raise CorruptContainer(f"cpio: bad newc header at offset {off}")
    ino, mode, uid, gid, nlink, mtime, fsize, dmaj, dmin, rmaj, rmin, nsize, check = (
        int(hdr[i : i + 8], 16) for i in range(6, 110, 8)
    )
    data = _align(off + 110 + nsize, 4)
    entry = _Entry(b"", (archive, dmaj, dmin, ino), mode, uid, gid, nlink, mtime,
                   (rmaj, rmin), data, fsize, check if crc else None)  # fmt: skip
    return entry, off + 110, nsize, _align(data + fsize, 4)


def _odc(stream: BinaryIO, off: int, archive: int) -> _Parsed:
    hdr = _read(stream, off, 76)
    if not _OCT.fullmatch(hdr[6:76]):
        raise CorruptContainer(f"cpio: bad odc header at offset {off}")
    vals, pos = [], 6
    for width in (6, 6, 6, 6, 6, 6, 6, 11, 6, 11):
        vals.append(int(hdr[pos : pos + width], 8))
        pos += width
    dev, ino, mode, uid, gid, nlink, rdev, mtime, nsize, fsize = vals
    data = off + 76 + nsize
    entry = _Entry(b"", (archive, dev, ino), mode, uid, gid, nlink, mtime,
                   (rdev >> 8, rdev & 0xFF), data, fsize, None)  # fmt: skip
    return entry, off + 76, nsize, data + fsize


def _binary(stream: BinaryIO, off: int, archive: int, order: str) -> _Parsed:
    hdr = _read(stream, off, 26)
    if len(hdr) < 26:
        raise CorruptContainer(f"cpio: truncated header at offset {off}")
    _, dev, ino, mode, uid, gid, nlink, rdev, mt_hi, mt_lo, nsize, fs_hi, fs_lo = struct.unpack(
        order + "13H", hdr
    )
    fsize = (fs_hi << 16) | fs_lo
    data = _align(off + 26 + nsize, 2)
    entry = _Entry(b"", (archive, dev, ino), mode, uid, gid, nlink, (mt_hi << 16) | mt_lo,
                   (rdev >> 8, rdev & 0xFF), data, fsize, None)  # fmt: skip
    return entry, off + 26, nsize, _align(data + fsize, 2)


def _header(stream: BinaryIO, off: int, size: int, archive: int) -> tuple[_Entry, int]:
    """Parse the header at `off`; return the entry and the offset of the next header."""
    magic = _read(stream, off, 6)
    if magic in (b"070701", b"070702"):
        entry, name_off, nsize, nxt = _newc(stream, off, archive, magic == b"070702")
    elif magic == b"070707":
        entry, name_off, nsize, nxt = _odc(stream, off, archive)
    elif magic[:2] in _BIN:
        entry, name_off, nsize, nxt = _binary(stream, off, archive, _BIN[magic[:2]])
    else:
        raise CorruptContainer(f"cpio: no header at offset {off}")
    if not 1 <= nsize <= PATH_MAX or entry.data + entry.size > size:
        raise CorruptContainer(
            f"cpio: header at offset {off} claims a {nsize}-byte name and {entry.size} bytes "
            f"of data, beyond the {size}-byte stream or PATH_MAX"
        )
    name = _read(stream, name_off, nsize)
    if name[-1:] != b"\0":
        raise CorruptContainer(f"cpio: name at offset {name_off} is not NUL-terminated")
    entry.raw_name = name[:-1]
    return entry, nxt


def _verify_crc(stream: BinaryIO, e: _Entry, ctx: WalkContext) -> None:
    """The crc format's checksum: the 32-bit sum of the data bytes (GNU cpio `-H crc`)."""
    total, pos = 0, e.data
    while pos < e.data + e.size:
        chunk = _read(stream, pos, min(CHUNK, e.data + e.size - pos))
        total += sum(chunk)
        pos += len(chunk)
        ctx.check_time()
    if e.check is not None and total & 0xFFFFFFFF != e.check:
        raise CorruptContainer(f"cpio: checksum mismatch for {e.raw_name!r}")


def _first_nonzero(stream: BinaryIO, pos: int, size: int, ctx: WalkContext) -> int:
    while pos < size:
        chunk = _read(stream, pos, min(CHUNK, size - pos))
        stripped = chunk.lstrip(b"\0")
        if stripped:
            return pos + len(chunk) - len(stripped)
        pos += len(chunk)
        ctx.check_time()
    return size


def _is_header(head: bytes) -> bool:
    if head[:6] in _ASCII:
        return True
    if head[:2] not in _BIN or len(head) < 26:
        return False
    # A 2-byte magic is weak: also require a plausible NUL-terminated name.
    nsize = struct.unpack(_BIN[head[:2]] + "H", head[20:22])[0]
    name = head[26 : 26 + nsize]
    return 2 <= nsize <= PATH_MAX and len(name) == nsize and name.find(b"\0") == nsize - 1


def _members(stream: BinaryIO, entries: list[_Entry]) -> tuple[list[Member], list[str]]:
    """Members from parsed entries: hard links resolved, symlink targets read."""
    link_data = {
        e.link_key: (e.data, e.size)
        for e in entries
        if stat.S_IFMT(e.mode) == stat.S_IFREG and e.nlink > 1 and e.size
    }
    members, notes = [], []
    for e in entries:
        name = clean_name(e.raw_name) or "."
        if has_traversal(e.raw_name) or e.raw_name.startswith(b"/"):
            notes.append(f"name leaves the archive: {e.raw_name!r} listed as {name}")
        meta = Meta(mode=e.mode & 0o7777, uid=e.uid, gid=e.gid, mtime=e.mtime)
        kind = _KINDS.get(stat.S_IFMT(e.mode))
        if kind is None:
            notes.append(f"{name}: unknown file type 0o{stat.S_IFMT(e.mode):o}, read as a file")
            kind = Kind.FILE
        if kind is Kind.SYMLINK:
            if e.size > PATH_MAX:
                raise CorruptContainer(f"cpio: symlink {name} target longer than PATH_MAX")
            target = _read(stream, e.data, e.size).decode("utf-8", "surrogateescape")
            members.append(Member(name, kind, replace(meta, target=target)))
        elif kind in (Kind.CHAR, Kind.BLOCK):
            members.append(Member(name, kind, replace(meta, rdev=e.rdev)))
        elif kind is Kind.FILE:
            off, length = (e.data, e.size)
            if not length and e.nlink > 1 and stat.S_IFMT(e.mode) == stat.S_IFREG:
                off, length = link_data.get(e.link_key, (off, length))
            members.append(Member(name, kind, meta, length, _opener(stream, off, length)))
        else:
            members.append(Member(name, kind, meta))
    return members, notes


# Member name of a compressed archive appended after the last trailer (no cpio name can hold
# "~" first and this suffix, and it sorts after every real path).
APPENDED = "~appended-compressed-archive"
# gzip, xz, zstd, lz4 frame, lz4 legacy, bzip2, lzop: what the kernel's initramfs unpacker takes.
_COMPRESSED_MAGICS = (
    b"\x1f\x8b",
    b"\xfd7zXZ",
    b"\x28\xb5\x2f\xfd",
    b"\x04\x22\x4d\x18",
    b"\x02\x21\x4c\x18",
    b"BZh",
    b"\x89LZO",
)


def _opener(stream: BinaryIO, off: int, length: int) -> Opener:
    return lambda: view(stream, off, length)


class Cpio:
    """Container for cpio archives (initramfs, RPM payloads, some update bundles)."""

    name = "cpio"

    def probe(self, head: bytes, size: int) -> bool:
        return _is_header(head)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        if not _is_header(_read(stream, 0, 26 + PATH_MAX)):
            raise NotThisFormat("cpio: no header")
        entries: list[_Entry] = []
        variants: list[str] = []
        start = 0
        while True:
            magic = _read(stream, start, 6)
            variants.append(
                _VARIANTS.get(magic) or ("bin-le" if magic[:1] == b"\xc7" else "bin-be")
            )
            pos = _archive(stream, start, size, len(variants), entries, ctx)
            nonzero = _first_nonzero(stream, pos, size, ctx)
            if (
                nonzero < size
                and nonzero % 4 == 0
                and _is_header(_read(stream, nonzero, 26 + PATH_MAX))
            ):
                start = nonzero  # another archive follows the padding, as in a kernel initramfs
                continue
            end = min(start + _align(pos - start, BLOCK), nonzero, size)
            break
        members, notes = _members(stream, entries)
        if len(variants) > 1:
            notes.append(f"{len(variants)} concatenated cpio archives")
        fields = (Field("variant", ",".join(variants), Rule.LAYOUT),)
        if nonzero < size and _read(stream, nonzero, 6).startswith(_COMPRESSED_MAGICS):
            # A kernel initramfs: an uncompressed early cpio (microcode) followed by the
            # compressed main archive. Walk it as a member rather than compare it as raw bytes.
            members.append(
                Member(
                    APPENDED,
                    Kind.FILE,
                    size=size - nonzero,
                    opener=_opener(stream, nonzero, size - nonzero),
                    offset=nonzero,
                )
            )
            return Listing(self.name, tuple(members), fields, None, tuple(notes))
        trailing = (end, size - end) if end < size else None
        return Listing(self.name, tuple(members), fields, trailing, tuple(notes))


def _archive(
    stream: BinaryIO, pos: int, size: int, archive: int, entries: list[_Entry], ctx: WalkContext
) -> int:
    """Append the entries of the archive at `pos` to `entries`; return the end of its trailer."""
    while True:
        ctx.check_time()
        entry, nxt = _header(stream, pos, size, archive)
        if entry.raw_name == TRAILER:
            return nxt
        ctx.entry()
        if entry.check is not None and stat.S_IFMT(entry.mode) == stat.S_IFREG:
            _verify_crc(stream, entry, ctx)
        entries.append(entry)
        pos = nxt
        if pos >= size:
            raise CorruptContainer("cpio: archive ends without a TRAILER!!! entry")


FORMAT = Cpio()
