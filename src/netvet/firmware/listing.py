"""Two listings of one container -> findings: header fields, trailing bytes, members.

Members are matched by path, then files left over are matched by content (a move is reported,
never treated as benign). Security metadata is compared strictly; mtimes and member order are
container noise and become one benign finding per class for the container.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from netvet.firmware.blob import Blob
from netvet.firmware.content import Within
from netvet.firmware.content.ranges import diff_ranges, hexdump_pair
from netvet.firmware.model import Kind, Listing, Member, Rule
from netvet.firmware.result import Change, Finding, Location, Node, Status
from netvet.firmware.security import metadata_findings
from netvet.firmware.streams import is_fill

if TYPE_CHECKING:
    from netvet.firmware.compare import Engine

# Trailing bytes or gaps bigger than this are compared by hash only, not loaded.
_FILL_CHECK_LIMIT = 256 << 20


def join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def index(members: tuple[Member, ...]) -> dict[str, Member]:
    """Members by name; a repeated name (legal in tar and cpio) keeps every copy, numbered."""
    seen: dict[str, int] = {}
    out: dict[str, Member] = {}
    for m in members:
        n = seen[m.name] = seen.get(m.name, 0) + 1
        out[m.name if n == 1 else f"{m.name} (copy {n})"] = m
    return out


def compare_listings(
    engine: Engine, path: str, rl: Listing, dl: Listing, rb: Blob, db: Blob, depth: int
) -> Node:
    before = len(engine.findings)
    pending_before = len(engine.pending)
    noise: dict[str, list[str]] = {}
    if rl.format != dl.format:
        engine.add(
            Finding(
                path,
                Change.MODIFIED,
                Status.UNEXPLAINED,
                "format-changed",
                f"container format changed: {rl.format} -> {dl.format}",
            )
        )
    _fields(engine, path, rl, dl, noise)
    _trailing(engine, path, rl, dl, rb, db)
    rm, dm = index(rl.members), index(dl.members)
    common = [k for k in rm if k in dm]
    if [k for k in dm if k in rm] != common:
        noise.setdefault(Rule.LAYOUT.value, []).append("member order differs")
    mtimes = sum(1 for k in common if rm[k].meta.mtime != dm[k].meta.mtime)
    if mtimes:
        noise.setdefault(Rule.TIMESTAMP.value, []).append(f"{mtimes} member timestamps differ")
    worst = Node.EQUIVALENT
    within = Within(rl.format, path)
    check_time = engine.ref_ctx.check_time
    for key in common:
        check_time()
        a, b = rm[key], dm[key]
        if _known_identical(a, b):  # most members of a rebuild: skip the per-member machinery
            engine.count_bytes(a.size + b.size)
            engine.node(Node.IDENTICAL)
            continue
        node = compare_member(engine, join(path, key), a, b, depth + 1, within)
        if node in (Node.DIFFERENT, Node.NOT_COMPARED):
            worst = Node.DIFFERENT
    if _unmatched(engine, path, rm, dm, set(common)):
        worst = Node.DIFFERENT
    own = engine.findings[before:]
    if any(f.status is Status.UNEXPLAINED for f in own):
        worst = Node.DIFFERENT
    for klass, notes in noise.items():
        engine.add(
            Finding(
                path, Change.METADATA, Status.BENIGN, klass, f"{rl.format}: " + "; ".join(notes)
            )
        )
    if not noise and not own and len(engine.pending) == pending_before:
        engine.add(
            Finding(
                path,
                Change.METADATA,
                Status.BENIGN,
                Rule.LAYOUT.value,
                f"{rl.format}: bytes differ but every header field and member is "
                "equal (block placement, inode numbering)",
            )
        )
    return engine.node(worst)


def _fields(
    engine: Engine, path: str, rl: Listing, dl: Listing, noise: dict[str, list[str]]
) -> None:
    rf = {f.name: f for f in rl.fields}
    df = {f.name: f for f in dl.fields}
    for name in sorted(rf.keys() | df.keys()):
        a, b = rf.get(name), df.get(name)
        if a is not None and b is not None and a.value == b.value:
            continue
        old = a.value if a else "(absent)"
        new = b.value if b else "(absent)"
        rule = (a or b).rule  # type: ignore[union-attr]
        if a is None or b is None or rule is Rule.STRICT:
            engine.add(
                Finding(
                    path,
                    Change.METADATA,
                    Status.UNEXPLAINED,
                    "header-field",
                    f"{rl.format} header field {name}: {old} -> {new}",
                    (
                        Location(
                            section=f"{rl.format} header", symbol=name, detail=f"{old} -> {new}"
                        ),
                    ),
                )
            )
        else:
            noise.setdefault(rule.value, []).append(f"{name} {old} -> {new}")


def _trailing(engine: Engine, path: str, rl: Listing, dl: Listing, rb: Blob, db: Blob) -> None:
    compare_slack(engine, path, "after end of " + rl.format, (rb, rl.trailing), (db, dl.trailing))
    if rl.slack or dl.slack:
        _inner_slack(engine, path, rl, dl, rb, db)


def _inner_slack(engine: Engine, path: str, rl: Listing, dl: Listing, rb: Blob, db: Blob) -> None:
    """Stray bytes between a container's records, concatenated per side and compared."""
    ra = b"".join(_slack_bytes(rb, r) for r in rl.slack)
    da = b"".join(_slack_bytes(db, r) for r in dl.slack)
    if ra == da or (is_fill(ra) and is_fill(da)):
        return
    first = diff_ranges(ra, da, limit=1)[0][0]
    ranges, data = (rl.slack, ra) if first < len(ra) else (dl.slack, da)
    where, offset = _locate(ranges, first)
    engine.add(
        Finding(
            path,
            Change.MODIFIED,
            Status.UNEXPLAINED,
            "trailing-data",
            f"data between {rl.format} records (belongs to no member): {len(ra)} bytes in "
            f"reference, {len(da)} in deployed",
            (Location(section=f"{rl.format} slack", offset=offset, length=where),),
            diff=tuple(hexdump_pair(ra, da, first, len(data) - first)),
        )
    )


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


def _known_identical(a: Member, b: Member) -> bool:
    """Two files whose digests are already known and equal, with equal metadata but for the
    mtime: `compare_member` would find them IDENTICAL after building two Blobs to learn it.
    Anything else (unknown digests, other kinds, any metadata difference) takes the full path."""
    return (
        a.sha256 is not None
        and a.sha256 == b.sha256
        and a.kind is Kind.FILE
        and b.kind is Kind.FILE
        and a.opener is not None
        and b.opener is not None
        and (a.meta == b.meta or replace(a.meta, mtime=None) == replace(b.meta, mtime=None))
    )


def compare_member(
    engine: Engine, path: str, a: Member, b: Member, depth: int, within: Within | None = None
) -> Node:
    if a.kind != b.kind:
        engine.add(
            Finding(
                path,
                Change.MODIFIED,
                Status.UNEXPLAINED,
                "type-changed",
                f"entry type changed: {a.kind} -> {b.kind}",
            )
        )
        return engine.node(Node.DIFFERENT)
    meta = metadata_findings(path, a, b)
    for f in meta:
        engine.add(f)
    if a.kind in (Kind.FILE, Kind.REGION) and a.opener and b.opener:
        ra = Blob(path, a.opener, engine.ref_ctx, a.sha256, a.size)
        rb = Blob(path, b.opener, engine.dep_ctx, b.sha256, b.size)
        if a.kind is Kind.REGION:
            node = _region(engine, path, ra, rb, a.offset or 0)
        else:
            node = engine.blobs(path, ra, rb, depth, within)
        if meta and node is not Node.NOT_COMPARED:
            return Node.DIFFERENT
        return node
    return engine.node(Node.DIFFERENT if meta else Node.IDENTICAL)


def _region(engine: Engine, path: str, ra: Blob, rb: Blob, base: int) -> Node:
    """A raw region between embedded images: equal, both padding, or unexplained data."""
    if ra.sha256 == rb.sha256:
        return engine.node(Node.IDENTICAL)
    compare_slack(engine, path, "in raw region", (ra, (0, ra.size)), (rb, (0, rb.size)), base)
    own = engine.findings[-1]
    return engine.node(Node.EQUIVALENT if own.status is Status.BENIGN else Node.DIFFERENT)


def _unmatched(
    engine: Engine, path: str, rm: dict[str, Member], dm: dict[str, Member], common: set[str]
) -> bool:
    only_ref = [k for k in rm if k not in common]
    only_dep = [k for k in dm if k not in common]
    if not only_ref and not only_dep:
        return False
    dep_by_digest: dict[str, list[str]] = {}
    for k in only_dep:
        m = dm[k]
        if m.kind is Kind.FILE and m.opener:
            digest = Blob(k, m.opener, engine.dep_ctx, m.sha256, m.size).sha256
            dep_by_digest.setdefault(digest, []).append(k)
    moved_to: set[str] = set()
    for k in only_ref:
        m = rm[k]
        target = None
        if m.kind is Kind.FILE and m.opener:
            names = dep_by_digest.get(Blob(k, m.opener, engine.ref_ctx, m.sha256, m.size).sha256)
            if names:
                target = names.pop(0)
        if target is not None:
            moved_to.add(target)
            engine.add(
                Finding(
                    join(path, target),
                    Change.MODIFIED,
                    Status.UNEXPLAINED,
                    "moved",
                    f"same content moved from {join(path, k)}",
                )
            )
        else:
            engine.add(
                Finding(
                    join(path, k),
                    Change.REMOVED,
                    Status.UNEXPLAINED,
                    "removed",
                    f"{m.kind} removed ({m.size} bytes)"
                    if m.kind is Kind.FILE
                    else f"{m.kind} removed",
                )
            )
    for k in only_dep:
        if k in moved_to:
            continue
        m = dm[k]
        engine.add(
            Finding(
                join(path, k),
                Change.ADDED,
                Status.UNEXPLAINED,
                "added",
                f"{m.kind} added ({m.size} bytes)"
                if m.kind is Kind.FILE
                else f"{m.kind} added" + (f" -> {m.meta.target}" if m.meta.target else ""),
            )
        )
    return True
