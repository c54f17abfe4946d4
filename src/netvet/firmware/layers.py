"""A compression layer on one or both sides: compare what it decompresses to.

Another compressor, level or block size is container noise (class `compression`); a gzip MTIME
is `gzip-mtime`. Bytes after the compressed stream must be equal or padding.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from netvet.firmware.blob import Blob
from netvet.firmware.listing import compare_slack
from netvet.firmware.model import Rule
from netvet.firmware.result import Change, Finding, Location, Node, Status
from netvet.firmware.walk import Layer

if TYPE_CHECKING:
    from netvet.firmware.compare import Engine


def compare_layers(
    engine: Engine,
    path: str,
    ref: Blob,
    dep: Blob,
    ref_peeled: tuple[Layer, Blob] | None,
    dep_peeled: tuple[Layer, Blob] | None,
    depth: int,
) -> Node:
    r_layer, r_inner = ref_peeled if ref_peeled else (None, ref)
    d_layer, d_inner = dep_peeled if dep_peeled else (None, dep)
    compare_slack(
        engine,
        path,
        "after compressed stream",
        (ref, r_layer.decoded.trailing if r_layer else None),
        (dep, d_layer.decoded.trailing if d_layer else None),
    )
    node = engine.blobs(path, r_inner, d_inner, depth + 1)
    if node is not Node.IDENTICAL:
        return node
    engine.tally.nodes[Node.IDENTICAL] -= 1
    strict = _strict_changes(r_layer, d_layer)
    if strict:
        for name, old, new in strict:
            engine.add(
                Finding(
                    path,
                    Change.METADATA,
                    Status.UNEXPLAINED,
                    "header-field",
                    f"{r_layer.codec if r_layer else ''} header field {name}: {old} -> {new}",
                    (
                        Location(
                            section="compression header", symbol=name, detail=f"{old} -> {new}"
                        ),
                    ),
                )
            )
        return engine.node(Node.DIFFERENT)
    klass, summary = _explain_layers(r_layer, d_layer)
    engine.add(Finding(path, Change.METADATA, Status.BENIGN, klass, summary))
    return engine.node(Node.EQUIVALENT)


def _strict_changes(r: Layer | None, d: Layer | None) -> list[tuple[str, str, str]]:
    """Header fields a codec marks STRICT (gzip FEXTRA, lzop extra data...) that differ: data
    a decompressor ignores is a place to hide bytes, so it is never benign."""
    if r is None or d is None or r.codec != d.codec:
        return []
    rf = {f.name: f for f in r.decoded.fields}
    df = {f.name: f for f in d.decoded.fields}
    out = []
    for name in sorted(rf.keys() | df.keys()):
        a, b = rf.get(name), df.get(name)
        if (a.value if a else None) == (b.value if b else None):
            continue
        if (a or b).rule is Rule.STRICT:  # type: ignore[union-attr]
            out.append((name, _v(a), _v(b)))
    return out


def _explain_layers(r: Layer | None, d: Layer | None) -> tuple[str, str]:
    if r is None or d is None or r.codec != d.codec:
        return "compression", (
            f"compression changed: {r.codec if r else 'none'} -> {d.codec if d else 'none'}; "
            "decompressed content identical"
        )
    rf = {f.name: f for f in r.decoded.fields}
    df = {f.name: f for f in d.decoded.fields}
    changed = [
        n
        for n in sorted(rf.keys() | df.keys())
        if (rf.get(n) and rf[n].value) != (df.get(n) and df[n].value)
    ]
    timestamps = [n for n in changed if (rf.get(n) or df[n]).rule is Rule.TIMESTAMP]
    details = ", ".join(f"{n} {_v(rf.get(n))} -> {_v(df.get(n))}" for n in changed)
    if changed and len(timestamps) == len(changed):
        klass = "gzip-mtime" if r.codec == "gzip" else "container-timestamp"
        return klass, f"{r.codec} header: {details}; decompressed content identical"
    return "compression", (
        f"{r.codec} stream differs ({details or 'compression level or block layout'}); "
        "decompressed content identical"
    )


def _v(f: object) -> str:
    return "(absent)" if f is None else str(getattr(f, "value", f))
