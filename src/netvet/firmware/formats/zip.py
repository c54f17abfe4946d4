"""zip archives (update bundles, APKs, JARs), read with the stdlib `zipfile`.

Members are compressed, so each opener decompresses through `zipfile` into `ctx.spool`, under
the ratio and byte budgets: a zip bomb stops after a few megabytes. zipfile trusts the central
directory; the local headers are checked here against it: entries that overlap (the
"overlapped files" zip bomb) or whose local name differs from the central one are corrupt, and
bytes no entry covers (a self-extractor stub, an APK signing block, hidden data) are listed as
REGION members so they are compared too. Unix modes come from `external_attr` when the archive
was made on Unix; uid/gid from the Info-ZIP "ux" extra field; compression method and level are
noise and are not compared.
"""

from __future__ import annotations

import calendar
import stat
import struct
import zipfile
from collections.abc import Generator
from dataclasses import replace
from typing import IO, BinaryIO, cast

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import CorruptContainer, FirmwareError, NotThisFormat
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

LOCAL = b"PK\x03\x04"
EOCD = b"PK\x05\x06"
PATH_MAX = 4096
UNIX = 3  # create_system of archives made on Unix
# bzip2 and LZMA members: zipfile decompresses each compressed read without an output bound,
# so reads stay small (512 compressed bytes expand to at most a few MiB).
_SMALL_READ = 512


def _read(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)


def _eocd(stream: BinaryIO, size: int) -> tuple[int, int, int]:
    """(offset, entry count, end) of the end-of-central-directory record zipfile uses."""
    tail_len = min(size, 22 + 0xFFFF)
    tail = _read(stream, size - tail_len, tail_len)
    # zipfile first tries a record without comment at the very end, then the last signature.
    at = tail_len - 22 if tail[-22:-18] == EOCD and tail[-2:] == b"\0\0" else tail.rfind(EOCD)
    if at < 0 or at + 22 > tail_len:
        raise CorruptContainer("zip: no end of central directory record")
    count, comment_len = struct.unpack("<H", tail[at + 10 : at + 12])[0], tail[at + 20 : at + 22]
    end = size - tail_len + at + 22 + struct.unpack("<H", comment_len)[0]
    if end > size:
        raise CorruptContainer("zip: archive comment runs past the end of the file")
    return size - tail_len + at, count, end


def _extra_fields(data: bytes) -> dict[int, bytes]:
    """Extra fields (APPNOTE 4.5) by header id."""
    out, pos = {}, 0
    while pos + 4 <= len(data):
        hid, length = struct.unpack("<HH", data[pos : pos + 4])
        out[hid] = data[pos + 4 : pos + 4 + length]
        pos += 4 + length
    return out


def _owner(extra: dict[int, bytes]) -> tuple[int | None, int | None]:
    """uid/gid from Info-ZIP's "ux" field (0x7875): version, size, uid, size, gid."""
    ux = extra.get(0x7875, b"")
    if len(ux) < 3 or ux[0] != 1:
        return None, None
    usize = ux[1]
    gsize = ux[2 + usize] if len(ux) > 2 + usize else 0
    uid = int.from_bytes(ux[2 : 2 + usize], "little")
    gid = int.from_bytes(ux[3 + usize : 3 + usize + gsize], "little")
    return uid, gid


def _mtime(info: zipfile.ZipInfo, extra: dict[int, bytes]) -> int | None:
    """Unix mtime from the extended-timestamp field (0x5455), else the DOS time taken as UTC."""
    ut = extra.get(0x5455, b"")
    if len(ut) >= 5 and ut[0] & 1:
        return int(struct.unpack("<I", ut[1:5])[0])
    try:
        return calendar.timegm((*info.date_time, 0, 0, 0))
    except ValueError:  # month 0 or 13..15: DOS dates are 4-bit fields nobody validates
        return None


def _data_end(stream: BinaryIO, info: zipfile.ZipInfo) -> int:
    """End of the entry's local header, data and data descriptor; checks the local header."""
    hdr = _read(stream, info.header_offset, 30)
    if len(hdr) < 30 or hdr[:4] != LOCAL:
        raise CorruptContainer(f"zip: no local header for {info.filename!r}")
    flags, csize, usize, nlen, xlen = struct.unpack("<2xH10xIIHH", hdr[4:30])
    raw = _read(stream, info.header_offset + 30, nlen)
    local = raw.decode("utf-8" if flags & 0x800 else "cp437", "surrogateescape")
    if local != info.orig_filename:
        raise CorruptContainer(f"zip: local name {local!r} differs from {info.orig_filename!r}")
    end = info.header_offset + 30 + nlen + xlen + info.compress_size
    if flags & 0x08:  # data descriptor: [signature] crc, sizes (8 bytes each with zip64)
        local_extra = _read(stream, info.header_offset + 30 + nlen, xlen)
        wide = 0x0001 in _extra_fields(local_extra) or 0xFFFFFFFF in (csize, usize)
        end += (20 if wide else 12) + (4 if _read(stream, end, 4) == b"PK\x07\x08" else 0)
    return end


def _regions(stream: BinaryIO, infos: list[zipfile.ZipInfo], cd_start: int) -> list[Member]:
    """REGION members for bytes outside every entry; CorruptContainer if entries overlap."""
    spans = sorted((i.header_offset, _data_end(stream, i), i.filename) for i in infos)
    spans.append((cd_start, cd_start, "central directory"))
    out, pos, gaps = [], 0, 0
    for start, end, what in spans:
        if start < pos:
            raise CorruptContainer(f"zip: {what!r} overlaps the entry before it")
        if start > pos:
            name = "[zip prefix]" if pos == 0 else f"[zip gap {gaps}]"
            gaps += pos > 0
            out.append(_region(stream, name, pos, start - pos))
        pos = end
    return out


def _region(stream: BinaryIO, name: str, off: int, length: int) -> Member:
    return Member(name, Kind.REGION, Meta(), length, lambda: view(stream, off, length), off)


def _opener(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: WalkContext) -> Opener:
    what = f"zip member {info.filename!r}"
    step = CHUNK if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) else 0

    def chunks() -> Generator[bytes, None, None]:
        try:
            with zf.open(info) as src:
                if not step:
                    src.MIN_READ_SIZE = _SMALL_READ  # type: ignore[attr-defined]
                while chunk := src.read(step or _SMALL_READ):
                    yield chunk
        except FirmwareError:
            raise
        except Exception as exc:  # BadZipFile (CRC), zlib/lzma errors, encryption, methods
            raise CorruptContainer(f"{what}: {type(exc).__name__}: {exc}") from exc

    return lambda: ctx.spool(chunks(), what, consumed=lambda: max(info.compress_size, 1))


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: WalkContext) -> tuple[Member, str]:
    name = clean_name(info.filename) or "."
    extra = _extra_fields(info.extra)
    unix = info.create_system == UNIX
    uid, gid = _owner(extra)
    meta = Meta(mode=(info.external_attr >> 16) & 0o7777 if unix else None, uid=uid, gid=gid,
                mtime=_mtime(info, extra))  # fmt: skip
    ftype = stat.S_IFMT(info.external_attr >> 16) if unix else 0
    note = ""
    if info.is_dir() or ftype == stat.S_IFDIR:
        return Member(name, Kind.DIR, meta), note
    if ftype == stat.S_IFLNK:  # Info-ZIP stores a symlink's target as its content
        if info.file_size > PATH_MAX:
            raise CorruptContainer(f"zip: symlink {name} target longer than PATH_MAX")
        with _opener(zf, info, ctx)() as f:
            target = f.read().decode("utf-8", "surrogateescape")
        return Member(name, Kind.SYMLINK, replace(meta, target=target)), note
    if ftype not in (0, stat.S_IFREG):
        note = f"{name}: file type 0o{ftype:o} in a zip, read as a regular file"
    if info.flag_bits & 1:
        note = f"{name}: encrypted, content cannot be compared"
    return Member(name, Kind.FILE, meta, info.file_size, _opener(zf, info, ctx)), note


class Zip:
    """Container for zip archives."""

    name = "zip"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith((LOCAL, EOCD))

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        try:
            zf = zipfile.ZipFile(cast(IO[bytes], stream))
        except zipfile.BadZipFile as exc:
            if _read(stream, 0, 4) == LOCAL:
                raise CorruptContainer(f"zip: {exc}") from exc
            raise NotThisFormat(f"zip: {exc}") from exc
        except Exception as exc:  # struct/Unicode/Overflow errors on hostile directories
            raise CorruptContainer(f"zip: {type(exc).__name__}: {exc}") from exc
        ctx.keep(zf)
        infos = zf.infolist()
        ctx.entry(len(infos))
        _, count, end = _eocd(stream, size)
        if count not in (len(infos), 0xFFFF):
            raise CorruptContainer(f"zip: directory lists {len(infos)} entries, end record {count}")
        members = _regions(stream, infos, zf.start_dir)
        notes = []
        for info in infos:
            ctx.check_time()
            member, note = _member(zf, info, ctx)
            members.append(member)
            if note:
                notes.append(note)
            if has_traversal(info.filename) or info.filename.startswith("/"):
                notes.append(f"name leaves the archive: {info.filename!r} listed as {member.name}")
        fields = (Field("comment", zf.comment.hex(), Rule.STRICT),) if zf.comment else ()
        trailing = (end, size - end) if end < size else None
        return Listing(self.name, tuple(members), fields, trailing, tuple(notes))


FORMAT = Zip()
