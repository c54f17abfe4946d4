"""Flattened device tree (magic 0xd00dfeed) and FIT images (an FDT with an `/images` node).

Every node is a DIR member (`soc/serial@1000`), every property a FILE member whose content is
the raw value bytes, read through a view of the stream (`chosen/bootargs`, root properties at
top level). A FIT's `images/*/data` are members too, so kernels and ramdisks are walked as
nested content; FIT external data (`data-offset`/`data-position` + `data-size`) becomes the
member `images/<img>/data` viewing the bytes after the tree.

The blob is parsed here with a bounded reader rather than with the `fdt` package: `fdt.parse_dtb`
needs the whole blob in memory (a FIT holds whole kernels), copies every value into typed objects
(losing the raw bytes of string lists), follows offsets without bounds checks and has no depth or
terminator limits. Here totalsize must fit the stream, every block must lie inside totalsize
without overlapping, nesting stops at 64, property lengths stay in the struct block and FDT_END
is required (devicetree specification v0.4, chapter 5).
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, NotThisFormat
from netvet.firmware.formats.uimage import FLASH_MIN, is_padding
from netvet.firmware.model import Field, Kind, Listing, Member, Rule, clean_name
from netvet.firmware.streams import view

MAGIC = b"\xd0\x0d\xfe\xed"
MAX_DEPTH = 64
MAX_STRINGS = 1 << 20  # property names only; real blocks are a few KiB
_WINDOW = 64 << 10
_BEGIN_NODE, _END_NODE, _PROP, _NOP, _END = 1, 2, 3, 4, 9
_HEADER = struct.Struct(">10I")
_LAYOUT = (
    "totalsize",
    "off_dt_struct",
    "off_dt_strings",
    "off_mem_rsvmap",
    "size_dt_strings",
    "size_dt_struct",
)


@dataclass(frozen=True, slots=True)
class Header:
    totalsize: int
    off_dt_struct: int
    off_dt_strings: int
    off_mem_rsvmap: int
    version: int
    last_comp_version: int
    boot_cpuid: int
    size_dt_strings: int
    size_dt_struct: int

    @property
    def length(self) -> int:
        return 40 if self.version >= 17 else 36


@dataclass(frozen=True, slots=True)
class Prop:
    node: str  # member name of the node, "" for the root
    name: str
    offset: int
    length: int

    @property
    def path(self) -> str:
        return f"{self.node}/{self.name}" if self.node else self.name


@dataclass(slots=True)
class Tree:
    """What the struct walk found; offsets are relative to the start of the blob."""

    header: Header
    nodes: list[str] = field(default_factory=list)
    props: list[Prop] = field(default_factory=list)
    memreserve: list[tuple[int, int]] = field(default_factory=list)
    blocks: dict[str, tuple[int, int]] = field(default_factory=dict)
    nonzero_pad: int = 0
    unreferenced: bytes = b""


class Window:
    """Reads `[lo, hi)` of a stream through a cache; anything outside the range is corrupt."""

    def __init__(self, stream: BinaryIO, lo: int, hi: int) -> None:
        self.stream, self.lo, self.hi = stream, lo, hi
        self._start, self._buf = lo, b""

    def get(self, pos: int, n: int) -> bytes:
        if pos < self.lo or n < 0 or pos + n > self.hi:
            raise CorruptContainer(f"fdt: read at {pos:#x}+{n} leaves its block")
        rel = pos - self._start
        if rel < 0 or rel + n > len(self._buf):
            self.stream.seek(pos)
            self._start, self._buf = pos, self.stream.read(min(max(n, _WINDOW), self.hi - pos))
            rel = 0
            if len(self._buf) < n:
                raise CorruptContainer("fdt: truncated")
        return self._buf[rel : rel + n]

    def u32(self, pos: int) -> int:
        return int.from_bytes(self.get(pos, 4), "big")

    def cstring(self, pos: int) -> bytes:
        """A NUL-terminated name at `pos` (without the NUL); it must end inside the window."""
        chunk = self.get(pos, min(_WINDOW, self.hi - pos))
        end = chunk.find(b"\0")
        if end < 0:
            raise CorruptContainer(f"fdt: unterminated name at {pos:#x}")
        return chunk[:end]


def read_header(stream: BinaryIO, size: int) -> Header:
    stream.seek(0)
    raw = stream.read(_HEADER.size)
    if len(raw) < 36 or raw[:4] != MAGIC:
        raise NotThisFormat("fdt: no header")
    values = list(_HEADER.unpack(raw.ljust(_HEADER.size, b"\0"))[1:])
    if values[4] < 17:  # size_dt_struct appeared in version 17: bound it by totalsize
        values[8] = max(0, values[0] - values[1])
    h = Header(*values)
    if h.version < 16 or h.last_comp_version > 17 or h.last_comp_version > h.version:
        raise CorruptContainer(f"fdt: unsupported version {h.version}/{h.last_comp_version}")
    if not h.length <= h.totalsize <= size:
        raise CorruptContainer(f"fdt: totalsize {h.totalsize} does not fit the {size}-byte stream")
    for off, length, what in (
        (h.off_dt_struct, h.size_dt_struct, "struct"),
        (h.off_dt_strings, h.size_dt_strings, "strings"),
    ):
        if off < h.length or off + length > h.totalsize:
            raise CorruptContainer(f"fdt: {what} block {off:#x}+{length} outside the blob")
    if h.off_dt_struct % 4 or h.off_mem_rsvmap % 8 or not h.length <= h.off_mem_rsvmap:
        raise CorruptContainer("fdt: misaligned or misplaced block")
    if h.size_dt_strings > MAX_STRINGS:
        raise CorruptContainer(f"fdt: strings block of {h.size_dt_strings} bytes")
    return h


def parse(stream: BinaryIO, size: int, ctx: WalkContext) -> Tree:
    """Walk one blob with every bound checked; raise CorruptContainer on anything off-spec."""
    h = read_header(stream, size)
    tree = Tree(h, blocks={"header": (0, h.length)})
    _memreserve(Window(stream, h.off_mem_rsvmap, h.totalsize), tree, ctx)
    stream.seek(h.off_dt_strings)
    strings = stream.read(h.size_dt_strings)
    if len(strings) < h.size_dt_strings:
        raise CorruptContainer("fdt: strings block truncated")
    tree.blocks["strings"] = (h.off_dt_strings, h.off_dt_strings + h.size_dt_strings)
    used = _struct(
        Window(stream, h.off_dt_struct, h.off_dt_struct + h.size_dt_struct), strings, tree, ctx
    )
    tree.unreferenced = bytes(b for b, u in zip(strings, used, strict=True) if not u)
    spans = sorted(tree.blocks.values())
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise CorruptContainer("fdt: blocks overlap")
    return tree


def _memreserve(win: Window, tree: Tree, ctx: WalkContext) -> None:
    pos = win.lo
    while True:
        addr, length = struct.unpack(">QQ", win.get(pos, 16))
        pos += 16
        if addr == 0 and length == 0:
            break
        tree.memreserve.append((addr, length))
        if len(tree.memreserve) % 1024 == 0:
            ctx.check_time()
    tree.blocks["memreserve"] = (win.lo, pos)


def _struct(win: Window, strings: bytes, tree: Tree, ctx: WalkContext) -> bytearray:
    """Walk the tokens; return which bytes of the strings block property names used."""
    used = bytearray(len(strings))
    stack: list[str] = []
    pos, seen_root, steps = win.lo, False, 0
    while True:
        steps += 1
        if steps % 4096 == 0:
            ctx.check_time()
        tag, pos = win.u32(pos), pos + 4
        if tag == _BEGIN_NODE:
            if seen_root and not stack:
                raise CorruptContainer("fdt: a second root node")
            if len(stack) >= MAX_DEPTH:
                raise CorruptContainer(f"fdt: nodes nested deeper than {MAX_DEPTH}")
            raw = win.cstring(pos)
            pos = _skip_pad(win, pos + len(raw) + 1, tree)
            node = ""  # the root's properties live at top level
            if stack:
                ctx.entry()
                node = clean_name(f"{stack[-1]}/{_component(raw)}")
                tree.nodes.append(node)
            stack.append(node)
            seen_root = True
        elif tag == _END_NODE:
            if not stack:
                raise CorruptContainer("fdt: FDT_END_NODE without a node")
            stack.pop()
        elif tag == _PROP:
            if not stack:
                raise CorruptContainer("fdt: property outside any node")
            length, nameoff = win.u32(pos), win.u32(pos + 4)
            pos += 8
            if length > win.hi - pos:
                raise CorruptContainer(f"fdt: property of {length} bytes past the struct block")
            ctx.entry()
            tree.props.append(Prop(stack[-1], _prop_name(strings, nameoff, used), pos, length))
            pos = _skip_pad(win, pos + length, tree)
        elif tag == _END:
            if stack or not seen_root:
                raise CorruptContainer("fdt: FDT_END inside a node or before the root")
            tree.blocks["struct"] = (win.lo, pos)
            return used
        elif tag != _NOP:
            raise CorruptContainer(f"fdt: unknown token {tag:#x} at {pos - 4:#x}")


def _skip_pad(win: Window, pos: int, tree: Tree) -> int:
    """Step over the alignment after a name or value; count nonzero bytes (hidden data)."""
    aligned = (pos + 3) & ~3
    if aligned > pos:
        pad = win.get(pos, aligned - pos)
        tree.nonzero_pad += len(pad) - pad.count(0)
    return aligned


def _prop_name(strings: bytes, off: int, used: bytearray) -> str:
    end = strings.find(b"\0", off) if off < len(strings) else -1
    if end < 0:
        raise CorruptContainer(f"fdt: property name offset {off} outside the strings block")
    used[off : end + 1] = b"\1" * (end + 1 - off)
    return _component(strings[off:end])


def _component(raw: bytes) -> str:
    """One node or property name as a path component: `/` and dot-names cannot split paths."""
    name = raw.decode("utf-8", "surrogateescape").replace("%", "%25").replace("/", "%2F")
    if name in (".", ".."):
        return name.replace(".", "%2E")
    return name or "%00"  # an empty name must not merge a node into its parent


class Fdt:
    """The FDT/FIT container."""

    name = "fdt"

    def probe(self, head: bytes, size: int) -> bool:
        return size >= 40 and head[:4] == MAGIC

    def list(self, stream: BinaryIO, size: int, ctx: WalkContext) -> Listing:
        tree = parse(stream, size, ctx)
        fit = "images" in tree.nodes
        fields = list(_header_fields(tree))
        members: list[Member] = [Member(n, Kind.DIR) for n in tree.nodes]
        end = tree.header.totalsize
        for prop in tree.props:
            if fit and prop.node == "" and prop.name == "timestamp" and prop.length == 4:
                fields.append(Field("timestamp", _stamp(stream, prop), Rule.TIMESTAMP))
                continue
            if fit and prop.name in _EXTERNAL and _parent(prop.node) == "images":
                fields.append(Field(prop.path, str(_u32(stream, prop)), _EXTERNAL[prop.name]))
                continue
            members.append(_view(prop.path, stream, prop.offset, prop.length, Kind.FILE))
        members.extend(_slack(stream, tree))
        if fit:
            external, end = _external(stream, size, tree)
            members.extend(external)
        if size > end and size >= FLASH_MIN and not is_padding(stream, end, size - end, ctx):
            raise NotThisFormat("fdt: data follows the tree; a flash dump")
        trailing = (end, size - end) if size > end else None
        return Listing("fit" if fit else "fdt", tuple(members), tuple(fields), trailing)


# FIT external-data properties: where the data sits is layout, its size follows from the data.
_EXTERNAL = {"data-offset": Rule.LAYOUT, "data-position": Rule.LAYOUT, "data-size": Rule.DERIVED}


def _header_fields(tree: Tree) -> tuple[Field, ...]:
    h = tree.header
    pad = "zero" if not tree.nonzero_pad else f"{tree.nonzero_pad} nonzero bytes"
    return (
        Field("version", str(h.version)),
        Field("last_comp_version", str(h.last_comp_version)),
        Field("boot_cpuid", str(h.boot_cpuid)),
        *(Field(name, str(getattr(h, name)), Rule.LAYOUT) for name in _LAYOUT),
        Field("memreserve", ", ".join(f"{a:#x}+{n:#x}" for a, n in tree.memreserve) or "none"),
        # Names no property uses and nonzero alignment bytes could carry data: compare strictly.
        Field("unreferenced_strings", _orphans(tree.unreferenced)),
        Field("struct_padding", pad),
    )


def _orphans(data: bytes) -> str:
    """Strings no property names (mkimage -E leaves "data"): shown when short, else digested."""
    if not data:
        return "none"
    if len(data) <= 256:
        return ", ".join(repr(s.decode("latin-1")) for s in data.removesuffix(b"\0").split(b"\0"))
    return f"{len(data)} bytes sha256:{hashlib.sha256(data).hexdigest()}"


def _slack(stream: BinaryIO, tree: Tree) -> list[Member]:
    """Bytes inside totalsize that no block covers (dtc -p free space, alignment), named by the
    block they follow so that both sides line up; compared as padding.

    The up to 3 bytes that align a block's end to 4 are left out: `mkimage -E` leaves stale
    bytes of the deleted `data` properties there, which differ from build to build."""
    spans = sorted((span, name) for name, span in tree.blocks.items())
    out = []
    for i, ((_, end), name) in enumerate(spans):
        nxt = spans[i + 1][0][0] if i + 1 < len(spans) else tree.header.totalsize
        start = min((end + 3) & ~3, max(nxt, end))
        out.append(_view(f"~slack/after-{name}", stream, start, max(0, nxt - start), Kind.REGION))
    return out


def _external(stream: BinaryIO, size: int, tree: Tree) -> tuple[list[Member], int]:
    """FIT external data: members for the referenced bytes and padding regions between them."""
    base = (tree.header.totalsize + 3) & ~3  # data-offset counts from the 4-aligned end
    props = {(p.node, p.name): p for p in tree.props if p.name in _EXTERNAL}
    spans = []
    for node in tree.nodes:
        if _parent(node) != "images" or (node, "data-size") not in props:
            continue
        length = _u32(stream, props[(node, "data-size")])
        if (node, "data-position") in props:
            start = _u32(stream, props[(node, "data-position")])
        elif (node, "data-offset") in props:
            start = base + _u32(stream, props[(node, "data-offset")])
        else:
            continue
        if start < tree.header.totalsize or start + length > size:
            raise CorruptContainer(
                f"fit: external data of {node} at {start:#x}+{length} outside the image"
            )
        spans.append((start, length, node))
    members, end = [], tree.header.totalsize
    for start, length, node in sorted(spans):
        members.append(
            _view(f"{node}/~data-padding", stream, end, max(0, start - end), Kind.REGION)
        )
        members.append(_view(f"{node}/data", stream, start, length, Kind.FILE))
        end = max(end, start + length)
    return members, end


def extent(stream: BinaryIO, size: int, ctx: WalkContext) -> tuple[int, bool]:
    """Bytes the blob at the start of `stream` occupies (FIT external data included), and
    whether it is a FIT. For the flash scanner."""
    tree = parse(stream, size, ctx)
    if "images" not in tree.nodes:
        return tree.header.totalsize, False
    return _external(stream, size, tree)[1], True


def _view(name: str, stream: BinaryIO, offset: int, length: int, kind: Kind) -> Member:
    return Member(
        name, kind, size=length, opener=lambda: view(stream, offset, length), offset=offset
    )


def _parent(node: str) -> str:
    return node.rpartition("/")[0]


def _u32(stream: BinaryIO, prop: Prop) -> int:
    if prop.length != 4:
        raise CorruptContainer(f"fit: {prop.path} is {prop.length} bytes, not a u32")
    stream.seek(prop.offset)
    return int.from_bytes(stream.read(4), "big")


def _stamp(stream: BinaryIO, prop: Prop) -> str:
    return datetime.fromtimestamp(_u32(stream, prop), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


FORMAT = Fdt()
