"""Bounds on the work an untrusted image can make netvet do.

Firmware is hostile input: a few kilobytes can expand to terabytes, nest forever or list millions
of entries. Every bound here is checked while reading, never after.
"""

from __future__ import annotations

from dataclasses import dataclass

GiB = 1 << 30


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds for one comparison (each side is bounded separately).

    max_depth: containers nested inside each other (the image itself is depth 0).
    max_total_bytes: bytes produced by decompression and container parsing on one side.
    max_ratio: expanded bytes per input byte allowed for one decompression layer; zip bombs and
        zero-filled xz streams exceed this long before they exhaust memory or disk.
    max_entries: members listed across all containers on one side.
    max_seconds: wall time for the whole comparison; 0 means unbounded.
    spool_memory: bytes of a decompressed stream kept in memory before spilling to the private
        temporary directory.
    """

    max_depth: int = 12
    max_total_bytes: int = 64 * GiB
    max_ratio: int = 1000
    max_entries: int = 2_000_000
    max_seconds: float = 0.0
    spool_memory: int = 64 << 20

    def __post_init__(self) -> None:
        for name in ("max_depth", "max_total_bytes", "max_ratio", "max_entries"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.max_seconds < 0:
            raise ValueError("max_seconds must not be negative")
