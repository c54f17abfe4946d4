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
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule
from netvet.firmware.result import Change, Finding, Location, Node, Status
from netvet.firmware.security import metadata_findings
from netvet.firmware.slack import compare_slack, inner_slack

if TYPE_CHECKING:
    from netvet.firmware.compare import Engine


def join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def index(members: tuple[Member, ...]) -> dict[str, Member]:
    """Members by name; a repeated name (legal in tar and cpio) keeps every copy, numbered."""
    out = {m.name: m for m in members}
    if len(out) == len(members):  # the common case: no repeated name, nothing to number
        return out
    seen: dict[str, int] = {}
    out = {}
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
        # per-format header fields say nothing across formats: the change is reported once;
        # the root directory's mode, owner and xattrs mean the same in every format
        rl = replace(rl, fields=_shared_fields(rl))
        dl = replace(dl, fields=_shared_fields(dl))
    _fields(engine, path, rl, dl, noise)
    _trailing(engine, path, rl, dl, rb, db)
    rm, dm = index(rl.members), index(dl.members)
    common = [k for k in rm if k in dm]
    if [k for k in dm if k in rm] != common:
        noise.setdefault(Rule.LAYOUT.value, []).append("member order differs")
    worst = Node.EQUIVALENT
    within = Within(rl.format, path)
    check_time = engine.ref_ctx.check_time
    mtimes = 0
    # A run of members known identical is counted in one engine call (Engine.identical): this
    # loop runs for every member of both images, most of them equal.
    same = same_bytes = 0
    try:
        for key in common:
            check_time()
            a, b = rm[key], dm[key]
            am, bm = a.meta, b.meta
            if am.mtime != bm.mtime:
                mtimes += 1
            if _known_identical(a, b, am, bm):  # most members of a rebuild
                same += 1
                same_bytes += a.size + b.size
                continue
            engine.identical(same, same_bytes)
            same = same_bytes = 0
            node = compare_member(engine, join(path, key), a, b, depth + 1, within)
            if node in (Node.DIFFERENT, Node.NOT_COMPARED):
                worst = Node.DIFFERENT
    finally:  # out of time mid-run, the members already found identical still count
        engine.identical(same, same_bytes)
    if mtimes:
        noise.setdefault(Rule.TIMESTAMP.value, []).append(f"{mtimes} member timestamps differ")
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


def _shared_fields(listing: Listing) -> tuple[Field, ...]:
    return tuple(f for f in listing.fields if f.name.startswith("root."))


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
        # the stricter side decides: a clean header may not excuse an anomalous one
        rules = {f.rule for f in (a, b) if f is not None}
        rule = Rule.STRICT if Rule.STRICT in rules else (a or b).rule  # type: ignore[union-attr]
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
        inner_slack(engine, path, rl, dl, rb, db)


def _known_identical(a: Member, b: Member, am: Meta, bm: Meta) -> bool:
    """Two files whose digests are already known and equal, with equal metadata (`am`, `bm`)
    but for the mtime: `compare_member` would find them IDENTICAL after building two Blobs to
    learn it. Anything else (unknown digests, other kinds, any metadata difference) takes the
    full path."""
    return (
        a.sha256 is not None
        and a.sha256 == b.sha256
        and a.kind is Kind.FILE
        and b.kind is Kind.FILE
        and a.opener is not None
        and b.opener is not None
        and (am is bm or am == bm or replace(am, mtime=None) == replace(bm, mtime=None))
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
