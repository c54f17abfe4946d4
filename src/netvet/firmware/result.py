"""The result of a comparison: a verdict and findings, as immutable values presenters read.

`schema_version` changes only when a key changes meaning or disappears (see docs/compare-json.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA_VERSION = "1.0"


class Verdict(StrEnum):
    IDENTICAL = "identical"
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"


class Change(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"
    METADATA = "metadata"


class Status(StrEnum):
    BENIGN = "benign"
    UNEXPLAINED = "unexplained"


class Node(StrEnum):
    """Where a compared node ended (DESIGN.md): could-not-compare is never 'same'."""

    IDENTICAL = "identical"
    EQUIVALENT = "equivalent"
    DIFFERENT = "different"
    NOT_COMPARED = "not_compared"


# Benign classes (DESIGN.md table); each finding with status benign names one of these.
BENIGN_CLASSES = (
    "container-timestamp",
    "layout",
    "compression",
    "random-id",
    "derived-checksum",
    "build-id",
    "build-time",
    "gzip-mtime",
    "derived-digest",
    "signature",
    "padding",
)


@dataclass(frozen=True, slots=True)
class Location:
    """Where inside an entry a difference lies. Unknown parts are None.

    `section` is an ELF section, a device-tree node, a header name or a region name;
    `symbol` a function/object (`name+0x10` when only the preceding symbol is known), a
    property or a header field; `offset`/`length` are in the entry's bytes (or the section's
    address space for ELF, documented per producer); `detail` carries a short human note such
    as a changed text line.
    """

    section: str | None = None
    symbol: str | None = None
    offset: int | None = None
    length: int | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    change: Change
    status: Status
    klass: str
    summary: str
    locations: tuple[Location, ...] = ()
    node: Node = Node.DIFFERENT
    diff: tuple[str, ...] = ()  # unified-diff or hex lines for drill-down (HTML, text -v)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    path: str
    size: int
    sha256: str
    format: str = ""


@dataclass(frozen=True, slots=True)
class Stats:
    entries_compared: int = 0
    identical: int = 0
    equivalent: int = 0
    different: int = 0
    not_compared: int = 0
    containers_opened: int = 0
    bytes_read: int = 0
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    verdict: Verdict
    reference: ImageInfo
    deployed: ImageInfo
    findings: tuple[Finding, ...]
    stats: Stats = field(default_factory=Stats)

    @property
    def unexplained(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.UNEXPLAINED)

    @property
    def benign(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.status is Status.BENIGN)


def verdict_of(findings: tuple[Finding, ...] | list[Finding], same_bytes: bool) -> Verdict:
    if same_bytes and not findings:
        return Verdict.IDENTICAL
    if any(f.status is Status.UNEXPLAINED for f in findings):
        return Verdict.DIFFERENT
    return Verdict.EQUIVALENT
