"""The state one side of a comparison carries through the walk: limits, budgets, spool files.

Decompressed streams are spooled into memory and, past `Limits.spool_memory`, into files that
this context creates in its own private temporary directory (mode 0700) and removes on close.
Nothing an image says decides a file name.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from typing import BinaryIO

from netvet.firmware.errors import LimitExceeded
from netvet.firmware.limits import Limits

CHUNK = 1 << 20


class WalkContext:
    """Budgets of one side; formats call `charge`, `entry`, `check_time` and `spool`."""

    def __init__(self, limits: Limits, side: str = "") -> None:
        self.limits = limits
        self.side = side
        self.expanded = 0
        self.entries = 0
        self._deadline = time.monotonic() + limits.max_seconds if limits.max_seconds else 0.0
        self._tmpdir: str | None = None
        self._stack = contextlib.ExitStack()

    # -- budgets -----------------------------------------------------------------------------
    def charge(self, nbytes: int) -> None:
        """Count bytes produced by expansion; raise once the side's budget is spent."""
        self.expanded += nbytes
        if self.expanded > self.limits.max_total_bytes:
            raise LimitExceeded(
                f"expanded data exceeds --max-total-bytes ({self.limits.max_total_bytes} bytes)"
            )

    def entry(self, count: int = 1) -> None:
        """Count container members; raise once there are more than the limit allows."""
        self.entries += count
        if self.entries > self.limits.max_entries:
            raise LimitExceeded(f"more than --max-entries ({self.limits.max_entries}) members")

    def check_time(self) -> None:
        if self._deadline and time.monotonic() > self._deadline:
            raise LimitExceeded(f"comparison exceeded --max-seconds ({self.limits.max_seconds}s)")

    def check_ratio(self, produced: int, consumed: int, what: str) -> None:
        """Refuse decompression that expands far beyond any real firmware (a bomb)."""
        if produced > (max(consumed, 1) * self.limits.max_ratio) and produced > CHUNK:
            raise LimitExceeded(
                f"{what} expands more than --max-ratio ({self.limits.max_ratio}:1): "
                f"{produced} bytes from {consumed}"
            )

    # -- spooling ----------------------------------------------------------------------------
    def tmpdir(self) -> str:
        if self._tmpdir is None:
            self._tmpdir = tempfile.mkdtemp(prefix="netvet-")
            self._stack.callback(shutil.rmtree, self._tmpdir, True)
        return self._tmpdir

    def new_spool(self) -> BinaryIO:
        """An empty read/write stream, in memory up to the spool limit, then on private disk."""
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed with the context
            max_size=self.limits.spool_memory, mode="w+b", dir=self.tmpdir()
        )
        self._stack.callback(spool.close)
        return spool  # type: ignore[return-value]

    def spool(
        self,
        chunks: Iterable[bytes],
        what: str,
        consumed: Callable[[], int] | None = None,
    ) -> BinaryIO:
        """Write decompressed `chunks` to a new spool under every budget; return it rewound.

        `consumed` reports how many input bytes were used so far, for the ratio check.
        """
        out = self.new_spool()
        produced = 0
        for chunk in chunks:
            if not chunk:
                continue
            produced += len(chunk)
            self.charge(len(chunk))
            if consumed is not None:
                self.check_ratio(produced, consumed(), what)
            self.check_time()
            out.write(chunk)
        out.seek(0)
        return out

    def keep(self, closeable: object) -> None:
        """Close `closeable` (a parser, a file) when the context closes."""
        close = getattr(closeable, "close", None)
        if callable(close):
            self._stack.callback(close)

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> WalkContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
