"""Bytes of a container that belong to no member: after its end, between records, free space.

Data can hide in any of them and still leave every member equal, so they are compared byte for
byte: equal on both sides, or padding (a run of one fill byte) on both, or unexplained. Inner
slack (stray bytes between JFFS2 nodes, free ext blocks, the ext journal) can be most of an
image, so it is streamed rather than loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from netvet.firmware.blob import Blob
from netvet.firmware.content.ranges import diff_ranges, hexdump_pair
from netvet.firmware.model import Listing
from netvet.firmware.result import Change, Finding, Location, Status
from netvet.firmware.streams import is_fill

if TYPE_CHECKING:
    from netvet.firmware.compare import Engine

# Trailing bytes or gaps bigger than this are compared by hash only, not loaded.
_FILL_CHECK_LIMIT = 256 << 20


def inner_slack(engine: Engine, path: str, rl: Listing, dl: Listing, rb: Blob, db: Blob) -> None:
    """Bytes inside a container that belong to no member (stray bytes between JFFS2 nodes, free
    ext blocks), concatenated per side: equal, or fill on both sides, or unexplained.

    Free space can be most of an image, so both sides are streamed, never loaded whole."""
    rfill, dfill = _stream_fill(rb, rl.slack), _stream_fill(db, dl.slack)
    if rfill is not False and dfill is not False:
        return
    first = _first_difference(rb, rl.slack, db, dl.slack)
    if first is None:
        return
    rlen, dlen = _total(rl.slack), _total(dl.slack)
    ranges = rl.slack if first < rlen and rfill is False or first >= dlen else dl.slack
    where, offset = _locate(ranges, first)
    lo = max(0, first - 64)
    ra, da = _window(rb, rl.slack, lo, 256), _window(db, dl.slack, lo, 256)
    fs = rl.format
    engine.add(
        Finding(
            path,
            Change.MODIFIED,
            Status.UNEXPLAINED,
            "trailing-data",
            f"data between {fs} records (belongs to no member: free space, journal, gaps): "
            f"{rlen} bytes in reference, {dlen} in deployed, first difference at {offset:#x}",
            (Location(section=f"{fs} slack", offset=offset, length=where),),
            diff=tuple(hexdump_pair(ra, da, first - lo, min(where, 128))),
        )
    )


_CHUNK = 1 << 20


def _chunks(blob: Blob, ranges: tuple[tuple[int, int], ...]) -> Iterator[bytes]:
    with blob.open() as s:
        for off, length in ranges:
            s.seek(off)
            while length > 0:
                piece = s.read(min(length, _CHUNK))
                if not piece:
                    break
                yield piece
                length -= len(piece)


def _stream_fill(blob: Blob, ranges: tuple[tuple[int, int], ...]) -> int | None | bool:
    """The one byte value every slack byte has, None when there are none, False when mixed."""
    fill: int | None = None
    for piece in _chunks(blob, ranges):
        if fill is None:
            fill = piece[0]
        if piece.count(fill) != len(piece):
            return False
    return fill


def _first_difference(
    rb: Blob, rr: tuple[tuple[int, int], ...], db: Blob, dr: tuple[tuple[int, int], ...]
) -> int | None:
    """Index of the first byte where the two concatenations differ (None when equal)."""
    ra, da = _chunks(rb, rr), _chunks(db, dr)
    abuf, bbuf, pos = b"", b"", 0
    while True:
        if not abuf:
            abuf = next(ra, b"")
        if not bbuf:
            bbuf = next(da, b"")
        if not abuf or not bbuf:
            return None if abuf == bbuf else pos
        n = min(len(abuf), len(bbuf))
        if abuf[:n] != bbuf[:n]:
            return pos + diff_ranges(abuf[:n], bbuf[:n], limit=1)[0][0]
        abuf, bbuf, pos = abuf[n:], bbuf[n:], pos + n


def _window(blob: Blob, ranges: tuple[tuple[int, int], ...], start: int, size: int) -> bytes:
    """`size` bytes of the concatenated ranges from index `start`."""
    out: list[bytes] = []
    with blob.open() as s:
        for off, length in ranges:
            if start >= length:
                start -= length
                continue
            s.seek(off + start)
            out.append(s.read(min(length - start, size)))
            size -= len(out[-1])
            start = 0
            if size <= 0:
                break
    return b"".join(out)


def _total(ranges: tuple[tuple[int, int], ...]) -> int:
    return sum(length for _, length in ranges)


def _locate(ranges: tuple[tuple[int, int], ...], index: int) -> tuple[int, int]:
    """(length of the range, absolute offset) of byte `index` of the concatenated ranges."""
    for start, length in ranges:
        if index < length:
            return length - index, start + index
        index -= length
    start, length = ranges[-1]
    return 0, start + length


def compare_slack(
    engine: Engine,
    path: str,
    where: str,
    ref: tuple[Blob, tuple[int, int] | None],
    dep: tuple[Blob, tuple[int, int] | None],
    base: int = 0,
) -> None:
    """Bytes outside any member (after a container's end, between flash images) must be equal
    on both sides or be runs of one fill byte each; anything else may hide data.

    Locations give the first differing byte as an offset in the parent (`base` + span start).
    """
    ra, da = _slack_bytes(*ref), _slack_bytes(*dep)
    if ra == da:
        return
    if is_fill(ra) and is_fill(da):
        engine.add(
            Finding(
                path,
                Change.METADATA,
                Status.BENIGN,
                "padding",
                f"padding {where}: {_fill_desc(ra)} vs {_fill_desc(da)}",
            )
        )
        return
    refill = _refilled(ra, da)
    if refill is not None:
        engine.add(
            Finding(path, Change.METADATA, Status.BENIGN, "padding", f"padding {where}: {refill}")
        )
        return
    first, last, span = _suspicious(ra, da, ref[1], dep[1])
    engine.add(
        Finding(
            path,
            Change.MODIFIED,
            Status.UNEXPLAINED,
            "trailing-data",
            f"data {where}: {len(ra)} bytes in reference, {len(da)} in deployed, not padding",
            (Location(section=where, offset=base + span + first, length=last - first),),
            diff=tuple(hexdump_pair(ra, da, first, last - first)),
        )
    )


_ERASED = (0x00, 0xFF)


def _refilled(ra: bytes, da: bytes) -> str | None:
    """How only the fill changed (a boot blob padded with 0xFF, then 0x00), or None.

    The common prefix and suffix are equal bytes; what is left must be a run of erased-flash
    fill (0x00 or 0xFF) on each side, so a change inside the blob, or data in the fill, stays
    unexplained."""
    start = _common_prefix_len(ra, da)
    tail = _common_prefix_len(ra[start:][::-1], da[start:][::-1])
    rmid, dmid = ra[start : len(ra) - tail], da[start : len(da) - tail]
    for mid in (rmid, dmid):
        if mid and (mid[0] not in _ERASED or not is_fill(mid)):
            return None
    return f"fill changed after {start} equal bytes: {_fill_desc(rmid)} vs {_fill_desc(dmid)}"


def _common_prefix_len(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    return diff_ranges(a[:n], b[:n], limit=1)[0][0]


def _suspicious(
    ra: bytes, da: bytes, rspan: tuple[int, int] | None, dspan: tuple[int, int] | None
) -> tuple[int, int, int]:
    """(first, end, span start) of the bytes that are not padding, on the side that has them.

    When one side is a fill run (or empty), the other side's bytes that differ from that fill
    are the suspicious ones, located in that side's span; otherwise the first differing byte.
    """
    if is_fill(ra) or is_fill(da):
        data, span = (da, dspan) if is_fill(ra) else (ra, rspan)
        other = ra if data is da else da
        # The other side's fill byte; with nothing there, erased flash (0xFF) or zeros.
        fill = other[:1] or (b"\xff" if data.count(0xFF) >= data.count(0) else b"\x00")
        first = len(data) - len(data.lstrip(fill))
        last = len(data.rstrip(fill))
        return first, max(last, first + 1), span[0] if span else 0
    first = diff_ranges(ra, da, limit=1)[0][0]
    start = rspan[0] if rspan else (dspan[0] if dspan else 0)
    return first, max(len(ra), len(da)), start


def _slack_bytes(blob: Blob, span: tuple[int, int] | None) -> bytes:
    if not span or span[1] <= 0:
        return b""
    off, length = span
    length = min(length, _FILL_CHECK_LIMIT)
    with blob.open() as s:
        s.seek(off)
        return s.read(length)


def _fill_desc(data: bytes) -> str:
    return f"{len(data)} x 0x{data[0]:02X}" if data else "none"
