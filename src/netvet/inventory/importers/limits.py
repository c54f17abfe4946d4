"""Size limits that keep an import's memory bounded whatever the file holds, and the cheap
checks that enforce them before a parser sees the bytes.

An inventory is a table of short text values. Anything far outside that shape is either a
different kind of file or hostile input (a zip bomb, a single 2 GB line, JSON nested 100000
deep); without limits those exhaust memory or the stack instead of producing a message. The
limits are generous for real inventories:

- `MAX_LINE`: a text line (CSV record, JSON Lines object, snmpwalk line) longer than this is
  refused with the byte offset where it was found (the file is not a line-oriented table);
- `MAX_FIELD`: a single value longer than this is cut to this length and the row reported as
  "long-field" (the import goes on, the other rows are untouched);
- `MAX_XLSX_UNCOMPRESSED` / `MAX_XLSX_RATIO`: an .xlsx is a zip; its members' declared sizes
  are checked from the zip directory before anything is inflated, and Python's zipfile never
  inflates a member beyond its declared size (the CRC check fails first), so the check also
  holds while reading. `MAX_XLSX_CELLS` bounds the cells taken from the sheet;
- `MAX_JSON_DEPTH`: nesting deeper than this is refused (Python's parser would otherwise hit
  its recursion limit);
- `MAX_IN_MEMORY`: the formats parsed whole in Python (JSON, JSON Lines, NetBox JSON,
  CycloneDX, snmpwalk) take several times their size in memory; larger files are refused
  with a hint to use CSV or Parquet, which stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netvet.inventory.importers.base import UnreadableInventory

MAX_LINE = 16 << 20
MAX_FIELD = 64 << 10
MAX_XLSX_UNCOMPRESSED = 1 << 30
MAX_XLSX_RATIO = 200  # inflated/deflated size of one member; only above RATIO_FLOOR bytes
RATIO_FLOOR = 1 << 20
MAX_XLSX_CELLS = 50_000_000
MAX_JSON_DEPTH = 200
MAX_IN_MEMORY = 1 << 30
_CHUNK = 1 << 22
# Share of control characters (besides TAB/CR/LF) and undecodable bytes above which a head
# is binary data rather than text.
_BINARY_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class LineScan:
    """What one streaming pass over a text file found."""

    long_line_at: int | None  # byte offset of a line longer than MAX_LINE, if any
    # A line longer than MAX_FIELD, or a quoted value that may be: values need measuring.
    maybe_long_field: bool
    has_nul: bool
    bare_cr: bool  # a CR not followed by LF: classic Mac line ends


def scan_lines(path: Path, max_line: int = MAX_LINE, max_field: int = MAX_FIELD) -> LineScan:
    """One pass over `path` in chunks, at C speed. Windows of `max_field` bytes are searched
    for line ends (LF or CR, so CR-only files pass): only a window without one can lie inside
    a line longer than the window, so short lines cost nothing in Python."""
    longest, long_start = 0, 0
    has_nul = bare_cr = quoted_long = False
    odd = 0  # quote parity so far (RFC 4180 doubled quotes keep it): 1 inside a quoted value
    half = max(1, max_field // 2)
    prev_end = -1  # absolute offset of the last line end seen
    offset = 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            has_nul = has_nul or b"\0" in chunk
            if not bare_cr and b"\r" in chunk:
                bare_cr = b"\r" in chunk.replace(b"\r\n", b"").rstrip(b"\r")
            p, n = 0, len(chunk)
            for q in range(0, n, half):
                # A quoted value (line breaks inside) longer than `max_field` covers a whole
                # window of half that: inside quotes at the window's start, with no quote in
                # it but doubled (escaped) ones. Being inside quotes at two window ends is not
                # enough: in a file of many short quoted values that happens by chance
                # (every 10 MB or so), and the hint makes the importer measure every value.
                quotes = chunk.count(b'"', q, q + half)
                if odd and not quoted_long:
                    quoted_long = quotes == 2 * chunk.count(b'""', q, q + half)
                odd ^= quotes & 1
            while p < n:
                hi = min(n, p + max_field)
                first = _end(chunk.find, p, hi, min)
                if first < 0:
                    p = hi
                    continue
                run = offset + first - prev_end - 1
                if run > longest:
                    longest, long_start = run, prev_end + 1
                prev_end = offset + _end(chunk.rfind, p, hi, max)
                p = prev_end - offset + 1
            offset += n
    if offset - prev_end - 1 > longest:
        longest, long_start = offset - prev_end - 1, prev_end + 1
    long_at = long_start if longest > max_line else None
    return LineScan(long_at, longest > max_field or quoted_long, has_nul, bare_cr)


def _end(find: Callable[[bytes, int, int], int], lo: int, hi: int, pick: Callable[..., int]) -> int:
    """The first (`pick=min`, `find`) or last (`max`, `rfind`) LF or CR in [lo, hi), or -1."""
    found = [i for i in (find(b"\n", lo, hi), find(b"\r", lo, hi)) if i >= 0]
    return pick(found) if found else -1


def read_whole(path: Path, what: str, limit: int | None = None) -> bytes:
    """The bytes of a file that a reader parses whole, refused above `MAX_IN_MEMORY`."""
    limit = MAX_IN_MEMORY if limit is None else limit
    size = path.stat().st_size
    if size > limit:
        raise UnreadableInventory(
            f"{path}: {size >> 20} MiB is over the {limit >> 20} MiB limit for {what} "
            "(read whole in memory); export CSV or Parquet, which are streamed"
        )
    return path.read_bytes()


def looks_binary(head: bytes) -> bool:
    """Whether the first bytes of a file are binary data, not text in any encoding netvet
    reads (UTF-16 files have a byte-order mark and are tested after decoding)."""
    if not head:
        return False
    text = head.decode("utf-8", errors="replace")
    odd = sum(1 for c in text if (c < " " and c not in "\t\r\n") or c in "\x7f\ufffd")
    if odd / len(text) <= _BINARY_SHARE:
        return False
    # Legacy single-byte text (cp1252, Latin-1) decodes to U+FFFD in UTF-8: judge it as such.
    legacy = head.decode("latin-1")
    odd = sum(1 for c in legacy if (c < " " and c not in "\t\r\n") or "\x7f" <= c < "\xa0")
    return odd / len(legacy) > _BINARY_SHARE / 2
