"""Make strings that come out of an image safe to show.

Names, summaries and diff lines are hostile: a member name can hold terminal escape sequences,
newlines that forge report lines, bidirectional overrides that reorder what a reviewer reads
("Trojan Source"), or undecodable bytes (carried as surrogateescape code points, see
firmware.model.clean_name) that cannot be written as UTF-8 at all.
"""

from __future__ import annotations

_SURROGATE_BYTES = range(0xDC80, 0xDD00)  # what surrogateescape makes of bytes 0x80..0xFF
_SURROGATES = range(0xD800, 0xE000)


def _escape_char(ch: str) -> str:
    o = ord(ch)
    if o in _SURROGATE_BYTES:
        return f"\\x{o - 0xDC00:02x}"
    if o < 0x100:
        return f"\\x{o:02x}"
    if o < 0x10000:
        return f"\\u{o:04x}"
    return f"\\U{o:08x}"


def utf8_safe(s: str) -> str:
    """`s` with lone surrogates written as `\\xNN` (the original byte) so it encodes as UTF-8.

    Everything else is kept exactly; used for JSON, whose own escaping handles control chars.
    """
    if not any(ord(ch) in _SURROGATES for ch in s):
        return s
    return "".join(_escape_char(ch) if ord(ch) in _SURROGATES else ch for ch in s)


def printable(s: str, keep_tab: bool = False) -> str:
    """`s` with every non-printable character written as `\\xNN`, `\\uNNNN` or `\\UNNNNNNNN`.

    Python's notion of printable excludes control characters, surrogates, format characters
    (bidi overrides, zero-width marks) and separators other than the ASCII space (so also
    U+2028 LINE SEPARATOR); the result is one visual line in the order it is stored.
    `keep_tab` leaves tabs alone (diff lines of text files).
    """
    if s.isprintable():
        return s
    return "".join(
        ch if ch.isprintable() or (keep_tab and ch == "\t") else _escape_char(ch) for ch in s
    )
