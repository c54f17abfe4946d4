"""Loading one side of an ELF comparison: the file parsed with pyelftools into plain values.

`load` reads the ELF header, program headers, section headers, defined symbols (`.symtab`, else
`.dynsym`) and the dynamic tags the comparison reports, and checks that every table, segment and
section lies inside the file. Everything is copied into frozen values (`Section`, `Segment`,
`Symbol`) held by an `Elf`, so nothing lazy can fail once the comparison has started. A file
whose tables point outside it raises `Malformed`; pyelftools raises its own errors on other
hostile input, and `elf.explain` treats both as "malformed ELF".
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from elftools.elf.dynamic import DynamicSection, DynamicSegment
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from netvet.firmware.context import WalkContext

SHF_ALLOC, SHF_EXECINSTR, SHF_STRINGS = 0x2, 0x4, 0x20
PF_X = 0x1
FUNC = ("STT_FUNC", "STT_GNU_IFUNC")
OBJECT = ("STT_OBJECT", "STT_COMMON")
DYNAMIC = ("DT_NEEDED", "DT_SONAME", "DT_RPATH", "DT_RUNPATH", "DT_FLAGS", "DT_FLAGS_1")
_SYMBOL_KINDS = (*FUNC, *OBJECT, "STT_NOTYPE")
_SEGMENT_FIELDS = ("p_type", "p_flags", "p_offset", "p_filesz", "p_vaddr", "p_memsz", "p_align")
_SECTION_FIELDS = ("sh_type", "sh_flags", "sh_addr", "sh_offset", "sh_size")
_HEADER_FIELDS = (
    *("e_type", "e_machine", "e_version", "e_entry", "e_phoff", "e_shoff", "e_flags"),
    *("e_ehsize", "e_phentsize", "e_phnum", "e_shentsize", "e_shnum", "e_shstrndx"),
)


class Malformed(ValueError):
    """The tables of an ELF file point outside it or make no sense."""


@dataclass(frozen=True, slots=True)
class Section:
    """One section header."""

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
class Segment:
    """One program header."""

    type: str
    flags: int
    offset: int
    filesz: int
    vaddr: int
    memsz: int
    align: int


@dataclass(frozen=True, slots=True)
class Symbol:
    """A defined function, object or untyped symbol, placed inside its section."""

    name: str
    kind: str
    start: int  # offset inside its section
    size: int


@dataclass
class Elf:
    """One side, parsed into plain values so nothing lazy can fail later."""

    data: bytes
    header: dict[str, object]
    little: bool
    relocatable: bool
    tables: dict[str, tuple[int, int]]  # "ELF header" / "program headers" / ... -> (off, size)
    segments: list[Segment]
    sections: list[Section]
    symbols: dict[int, list[Symbol]] = field(default_factory=dict)  # section index -> sorted
    dynamic: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def table(self, name: str) -> bytes:
        off, size = self.tables[name]
        return self.data[off : off + size]

    def content(self, s: Section) -> bytes:
        return self.data[s.offset : s.offset + s.size] if s.in_file else b""

    def addr(self, s: Section, off: int) -> int | None:
        return s.addr + off if s.flags & SHF_ALLOC and not self.relocatable else None

    def in_exec_segment(self, s: Section) -> bool:
        return any(
            g.type == "PT_LOAD"
            and g.flags & PF_X
            and (
                _overlap(g.offset, g.filesz, s.offset, s.size)
                or (s.flags & SHF_ALLOC and _overlap(g.vaddr, g.memsz, s.addr, s.size))
            )
            for g in self.segments
        )


def load(data: bytes, ctx: WalkContext) -> Elf:
    """Parse a whole ELF file; raises `Malformed` (or pyelftools' errors) on a broken one."""
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
            raise Malformed(f"{name} lie outside the file")
    header: dict[str, object] = {k: h["e_ident"][k] for k in ("EI_CLASS", "EI_DATA", "EI_OSABI")}
    header.update((k, h[k]) for k in _HEADER_FIELDS)
    segments = []
    for i in range(n_seg):
        g = elf.get_segment(i).header
        seg = Segment(*(g[k] for k in _SEGMENT_FIELDS))
        if seg.offset + seg.filesz > len(data):
            raise Malformed(f"segment {i} lies outside the file")
        segments.append(seg)
    sections = []
    for i, sec in enumerate(elf.iter_sections()):
        if i % 1024 == 0:
            ctx.check_time()
        s = sec.header
        rest = (s["sh_link"], s["sh_info"], s["sh_addralign"], s["sh_entsize"])
        kind, flags, addr, offset, size = (s[k] for k in _SECTION_FIELDS)
        one = Section(i, sec.name, kind, flags, addr, offset, size, rest)
        if one.in_file and one.offset + one.size > len(data):
            raise Malformed(f"section {one.name!r} lies outside the file")
        sections.append(one)
    relocatable = h["e_type"] == "ET_REL"
    image = Elf(data, header, elf.little_endian, relocatable, tables, segments, sections)
    image.symbols = _symbols(elf, image, ctx)
    image.dynamic = _dynamic(elf)
    return image


def _symbols(elf: ELFFile, image: Elf, ctx: WalkContext) -> dict[int, list[Symbol]]:
    """Defined symbols per section, sorted by start: `.symtab` if it has any, else `.dynsym`."""
    arm = image.header["e_machine"] == "EM_ARM"
    for table_name in (".symtab", ".dynsym"):
        table = elf.get_section_by_name(table_name)
        if not isinstance(table, SymbolTableSection):
            continue
        found: dict[int, list[Symbol]] = {}
        for i, sym in enumerate(table.iter_symbols()):
            if i % 4096 == 0:
                ctx.check_time()
            kind, shndx, name = sym["st_info"]["type"], sym["st_shndx"], sym.name
            if kind not in _SYMBOL_KINDS or not isinstance(shndx, int) or not name:
                continue
            if shndx >= len(image.sections) or name.startswith((".L", "$")):  # ARM mapping syms
                continue
            sec = image.sections[shndx]
            value = sym["st_value"] & ~1 if arm and kind in FUNC else sym["st_value"]
            start = value if image.relocatable else value - sec.addr
            if 0 <= start <= sec.size:
                found.setdefault(shndx, []).append(Symbol(name, kind, start, sym["st_size"]))
        if found:
            for syms in found.values():
                syms.sort(key=lambda s: (s.start, s.kind not in FUNC + OBJECT))
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
            if kind not in DYNAMIC:
                continue
            # pyelftools resolves the string tags to attributes named after them (tag.needed...)
            value = getattr(tag, kind[3:].lower(), None) if kind in DYNAMIC[:4] else None
            text = str(value) if value is not None else hex(tag.entry.d_val)
            out.setdefault(kind, []).append(text)
    return {k: tuple(v) for k, v in out.items()}


def _overlap(a: int, an: int, b: int, bn: int) -> bool:
    return an > 0 and bn > 0 and a < b + bn and b < a + an
