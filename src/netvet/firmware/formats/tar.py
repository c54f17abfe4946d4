"""tar archives (v7, ustar, GNU, pax), uncompressed: codecs peel `.tar.gz` & co. first.

The stdlib `tarfile` parses headers (GNU long names, pax records, sparse maps) over the stream.
Regular members are views of the archive; sparse members are expanded through the walk context
on demand. Security metadata (mode, owner ids, link targets, device numbers, pax xattrs and ACLs)
goes into `Meta`; user and group *names* are not compared, only the ids are.

The archive ends at the end-of-archive marker (two zero blocks) plus zero padding up to the
10240-byte record; whatever follows, including members hidden after the marker, is trailing data.
"""

from __future__ import annotations

import base64
import binascii
import io
import tarfile
import urllib.parse
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import IO, BinaryIO, cast

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import CorruptContainer, FirmwareError, NotThisFormat
from netvet.firmware.model import Kind, Listing, Member, Meta, Opener, clean_name, has_traversal
from netvet.firmware.streams import view

BLOCK = 512
RECORD = 20 * BLOCK  # tar's default blocking factor
# tarfile reads whole pax and GNU long-name headers into memory; real ones are tiny.
MAX_READ = CHUNK

_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
# Other pax records that carry security metadata, kept under their own names.
_SECURITY_RECORDS = ("SCHILY.acl.access", "SCHILY.acl.default", "SCHILY.acl.ace", "SCHILY.fflags")
_SIMPLE = {
    tarfile.DIRTYPE: Kind.DIR,
    tarfile.FIFOTYPE: Kind.FIFO,
}


class _Bounded(io.RawIOBase):
    """The archive stream as tarfile sees it: a read larger than MAX_READ is refused, so a
    hostile pax or long-name header size cannot make tarfile allocate gigabytes."""

    def __init__(self, stream: BinaryIO) -> None:
        super().__init__()
        self._s = stream

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0 or size > MAX_READ:
            raise CorruptContainer(f"tar: header asks to read {size} bytes at once")
        return self._s.read(size)

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        return self._s.seek(pos, whence)

    def tell(self) -> int:
        return self._s.tell()


def _checksum_ok(head: bytes) -> bool:
    """A v7/ustar header checksum (POSIX: unsigned sum, chksum field as spaces; old tars signed)."""
    if len(head) < BLOCK or head[0] == 0:
        return False
    try:
        stored = int(head[148:156].replace(b"\0", b" ").strip() or b"x", 8)
    except ValueError:
        return False
    block = head[:148] + b" " * 8 + head[156:BLOCK]
    signed = sum(b - 256 if b > 127 else b for b in block)
    return stored in (sum(block), signed)


def _xattrs(pax: Mapping[str, str]) -> tuple[tuple[str, bytes], ...]:
    """Extended attributes and ACLs from pax records, sorted by name.

    SCHILY.xattr values are raw bytes (tarfile decoded them with surrogateescape); libarchive's
    LIBARCHIVE.xattr names are URL-encoded and values base64. bsdtar writes both: a libarchive
    value that disagrees is kept under its own key so the difference stays visible.
    """
    out: dict[str, bytes] = {}
    libarchive: dict[str, bytes] = {}
    for key, value in pax.items():
        raw = value.encode("utf-8", "surrogateescape")
        if key.startswith("SCHILY.xattr."):
            out[key[len("SCHILY.xattr.") :]] = raw
        elif key.startswith("LIBARCHIVE.xattr."):
            name = urllib.parse.unquote(key[len("LIBARCHIVE.xattr.") :], errors="surrogateescape")
            try:
                libarchive[name] = base64.b64decode(raw + b"=" * (-len(raw) % 4), validate=True)
            except binascii.Error:
                libarchive[name] = raw
        elif key == "RHT.security.selinux":
            out["security.selinux"] = raw
        elif key in _SECURITY_RECORDS:
            out[key] = raw
    for name, data in libarchive.items():
        if name not in out:
            out[name] = data
        elif out[name] != data:
            out[f"{name} (LIBARCHIVE)"] = data
    return tuple(sorted(out.items()))


def _stored(info: tarfile.TarInfo) -> int:
    """Bytes of a sparse member's data actually stored (its extents, without the holes)."""
    extents = cast(list[tuple[int, int]], info.sparse or [])
    return sum(n for _, n in extents)


def _stored_end(info: tarfile.TarInfo) -> int:
    """Offset just past the member's data as stored (sparse members store only their extents)."""
    if info.issparse():
        return info.offset_data + _stored(info)
    if info.type in (tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
                     tarfile.BLKTYPE, tarfile.FIFOTYPE):  # fmt: skip
        return info.offset_data
    return info.offset_data + info.size


def _sparse_opener(tf: tarfile.TarFile, info: tarfile.TarInfo, ctx: WalkContext) -> Opener:
    stored = max(_stored(info), BLOCK)

    def chunks() -> Generator[bytes, None, None]:
        f = tf.extractfile(info)
        if f is None:
            return
        try:
            while chunk := f.read(CHUNK):
                yield chunk
        except FirmwareError:
            raise
        except Exception as exc:  # tarfile.ReadError, or ValueError from a bad sparse map
            raise CorruptContainer(f"tar: sparse member {info.name!r}: {exc}") from exc

    # Holes expand like decompression: a tiny member can claim terabytes of zeros.
    return lambda: ctx.spool(chunks(), f"tar sparse member {info.name!r}", lambda: stored)


def _member(
    tf: tarfile.TarFile, info: tarfile.TarInfo, stream: BinaryIO, ctx: WalkContext
) -> tuple[Member, str | None]:
    """The Member for one header, and a note when the header is unusual."""
    name = clean_name(info.name) or "."
    meta = Meta(
        mode=info.mode & 0o7777, uid=info.uid, gid=info.gid, mtime=int(info.mtime),
        xattrs=_xattrs(info.pax_headers),
    )  # fmt: skip
    if info.issym():
        return Member(name, Kind.SYMLINK, replace(meta, target=info.linkname)), None
    if info.islnk():
        return Member(name, Kind.HARDLINK, replace(meta, target=clean_name(info.linkname))), None
    if info.ischr() or info.isblk():
        kind = Kind.CHAR if info.ischr() else Kind.BLOCK
        return Member(name, kind, replace(meta, rdev=(info.devmajor, info.devminor))), None
    if info.type in _SIMPLE:
        return Member(name, _SIMPLE[info.type], meta), None
    note = None
    if not info.isreg():
        # GNU tar extracts unknown types as regular files; so do we, and say so.
        note = f"{name}: unknown tar member type {info.type!r}, read as a regular file"
    if info.issparse():
        opener = _sparse_opener(tf, info, ctx)
    else:
        off, length = info.offset_data, info.size

        def opener() -> BinaryIO:
            return view(stream, off, length)

    return Member(name, Kind.FILE, meta, info.size, opener), note


def _archive_end(stream: BinaryIO, end: int, size: int, notes: list[str]) -> int:
    """Past the end-of-archive marker and the zero padding of the last record."""
    zeros = 0
    while zeros < 2 and end + BLOCK <= size and _read(stream, end, BLOCK) == bytes(BLOCK):
        end += BLOCK
        zeros += 1
    if zeros < 2:
        notes.append("no complete end-of-archive marker (two zero blocks)")
    record_end = min(size, -(-end // RECORD) * RECORD)
    if not _read(stream, end, record_end - end).strip(b"\0"):
        end = record_end
    return end


def _read(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)


class Tar:
    """Container for tar archives (rootfs tarballs, update bundles, .ipk/.deb data members)."""

    name = "tar"

    def probe(self, head: bytes, size: int) -> bool:
        return head[257:262] == b"ustar" or _checksum_ok(head)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        try:
            # Not a context manager: members read through `tf` later; ctx.keep closes it.
            tf = tarfile.open(fileobj=cast(IO[bytes], _Bounded(stream)), mode="r:")  # noqa: SIM115
        except tarfile.TarError as exc:
            if _read(stream, 257, 5) == b"ustar":
                raise CorruptContainer(f"tar: {exc}") from exc
            raise NotThisFormat(f"tar: {exc}") from exc
        except FirmwareError:
            raise
        except Exception as exc:  # a hostile first pax record
            raise CorruptContainer(f"tar: {type(exc).__name__}: {exc}") from exc
        ctx.keep(tf)
        members: list[Member] = []
        notes: list[str] = []
        while True:
            ctx.check_time()
            try:
                info = tf.next()
            except FirmwareError:
                raise
            except Exception as exc:  # tarfile re-raises ValueError etc. from hostile pax records
                raise CorruptContainer(f"tar: {type(exc).__name__}: {exc}") from exc
            if info is None:
                break
            ctx.entry()
            if _stored_end(info) > size:
                raise CorruptContainer(f"tar: member {info.name!r} is truncated")
            member, note = _member(tf, info, stream, ctx)
            members.append(member)
            if note:
                notes.append(note)
            if has_traversal(info.name) or info.name.startswith("/"):
                notes.append(f"name leaves the archive: {info.name!r} listed as {member.name}")
        end = _archive_end(stream, min(tf.offset, size), size, notes)
        trailing = (end, size - end) if end < size else None
        return Listing(self.name, tuple(members), trailing=trailing, notes=tuple(notes))


FORMAT = Tar()
