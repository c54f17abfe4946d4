"""Unix ar archives (`!<arch>\\n`): .deb packages, static libraries, some vendor bundles.

Parsed here: the format is a 60-byte text header per member and no maintained Python reader
offers re-openable member views (libarchive-c reads sequentially). GNU and BSD variants differ
in long names: GNU keeps them in a `//` member and refers to them as `/<offset>`; BSD writes
`#1/<length>` and puts the name at the start of the member data. Symbol tables (`/`, `/SYM64/`,
`__.SYMDEF`) are derived from the members by ranlib and are skipped as layout.
"""

from __future__ import annotations

from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.model import Kind, Listing, Member, Meta, Opener, clean_name, has_traversal
from netvet.firmware.streams import view

MAGIC = b"!<arch>\n"
HEADER = 60
FMAG = b"`\n"
PATH_MAX = 4096
MAX_NAME_TABLE = 16 << 20  # a GNU long-name table bigger than this is not a real one
_SYMBOL_TABLES = {b"/", b"/SYM64/", b"__.SYMDEF", b"__.SYMDEF SORTED", b"__.SYMDEF_64"}


def _read(stream: BinaryIO, offset: int, length: int) -> bytes:
    stream.seek(offset)
    return stream.read(length)


def _number(field: bytes, base: int, what: str) -> int | None:
    text = field.strip(b" ")
    if not text:
        return None
    try:
        if not text.isdigit():
            raise ValueError(text)
        return int(text, base)
    except ValueError:
        raise CorruptContainer(f"ar: bad {what} field {field!r}") from None


def _long_name(table: bytes, ref: bytes) -> bytes:
    """A GNU long name: `/<offset>` into the `//` table, each name ending in "/\\n"."""
    offset = int(ref[1:])
    if offset >= len(table):
        raise CorruptContainer(f"ar: long name offset {offset} outside the name table")
    end = table.find(b"\n", offset)
    name = table[offset : end if end >= 0 else len(table)]
    return name[:-1] if name.endswith(b"/") else name


def _opener(stream: BinaryIO, off: int, length: int) -> Opener:
    return lambda: view(stream, off, length)


class Ar:
    """Container for ar archives."""

    name = "ar"

    def probe(self, head: bytes, size: int) -> bool:
        return head.startswith(MAGIC)

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        if _read(stream, 0, len(MAGIC)) != MAGIC:
            raise NotThisFormat("ar: no magic")
        members: list[Member] = []
        notes: list[str] = []
        table = b""
        pos = len(MAGIC)
        while pos + HEADER <= size:
            ctx.check_time()
            hdr = _read(stream, pos, HEADER)
            if hdr[58:60] != FMAG:
                break  # not a header: the archive ended, the rest is trailing data
            length = _number(hdr[48:58], 10, "size") or 0
            data, nxt = pos + HEADER, pos + HEADER + length + (length & 1)
            if data + length > size:
                raise CorruptContainer(f"ar: member at offset {pos} runs past the end")
            raw = hdr[:16].rstrip(b" ")
            if raw == b"//":
                if length > MAX_NAME_TABLE:
                    raise CorruptContainer("ar: long-name table too large")
                table = _read(stream, data, length)
            elif raw.startswith(b"#1/") and raw[3:].isdigit():  # BSD: name leads the data
                nlen = int(raw[3:])
                if nlen > min(length, PATH_MAX):
                    raise CorruptContainer(f"ar: BSD name length {nlen} at offset {pos}")
                raw = _read(stream, data, nlen).rstrip(b"\0")
                data, length = data + nlen, length - nlen
            elif raw[:1] == b"/" and raw[1:].isdigit():
                raw = _long_name(table, raw)
            elif raw.endswith(b"/") and raw not in _SYMBOL_TABLES:
                raw = raw[:-1]  # GNU ends short names with a slash
            if raw != b"//" and raw not in _SYMBOL_TABLES:
                ctx.entry()
                members.append(self._member(stream, hdr, raw, data, length))
                if has_traversal(raw) or raw.startswith(b"/"):
                    notes.append(f"name leaves the archive: {raw!r} listed as {members[-1].name}")
            pos = min(nxt, size)
        trailing = (pos, size - pos) if pos < size else None
        return Listing(self.name, tuple(members), trailing=trailing, notes=tuple(notes))

    @staticmethod
    def _member(stream: BinaryIO, hdr: bytes, raw: bytes, data: int, length: int) -> Member:
        mode = _number(hdr[40:48], 8, "mode")
        meta = Meta(
            mode=None if mode is None else mode & 0o7777,
            uid=_number(hdr[28:34], 10, "uid"),
            gid=_number(hdr[34:40], 10, "gid"),
            mtime=_number(hdr[16:28], 10, "mtime"),
        )
        return Member(
            clean_name(raw) or ".", Kind.FILE, meta, length, _opener(stream, data, length)
        )


FORMAT = Ar()
