"""What a container format tells the walker: its members, their metadata and its header fields.

A format module turns a stream into a `Listing`. Members that hold bytes carry an `opener`
returning a fresh readable, seekable binary stream each time it is called: content is read from
the image on demand and is never written to a path the image chose.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import BinaryIO


class Kind(StrEnum):
    FILE = "file"
    DIR = "dir"
    SYMLINK = "symlink"
    HARDLINK = "hardlink"
    CHAR = "char-device"
    BLOCK = "block-device"
    FIFO = "fifo"
    SOCKET = "socket"
    REGION = "region"  # a byte range of a raw image (flash dump): offset and length matter


class Rule(StrEnum):
    """How a header field is compared. STRICT differences are unexplained; the others name the
    benign class that explains a difference in that field."""

    STRICT = "strict"
    TIMESTAMP = "container-timestamp"
    LAYOUT = "layout"
    COMPRESSION = "compression"
    RANDOM_ID = "random-id"
    DERIVED = "derived-checksum"  # a CRC/size that follows from other compared fields/content


@dataclass(frozen=True, slots=True)
class Meta:
    """Security-relevant metadata (compared strictly) plus the mtime (benign noise).

    `mode` holds the permission bits including setuid/setgid/sticky (mode & 0o7777); None where
    the container has no such notion (zip without unix attributes, FAT, flash regions).
    """

    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    target: str | None = None  # symlink or hardlink target
    rdev: tuple[int, int] | None = None  # (major, minor) of device nodes
    xattrs: tuple[tuple[str, bytes], ...] = ()
    mtime: int | None = None


@dataclass(frozen=True, slots=True)
class Field:
    """One header field of a container (uImage ih_time, squashfs compressor, ...)."""

    name: str
    value: str
    rule: Rule = Rule.STRICT


Opener = Callable[[], BinaryIO]


@dataclass(frozen=True, slots=True, eq=False)
class Member:
    """One entry of a container: a file, directory, link, device node or raw region."""

    name: str
    kind: Kind
    meta: Meta = Meta()
    size: int = 0
    opener: Opener | None = None
    offset: int | None = None  # position in the parent, for regions and embedded images
    # sha256 of the content when already known (hashed by the prefetch worker, or ahead of the
    # match): it spares the comparison a read; None means "hash it when needed".
    sha256: str | None = None

    def with_sha256(self, digest: str) -> Member:
        """A copy of this member carrying its content digest (digests.py, for every file).

        The frozen dataclass __init__ sets each field through object.__setattr__; the slot
        descriptors set them at less than half the cost, and the copy is as frozen as any.
        """
        new = _new_member(Member)
        _set_name(new, self.name)
        _set_kind(new, self.kind)
        _set_meta(new, self.meta)
        _set_size(new, self.size)
        _set_opener(new, self.opener)
        _set_offset(new, self.offset)
        _set_sha256(new, digest)
        return new


_new_member = object.__new__
# Every field of Member, in order: tests/firmware/test_member_digest.py checks with_sha256 sets all.
MEMBER_FIELDS = ("name", "kind", "meta", "size", "opener", "offset", "sha256")
_set_name, _set_kind, _set_meta, _set_size, _set_opener, _set_offset, _set_sha256 = (
    Member.__dict__[name].__set__ for name in MEMBER_FIELDS
)


@dataclass(frozen=True, slots=True)
class Listing:
    """A container opened one level deep.

    `trailing` is the byte range after the container's declared end: it must be padding (a run of
    one fill byte) or the difference is unexplained, since data can hide there.
    `slack` lists byte ranges inside the container that belong to no member and hold something
    other than the format's erased fill (stray bytes between JFFS2 nodes): their concatenated
    bytes must be equal on both sides, or both be fill.
    """

    format: str
    members: tuple[Member, ...]
    fields: tuple[Field, ...] = ()
    trailing: tuple[int, int] | None = None
    notes: tuple[str, ...] = field(default=())
    slack: tuple[tuple[int, int], ...] = ()


def clean_name(raw: str | bytes) -> str:
    """A member name as a safe relative POSIX path.

    Leading slashes and `.` parts go; `..` parts are kept visible as `%2E%2E` so a traversal
    attempt cannot climb above the container yet still shows up in the report.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    raw = raw.replace("\x00", "%00")
    parts = [p for p in raw.replace("\\", "/").split("/") if p not in ("", ".")]
    parts = ["%2E%2E" if p == ".." else p for p in parts]
    return posixpath.join(*parts) if parts else ""


def has_traversal(raw: str | bytes) -> bool:
    """True when a raw member name tries to leave its container (absolute or `..`)."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    return ".." in raw.replace("\\", "/").split("/")
