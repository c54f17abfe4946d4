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
from netvet.firmware.result import Finding, Status

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

    def holds(algorithm: str, ref: str, dep: str) -> bool:
        algorithm = algorithm or _BY_LENGTH.get(len(ref), "")
        if not algorithm:
            return False
        return any(
            digest(r, algorithm) == ref.lower() and digest(d, algorithm) == dep.lower()
            for r, d in equivalent
        )

    out: list[Finding] = []
    for p in pending:
        failed = [c for c in p.claims if not holds(c.algorithm, c.ref, c.dep)]
        f = p.finding
        if failed and f.status is Status.BENIGN:
            c = failed[0]
            f = replace(
                f,
                status=Status.UNEXPLAINED,
                summary=(
                    f"{f.summary}; but {c.ref[:16]}… -> {c.dep[:16]}… is not the "
                    f"{c.algorithm or 'digest'} of any equivalent entry"
                ),
            )
        out.append(f)
    return out
