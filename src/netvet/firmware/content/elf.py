"""ELF executables, libraries and objects: which sections, functions and objects changed.

Every byte of the file belongs to the ELF header, the program header table, the section header
table, a section's contents or a gap between them, and each part is compared on its own. Both
sides are parsed with pyelftools into plain values first; a file pyelftools cannot read, or
whose tables point outside it, is "malformed ELF" (compared as binary).

Benign only (DESIGN.md "build-id", "embedded build time"), and only when the three header
tables are byte-equal:

- `build-id`: bytes in the descriptor of `.note.gnu.build-id` (note header and name equal) and
  anywhere in a same-size `.gnu_debuglink` (file name and CRC of the debug file).
- `build-time`: a differing byte in a section that may hold a build stamp, where the printable
  string around it on both sides is NUL-terminated inside the section, at most 4096 bytes, at
  the same place, and differs only in date/time stamps of the same format and length
  (`timestamps.stamp_difference`). A section may hold a build stamp when it is SHT_PROGBITS,
  SHF_ALLOC and not SHF_EXECINSTR, and either lies in no PT_LOAD segment with PF_X, or (as on
  toolchains that put `.rodata` in the text segment) is a string section: SHF_STRINGS or a name
  starting with `.rodata`.

Anything else is unexplained; an SHF_EXECINSTR section is never masked. A difference in a
section is named by the symbol covering it (`.symtab`, else `.dynsym`; a function in code, an
object in data), else the nearest preceding symbol as `name+0x1c`, else the address range
`0xSTART-0xEND` (end exclusive). `Location.offset` is a file offset in the reference (in the
deployed file for an added symbol). When a section changed size or its symbols moved (a rebuilt
binary), it is compared symbol by symbol instead: resized, added and removed functions first,
then those whose bytes differ.
"""

from __future__ import annotations

import bisect
import io
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from elftools.elf.dynamic import DynamicSection, DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from netvet.firmware.blob import Blob
from netvet.firmware.content import Explanation, binary
from netvet.firmware.content.ranges import diff_ranges, hexdump_pair
from netvet.firmware.content.timestamps import stamp_difference
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.result import Change, Finding, Location, Node, Status

MAX_LOCATIONS = 50
MAX_RANGES = 10_000
MAX_STRING = 4096
SHF_ALLOC, SHF_EXECINSTR, SHF_STRINGS = 0x2, 0x4, 0x20
PF_X = 0x1
_OUTSIDE = "(outside sections)"
_PRINTABLE = frozenset(range(0x20, 0x7F)) | {0x09}
_FUNC = ("STT_FUNC", "STT_GNU_IFUNC")
_OBJECT = ("STT_OBJECT", "STT_COMMON")
_SYMBOL_KINDS = (*_FUNC, *_OBJECT, "STT_NOTYPE")
_DYNAMIC = ("DT_NEEDED", "DT_SONAME", "DT_RPATH", "DT_RUNPATH", "DT_FLAGS", "DT_FLAGS_1")
_SEGMENT_FIELDS = ("p_type", "p_flags", "p_offset", "p_filesz", "p_vaddr", "p_memsz", "p_align")
_SECTION_FIELDS = ("sh_type", "sh_flags", "sh_addr", "sh_offset", "sh_size")
_HEADER_FIELDS = (
    *("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags"),
    *("e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx"),
)


_Named = TypeVar("_Named", "_Section", "_Symbol")


class _Malformed(ValueError):
    """The tables of an ELF file point outside it or make no sense."""


@dataclass(frozen=True, slots=True)
class _Section:
    index: int
    name: str
    type: str
    flags: int
    addr: int
    offset: int
    size: int
    rest: tuple[int, ...]  # link, info, addralign, entsize

    @property
    def in_file(self) -> bool:
        return self.type != "SHT_NOBITS" and self.size > 0

    @property
    def executable(self) -> bool:
        return bool(self.flags & SHF_EXECINSTR)


@dataclass(frozen=True, slots=True)
class _Segment:
    type: str
    flags: int
    offset: int
    filesz: int
    vaddr: int
    memsz: int
    align: int


@dataclass(frozen=True, slots=True)
class _Symbol:
    name: str
    kind: str
    start: int  # offset inside its section
    size: int


@dataclass
class _Elf:
    """One side, parsed into plain values so nothing lazy can fail later."""

    data: bytes
    header: dict[str, object]
    little: bool
    relocatable: bool
    tables: dict[str, tuple[int, int]]  # "ELF header" / "program headers" / ... -> (off, size)
    segments: list[_Segment]
    sections: list[_Section]
    symbols: dict[int, list[_Symbol]] = field(default_factory=dict)  # section index -> sorted
    dynamic: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, name: str) -> bytes:
        off, size = self.tables[name]
        return self.data[off : off + size]

    def content(self, s: _Section) -> bytes:
        return self.data[s.offset : s.offset + s.size] if s.in_file else b""

    def addr(self, s: _Section, off: int) -> int | None:
        return s.addr + off if s.flags & SHF_ALLOC and not self.relocatable else None

    def in_exec_segment(self, s: _Section) -> bool:
        return any(
            g.type == "PT_LOAD"
            and g.flags & PF_X
            and (
                _overlap(g.offset, g.filesz, s.offset, s.size)
                or (s.flags & SHF_ALLOC and _overlap(g.vaddr, g.memsz, s.addr, s.size))
            )
            for g in self.segments
        )


def accepts(head: bytes) -> bool:
    return head.startswith(b"\x7fELF")


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    images: list[_Elf] = []
    for side, blob in (("reference", ref), ("deployed", dep)):
        try:
            images.append(_load(blob.read(), blob.ctx))
        except LimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - pyelftools raises ELFError, struct and
            # construct errors, ValueError, IndexError... on hostile input: any means malformed.
            what = str(exc) if isinstance(exc, _Malformed) else f"{type(exc).__name__}: {exc}"
            return _malformed(path, ref, dep, f"{side}: {what}")
    report = _Report(path, images[0], images[1], ref.ctx)
    explanation = report.explain()
    if not explanation.findings:  # safety net: bytes differ, yet no part was found to differ
        return binary.explain(path, ref, dep)
    return explanation


def _malformed(path: str, ref: Blob, dep: Blob, reason: str) -> Explanation:
    base = binary.explain(path, ref, dep)
    note = f"malformed ELF ({reason[:200]})"
    findings = tuple(replace(f, summary=f"{note}; {f.summary}") for f in base.findings)
    return Explanation(Node.DIFFERENT, findings)


# -- loading ----------------------------------------------------------------------------------
def _load(data: bytes, ctx: WalkContext) -> _Elf:
    elf = ELFFile(io.BytesIO(data))
    h = elf.header
    n_seg, n_sec = elf.num_segments(), elf.num_sections()
    tables = {
        "ELF header": (0, h["e_ehsize"]),
        "program headers": (h["e_phoff"], n_seg * h["e_phentsize"]),
        "section headers": (h["e_shoff"], n_sec * h["e_shentsize"]),
    }
    for name, (off, size) in tables.items():
        if off + size > len(data) or (name == "ELF header" and size < 0x34):
            raise _Malformed(f"{name} lie outside the file")
    header: dict[str, object] = {k: h["e_ident"][k] for k in ("EI_CLASS", "EI_DATA", "EI_OSABI")}
    header.update((k, h[k]) for k in _HEADER_FIELDS)
    segments = []
    for i in range(n_seg):
        g = elf.get_segment(i).header
        seg = _Segment(*(g[k] for k in _SEGMENT_FIELDS))
        if seg.offset + seg.filesz > len(data):
            raise _Malformed(f"segment {i} lies outside the file")
        segments.append(seg)
    sections = []
    for i, sec in enumerate(elf.iter_sections()):
        if i % 1024 == 0:
            ctx.check_time()
        s = sec.header
        rest = (s["sh_link"], s["sh_info"], s["sh_addralign"], s["sh_entsize"])
        kind, flags, addr, offset, size = (s[k] for k in _SECTION_FIELDS)
        one = _Section(i, sec.name, kind, flags, addr, offset, size, rest)
        if one.in_file and one.offset + one.size > len(data):
            raise _Malformed(f"section {one.name!r} lies outside the file")
        sections.append(one)
    relocatable = h["e_type"] == "ET_REL"
    image = _Elf(data, header, elf.little_endian, relocatable, tables, segments, sections)
    image.symbols = _symbols(elf, image, ctx)
    image.dynamic = _dynamic(elf)
    return image


def _symbols(elf: ELFFile, image: _Elf, ctx: WalkContext) -> dict[int, list[_Symbol]]:
    """Defined symbols per section, sorted by start: `.symtab` if it has any, else `.dynsym`."""
    arm = image.header["e_machine"] == "EM_ARM"
    for table_name in (".symtab", ".dynsym"):
        table = elf.get_section_by_name(table_name)
        if not isinstance(table, SymbolTableSection):
            continue
        found: dict[int, list[_Symbol]] = {}
        for i, sym in enumerate(table.iter_symbols()):
            if i % 4096 == 0:
                ctx.check_time()
            kind, shndx, name = sym["st_info"]["type"], sym["st_shndx"], sym.name
            if kind not in _SYMBOL_KINDS or not isinstance(shndx, int) or not name:
                continue
            if shndx >= len(image.sections) or name.startswith((".L", "$")):  # ARM mapping syms
                continue
            sec = image.sections[shndx]
            value = sym["st_value"] & ~1 if arm and kind in _FUNC else sym["st_value"]
            start = value if image.relocatable else value - sec.addr
            if 0 <= start <= sec.size:
                found.setdefault(shndx, []).append(_Symbol(name, kind, start, sym["st_size"]))
        if found:
            for syms in found.values():
                syms.sort(key=lambda s: (s.start, s.kind not in _FUNC + _OBJECT))
            return found
    return {}


def _dynamic(elf: ELFFile) -> dict[str, tuple[str, ...]]:
    """Dependencies and flags from the dynamic section, else the PT_DYNAMIC segment (a binary
    without section headers)."""
    out: dict[str, list[str]] = {}
    tables: list[DynamicSection | DynamicSegment]
    tables = [s for s in elf.iter_sections() if isinstance(s, DynamicSection)]
    tables = tables or [g for g in elf.iter_segments() if isinstance(g, DynamicSegment)]
    for table in tables:
        for tag in table.iter_tags():
            kind = tag.entry.d_tag
            if kind not in _DYNAMIC:
                continue
            # pyelftools resolves the string tags to attributes named after them (tag.needed...)
            value = getattr(tag, kind[3:].lower(), None) if kind in _DYNAMIC[:4] else None
            text = str(value) if value is not None else hex(tag.entry.d_val)
            out.setdefault(kind, []).append(text)
    return {k: tuple(v) for k, v in out.items()}


# -- comparing --------------------------------------------------------------------------------
class _Report:
    """Findings of one comparison; `explain` runs every check and assembles the explanation."""

    def __init__(self, path: str, a: _Elf, b: _Elf, ctx: WalkContext) -> None:
        self.path, self.a, self.b, self.ctx = path, a, b, ctx
        self.starts = {i: [sym.start for sym in syms] for i, syms in a.symbols.items()}
        self.tables: list[Finding] = []
        self.code: list[Finding] = []
        self.data: list[Finding] = []
        self.build_id: list[Location] = []
        self.build_time: list[Location] = []

    def explain(self) -> Explanation:
        self._header()
        self._segments()
        self._sections()
        self._dynamic()
        self._contents()
        self._gaps()
        self.code.sort(key=_rank)  # the function that changed size before shifted neighbours
        bad = self.tables + self.code + self.data
        found = bad + self._benign()
        return Explanation(Node.DIFFERENT if bad else Node.EQUIVALENT, tuple(found))

    # -- the three tables ------------------------------------------------------------------
    def _header(self) -> None:
        if self.a.table("ELF header") == self.b.table("ELF header"):
            return
        ha, hb = self.a.header, self.b.header
        locs = [
            Location("ELF header", k, None, None, f"{_show(ha[k])} -> {_show(hb[k])}")
            for k in ha
            if ha[k] != hb.get(k)
        ] or [Location("ELF header", None, 0, len(self.a.table("ELF header")), "bytes differ")]
        changes = ", ".join(f"{loc.symbol} {loc.detail}" for loc in locs[:4] if loc.symbol)
        self.tables.append(
            self._bad("elf-header", f"ELF header changed: {changes or 'bytes'}", locs)
        )

    def _segments(self) -> None:
        if self.a.table("program headers") == self.b.table("program headers"):
            return
        sa, sb = self.a.segments, self.b.segments
        locs: list[Location] = []
        for i in range(max(len(sa), len(sb))):
            x, y = (sa[i] if i < len(sa) else None), (sb[i] if i < len(sb) else None)
            if x == y:
                continue
            what = _segment_change(x, y)
            locs.append(Location("program headers", f"[{i}]", None, None, what))
        if len(sa) != len(sb):
            locs.insert(0, Location("program headers", None, None, None, f"{len(sa)} -> {len(sb)}"))
        first = locs[0].detail if locs else "table bytes differ"
        more = f" (+{len(locs) - 1} more)" if len(locs) > 1 else ""
        self.tables.append(
            self._bad("elf-segments", f"program headers changed: {first}{more}", locs)
        )

    def _sections(self) -> None:
        if self.a.table("section headers") == self.b.table("section headers"):
            return
        ka, kb = _keyed(self.a.sections), _keyed(self.b.sections)
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
        self.tables.append(self._bad("elf-sections", summary, locs))

    def _dynamic(self) -> None:
        da, db = self.a.dynamic, self.b.dynamic
        locs = []
        for tag in _DYNAMIC:
            x, y = da.get(tag, ()), db.get(tag, ())
            if x != y:
                gone = [v for v in x if v not in y]
                new = [v for v in y if v not in x]
                what = " ".join([*(f"-{v}" for v in gone), *(f"+{v}" for v in new)])
                locs.append(Location(".dynamic", tag[3:], None, None, what or "order changed"))
        if locs:
            changes = "; ".join(f"{loc.symbol} {loc.detail}" for loc in locs)
            self.tables.append(
                self._bad("elf-dynamic", f"dynamic section changed: {changes}", locs)
            )

    # -- section contents ------------------------------------------------------------------
    def _contents(self) -> None:
        if self.a.table("section headers") == self.b.table("section headers"):
            # Same table: pair by index, so a section renamed in .shstrtab is still compared.
            pairs = list(zip(self.a.sections, self.b.sections, strict=False))
        else:
            kb = _keyed(self.b.sections)  # by name; added and removed ones are reported apart
            pairs = [(x, kb[k]) for k, x in _keyed(self.a.sections).items() if k in kb]
        for x, y in pairs:
            ca, cb = self.a.content(x), self.b.content(y)
            if ca != cb:
                self._section(x, y, ca, cb)

    def _section(self, x: _Section, y: _Section, ca: bytes, cb: bytes) -> None:
        exe = x.executable or y.executable
        same_shape = len(ca) == len(cb) and self._symbol_layout(x) == self._symbol_layout(y, True)
        if not exe and same_shape and x.name == ".note.gnu.build-id":
            desc = _build_id(ca, cb, self.a.little)
            if desc is not None:
                detail = f"{ca[desc[0] : desc[1]].hex()} -> {cb[desc[0] : desc[1]].hex()}"
                self.build_id.append(
                    Location(x.name, "build-id", x.offset + desc[0], desc[1] - desc[0], detail)
                )
                return
        if not exe and same_shape and x.name == ".gnu_debuglink":
            self.build_id.append(Location(x.name, "debuglink", x.offset, len(ca), "name and CRC"))
            return
        if same_shape:
            ranges = diff_ranges(ca, cb, limit=MAX_RANGES)
            if exe:
                self._code_ranges(x, ca, cb, ranges)
            else:
                self._data_ranges(x, y, ca, cb, ranges)
        else:
            self._by_symbol(x, y, ca, cb, exe)

    def _symbol_layout(self, s: _Section, deployed: bool = False) -> list[tuple[str, int, int]]:
        image = self.b if deployed else self.a
        return [(sym.name, sym.start, sym.size) for sym in image.symbols.get(s.index, ())]

    def _code_ranges(
        self, s: _Section, ca: bytes, cb: bytes, ranges: list[tuple[int, int]]
    ) -> None:
        locs: list[Location] = []
        diff: list[str] = []
        for k, (off, n) in enumerate(ranges):
            if k % 256 == 0:
                self.ctx.check_time()
            name, delta = self._where(s, off, n, _FUNC)
            detail = f"{ca[off : off + min(n, 16)].hex()} -> {cb[off : off + min(n, 16)].hex()}"
            locs.append(Location(s.name, name, s.offset + off, n, detail))
            if len(diff) < 60:
                diff.append(f"{s.name}+0x{off:x} {name}{delta}:")
                diff.extend(hexdump_pair(ca, cb, off, n))
        summary = f"code changed in {s.name}: {_names(locs)}{_cap(ranges)}"
        self.code.append(self._bad("code", summary, locs, diff))

    def _data_ranges(
        self, x: _Section, y: _Section, ca: bytes, cb: bytes, ranges: list[tuple[int, int]]
    ) -> None:
        stampable = self._may_hold_stamp(self.a, x) and self._may_hold_stamp(self.b, y)
        locs = []
        stamped: set[tuple[int, int]] = set()  # a string two ranges touch is reported once
        for k, (off, n) in enumerate(ranges):
            if k % 256 == 0:
                self.ctx.check_time()
            strings = _stamp_strings(ca, cb, off, n) if stampable else None
            if strings is not None:
                for s, e in sorted(set(strings) - stamped):
                    stamped.add((s, e))
                    name = self._where(x, s, e - s, _OBJECT)[0]
                    detail = _data_detail(ca, cb, s, e - s)
                    self.build_time.append(Location(x.name, name, x.offset + s, e - s, detail))
                continue
            name = self._where(x, off, n, _OBJECT)[0]
            locs.append(Location(x.name, name, x.offset + off, n, _data_detail(ca, cb, off, n)))
        if locs:
            summary = f"data changed in {x.name}: {_names(locs)}{_cap(ranges)}"
            self.data.append(self._bad("data", summary, locs))

    def _may_hold_stamp(self, image: _Elf, s: _Section) -> bool:
        if s.type != "SHT_PROGBITS" or s.executable or not s.flags & SHF_ALLOC:
            return False
        if not image.in_exec_segment(s):
            return True
        return bool(s.flags & SHF_STRINGS) or s.name.startswith(".rodata")

    def _by_symbol(self, x: _Section, y: _Section, ca: bytes, cb: bytes, exe: bool) -> None:
        """A section that changed size or whose symbols moved: compare symbol by symbol."""
        kinds = _FUNC if exe else _OBJECT
        sa = _keyed(sym for sym in self.a.symbols.get(x.index, ()) if sym.kind in kinds)
        sb = _keyed(sym for sym in self.b.symbols.get(y.index, ()) if sym.kind in kinds)
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
        what = "code" if exe else "data"
        names = _names(locs) if locs[0].symbol else "no symbol names the change"
        summary = f"{what} changed in {x.name}: {names}; section {size}"
        (self.code if exe else self.data).append(self._bad(what, summary, locs))

    def _where(self, s: _Section, off: int, n: int, prefer: tuple[str, ...]) -> tuple[str, str]:
        """(label, +0xdelta) for bytes at `off` in section `s` of the reference."""
        syms = self.a.symbols.get(s.index, [])
        i = bisect.bisect_right(self.starts.get(s.index, []), off)
        near = syms[max(0, i - 16) : i]
        covering = [sym for sym in near if sym.start <= off < sym.start + sym.size]
        covering.sort(key=lambda sym: (sym.kind in prefer, sym.start))
        if covering:
            return covering[-1].name, f"+0x{off - covering[-1].start:x}"
        if near:
            label = f"{near[-1].name}+0x{off - near[-1].start:x}"
            return label, ""
        addr = self.a.addr(s, off)
        return (f"0x{addr:x}-0x{addr + n:x}" if addr is not None else f"{s.name}+0x{off:x}"), ""

    # -- bytes outside every section ----------------------------------------------------------
    def _gaps(self) -> None:
        """Bytes in no section: slack, or the whole body of a binary without section headers
        (sstrip), which is then named by its PT_LOAD segment and address."""
        ga, gb = _gaps(self.a), _gaps(self.b)
        code: list[Location] = []
        data: list[Location] = []
        if ga == gb:
            for start, end in ga:
                ranges = diff_ranges(self.a.data[start:end], self.b.data[start:end], MAX_RANGES)
                for off, n in ranges:
                    exe, loc = self._outside(start + off, n)
                    (code if exe else data).append(loc)
        else:
            pa = [self.a.data[s:e].strip(b"\0") for s, e in ga]
            pb = [self.b.data[s:e].strip(b"\0") for s, e in gb]
            if [p for p in pa if p] != [p for p in pb if p]:
                data.append(Location(_OUTSIDE, None, None, None, "non-zero bytes differ"))
        if code:
            summary = f"code changed outside any section: {code[0].section} {code[0].symbol}"
            self.code.append(self._bad("code", summary, code))
        if data:
            summary = f"bytes outside any section differ in {len(data)} range(s)"
            self.data.append(self._bad("data", summary, data))

    def _outside(self, off: int, n: int) -> tuple[bool, Location]:
        """(in an executable segment, location) of a byte range that no section holds."""
        for i, g in enumerate(self.a.segments):
            if g.type == "PT_LOAD" and g.offset <= off < g.offset + g.filesz:
                addr = g.vaddr + off - g.offset
                where = f"PT_LOAD[{i}] {_pflags(g.flags)}"
                return bool(g.flags & PF_X), Location(where, f"0x{addr:x}-0x{addr + n:x}", off, n)
        return False, Location(_OUTSIDE, None, off, n, "slack bytes differ")

    # -- findings -----------------------------------------------------------------------------
    def _bad(
        self, klass: str, summary: str, locs: list[Location], diff: list[str] | None = None
    ) -> Finding:
        found = Finding(self.path, Change.MODIFIED, Status.UNEXPLAINED, klass, summary)
        return replace(found, locations=tuple(locs[:MAX_LOCATIONS]), diff=tuple(diff or ()))

    def _benign(self) -> list[Finding]:
        out = []
        if self.build_id:
            where = ", ".join(sorted({loc.section or "" for loc in self.build_id}))
            out.append(self._good("build-id", f"build-id changed ({where})", self.build_id))
        if self.build_time:
            first = self.build_time[0]
            summary = f"build date/time string changed in {first.section}: {first.detail}"
            if len(self.build_time) > 1:
                summary += f" (+{len(self.build_time) - 1} more)"
            out.append(self._good("build-time", summary, self.build_time))
        return out

    def _good(self, klass: str, summary: str, locs: list[Location]) -> Finding:
        found = Finding(self.path, Change.MODIFIED, Status.BENIGN, klass, summary)
        return replace(found, locations=tuple(locs[:MAX_LOCATIONS]), node=Node.EQUIVALENT)


# -- helpers ----------------------------------------------------------------------------------
def _overlap(a: int, an: int, b: int, bn: int) -> bool:
    return an > 0 and bn > 0 and a < b + bn and b < a + an


def _keyed(items: Iterable[_Named]) -> dict[tuple[str, int], _Named]:
    """Sections or symbols by (name, n-th of that name): names repeat (`.group` sections,
    local symbols of several objects, hostile files)."""
    seen: dict[str, int] = {}
    out = {}
    for item in items:
        n = seen.get(item.name, 0)
        seen[item.name] = n + 1
        out[(item.name, n)] = item
    return out


def _section_shape(s: _Section) -> tuple[object, ...]:
    return (s.type, s.flags, s.addr, s.offset, s.size, s.rest)


def _section_change(x: _Section, y: _Section) -> str:
    if (x.type, x.flags) != (y.type, y.flags):
        return f"{x.type} {_flags(x.flags)} -> {y.type} {_flags(y.flags)}"
    fields = (("size", x.size, y.size), ("addr", x.addr, y.addr), ("offset", x.offset, y.offset))
    what = [f"{name} 0x{p:x} -> 0x{q:x}" for name, p, q in fields if p != q]
    return ", ".join(what) or "link, info, alignment or entry size changed"


def _segment_change(x: _Segment | None, y: _Segment | None) -> str:
    if x is None or y is None:
        seg = x or y
        assert seg is not None
        return f"{seg.type} {_pflags(seg.flags)} {'added' if x is None else 'removed'}"
    if (x.type, x.flags) != (y.type, y.flags):
        return f"{x.type} {_pflags(x.flags)} -> {y.type} {_pflags(y.flags)}"
    return f"{x.type} moved or resized: 0x{x.vaddr:x}+0x{x.memsz:x} -> 0x{y.vaddr:x}+0x{y.memsz:x}"


def _pflags(flags: int) -> str:
    return "".join(c if flags & bit else "-" for c, bit in (("R", 4), ("W", 2), ("X", 1)))


def _flags(flags: int) -> str:
    return (
        "".join(c for c, bit in (("W", 1), ("A", 2), ("X", 4), ("S", 0x20)) if flags & bit) or "-"
    )


def _show(value: object) -> str:
    return f"0x{value:x}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _names(locs: list[Location]) -> str:
    """`check_password (+2 more)`: the distinct symbols, the first one named."""
    names: list[str] = []
    for loc in locs:
        base = (loc.symbol or "?").split("+")[0]
        if base not in names:
            names.append(base)
    first = next(loc.symbol for loc in locs if (loc.symbol or "?").split("+")[0] == names[0])
    return f"{first} (+{len(names) - 1} more)" if len(names) > 1 else f"{first}"


def _rank(f: Finding) -> int:
    """0: a symbol was resized, added or removed; 1: a symbol is named; 2: only addresses."""
    details = [loc.detail or "" for loc in f.locations]
    if any(d.startswith(("size", "added", "removed")) for d in details):
        return 0
    return 1 if any(loc.symbol and not loc.symbol.startswith("0x") for loc in f.locations) else 2


def _cap(ranges: list[tuple[int, int]]) -> str:
    if len(ranges) >= MAX_RANGES:
        return f" (at least {MAX_RANGES} ranges; first {MAX_LOCATIONS} listed)"
    if len(ranges) > MAX_LOCATIONS:
        return f" ({len(ranges)} ranges; first {MAX_LOCATIONS} listed)"
    return ""


def _build_id(ca: bytes, cb: bytes, little: bool) -> tuple[int, int] | None:
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


def _string_at(buf: bytes, i: int) -> tuple[int, int] | None:
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


def _stamp_strings(ca: bytes, cb: bytes, off: int, n: int) -> list[tuple[int, int]] | None:
    """The strings holding every differing byte of a range, if each differs only in stamps."""
    out: list[tuple[int, int]] = []
    for i in range(off, off + n):
        if ca[i] == cb[i] or (out and i < out[-1][1]):
            continue
        span = _string_at(ca, i)
        if span is None or span != _string_at(cb, i):
            return None
        s, e = span
        if stamp_difference(ca[s:e].decode("ascii"), cb[s:e].decode("ascii")) is None:
            return None
        out.append(span)
    return out


def _data_detail(ca: bytes, cb: bytes, off: int, n: int) -> str:
    span = _string_at(ca, off) if off < len(ca) else None
    same = span == (_string_at(cb, off) if off < len(cb) else None)
    if span is not None and same and span[1] - span[0] >= 4:  # shorter runs are rarely text
        s, e = span
        return f"{ca[s:e].decode()!r} -> {cb[s:e].decode()!r}"[:200]
    return f"{ca[off : off + min(n, 16)].hex()} -> {cb[off : off + min(n, 16)].hex()}"


def _gaps(image: _Elf) -> list[tuple[int, int]]:
    """File ranges covered by no table and no section."""
    spans = sorted(
        [(off, off + size) for off, size in image.tables.values() if size > 0]
        + [(s.offset, s.offset + s.size) for s in image.sections if s.in_file]
    )
    out, pos = [], 0
    for start, end in spans:
        if start > pos:
            out.append((pos, start))
        pos = max(pos, end)
    if pos < len(image.data):
        out.append((pos, len(image.data)))
    return out
