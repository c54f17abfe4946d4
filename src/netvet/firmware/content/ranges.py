"""Byte ranges where two buffers differ, found block-wise so equal megabytes cost little."""

from __future__ import annotations

_BLOCK = 4096


def diff_ranges(
    a: bytes, b: bytes, limit: int = 10_000, merge_gap: int = 8
) -> list[tuple[int, int]]:
    """(offset, length) ranges where `a` and `b` differ, in offsets of `a`.

    Ranges closer than `merge_gap` bytes merge into one. If the lengths differ, the part beyond
    the shorter buffer is one final range. At most `limit` ranges are returned.
    """
    out: list[tuple[int, int]] = []
    n = min(len(a), len(b))
    ma, mb = memoryview(a), memoryview(b)
    start = -1
    last_diff = -1
    for base in range(0, n, _BLOCK):
        end = min(base + _BLOCK, n)
        if ma[base:end] == mb[base:end]:
            continue
        for i in range(base, end):
            if a[i] != b[i]:
                if start >= 0 and i - last_diff > merge_gap:
                    out.append((start, last_diff - start + 1))
                    if len(out) >= limit:
                        return out
                    start = i
                elif start < 0:
                    start = i
                last_diff = i
    if start >= 0:
        out.append((start, last_diff - start + 1))
    if len(a) != len(b) and len(out) < limit:
        if out and out[-1][0] + out[-1][1] + merge_gap >= n:
            s = out.pop()[0]
            out.append((s, max(len(a), len(b)) - s))
        else:
            out.append((n, max(len(a), len(b)) - n))
    return out


def hexdump_pair(a: bytes, b: bytes, offset: int, length: int, width: int = 16) -> list[str]:
    """Side-by-side hex lines of both buffers around one differing range, for drill-down."""
    start = max(0, offset - (offset % width))
    stop = min(max(len(a), len(b)), offset + length + width)
    stop = min(stop, start + 8 * width)
    lines = []
    for pos in range(start, stop, width):
        ra, rb = a[pos : pos + width], b[pos : pos + width]
        mark = " " if ra == rb else "!"
        lines.append(f"{mark} {pos:08x}  {ra.hex(' '):<{width * 3}} | {rb.hex(' ')}")
    return lines
