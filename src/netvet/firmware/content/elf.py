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

This module is the analyser's entry point (`accepts`, `explain`): it compares section contents
and gaps and decides what is benign. Parsing is in `elf_load`; the header tables are compared in
`elf_tables`; the byte-level build-id and build-stamp tests are in `elf_stamps`; naming bytes by
symbol and the symbol-by-symbol comparison of rebuilt sections are in `elf_functions`.
"""

from __future__ import annotations

from dataclasses import replace

from netvet.firmware.blob import Blob
from netvet.firmware.content import Explanation, binary, magic
from netvet.firmware.content.elf_functions import Namer, by_symbol, keyed, names, rank, same_layout
from netvet.firmware.content.elf_load import (
    FUNC,
    OBJECT,
    PF_X,
    SHF_ALLOC,
    SHF_STRINGS,
    Elf,
    Malformed,
    Section,
    load,
)
from netvet.firmware.content.elf_stamps import build_id_span, data_detail, stamp_strings
from netvet.firmware.content.elf_tables import pflags, table_changes
from netvet.firmware.content.ranges import diff_ranges, hexdump_pair
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.result import Change, Finding, Location, Node, Status

MAX_LOCATIONS = 50
MAX_RANGES = 10_000
_OUTSIDE = "(outside sections)"


def accepts(head: bytes) -> bool:
    return magic.is_elf(head)


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    images: list[Elf] = []
    for side, blob in (("reference", ref), ("deployed", dep)):
        try:
            images.append(load(blob.read(), blob.ctx))
        except LimitExceeded:
            raise
        except Exception as exc:  # noqa: BLE001 - pyelftools raises ELFError, struct and
            # construct errors, ValueError, IndexError... on hostile input: any means malformed.
            what = str(exc) if isinstance(exc, Malformed) else f"{type(exc).__name__}: {exc}"
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


# -- comparing --------------------------------------------------------------------------------
class _Report:
    """Findings of one comparison; `explain` runs every check and assembles the explanation."""

    def __init__(self, path: str, a: Elf, b: Elf, ctx: WalkContext) -> None:
        self.path, self.a, self.b, self.ctx = path, a, b, ctx
        self.namer = Namer(a)
        self.tables: list[Finding] = []
        self.code: list[Finding] = []
        self.data: list[Finding] = []
        self.build_id: list[Location] = []
        self.build_time: list[Location] = []

    def explain(self) -> Explanation:
        for change in table_changes(self.a, self.b):
            self.tables.append(self._bad(change.klass, change.summary, list(change.locations)))
        self._contents()
        self._gaps()
        self.code.sort(key=rank)  # the function that changed size before shifted neighbours
        bad = self.tables + self.code + self.data
        found = bad + self._benign()
        return Explanation(Node.DIFFERENT if bad else Node.EQUIVALENT, tuple(found))

    # -- section contents ------------------------------------------------------------------
    def _contents(self) -> None:
        if self.a.table("section headers") == self.b.table("section headers"):
            # Same table: pair by index, so a section renamed in .shstrtab is still compared.
            pairs = list(zip(self.a.sections, self.b.sections, strict=False))
        else:
            kb = keyed(self.b.sections)  # by name; added and removed ones are reported apart
            pairs = [(x, kb[k]) for k, x in keyed(self.a.sections).items() if k in kb]
        for x, y in pairs:
            ca, cb = self.a.content(x), self.b.content(y)
            if ca != cb:
                self._section(x, y, ca, cb)

    def _section(self, x: Section, y: Section, ca: bytes, cb: bytes) -> None:
        exe = x.executable or y.executable
        same_shape = len(ca) == len(cb) and same_layout(self.a, x, self.b, y)
        if not exe and same_shape and x.name == ".note.gnu.build-id":
            desc = build_id_span(ca, cb, self.a.little)
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
            summary, locs = by_symbol(self.a, self.b, x, y, ca, cb, exe)
            what = "code" if exe else "data"
            (self.code if exe else self.data).append(self._bad(what, summary, locs))

    def _code_ranges(self, s: Section, ca: bytes, cb: bytes, ranges: list[tuple[int, int]]) -> None:
        locs: list[Location] = []
        diff: list[str] = []
        for k, (off, n) in enumerate(ranges):
            if k % 256 == 0:
                self.ctx.check_time()
            name, delta = self.namer.where(s, off, n, FUNC)
            detail = f"{ca[off : off + min(n, 16)].hex()} -> {cb[off : off + min(n, 16)].hex()}"
            locs.append(Location(s.name, name, s.offset + off, n, detail))
            if len(diff) < 60:
                diff.append(f"{s.name}+0x{off:x} {name}{delta}:")
                diff.extend(hexdump_pair(ca, cb, off, n))
        summary = f"code changed in {s.name}: {names(locs)}{_cap(ranges)}"
        self.code.append(self._bad("code", summary, locs, diff))

    def _data_ranges(
        self, x: Section, y: Section, ca: bytes, cb: bytes, ranges: list[tuple[int, int]]
    ) -> None:
        stampable = self._may_hold_stamp(self.a, x) and self._may_hold_stamp(self.b, y)
        locs = []
        stamped: set[tuple[int, int]] = set()  # a string two ranges touch is reported once
        for k, (off, n) in enumerate(ranges):
            if k % 256 == 0:
                self.ctx.check_time()
            strings = stamp_strings(ca, cb, off, n) if stampable else None
            if strings is not None:
                for s, e in sorted(set(strings) - stamped):
                    stamped.add((s, e))
                    name = self.namer.where(x, s, e - s, OBJECT)[0]
                    detail = data_detail(ca, cb, s, e - s)
                    self.build_time.append(Location(x.name, name, x.offset + s, e - s, detail))
                continue
            name = self.namer.where(x, off, n, OBJECT)[0]
            locs.append(Location(x.name, name, x.offset + off, n, data_detail(ca, cb, off, n)))
        if locs:
            summary = f"data changed in {x.name}: {names(locs)}{_cap(ranges)}"
            self.data.append(self._bad("data", summary, locs))

    def _may_hold_stamp(self, image: Elf, s: Section) -> bool:
        if s.type != "SHT_PROGBITS" or s.executable or not s.flags & SHF_ALLOC:
            return False
        if not image.in_exec_segment(s):
            return True
        return bool(s.flags & SHF_STRINGS) or s.name.startswith(".rodata")

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
                where = f"PT_LOAD[{i}] {pflags(g.flags)}"
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
def _cap(ranges: list[tuple[int, int]]) -> str:
    if len(ranges) >= MAX_RANGES:
        return f" (at least {MAX_RANGES} ranges; first {MAX_LOCATIONS} listed)"
    if len(ranges) > MAX_LOCATIONS:
        return f" ({len(ranges)} ranges; first {MAX_LOCATIONS} listed)"
    return ""


def _gaps(image: Elf) -> list[tuple[int, int]]:
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
