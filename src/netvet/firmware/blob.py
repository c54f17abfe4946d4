"""A blob: one side's bytes of an entry, hashed once, re-openable for a closer look."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Executor, Future
from functools import partial
from typing import BinaryIO

from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.formats.base import PROBE_SIZE
from netvet.firmware.model import Opener

# Content analysers read whole entries into memory; bigger entries are compared by range.
MAX_IN_MEMORY = 512 << 20


class Blob:
    """Bytes of one entry on one side. `sha256`, `head` and `size` come from one full read."""

    __slots__ = ("_sha256", "ctx", "head", "opener", "path", "size")

    def __init__(self, path: str, opener: Opener, ctx: WalkContext) -> None:
        self.path = path
        self.opener = opener
        self.ctx = ctx
        self.head = b""
        self.size = 0
        self._sha256: str | None = None

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
        self._sha256, self.head, self.size = h.hexdigest(), head, size

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
    """

    __slots__ = ("_future",)

    def __init__(self, name: str, file_path: str, ctx: WalkContext, pool: Executor) -> None:
        super().__init__(name, partial(_open_file, file_path), ctx)
        with open(file_path, "rb") as f:
            self.head = f.read(PROBE_SIZE)
            self.size = os.fstat(f.fileno()).st_size
        self._future: Future[str] = pool.submit(_sha256_file, file_path)

    def _hash(self) -> None:
        self._sha256 = self._future.result()


def _open_file(path: str) -> BinaryIO:
    return open(path, "rb")  # noqa: SIM115 - the caller closes it


def _sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
