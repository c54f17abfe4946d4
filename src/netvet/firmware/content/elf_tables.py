"""The three ELF header tables compared field by field: ELF header, program headers, section
headers, plus the dynamic tags the comparison reports (DT_NEEDED, DT_SONAME, ...).

A table that differs is always unexplained: each change here is returned as the class, summary
and locations of one finding, and `elf._Report` turns it into a finding on its path.
"""

from __future__ import annotations

from dataclasses import dataclass

from netvet.firmware.content.elf_functions import keyed
from netvet.firmware.content.elf_load import DYNAMIC, Elf, Section, Segment
from netvet.firmware.result import Location


@dataclass(frozen=True, slots=True)
class TableChange:
    """One changed table: the finding's class (`elf-header`, ...), summary and locations."""

    klass: str
    summary: str
    locations: tuple[Location, ...]


def table_changes(a: Elf, b: Elf) -> list[TableChange]:
    """Every changed table of `b` against `a`, in header, segments, sections, dynamic order."""
    found = (_header(a, b), _segments(a, b), _sections(a, b), _dynamic(a, b))
    return [change for change in found if change is not None]


def _header(a: Elf, b: Elf) -> TableChange | None:
    if a.table("ELF header") == b.table("ELF header"):
        return None
    ha, hb = a.header, b.header
    locs = [
        Location("ELF header", k, None, None, f"{_show(ha[k])} -> {_show(hb[k])}")
        for k in ha
        if ha[k] != hb.get(k)
    ] or [Location("ELF header", None, 0, len(a.table("ELF header")), "bytes differ")]
    changes = ", ".join(f"{loc.symbol} {loc.detail}" for loc in locs[:4] if loc.symbol)
    return TableChange("elf-header", f"ELF header changed: {changes or 'bytes'}", tuple(locs))


def _segments(a: Elf, b: Elf) -> TableChange | None:
    if a.table("program headers") == b.table("program headers"):
        return None
    sa, sb = a.segments, b.segments
    locs: list[Location] = []
    for i in range(max(len(sa), len(sb))):
        x, y = (sa[i] if i < len(sa) else None), (sb[i] if i < len(sb) else None)
        if x == y:
            continue
        locs.append(Location("program headers", f"[{i}]", None, None, _segment_change(x, y)))
    if len(sa) != len(sb):
        locs.insert(0, Location("program headers", None, None, None, f"{len(sa)} -> {len(sb)}"))
    first = locs[0].detail if locs else "table bytes differ"
    more = f" (+{len(locs) - 1} more)" if len(locs) > 1 else ""
    return TableChange("elf-segments", f"program headers changed: {first}{more}", tuple(locs))


def _sections(a: Elf, b: Elf) -> TableChange | None:
    if a.table("section headers") == b.table("section headers"):
        return None
    ka, kb = keyed(a.sections), keyed(b.sections)
    locs = [Location(k[0], None, None, None, "removed") for k in ka if k not in kb]
    locs += [Location(k[0], None, None, None, "added") for k in kb if k not in ka]
    for k, x in ka.items():
        y = kb.get(k)
        if y is None or _section_shape(x) == _section_shape(y):
            continue
        locs.append(Location(k[0], None, x.offset, x.size, _section_change(x, y)))
    names = ", ".join(f"{loc.section} {loc.detail}" for loc in locs[:3])
    more = f" (+{len(locs) - 3} more)" if len(locs) > 3 else ""
    summary = f"section headers changed: {names or 'table bytes differ'}{more}"
    return TableChange("elf-sections", summary, tuple(locs))


def _dynamic(a: Elf, b: Elf) -> TableChange | None:
    da, db = a.dynamic, b.dynamic
    locs = []
    for tag in DYNAMIC:
        x, y = da.get(tag, ()), db.get(tag, ())
        if x != y:
            gone = [v for v in x if v not in y]
            new = [v for v in y if v not in x]
            what = " ".join([*(f"-{v}" for v in gone), *(f"+{v}" for v in new)])
            locs.append(Location(".dynamic", tag[3:], None, None, what or "order changed"))
    if not locs:
        return None
    changes = "; ".join(f"{loc.symbol} {loc.detail}" for loc in locs)
    return TableChange("elf-dynamic", f"dynamic section changed: {changes}", tuple(locs))


def _section_shape(s: Section) -> tuple[object, ...]:
    return (s.type, s.flags, s.addr, s.offset, s.size, s.rest)


def _section_change(x: Section, y: Section) -> str:
    if (x.type, x.flags) != (y.type, y.flags):
        return f"{x.type} {_flags(x.flags)} -> {y.type} {_flags(y.flags)}"
    fields = (("size", x.size, y.size), ("addr", x.addr, y.addr), ("offset", x.offset, y.offset))
    what = [f"{name} 0x{p:x} -> 0x{q:x}" for name, p, q in fields if p != q]
    return ", ".join(what) or "link, info, alignment or entry size changed"


def _segment_change(x: Segment | None, y: Segment | None) -> str:
    if x is None or y is None:
        seg = x or y
        assert seg is not None
        return f"{seg.type} {pflags(seg.flags)} {'added' if x is None else 'removed'}"
    if (x.type, x.flags) != (y.type, y.flags):
        return f"{x.type} {pflags(x.flags)} -> {y.type} {pflags(y.flags)}"
    return f"{x.type} moved or resized: 0x{x.vaddr:x}+0x{x.memsz:x} -> 0x{y.vaddr:x}+0x{y.memsz:x}"


def pflags(flags: int) -> str:
    """Segment flags as `readelf` shows them: `R-X`."""
    return "".join(c if flags & bit else "-" for c, bit in (("R", 4), ("W", 2), ("X", 1)))


def _flags(flags: int) -> str:
    return (
        "".join(c for c, bit in (("W", 1), ("A", 2), ("X", 4), ("S", 0x20)) if flags & bit) or "-"
    )


def _show(value: object) -> str:
    return f"0x{value:x}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
