"""Plain binary data nobody can interpret: every differing byte is unexplained, by range.

No benign class applies here: without knowing which bytes are code, a date-shaped string in an
opaque blob could be an instruction stream (DESIGN.md: never mask executable bytes).
"""

from __future__ import annotations

from netvet.firmware.blob import Blob
from netvet.firmware.content import Explanation
from netvet.firmware.content.ranges import diff_ranges, hexdump_pair
from netvet.firmware.result import Change, Finding, Location, Node, Status

MAX_LOCATIONS = 50


def accepts(head: bytes) -> bool:
    return True


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    a, b = ref.read(), dep.read()
    ranges = diff_ranges(a, b, limit=MAX_LOCATIONS + 1)
    locs = tuple(Location(section="data", offset=o, length=n) for o, n in ranges[:MAX_LOCATIONS])
    more = " (first 50 shown)" if len(ranges) > MAX_LOCATIONS else ""
    size = f"{len(a)} bytes" if len(a) == len(b) else f"{len(a)} -> {len(b)} bytes"
    diff: list[str] = []
    for o, n in ranges[:5]:
        diff.extend(hexdump_pair(a, b, o, n))
    finding = Finding(
        path,
        Change.MODIFIED,
        Status.UNEXPLAINED,
        "content",
        f"binary content differs in {len(ranges)} range(s){more}, {size}",
        locs,
        diff=tuple(diff),
    )
    return Explanation(Node.DIFFERENT, (finding,))
