"""Turning values an SNMP agent sent into text that is safe to print, store and compare.

An agent is untrusted: its strings can carry terminal escape sequences, bidirectional
overrides, NULs and megabytes of padding, and need not be UTF-8 (DisplayString is ASCII by
RFC 2579, but many devices send Latin-1 or UTF-8). Every string here is decoded, stripped of
control and format characters, whitespace-collapsed and bounded before anything else sees it.
"""

from __future__ import annotations

import unicodedata

from netvet.inventory.snmp_client import SnmpValue

MAX_TEXT = 1024  # characters kept of one value; sysDescr banners run to a few hundred
MAX_HEX = 256  # bytes shown of a binary value
_REPLACEMENT = "\ufffd"
# Unicode categories that never belong in a name or description: controls (Cc: C0, DEL, C1),
# format characters (Cf: bidi overrides, zero-width joiners), separators other than space,
# surrogates and private use.
_DROP_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}
_SPACES = "\t\n\r\v\f"


def decode(data: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8, else Latin-1 (which decodes any byte)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def clean_text(data: bytes, limit: int = MAX_TEXT) -> str:
    """Printable one-line text of an OCTET STRING: control characters become U+FFFD, line
    breaks and tabs a space, runs of spaces one; cut at `limit` characters (marked with …)."""
    text = decode(data[: limit * 4].rstrip(b"\x00"))  # 4 = longest UTF-8 encoding of a char
    out: list[str] = []
    for ch in text:
        if ch in _SPACES or ch == " ":
            if out and out[-1] != " ":
                out.append(" ")
        elif unicodedata.category(ch) in _DROP_CATEGORIES:
            out.append(_REPLACEMENT)
        else:
            out.append(ch)
    cleaned = "".join(out).strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def is_text(data: bytes) -> bool:
    """True when the bytes read as text: valid UTF-8 without control characters other than
    line breaks and tabs (a trailing NUL, which some agents send, is allowed)."""
    try:
        text = data.rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in _SPACES or unicodedata.category(ch) not in _DROP_CATEGORIES for ch in text)


def hex_text(data: bytes) -> str:
    """`0x`-prefixed hex of at most `MAX_HEX` bytes (longer values end in …)."""
    shown = "0x" + data[:MAX_HEX].hex()
    return shown + "…" if len(data) > MAX_HEX else shown


def render(value: SnmpValue, binary: bool = False) -> str:
    """One value as text for the raw record: OIDs dotted, integers in decimal, strings as
    text when they are text and as hex otherwise (or always, when `binary`)."""
    if isinstance(value, bytes):
        return clean_text(value) if not binary and is_text(value) else hex_text(value)
    if isinstance(value, tuple):
        return ".".join(map(str, value))
    return str(value)


def plain(value: SnmpValue | None) -> str:
    """A value expected to be a string, as clean text; other types as `render` gives them."""
    if value is None:
        return ""
    return clean_text(value) if isinstance(value, bytes) else render(value)
