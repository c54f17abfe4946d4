"""Which text encoding a delimited file uses, and the bytes to hand to the CSV reader.

Accepted: UTF-8 with or without a byte-order mark (read straight from disk, streamed), UTF-16
with a byte-order mark (Excel's "Unicode text"), and legacy single-byte files: Windows-1252 when
every byte decodes as such, Latin-1 otherwise (both with a note). A file that is mostly UTF-8
but holds a few invalid byte sequences (one pasted row from another system) is read as UTF-8
with U+FFFD in place of the bad bytes; those rows are reported as undecodable, the others keep
their accents. Only the two fallbacks load the file in memory; UTF-8 files are checked in
chunks.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

_CHUNK = 1 << 22
_HIGH = bytes(range(0x80, 0x100))
UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
# After a surrogateescape decode, invalid bytes are U+DC80..U+DCFF; anything else above ASCII
# came from a valid multi-byte sequence.
_VALID_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


@dataclass(frozen=True, slots=True)
class Decoded:
    """How to read the file: from `path` as UTF-8 (data None) or from transcoded `data`."""

    encoding: str  # what the file was found to be
    data: bytes | None  # UTF-8 bytes to parse instead of the file, when it was transcoded
    lossy: bool  # invalid sequences were replaced with U+FFFD
    note: str | None


def is_utf8(path: Path) -> bool:
    """Whether the whole file is valid UTF-8 (streamed; ASCII chunks are checked at C speed,
    others by polars' UTF-8 validation, several times faster than decoding them in Python)."""
    carry = b""  # a chunk's trailing non-ASCII bytes: maybe a sequence the next one completes
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            if not carry and chunk.isascii():
                continue
            chunk = carry + chunk
            cut = len(chunk.rstrip(_HIGH))
            carry = chunk[cut:]
            if not _valid_utf8(chunk[:cut]):
                return False
    return _valid_utf8(carry)


def _valid_utf8(data: bytes) -> bool:
    # Strict like Python's codec: overlong forms, surrogates and truncated sequences fail.
    try:
        pl.Series([data], dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.ComputeError:
        return False
    return True


def decode(path: Path) -> Decoded:
    """Decide the encoding of `path` (see the module docstring)."""
    with path.open("rb") as f:
        head = f.read(4)
    if head.startswith(_UTF16_BOMS):
        text = path.read_bytes().decode("utf-16", errors="replace")
        return Decoded("utf-16", text.encode("utf-8"), "\ufffd" in text, "read as UTF-16 (BOM)")
    if is_utf8(path):
        return Decoded("utf-8-sig" if head.startswith(UTF8_BOM) else "utf-8", None, False, None)
    raw = path.read_bytes()
    text = raw.decode("utf-8", errors="surrogateescape")
    # Valid multi-byte sequences mean the file is UTF-8 with damage, not a legacy encoding:
    # re-reading it as cp1252 would garble every correct accent.
    if _VALID_NON_ASCII.search(text):
        fixed = raw.decode("utf-8", errors="replace")
        note = "not valid UTF-8 throughout: invalid byte sequences replaced with U+FFFD"
        return Decoded("utf-8 (damaged)", fixed.encode("utf-8"), True, note)
    try:
        legacy, name = raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
        legacy, name = raw.decode("latin-1"), "latin-1"
    note = f"not UTF-8: read as {name} (Windows-1252/Latin-1 legacy export)"
    return Decoded(name, legacy.encode("utf-8"), False, note)


def head_text(decoded: Decoded, path: Path, size: int = 1 << 16) -> str:
    """The first `size` bytes as text (for sniffing the delimiter and the header)."""
    if decoded.data is not None:
        raw = decoded.data[:size]
    else:
        with path.open("rb") as f:
            raw = f.read(size)
    return raw.decode("utf-8", errors="ignore").removeprefix("\ufeff")
