"""ELF differences by function: naming changed bytes by symbol, and rebuilt sections symbol by
symbol.

`Namer` names bytes of the reference by the symbol covering them (`.symtab`, else `.dynsym`; a
function in code, an object in data), else the nearest preceding symbol as `name+0x1c`, else the
address range `0xSTART-0xEND` (end exclusive). When a section changed size or its symbols moved
(`same_layout` is false), `by_symbol` matches its functions (or data objects) by name and lists
the resized, added and removed ones, then those whose bytes differ; `rank` sorts such findings
before those of neighbours that merely shifted.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TypeVar

from netvet.firmware.content.elf_load import FUNC, OBJECT, Elf, Section, Symbol
from netvet.firmware.result import Finding, Location

Named = TypeVar("Named", Section, Symbol)


class Namer:
    """Names a byte range of a section of the reference by its symbols."""

    def __init__(self, image: Elf) -> None:
        self.image = image
        self.starts = {i: [sym.start for sym in syms] for i, syms in image.symbols.items()}

    def where(self, s: Section, off: int, n: int, prefer: tuple[str, ...]) -> tuple[str, str]:
        """(label, +0xdelta) for bytes at `off` in section `s` of the reference."""
        syms = self.image.symbols.get(s.index, [])
        i = bisect.bisect_right(self.starts.get(s.index, []), off)
        near = syms[max(0, i - 16) : i]
        covering = [sym for sym in near if sym.start <= off < sym.start + sym.size]
        covering.sort(key=lambda sym: (sym.kind in prefer, sym.start))
        if covering:
            return covering[-1].name, f"+0x{off - covering[-1].start:x}"
        if near:
            label = f"{near[-1].name}+0x{off - near[-1].start:x}"
            return label, ""
        addr = self.image.addr(s, off)
        return (f"0x{addr:x}-0x{addr + n:x}" if addr is not None else f"{s.name}+0x{off:x}"), ""


def keyed(items: Iterable[Named]) -> dict[tuple[str, int], Named]:
    """Sections or symbols by (name, n-th of that name): names repeat (`.group` sections,
    local symbols of several objects, hostile files)."""
    seen: dict[str, int] = {}
    out = {}
    for item in items:
        n = seen.get(item.name, 0)
        seen[item.name] = n + 1
        out[(item.name, n)] = item
    return out


def same_layout(a: Elf, x: Section, b: Elf, y: Section) -> bool:
    """Whether section `x` of `a` and `y` of `b` hold the same symbols at the same places."""
    return _layout(a, x) == _layout(b, y)


def _layout(image: Elf, s: Section) -> list[tuple[str, int, int]]:
    return [(sym.name, sym.start, sym.size) for sym in image.symbols.get(s.index, ())]


def by_symbol(
    a: Elf, b: Elf, x: Section, y: Section, ca: bytes, cb: bytes, exe: bool
) -> tuple[str, list[Location]]:
    """(summary, locations) of a section that changed size or whose symbols moved, compared
    symbol by symbol: functions in code (`exe`), objects in data."""
    kinds = FUNC if exe else OBJECT
    sa = keyed(sym for sym in a.symbols.get(x.index, ()) if sym.kind in kinds)
    sb = keyed(sym for sym in b.symbols.get(y.index, ()) if sym.kind in kinds)
    resized, added, removed, changed = [], [], [], []
    # Hostile symbol tables can overlap every symbol with the whole section: bound the work.
    budget = 64 * max(len(ca), 1 << 20)
    ma, mb = memoryview(ca), memoryview(cb)
    for key, p in sa.items():
        q = sb.get(key)
        if q is None:
            removed.append(Location(x.name, key[0], x.offset + p.start, p.size, "removed"))
        elif p.size != q.size:
            what = f"size 0x{p.size:x} -> 0x{q.size:x}"
            resized.append(Location(x.name, key[0], x.offset + p.start, p.size, what))
        elif budget > 0 and ma[p.start : p.start + p.size] != mb[q.start : q.start + q.size]:
            changed.append(Location(x.name, key[0], x.offset + p.start, p.size, "bytes differ"))
        budget -= p.size
    for key, q in sb.items():
        if key not in sa:
            added.append(
                Location(x.name, key[0], y.offset + q.start, q.size, "added (deployed offset)")
            )
    locs = resized + added + removed + changed
    size = f"0x{len(ca):x} -> 0x{len(cb):x} bytes"
    if not locs:
        locs = [Location(x.name, None, x.offset, len(ca), f"section {size}")]
    label = names(locs) if locs[0].symbol else "no symbol names the change"
    return f"{'code' if exe else 'data'} changed in {x.name}: {label}; section {size}", locs


def names(locs: list[Location]) -> str:
    """`check_password (+2 more)`: the distinct symbols, the first one named."""
    seen: list[str] = []
    for loc in locs:
        base = (loc.symbol or "?").split("+")[0]
        if base not in seen:
            seen.append(base)
    first = next(loc.symbol for loc in locs if (loc.symbol or "?").split("+")[0] == seen[0])
    return f"{first} (+{len(seen) - 1} more)" if len(seen) > 1 else f"{first}"


def rank(f: Finding) -> int:
    """0: a symbol was resized, added or removed; 1: a symbol is named; 2: only addresses."""
    details = [loc.detail or "" for loc in f.locations]
    if any(d.startswith(("size", "added", "removed")) for d in details):
        return 0
    return 1 if any(loc.symbol and not loc.symbol.startswith("0x") for loc in f.locations) else 2
