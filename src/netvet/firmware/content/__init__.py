"""Why two versions of one file differ: dispatch to the analyser for the file's kind.

Each analyser returns an `Explanation`: whether the difference is fully benign (EQUIVALENT) or
not (DIFFERENT), findings that say where and why, and digest claims. A claim says "this changed
token is the digest of another entry"; the comparison checks every claim once all entries are
compared and turns a finding unexplained when its claim fails (derived digests, signatures).
"""

from __future__ import annotations

from dataclasses import dataclass

from netvet.firmware.blob import Blob
from netvet.firmware.result import Finding, Node


@dataclass(frozen=True, slots=True)
class DigestClaim:
    """`ref`/`dep` (lowercase hex) must be the `algorithm` digest of one entry's two sides, and
    that entry must be identical or equivalent. `algorithm` "" means any known algorithm whose
    digest length matches."""

    algorithm: str
    ref: str
    dep: str


@dataclass(frozen=True, slots=True)
class Within:
    """The container listing an entry came from: its format and its path."""

    format: str
    path: str


@dataclass(frozen=True, slots=True)
class Explanation:
    node: Node
    findings: tuple[Finding, ...]
    claims: tuple[DigestClaim, ...] = ()


def explain(path: str, ref: Blob, dep: Blob, within: Within | None = None) -> Explanation:
    """Explain the difference between two non-container versions of the entry at `path`.

    `within` is the listing the entry came from: device-tree properties are described as
    properties of their node, not as files.
    """
    from netvet.firmware.content import binary, devicetree, fit_hash, magic, text

    if within is not None and within.format in ("fdt", "fit"):
        if fit_hash.matches(path):
            return fit_hash.explain(path, ref, dep)
        if devicetree.accepts_property(ref, dep):
            return devicetree.explain(path, ref, dep, within.path)
    # elf and cms import heavy libraries: only when both sides really are ELF/CMS (magic.py)
    if magic.is_elf(ref.head) and magic.is_elf(dep.head):
        from netvet.firmware.content import elf

        return elf.explain(path, ref, dep)
    if magic.is_cms(ref.head) and magic.is_cms(dep.head):
        from netvet.firmware.content import cms

        return cms.explain(path, ref, dep)
    if text.accepts(ref.head) and text.accepts(dep.head):
        return text.explain(path, ref, dep)
    return binary.explain(path, ref, dep)
