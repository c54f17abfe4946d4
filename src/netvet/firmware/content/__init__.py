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
class Explanation:
    node: Node
    findings: tuple[Finding, ...]
    claims: tuple[DigestClaim, ...] = ()


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    """Explain the difference between two non-container versions of the entry at `path`."""
    from netvet.firmware.content import binary, cms, elf, fit_hash, text

    if fit_hash.matches(path):
        return fit_hash.explain(path, ref, dep)
    for analyser in (elf, cms, text):
        if analyser.accepts(ref.head) and analyser.accepts(dep.head):
            return analyser.explain(path, ref, dep)
    return binary.explain(path, ref, dep)
