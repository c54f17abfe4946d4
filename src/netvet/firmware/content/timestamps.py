"""Shapes of embedded build dates and times: the only module that knows what a date looks like.

Build systems stamp binaries and text files with the time they ran: C `__DATE__`/`__TIME__`,
`date` output in banners, ISO-8601 and compact stamps in version files, RFC 2822 dates in
changelogs, Unix epoch seconds in `BUILD_TIMESTAMP=` lines. Two versions of a file whose only
difference is such a stamp were built from the same source at different times (DESIGN.md,
"embedded build time").

The rule is deliberately narrow. A difference is explained only when, on both sides, it lies
inside a stamp of the *same format* at the *same position and length*. Every field is range
checked (month 01-12, hour 00-23, ...), and a stamp must not touch a letter or digit on either
side, so a date cannot be carved out of a longer word or number. Epoch seconds are accepted only
as the value of a key whose name says it is a time (`BUILD_TIMESTAMP=1764338639`,
`SOURCE_DATE_EPOCH: 1764338639`): a bare ten-digit number could be anything.

Patterns run over decoded strings the callers have already isolated (one text line, one
NUL-terminated string of a data section), never over raw binary.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

_MON = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
_DOW = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
_YEAR = r"(?:19[7-9]\d|20\d\d)"
_MM = r"(?:0[1-9]|1[0-2])"
_DD = r"(?:0[1-9]|[12]\d|3[01])"
_DAY_PAD = r"(?:[ 0][1-9]|[12]\d|3[01])"  # `Nov  3` (C __DATE__, date %e) or `Nov 03`
_DAY_ANY = r"(?:0?[1-9]|[12]\d|3[01])"
_HMS = r"(?:[01]\d|2[0-3]):[0-5]\d:(?:[0-5]\d|60)"
_HM = r"(?:[01]\d|2[0-3])[0-5]\d"
_ZONE = r"(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)"
_START = r"(?<![0-9A-Za-z])"
_END = r"(?![0-9A-Za-z])"

# name -> pattern of the whole stamp. A name is a format: two stamps compare only within one.
_FORMATS: dict[str, str] = {
    # `date` default output: Sat Nov 28 14:03:59 UTC 2026
    "date": rf"{_DOW} {_MON} {_DAY_PAD} {_HMS} [A-Z]{{2,5}} {_YEAR}",
    # RFC 2822: Sat, 28 Nov 2026 14:03:59 +0000
    "rfc2822": rf"{_DOW}, {_DAY_ANY} {_MON} {_YEAR} {_HMS} (?:[+-]\d{{4}}|GMT|UTC|UT)",
    # ISO-8601 date and time: 2026-11-28T14:03:59Z, 2026-11-28 14:03:59, fractions, offsets
    "iso8601": rf"{_YEAR}-{_MM}-{_DD}[T ]{_HMS}(?:\.\d{{1,9}})?{_ZONE}?",
    "iso8601-minutes": rf"{_YEAR}-{_MM}-{_DD}[T ](?:[01]\d|2[0-3]):[0-5]\d{_ZONE}?",
    "iso-date": rf"{_YEAR}-{_MM}-{_DD}",
    # C __DATE__ (`Nov 28 2026`, `Nov  3 2026`) and __TIME__ (`14:03:59`)
    "c-date": rf"{_MON} {_DAY_PAD} {_YEAR}",
    "time": _HMS,
    # compact: 20261128140359, 20261128-1403, 20261128_140359, 20261128T1403
    "compact": rf"{_YEAR}{_MM}{_DD}{_HM}(?:[0-5]\d)",
    "compact-split": rf"{_YEAR}{_MM}{_DD}[-_T]{_HM}(?:[0-5]\d)?",
}
_COMPILED = {name: re.compile(_START + pattern + _END) for name, pattern in _FORMATS.items()}
_WHOLE = {name: re.compile(pattern) for name, pattern in _FORMATS.items()}

# Epoch seconds: only as the value of a key naming a time (`KEY=`, `key: `, `"key": `).
# The value is group 1; bounded repeats keep the search linear on long lines.
_EPOCH = re.compile(
    r"(?i)(?<![0-9A-Za-z_])[A-Za-z0-9_.-]{0,40}(?:time|date|epoch|stamp)[A-Za-z0-9_.-]{0,40}"
    r"[\"']?\s*[=:]\s*[\"']?(\d{10})(?![0-9A-Za-z])"
)
_EPOCH_MIN, _EPOCH_MAX = 1_000_000_000, 4_102_444_800  # 2001-09-09 .. 2100-01-01


@dataclass(frozen=True, slots=True)
class Stamp:
    """A date/time stamp found in a string: `text[start:end]` has format `fmt`."""

    start: int
    end: int
    fmt: str


def stamps(text: str) -> list[Stamp]:
    """Every date/time stamp in `text`, non-overlapping; where candidates overlap the longest
    (then the earliest) wins, so `2026-11-28 14:03:59` is one ISO stamp, not a date and a time."""
    found: list[Stamp] = []
    for name, rx in _COMPILED.items():
        found.extend(Stamp(m.start(), m.end(), name) for m in rx.finditer(text))
    for m in _EPOCH.finditer(text):
        if _EPOCH_MIN <= int(m.group(1)) <= _EPOCH_MAX:
            found.append(Stamp(m.start(1), m.end(1), "epoch"))
    found.sort(key=lambda s: (-(s.end - s.start), s.start))
    starts: list[int] = []  # of the chosen stamps, which never overlap: check the neighbours
    chosen: list[Stamp] = []
    for s in found:
        i = bisect.bisect_left(starts, s.start)
        if (i and chosen[i - 1].end > s.start) or (i < len(chosen) and chosen[i].start < s.end):
            continue
        starts.insert(i, s.start)
        chosen.insert(i, s)
    return chosen


def same_format(a: bytes | str, b: bytes | str) -> str | None:
    """The format name when `a` and `b` are each exactly one stamp of the same format and
    length; None otherwise. Epoch seconds never qualify here: without their key they are just
    numbers."""
    sa, sb = _text(a), _text(b)
    if sa is None or sb is None or len(sa) != len(sb):
        return None
    for name, rx in _WHOLE.items():
        if rx.fullmatch(sa) and rx.fullmatch(sb):
            return name
    return None


def stamp_difference(a: str, b: str) -> list[Stamp] | None:
    """The stamps that differ when they are the *only* difference between `a` and `b`.

    Both strings must have the same length, and every differing character must lie inside a
    stamp found at the same span with the same format on both sides. Returns the differing
    stamps (non-empty), or None when any difference is not a stamp or there is no difference.
    """
    if len(a) != len(b) or a == b:
        return None
    theirs = {(s.start, s.end): s.fmt for s in stamps(b)}
    common = [s for s in stamps(a) if theirs.get((s.start, s.end)) == s.fmt]
    covered = bytearray(len(a))
    changed: list[Stamp] = []
    for s in common:
        if a[s.start : s.end] != b[s.start : s.end]:
            covered[s.start : s.end] = b"\x01" * (s.end - s.start)
            changed.append(s)
    for i, (x, y) in enumerate(zip(a, b, strict=True)):
        if x != y and not covered[i]:
            return None
    return changed


def _text(value: bytes | str) -> str | None:
    if isinstance(value, str):
        return value
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        return None
