"""A changed device-tree property, named by node and property with both values decoded.

Properties are small typed values (strings, 32-bit cells, bytes); large ones (FIT image data)
are left to the other analysers. Every change is unexplained: a device tree is configuration
(bootargs, memory maps, enabled devices), not build noise.
"""

from __future__ import annotations

from netvet.firmware.blob import Blob
from netvet.firmware.content import Explanation
from netvet.firmware.result import Change, Finding, Location, Node, Status

_MAX_PROPERTY = 4096


def accepts_property(ref: Blob, dep: Blob) -> bool:
    return ref.size <= _MAX_PROPERTY and dep.size <= _MAX_PROPERTY


def decode(value: bytes) -> str:
    """The value as dtc would write it: "strings", <cells> or [bytes]."""
    if value and value.endswith(b"\x00") and b"\x00\x00" not in value:
        parts = value[:-1].split(b"\x00")
        if all(p and all(32 <= c < 127 for c in p) for p in parts):
            return ", ".join('"' + p.decode("ascii") + '"' for p in parts)
    if value and len(value) % 4 == 0:
        cells = (int.from_bytes(value[i : i + 4], "big") for i in range(0, len(value), 4))
        return "<" + " ".join(f"0x{c:x}" for c in cells) + ">"
    return "[" + value.hex(" ") + "]" if value else "(empty)"


def explain(path: str, ref: Blob, dep: Blob, tree_path: str) -> Explanation:
    a, b = ref.read(), dep.read()
    rel = path[len(tree_path) :].lstrip("/") if path.startswith(tree_path) else path
    node, _, prop = rel.rpartition("/")
    old, new = decode(a), decode(b)
    finding = Finding(
        path,
        Change.MODIFIED,
        Status.UNEXPLAINED,
        "devicetree",
        f"property {prop} of node /{node} changed: {old} -> {new}",
        (
            Location(
                section="/" + node, symbol=prop, offset=0, length=len(b), detail=f"{old} -> {new}"
            ),
        ),
        diff=(f"- {prop} = {old};", f"+ {prop} = {new};"),
    )
    return Explanation(Node.DIFFERENT, (finding,))
