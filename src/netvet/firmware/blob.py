"""A blob: one side's bytes of an entry, hashed once, re-openable for a closer look."""

from __future__ import annotations

import hashlib
import os
from functools import partial
from typing import TYPE_CHECKING, BinaryIO

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.formats.base import PROBE_SIZE
from netvet.firmware.model import Opener

if TYPE_CHECKING:  # not imported at run time: the worker process (prefetch) has no pool
    from concurrent.futures import Executor, Future

# Content analysers read whole entries into memory; bigger entries are compared by range.
MAX_IN_MEMORY = 512 << 20


class Blob:
    """Bytes of one entry on one side. `sha256`, `head` and `size` come from one full read.

    A caller that already knows the digest (the prefetch worker hashed the entry in another
    process) passes `sha256` and `size`: then nothing is read until a closer look needs the bytes,
    and `head` is read on first use (only entries that differ are ever probed).
    """

    __slots__ = ("_head", "_sha256", "ctx", "opener", "path", "size")

    def __init__(
        self,
        path: str,
        opener: Opener,
        ctx: WalkContext,
        sha256: str | None = None,
        size: int = 0,
    ) -> None:
        self.path = path
        self.opener = opener
        self.ctx = ctx
        self._head: bytes | None = None
        self.size = size
        self._sha256 = sha256

    @property
    def head(self) -> bytes:
        """The first PROBE_SIZE bytes, for format probes."""
        if self._head is None:
            if self._sha256 is None:
                self._hash()
            else:
                with self.open() as stream:
                    self._head = _read_up_to(stream, PROBE_SIZE)
        assert self._head is not None
        return self._head

    def open(self) -> BinaryIO:
        stream = self.opener()
        stream.seek(0)
        return stream

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._hash()
        assert self._sha256 is not None
        return self._sha256

    def _hash(self) -> None:
        h = hashlib.sha256()
        size = 0
        head = b""
        with self.open() as stream:
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                if len(head) < PROBE_SIZE:
                    head += chunk[: PROBE_SIZE - len(head)]
                h.update(chunk)
                size += len(chunk)
                self.ctx.check_time()
        self._sha256, self._head, self.size = h.hexdigest(), head, size

    def read(self) -> bytes:
        """The whole content, for analysers; bounded so a huge entry cannot exhaust memory."""
        if self._sha256 is None:
            self._hash()
        if self.size > MAX_IN_MEMORY:
            raise LimitExceeded(f"{self.path}: {self.size} bytes is too large to analyse in memory")
        with self.open() as stream:
            return stream.read()

    def digest(self, algorithm: str) -> str:
        """Hex digest with another algorithm (md5, sha1, sha512, crc32...) for derived digests."""
        if algorithm == "sha256":
            return self.sha256
        if algorithm == "crc32":
            import zlib

            crc = 0
            with self.open() as stream:
                while chunk := stream.read(CHUNK):
                    crc = zlib.crc32(chunk, crc)
            return f"{crc:08x}"
        h = hashlib.new(algorithm)
        with self.open() as stream:
            while chunk := stream.read(CHUNK):
                h.update(chunk)
        return h.hexdigest()


class FileBlob(Blob):
    """A whole input file: size and head known at once, sha256 computed on a worker thread.

    hashlib and file reads release the GIL, so hashing a large image overlaps with the walk.
    Without a `pool` the digest is computed on first use, in the caller's thread.
    """

    __slots__ = ("_file", "_future")

    def __init__(
        self, name: str, file_path: str, ctx: WalkContext, pool: Executor | None = None
    ) -> None:
        super().__init__(name, partial(_open_file, file_path), ctx)
        with open(file_path, "rb") as f:
            self._head = f.read(PROBE_SIZE)
            self.size = os.fstat(f.fileno()).st_size
        self._file = file_path
        self._future: Future[str] | None = (
            pool.submit(_sha256_file, file_path) if pool is not None else None
        )

    def _hash(self) -> None:
        if self._future is None:
            self._sha256 = _sha256_file(self._file)
        else:
            self._sha256 = self._future.result()


def _read_up_to(stream: BinaryIO, n: int) -> bytes:
    """Up to `n` bytes from the start of `stream` (raw streams may return short reads)."""
    out = b""
    while len(out) < n:
        chunk = stream.read(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def _open_file(path: str) -> BinaryIO:
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def _sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
