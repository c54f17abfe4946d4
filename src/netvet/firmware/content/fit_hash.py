"""FIT image hash nodes: `/images/<img>/hash-N/value` holds the digest of the image's `data`.

When the image data is itself equivalent (a re-gzipped kernel, say), its hash value changes with
it; the value is then derived, which the digest claim checks once every entry is compared.
"""

from __future__ import annotations

import re

from netvet.firmware.blob import Blob
from netvet.firmware.content import DigestClaim, Explanation
from netvet.firmware.result import Change, Finding, Location, Node, Status

_HASH_VALUE = re.compile(r"(?:^|/)(hash(?:[-@][^/]*)?)/value$")
# crc32, md5, sha1, sha256, sha384, sha512 digest sizes in bytes
_SIZES = {4, 16, 20, 32, 48, 64}


def matches(path: str) -> bool:
    return _HASH_VALUE.search(path) is not None


def explain(path: str, ref: Blob, dep: Blob) -> Explanation:
    a, b = ref.read(), dep.read()
    node_path = path.rsplit("/", 1)[0]
    loc = (Location(section=node_path, symbol="value", offset=0, length=len(b)),)
    if len(a) != len(b) or len(a) not in _SIZES:
        finding = Finding(
            path,
            Change.MODIFIED,
            Status.UNEXPLAINED,
            "content",
            f"FIT hash value changed size or is not a digest ({len(a)} -> {len(b)} bytes)",
            loc,
        )
        return Explanation(Node.DIFFERENT, (finding,))
    finding = Finding(
        path,
        Change.MODIFIED,
        Status.BENIGN,
        "derived-digest",
        f"FIT hash {a.hex()} -> {b.hex()} follows the hashed image data",
        loc,
    )
    return Explanation(Node.EQUIVALENT, (finding,), (DigestClaim("", a.hex(), b.hex()),))
