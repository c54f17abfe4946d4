"""What the filesystem formats share: error translation, guarded member streams, a bounded walk.

Parser libraries (dissect.*, ubi-reader) answer hostile bytes with whatever exception their code
happens to hit (EOFError, struct.error, zlib.error, KeyError, RecursionError, even SystemExit).
`parser_errors` turns all of them into `CorruptContainer` so the walker sees one error type, and
`GuardedStream` does the same for reads of member content, which happen long after `list()`.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import stat
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import BinaryIO, TypeVar

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, FirmwareError
from netvet.firmware.model import Field, Kind, Member, Meta, Opener, Rule
from netvet.firmware.streams import PositionedReader, Reader

N = TypeVar("N")

_KINDS = {
    stat.S_IFREG: Kind.FILE,
    stat.S_IFDIR: Kind.DIR,
    stat.S_IFLNK: Kind.SYMLINK,
    stat.S_IFCHR: Kind.CHAR,
    stat.S_IFBLK: Kind.BLOCK,
    stat.S_IFIFO: Kind.FIFO,
    stat.S_IFSOCK: Kind.SOCKET,
}


@contextmanager
def parser_errors(fmt: str) -> Iterator[None]:
    """Re-raise any parser failure inside the block as CorruptContainer naming `fmt`."""
    try:
        yield
    except BaseException as exc:
        error = as_corrupt(exc, fmt)
        if error is exc:
            raise
        raise error from exc


def as_corrupt(exc: BaseException, fmt: str) -> BaseException:
    """The error to raise for a parser failure: CorruptContainer naming `fmt`, or `exc` itself
    when it is ours already or not a parser failure (KeyboardInterrupt, SystemExit)."""
    if isinstance(exc, FirmwareError):
        return exc
    if isinstance(exc, RecursionError):  # a cyclic index/extent tree in a corrupt image
        return CorruptContainer(f"{fmt}: structure nests too deeply (cycle?)")
    # pyo3 extensions raise PanicException (a BaseException) on some corrupt input
    if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
        return exc
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else f"{type(exc).__name__}"
    return CorruptContainer(f"{fmt}: {detail} (truncated or malformed data)")


@contextmanager
def quiet_ubireader(fmt: str) -> Iterator[None]:
    """Run ubi-reader code: its messages go to stdout and its fatal errors call sys.exit()."""
    said = io.StringIO()
    try:
        with contextlib.redirect_stdout(said):
            yield
    except SystemExit as exc:
        lines = said.getvalue().strip().splitlines()
        raise CorruptContainer(f"{fmt}: {lines[-1] if lines else 'fatal error'}") from exc


class GuardedStream(Reader):
    """A member's content stream whose parser errors surface as CorruptContainer."""

    def __init__(self, inner: BinaryIO, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._what = what

    # try/except rather than `with parser_errors()`: these run once per read of every file.
    def read(self, size: int | None = -1) -> bytes:
        try:
            return self._inner.read(-1 if size is None else size)
        except BaseException as exc:
            error = as_corrupt(exc, self._what)
            if error is exc:
                raise
            raise error from exc

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._inner.seek(pos, whence)
        except BaseException as exc:
            error = as_corrupt(exc, self._what)
            if error is exc:
                raise
            raise error from exc

    def tell(self) -> int:
        return self._inner.tell()

    def close(self) -> None:
        # The inner stream may share its parent's file handle; closing it is the library's job.
        super().close()


def guarded_opener(factory: Callable[[], BinaryIO], what: str) -> Opener:
    """An opener that builds a fresh stream from `factory` on every call, guarded."""

    def opener() -> BinaryIO:
        try:  # not `with parser_errors()`: this runs once per file compared
            inner = factory()
        except BaseException as exc:
            error = as_corrupt(exc, what)
            if error is exc:
                raise
            raise error from exc
        return GuardedStream(inner, what)  # type: ignore[return-value]

    return opener


_DOT_NAMES = frozenset(("", ".", ".."))


def component(raw: str | bytes) -> str:
    """One directory entry name as a single path component.

    A `/` inside a name would make it look like a nested path, and `.`/`..`/empty names would be
    dropped or climb: all are escaped so the entry stays visible under its own name.
    """
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "surrogateescape")
    raw = raw.replace("%", "%25").replace("/", "%2F").replace("\\", "%5C").replace("\x00", "%00")
    if raw in _DOT_NAMES:
        return raw.replace(".", "%2E") or "%00"
    return raw


def walk(
    root: N,
    children: Callable[[N], Iterable[tuple[str | bytes, N]]],
    dir_key: Callable[[N], Hashable | None],
    ctx: WalkContext,
    fmt: str,
) -> Iterator[tuple[str, N]]:
    """Every node below `root` as (clean path, node), depth first, each counted with ctx.entry().

    `dir_key` names a directory's identity (its inode number) or None for non-directories. A
    directory reached twice is a cycle or a directory hard link: both mean a corrupt image.
    """
    seen: set[Hashable] = set()
    root_key = dir_key(root)
    if root_key is not None:
        seen.add(root_key)
    paths: set[str] = set()
    entry = ctx.entry
    stack: list[tuple[str, N]] = [("", root)]
    while stack:
        prefix, node = stack.pop()
        ctx.check_time()
        base = f"{prefix}/" if prefix else ""
        for name, child in children(node):
            # Most names need no escaping: checking for the characters component() escapes is
            # cheaper than its four replaces, and this runs for every entry of the image.
            if (
                type(name) is str
                and "%" not in name
                and "/" not in name
                and "\\" not in name
                and "\x00" not in name
                and name not in _DOT_NAMES
            ):
                path = base + name
            else:  # component() leaves no separator, NUL or dot-name: the path stays clean
                path = base + component(name)
            if path in paths:
                raise CorruptContainer(f"{fmt}: {path!r} is listed twice")
            paths.add(path)
            entry()
            key = dir_key(child)
            if key is not None:
                if key in seen:
                    raise CorruptContainer(f"{fmt}: directory {path!r} reached twice (a cycle)")
                seen.add(key)
                stack.append((path, child))
            yield path, child


def kind_of(mode: int, fmt: str) -> Kind:
    """The member kind for a unix mode's file type bits."""
    kind = _KINDS.get(stat.S_IFMT(mode))
    if kind is None:
        raise CorruptContainer(f"{fmt}: unknown file type in mode {mode:#o}")
    return kind


def decode_dev(dev: int) -> tuple[int, int]:
    """(major, minor) from Linux's new_encode_dev() 32-bit form (also reads the old 16-bit form)."""
    return (dev & 0xFFF00) >> 8, (dev & 0xFF) | ((dev >> 12) & 0xFFF00)


def root_fields(meta: Meta) -> tuple[Field, ...]:
    """The root directory's own mode and owner: they have no member, yet a world-writable root
    is as much a finding as a world-writable /etc."""
    return (
        Field("root.mode", oct(meta.mode) if meta.mode is not None else "", Rule.STRICT),
        Field("root.owner", f"{meta.uid}:{meta.gid}", Rule.STRICT),
        Field("root.xattrs", repr(meta.xattrs), Rule.STRICT),
    )


def list_tree(
    root: N,
    children: Callable[[N], Iterable[tuple[str | bytes, N]]],
    dir_key: Callable[[N], Hashable | None],
    make_member: Callable[[str, N], Member],
    ctx: WalkContext,
    fmt: str,
    image_size: int,
) -> tuple[Member, ...]:
    """The members of every node `walk` finds below `root`, their contents charged at once.

    Reading a member produces its declared size (decompressed, or zeros for holes), so the sum of
    file sizes is what the walk will expand: a tiny image declaring terabytes is refused here,
    before any read.
    """
    found = walk(root, children, dir_key, ctx, fmt)
    members = tuple(make_member(path, node) for path, node in found)
    total = sum(member.size for member in members if member.kind is Kind.FILE)
    ctx.check_ratio(total, image_size, f"{fmt} contents")
    ctx.charge(total)
    return members


class ExtentStream(PositionedReader):
    """A file assembled from extents decoded only when read; gaps read as zeros.

    `extents` are (start, length, load) sorted by start and not overlapping; `load()` returns the
    extent's decoded bytes (shorter output is zero-padded, longer is cut). jffs2 and UBIFS keep
    files as such runs of compressed nodes; decoding each on demand keeps memory at one node.
    """

    def __init__(
        self, size: int, extents: list[tuple[int, int, Callable[[], bytes]]], what: str
    ) -> None:
        super().__init__(size)
        self._extents = extents
        self._starts = [start for start, _, _ in extents]
        self._what = what
        self._cached: tuple[int, bytes] | None = None

    def _extent(self, index: int) -> bytes:
        if self._cached is None or self._cached[0] != index:
            start, length, load = self._extents[index]
            with parser_errors(self._what):
                data = load()
            self._cached = (index, data[:length].ljust(length, b"\0"))
        return self._cached[1]

    def read(self, size: int | None = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        out = []
        while self._pos < end:
            index = bisect.bisect_right(self._starts, self._pos) - 1
            start, length, _ = self._extents[index] if index >= 0 else (0, 0, None)
            if index >= 0 and self._pos < start + length:
                piece = self._extent(index)[self._pos - start : end - start]
            else:  # a hole up to the next extent
                following = self._starts[index + 1] if index + 1 < len(self._starts) else end
                piece = b"\0" * (min(end, following) - self._pos)
            out.append(piece)
            self._pos += len(piece)
        return b"".join(out)
