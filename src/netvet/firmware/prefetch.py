"""List and hash the deployed image in a second process while this one does the reference.

Per side, a comparison lists the container and hashes every member; the two sides are
independent until they are matched. So when a core is idle and the comparison opens a
container whose both sides are the input files themselves, the deployed side is listed and
hashed by a worker process (prefetch_worker.py) while the parent lists and hashes the reference
(digests.py).
The worker sends back plain data: the listing's format, fields, trailing, notes and slack, and
per member its name, kind, metadata, size, offset and sha256. The parent builds the deployed
`Listing` from it; members whose digests match are never opened in the parent.

Deployed members that differ are opened lazily: one of up to FETCH_LIMIT bytes is read by the
worker from its own listing and sent over; a bigger one, or any failure, makes the parent list
the deployed image itself (once, as the serial walk does) and open the member from there, so a
read error surfaces exactly as it would without the worker. Whatever goes wrong with the worker
(cannot start, dies, LimitExceeded or CorruptContainer while listing, a garbled frame, a deadline)
sends the parent down the serial path, which reports the same problem as a finding: results do
not depend on the worker. NETVET_NO_PARALLEL=1 or `compare(parallel=False)` turns it off; images
under PARALLEL_MIN_BYTES are not worth a process start, nor is a machine with no idle core.

Why a plain `python -c` subprocess rather than ProcessPoolExecutor: fork is unsafe while threads
hash the input images, and spawn/forkserver re-import the parent's `__main__` (for the CLI that
is Typer and every command, ~0.3 s CPU on the path the parent waits on); the worker must also
keep its listing between requests and be stoppable when its answer is no longer wanted.

Trust: the worker parses the same hostile bytes the parent would. Frames are pickles of plain
data (tuples, str, bytes, numbers, None) loaded with an unpickler that refuses every class
(prefetch_wire.py), so a worker subverted through a parser bug still cannot make the parent run
code. The worker's
temporary files go to a directory the parent owns and removes (TMPDIR), even if it is killed.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from typing import Any, BinaryIO

from netvet.firmware.blob import FileBlob
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.limits import Limits
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule
from netvet.firmware.prefetch_wire import recv, send
from netvet.firmware.prefetch_worker import servable
from netvet.firmware.walk import open_container

__all__ = ["Prefetch", "Unavailable", "servable", "wanted"]

LOADAVG = "/proc/loadavg"  # its 4th field: tasks runnable now / all tasks
PARALLEL_MIN_BYTES = 4 << 20  # below this, listing a side takes less than starting a worker
FETCH_LIMIT = 32 << 20  # differing members up to this size are read through the worker
CACHE_BYTES = 64 << 20  # fetched contents kept for the next open of the same member
_KINDS = {k.value: k for k in Kind}
_RULES = {r.value: r for r in Rule}
# `-P`: no current directory on sys.path; the parent's own netvet comes first. The package
# netvet.firmware is entered without its __init__, which imports the comparison engine and its
# content analysers: the worker needs none of them, and its start is on the parent's path.
WORKER_CODE = (
    "import sys, types; sys.path.insert(0, {root!r}); import netvet; "
    "pkg = types.ModuleType('netvet.firmware'); pkg.__path__ = [{package!r}]; "
    "sys.modules['netvet.firmware'] = pkg; "
    "from netvet.firmware.prefetch_worker import serve; serve()"
)


class Unavailable(Exception):
    """The worker has no listing to give; the parent lists the deployed image itself."""


def wanted(parallel: bool | None, *sizes: int) -> bool:
    """Whether to use a worker: `parallel` decides when given; else NETVET_NO_PARALLEL, image
    sizes, and whether a core is idle right now.

    The worker adds a few percent of CPU work (its start, the transfer), which pays only when it
    runs on a core nobody else uses: on a saturated machine it made comparisons slower (measured
    again on the 24,001-file pair at load ~5.5 on 2 cores, forced on vs off, 4 interleaved runs:
    median 4.5 s wall / 2.2 s CPU with it, 3.9 s / 1.9 s without), so it is not started
    whenever two cores exist. Call this before starting threads of one's own, which would count
    as busy.
    """
    if os.name != "posix" or not sys.executable or getattr(sys, "frozen", False):
        return False  # the worker runs `python -c`: a frozen build has no such interpreter
    if parallel is not None:
        return parallel
    if os.environ.get("NETVET_NO_PARALLEL", "") not in ("", "0"):
        return False
    return min(sizes) >= PARALLEL_MIN_BYTES and idle_cores() >= 1


def idle_cores(samples: int = 5) -> int:
    """Cores this process may use that run nothing now, itself aside: Linux's instantaneous
    count of runnable tasks (/proc/loadavg, which includes this process), the best of a few
    samples 2 ms apart so that a moment's blip (a monitor waking up) does not count as busy.
    Where that count is unknown: all cores but this process's own."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    idle = -1
    for _ in range(samples):
        try:
            with open(LOADAVG) as f:
                running = int(f.read().split()[3].split("/")[0])
        except (OSError, ValueError, IndexError):
            running = 1
        idle = max(idle, (cores or 1) - max(running, 1))
        if idle >= 1:
            break
        time.sleep(0.002)
    return idle


class Prefetch:
    """The parent's handle on a worker listing `blob`, the deployed input file at `path`."""

    def __init__(
        self, blob: FileBlob, path: str, limits: Limits, tmpdir: Callable[[], str]
    ) -> None:
        self.blob = blob
        self.path = path
        self.limits = limits
        self._tmpdir = tmpdir
        self._started = time.monotonic()
        self._proc: subprocess.Popen[bytes] | None = None
        self._state = "new"  # new -> asked -> answered | failed
        self._outstanding = False
        self._sizes: list[int] = []
        self._names: list[str] = []
        self._cache: OrderedDict[int, bytes] = OrderedDict()
        self._cached = 0
        self._local: tuple[Member, ...] | None = None
        self._local_ctx: WalkContext | None = None

    def begin(self) -> None:
        """Start the worker on the listing (once); call as soon as the images are known to
        differ, so its start-up overlaps the parent's own work."""
        if self._state != "new":
            return
        self._state = "asked"
        package = os.path.dirname(os.path.abspath(__file__))
        root = os.path.dirname(os.path.dirname(package))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-c", WORKER_CODE.format(root=root, package=package)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ, TMPDIR=self._tmpdir()),
            )
        except (OSError, ValueError, subprocess.SubprocessError):
            self._state = "failed"
            return
        limits = replace(self.limits, max_seconds=self._remaining())
        self._ask(("list", self.path, asdict(limits)))

    def listing(self, ctx: WalkContext) -> Listing | None:
        """The deployed listing, its budgets charged to `ctx`; Unavailable when the worker
        has none (then the caller lists the image itself)."""
        self.begin()
        if self._state != "asked":
            raise Unavailable
        reply = self._reply()
        if reply is None or reply[0] != "ok":
            self._stop()
            raise Unavailable
        self._state = "answered"
        try:
            listing = None if reply[1] is None else self._build(reply[1])
            expanded, entries = int(reply[2]), int(reply[3])
        except (TypeError, ValueError, KeyError, IndexError) as exc:
            self._stop()
            raise Unavailable from exc
        ctx.charge(expanded)  # what open_container would have charged in this process
        ctx.entry(entries)
        return listing

    def _build(self, data: tuple[Any, ...]) -> Listing:
        fmt, fields, trailing, notes, slack, table, rows = data
        metas = [Meta(*t) for t in table]
        members = []
        for i, (name, kind, meta, size, has_opener, offset, digest) in enumerate(rows):
            opener = partial(self._open, i) if has_opener else None
            members.append(Member(name, _KINDS[kind], metas[meta], size, opener, offset, digest))
            self._sizes.append(size)
            self._names.append(name)
        return Listing(
            format=fmt,
            members=tuple(members),
            fields=tuple(Field(n, v, _RULES[r]) for n, v, r in fields),
            trailing=trailing,
            notes=notes,
            slack=slack,
        )

    # -- member contents -------------------------------------------------------------------------
    def _open(self, index: int) -> BinaryIO:
        data = self._cache.get(index)
        if data is not None:
            self._cache.move_to_end(index)
        elif self._sizes[index] <= FETCH_LIMIT:
            data = self._fetch(index)
        if data is None:
            return self._local_opener(index)()
        return io.BytesIO(data)

    def _fetch(self, index: int) -> bytes | None:
        if self._state != "answered":
            return None
        self._ask(("read", index, FETCH_LIMIT))
        reply = self._reply()
        if reply is None or reply[0] != "ok" or not isinstance(reply[1], bytes):
            return None
        data: bytes = reply[1]
        self._cache[index] = data
        self._cached += len(data)
        while self._cached > CACHE_BYTES and len(self._cache) > 1:
            self._cached -= len(self._cache.popitem(last=False)[1])
        return data

    def _local_opener(self, index: int) -> Callable[[], BinaryIO]:
        """The member's opener from a listing made in this process (made once)."""
        if self._local is None:
            # Its own context: these are the worker's members again, already charged once.
            self._local_ctx = ctx = WalkContext(self.limits, "deployed")
            listing = open_container(self.blob, ctx)
            if listing is None or len(listing.members) != len(self._names):
                raise CorruptContainer("deployed image listed differently on a second reading")
            self._local = listing.members
        m = self._local[index]
        if m.name != self._names[index] or m.opener is None:
            raise CorruptContainer(f"{m.name}: listed differently on a second reading")
        return m.opener

    # -- the process -----------------------------------------------------------------------------
    def _ask(self, request: tuple[Any, ...]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        try:
            send(self._proc.stdin, request)  # type: ignore[arg-type]
            self._outstanding = True
        except OSError:
            self._stop()

    def _reply(self) -> tuple[Any, ...] | None:
        """The answer to the outstanding request; None (and the worker stopped) on failure."""
        if not self._outstanding or self._proc is None or self._proc.stdout is None:
            return None
        stdout = self._proc.stdout
        try:
            if self.limits.max_seconds:  # the worker keeps the deadline too; this is the backstop
                ready, _, _ = select.select([stdout], [], [], self._remaining())
                if not ready:
                    raise TimeoutError("worker past the deadline")
            reply = recv(stdout)  # type: ignore[arg-type]
        except Exception:  # died, garbled, refused a class, too slow: do it here instead
            self._stop()
            return None
        self._outstanding = False
        if not isinstance(reply, tuple) or not reply:
            self._stop()
            return None
        return reply

    def _remaining(self) -> float:
        if not self.limits.max_seconds:
            return 0.0
        return max(self.limits.max_seconds - (time.monotonic() - self._started), 0.001)

    def _stop(self) -> None:
        self._state = "failed"
        self._outstanding = False
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()

    def close(self) -> None:
        """Stop the worker (an idle one exits when its stdin closes) and drop local state."""
        proc = self._proc
        if proc is not None:
            if self._outstanding:  # its answer is no longer wanted
                self._stop()
            with contextlib.suppress(OSError):
                proc.stdin.close()  # type: ignore[union-attr]
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            with contextlib.suppress(OSError):
                proc.stdout.close()  # type: ignore[union-attr]
        self._state = "failed"
        self._cache.clear()
        if self._local_ctx is not None:
            self._local_ctx.close()
