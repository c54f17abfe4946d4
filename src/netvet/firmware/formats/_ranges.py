"""Byte ranges of an image as (offset, length) pairs: the form the slack checks exchange."""

from __future__ import annotations

Ranges = list[tuple[int, int]]


def merge(ranges: Ranges) -> Ranges:
    """The ranges sorted, empty ones dropped, overlapping or touching ones joined."""
    out: Ranges = []
    for start, length in sorted(r for r in ranges if r[1] > 0):
        if out and start <= out[-1][0] + out[-1][1]:
            prev = out[-1]
            out[-1] = (prev[0], max(prev[1], start + length - prev[0]))
        else:
            out.append((start, length))
    return out
