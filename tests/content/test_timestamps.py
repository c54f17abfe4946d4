"""Date/time stamp shapes: what counts as a build stamp, and what never does."""

from __future__ import annotations

import pytest

from netvet.firmware.content.timestamps import same_format, stamp_difference, stamps


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("Nov 28 2026", "c-date"),
        ("Nov  3 2026", "c-date"),
        ("14:03:59", "time"),
        ("Sat Nov 28 14:03:59 UTC 2026", "date"),
        ("Tue Nov  3 04:03:59 CEST 2026", "date"),
        ("2026-11-28T14:03:59Z", "iso8601"),
        ("2026-11-28 14:03:59", "iso8601"),
        ("2026-11-28T14:03:59.123456+01:00", "iso8601"),
        ("2026-11-28", "iso-date"),
        ("20261128140359", "compact"),
        ("20261128-1403", "compact-split"),
        ("Sat, 28 Nov 2026 14:03:59 +0000", "rfc2822"),
    ],
)
def test_each_format_is_one_stamp(text: str, fmt: str) -> None:
    found = stamps(f"built: {text};")
    assert [(s.end - s.start, s.fmt) for s in found] == [(len(text), fmt)]
    assert same_format(text, text) == fmt


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("v1.2 built Nov 28 2026 14:03:59", "v1.2 built Dec  1 2025 09:13:07"),
        ("Sat Nov 28 14:03:59 UTC 2026 #1", "Sun Nov 29 02:00:00 UTC 2026 #1"),
        ("BUILD=2026-11-28T14:03:59Z", "BUILD=2027-01-02T00:00:01Z"),
        ("fw-20261128-1403.bin", "fw-20261201-0917.bin"),
        ("fw 20261128140359", "fw 20270101000000"),
        ("Date: Sat, 28 Nov 2026 14:03:59 +0000", "Date: Mon, 30 Nov 2026 08:00:00 +0100"),
        ("BUILD_TIMESTAMP=1764338639", "BUILD_TIMESTAMP=1764425777"),
        ('"SOURCE_DATE_EPOCH": 1764338639,', '"SOURCE_DATE_EPOCH": 1764425777,'),
    ],
)
def test_stamp_only_differences(a: str, b: str) -> None:
    changed = stamp_difference(a, b)
    assert changed, (a, b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("version 1.2.3", "version 1.2.4"),  # no stamp at all
        ("built Nov 28 2026 by alice", "built Nov 29 2026 by bobby"),  # stamp plus more
        ("built Nov 28 2026", "built Nov 28 2026!"),  # lengths differ
        ("at 2026-11-28", "at 2026-13-28"),  # month 13 is no date
        ("at 25:03:59", "at 26:03:59"),  # nor hour 25
        ("n=1764338639", "n=1764338640"),  # ten digits without a time key
        ("BUILD_NUMBER=1764338639", "BUILD_NUMBER=1764338640"),  # a number, not a time
        ("TIMESTAMP=9999999999", "TIMESTAMP=9999999998"),  # out of range for epoch seconds
        ("v20261128140359", "v20261201000000"),  # glued to a letter: part of a word
        ("id 120261128140359", "id 120261201000000"),  # glued to a digit: part of a number
        ("same", "same"),  # no difference is not a stamp difference
    ],
)
def test_not_stamp_differences(a: str, b: str) -> None:
    assert stamp_difference(a, b) is None


def test_formats_must_match_not_just_lengths() -> None:
    # Both 28 characters: `date` output on one side, RFC 2822 with a one-digit day on the other.
    a, b = "Sat Nov 28 14:03:59 UTC 2026", "Sat, 8 Nov 2026 14:03:59 GMT"
    assert len(a) == len(b)
    assert same_format(a, b) is None
    assert stamp_difference(a, b) is None


def test_same_format_needs_whole_stamps_of_equal_length() -> None:
    assert same_format(b"Nov  3 2026", b"Dec 13 2025") == "c-date"
    assert same_format(b"Nov 28 2026", b"Nov 28 2026x") is None
    assert same_format(b"\xffov 28 2026", b"Nov 28 2026") is None
    assert same_format("1764338639", "1764425777") is None  # epoch needs its key


def test_overlapping_candidates_prefer_the_longest() -> None:
    found = stamps("2026-11-28 14:03:59")
    assert [s.fmt for s in found] == ["iso8601"]
