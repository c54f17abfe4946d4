"""Digest claims, checked once every entry has been compared.

A vendor manifest, a header or a CMS signature may carry the digest of another entry. When that
entry is itself identical or equivalent, the digest changing with it is derived, not a change of
its own. Any claim that matches no such entry makes the finding unexplained.

Claims are raised only for digests that changed: an unchanged entry has the same digest on both
sides, so its token never differs. A failed claim turns every benign finding of that file
unexplained (coarse, but never too lenient).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from netvet.firmware.blob import Blob
from netvet.firmware.content import DigestClaim
from netvet.firmware.result import Finding, Node, Status

if TYPE_CHECKING:
    from netvet.firmware.compare import Pending

_BY_LENGTH = {8: "crc32", 32: "md5", 40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}


def settle_claims(pending: list[Pending], equivalent: list[tuple[Blob, Blob]]) -> list[Finding]:
    cache: dict[tuple[int, str], str] = {}

    def digest(blob: Blob, algorithm: str) -> str:
        key = (id(blob), algorithm)
        if key not in cache:
            cache[key] = blob.digest(algorithm)
        return cache[key]

    def holds(claim: DigestClaim, failed: set[int]) -> bool:
        algorithm = claim.algorithm or _BY_LENGTH.get(len(claim.ref), "")
        if not algorithm:
            return False
        return any(
            id(r) not in failed
            and digest(r, algorithm) == claim.ref.lower()
            and digest(d, algorithm) == claim.dep.lower()
            for r, d in equivalent
        )

    # An entry whose own claim fails is not equivalent, so claims resting on it fail too
    # (a forged manifest re-signed by the vendor key): iterate until nothing changes.
    failed: set[int] = set()
    broken: dict[int, DigestClaim] = {}
    changed = True
    while changed:
        changed = False
        for i, p in enumerate(pending):
            if i in broken:
                continue
            bad = next((c for c in p.claims if not holds(c, failed)), None)
            if bad is not None:
                broken[i] = bad
                if p.entry is not None:
                    failed.add(id(p.entry[0]))
                changed = True

    out: list[Finding] = []
    for i, p in enumerate(pending):
        f = p.finding
        c = broken.get(i)
        if c is not None and f.status is Status.BENIGN:
            f = replace(
                f,
                status=Status.UNEXPLAINED,
                node=Node.DIFFERENT,  # the producer marked it equivalent, as it then was
                summary=(
                    f"{f.summary}; but {c.ref[:16]}… -> {c.dep[:16]}… is not the "
                    f"{c.algorithm or 'digest'} of any equivalent entry"
                ),
            )
        out.append(f)
    return out
