"""List and hash the deployed image in a second process while this one does the reference.

Per side, a comparison lists the container and hashes every member; the two sides are
independent until they are matched. So when a core is idle and the comparison opens a
container whose both sides are the input files themselves, the deployed side is listed and
hashed by a worker process (`serve`) while the parent lists and hashes the reference (`prehash`).
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
data (tuples, str, bytes, numbers, None) loaded with an unpickler that refuses every class, so a
worker subverted through a parser bug still cannot make the parent run code. The worker's
temporary files go to a directory the parent owns and removes (TMPDIR), even if it is killed.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import select
import struct
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, replace
from functools import partial
from typing import Any, BinaryIO

import netvet
from netvet.firmware.blob import Blob, FileBlob
from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded
from netvet.firmware.formats import codecs, containers
from netvet.firmware.limits import Limits
from netvet.firmware.model import Field, Kind, Listing, Member, Meta, Rule
from netvet.firmware.walk import open_container

LOADAVG = "/proc/loadavg"  # its 4th field: tasks runnable now / all tasks
PARALLEL_MIN_BYTES = 4 << 20  # below this, listing a side takes less than starting a worker
FETCH_LIMIT = 32 << 20  # differing members up to this size are read through the worker
CACHE_BYTES = 64 << 20  # fetched contents kept for the next open of the same member
_HASHED = (Kind.FILE, Kind.REGION)
_KINDS = {k.value: k for k in Kind}
_RULES = {r.value: r for r in Rule}
_FRAME = struct.Struct("<Q")
_EXACT = frozenset({int, str, bytes, bool, float, type(None)})
_BASES: tuple[type[Any], ...] = (int, str, bytes)
_PRINTERS = ("__repr__", "__str__", "__format__")
_BASE_OF: dict[type, type] = {}  # parser types found to print as their builtin base
# `-P`: no current directory on sys.path; the parent's own netvet comes first.
WORKER_CODE = (
    "import sys; sys.path.insert(0, {root!r}); from netvet.firmware.prefetch import serve; serve()"
)


class Unavailable(Exception):
    """The worker has no listing to give; the parent lists the deployed image itself."""


def wanted(parallel: bool | None, *sizes: int) -> bool:
    """Whether to use a worker: `parallel` decides when given; else NETVET_NO_PARALLEL, image
    sizes, and whether a core is idle right now.

    The worker adds a few percent of CPU work (its start, the transfer), which pays only when it
    runs on a core nobody else uses: on a saturated machine it made comparisons slower. Call this
    before starting threads of one's own, which would count as busy.
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


def servable(blob: Blob) -> bool:
    """Whether the worker can list `blob` as the comparison would: not when a codec claims it
    (the comparison peels it first; the worker would answer "skip")."""
    return not any(codec.probe(blob.head, blob.size) for codec in codecs())


def prehash(listing: Listing, ctx: WalkContext) -> Listing:
    """`listing` with its members' digests computed now, while the worker does the other side.

    A member that cannot be read keeps no digest: the comparison reads it again later and reports
    the error where the serial walk does. Out of time, the rest is left to the comparison too.
    """
    members = list(listing.members)
    for i, m in enumerate(members):
        if m.sha256 is None and m.opener is not None and m.kind in _HASHED:
            try:
                digest = digest_of(m, ctx)
            except LimitExceeded:
                break
            if digest is not None:
                members[i] = Member(m.name, m.kind, m.meta, m.size, m.opener, m.offset, digest)
    return replace(listing, members=tuple(members))


def digest_of(m: Member, ctx: WalkContext) -> str | None:
    """sha256 of a member's content if it reads back as exactly its declared size, else None
    (a Blob given a digest also takes the size from the caller)."""
    assert m.opener is not None
    blob = Blob(m.name, m.opener, ctx)
    try:
        digest = blob.sha256
    except LimitExceeded:
        raise
    except Exception:
        return None
    return digest if blob.size == m.size else None


# -- the wire ------------------------------------------------------------------------------------
class _Plain(pickle.Unpickler):
    """Loads tuples, lists, str, bytes, numbers and None; refuses every class."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}")


def _send(out: BinaryIO, obj: object) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_FRAME.pack(len(data)))
    out.write(data)
    out.flush()


def _recv(inp: BinaryIO) -> Any:
    """The next frame's object; EOFError when the stream ends."""
    (n,) = _FRAME.unpack(_read_exact(inp, _FRAME.size))
    return _Plain(io.BytesIO(_read_exact(inp, n))).load()


def _read_exact(inp: BinaryIO, n: int) -> bytes:
    parts = []
    while n:
        chunk = inp.read(min(n, CHUNK * 16))
        if not chunk:
            raise EOFError("worker stream ended")
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _encode(listing: Listing, ctx: WalkContext) -> tuple[Any, ...]:
    """A listing as plain data, its members hashed. A member is a tuple of Member's fields in
    order, with `opener` as whether there is one and `meta` as an index into a table of the
    distinct metadata (most members share theirs)."""
    metas: dict[Meta, int] = {}
    rows = []
    for m in listing.members:
        digest = digest_of(m, ctx) if m.opener is not None and m.kind in _HASHED else None
        meta = metas.get(m.meta)
        if meta is None:
            meta = metas[m.meta] = len(metas)
        size, offset = _plain(m.size), _plain(m.offset)
        rows.append((m.name, m.kind.value, meta, size, m.opener is not None, offset, digest))
    table = tuple(
        _plain((x.mode, x.uid, x.gid, x.target, x.rdev, x.xattrs, x.mtime)) for x in metas
    )
    fields = tuple((_plain(f.name), _plain(f.value), f.rule.value) for f in listing.fields)
    plain = _plain((listing.format, fields, listing.trailing, listing.notes, listing.slack))
    return (*plain, table, tuple(rows))


def _plain(value: Any) -> Any:
    """`value` with parsers' subclasses of int/str/bytes (dissect.cstruct's uint32...) made the
    builtin type, which pickles as plain data. Other values pass unchanged: lists arrive as
    lists, and an object of any class makes the parent refuse the frame and list the image
    itself."""
    kind = type(value)
    if kind in _EXACT:
        return value
    if kind is tuple:
        return tuple(_plain(v) for v in value)
    base = _BASE_OF.get(kind) or _base_of(kind)
    return value if base is None else base(value)


def _base_of(kind: type) -> type | None:
    """The builtin `kind` derives from, if it prints exactly as that builtin; a subclass that
    prints otherwise (an IntEnum) is refused, since findings quote these values."""
    for base in _BASES:
        if issubclass(kind, base):
            if any(getattr(kind, m) is not getattr(base, m) for m in _PRINTERS):
                raise TypeError(f"{kind.__name__} does not print as {base.__name__}")
            _BASE_OF[kind] = base
            return base
    return None


# -- the worker process --------------------------------------------------------------------------
class _Worker:
    """The worker's state: one listing of the deployed image, kept for reads of its members."""

    def __init__(self) -> None:
        self.ctx: WalkContext | None = None
        self.members: tuple[Member, ...] = ()

    def handle(self, request: tuple[Any, ...]) -> tuple[Any, ...]:
        if request[0] == "list":
            return self.list(request[1], request[2])
        if request[0] == "read":
            return self.read(request[1], request[2])
        return ("error", f"unknown request {request[0]!r}")

    def list(self, path: str, limits: dict[str, Any]) -> tuple[Any, ...]:
        self.ctx = ctx = WalkContext(Limits(**limits), "deployed")
        try:
            blob = FileBlob(os.path.basename(path), path, ctx)
            if not servable(blob):
                return ("skip",)  # compressed: the parent peels it, as it would anyway
            listing = open_container(blob, ctx)
            data = None if listing is None else _encode(listing, ctx)
        except Exception as exc:  # LimitExceeded, CorruptContainer: the parent reports it
            return ("error", f"{type(exc).__name__}: {exc}")
        self.members = listing.members if listing is not None else ()
        return ("ok", data, ctx.expanded, ctx.entries)

    def read(self, index: int, limit: int) -> tuple[Any, ...]:
        parts, size = [], 0
        try:
            opener = self.members[index].opener
            assert opener is not None
            with opener() as stream:
                stream.seek(0)
                while size <= limit and (chunk := stream.read(CHUNK)):
                    parts.append(chunk)
                    size += len(chunk)
        except Exception as exc:  # the parent opens it itself and meets the error there
            return ("error", f"{type(exc).__name__}: {exc}")
        return ("big",) if size > limit else ("ok", b"".join(parts))

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.close()


def serve() -> None:
    """The worker's main loop: answer requests from stdin on stdout until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # a library's print must not corrupt frames
    old = gc.get_threshold()  # as compare() does: parsers leave many cycles (see there)
    gc.set_threshold(max(old[0], 100_000), *old[1:])
    containers(), codecs()  # import every format now, before the first request arrives
    worker = _Worker()
    try:
        while True:
            _send(out, worker.handle(_recv(sys.stdin.buffer)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        worker.close()
    # Tearing down a heap of parser objects takes longer than the work it did for some images;
    # nothing is left to flush or remove.
    os._exit(0)


# -- the parent's side ---------------------------------------------------------------------------
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
        root = os.path.dirname(os.path.dirname(os.path.abspath(netvet.__file__)))
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-P", "-c", WORKER_CODE.format(root=root)],
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
            _send(self._proc.stdin, request)  # type: ignore[arg-type]
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
            reply = _recv(stdout)  # type: ignore[arg-type]
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
