"""The byte-level tests behind the ELF benign classes `build-id` and `build-time`.

`build_id_span` finds the descriptor of a GNU build-id note when it is all that differs;
`stamp_strings` finds the NUL-terminated printable strings holding every differing byte of a
range when each differs only in date/time stamps (`timestamps.stamp_difference`). Both look at
one section's contents on each side; deciding which sections may hold them is `elf`'s job.
"""

from __future__ import annotations

import struct

from netvet.firmware.content.timestamps import stamp_difference

MAX_STRING = 4096
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09}


def build_id_span(ca: bytes, cb: bytes, little: bool) -> tuple[int, int] | None:
    """(start, end) of the descriptor when it is all that differs between two GNU build-id
    notes (namesz, descsz, type NT_GNU_BUILD_ID=3 and name "GNU" equal)."""
    if len(ca) < 16 or ca[:12] != cb[:12]:
        return None
    namesz, descsz, kind = struct.unpack("<III" if little else ">III", ca[:12])
    start = 12 + ((namesz + 3) & ~3)
    end = start + descsz
    if kind != 3 or ca[12:start] != cb[12:start] or ca[12:15] != b"GNU" or end > len(ca):
        return None
    return (start, end) if ca[end:] == cb[end:] else None


def string_at(buf: bytes, i: int) -> tuple[int, int] | None:
    """Span of the printable run around `buf[i]` if it is NUL-terminated and not too long."""
    if buf[i] not in _PRINTABLE:
        return None
    s = i
    while s > 0 and buf[s - 1] in _PRINTABLE and i - s <= MAX_STRING:
        s -= 1
    e = i
    while e < len(buf) and buf[e] in _PRINTABLE and e - i <= MAX_STRING:
        e += 1
    if e - s > MAX_STRING or e >= len(buf) or buf[e] != 0:
        return None
    return s, e


def stamp_strings(ca: bytes, cb: bytes, off: int, n: int) -> list[tuple[int, int]] | None:
    """The strings holding every differing byte of a range, if each differs only in stamps."""
    out: list[tuple[int, int]] = []
    for i in range(off, off + n):
        if ca[i] == cb[i] or (out and i < out[-1][1]):
            continue
        span = string_at(ca, i)
        if span is None or span != string_at(cb, i):
            return None
        s, e = span
        if stamp_difference(ca[s:e].decode("ascii"), cb[s:e].decode("ascii")) is None:
            return None
        out.append(span)
    return out


def data_detail(ca: bytes, cb: bytes, off: int, n: int) -> str:
    """A differing data range as the strings around it (when text) or its first bytes in hex."""
    span = string_at(ca, off) if off < len(ca) else None
    same = span == (string_at(cb, off) if off < len(cb) else None)
    if span is not None and same and span[1] - span[0] >= 4:  # shorter runs are rarely text
        s, e = span
        return f"{ca[s:e].decode()!r} -> {cb[s:e].decode()!r}"[:200]
    return f"{ca[off : off + min(n, 16)].hex()} -> {cb[off : off + min(n, 16)].hex()}"
