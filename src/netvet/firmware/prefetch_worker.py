"""The worker process of prefetch.py: lists and hashes the deployed image, answers reads.

It runs as `python -P -c WORKER_CODE` (prefetch.py says why not multiprocessing), reads requests
from stdin and writes replies to stdout, both as frames of plain data (prefetch_wire.py):

- `("list", path, limits)` -> `("ok", listing, expanded, entries)`, `("skip",)` when a codec
  claims the file (the parent peels it), or `("error", message)`;
- `("read", index, limit)` -> `("ok", bytes)`, `("big",)` past `limit`, or `("error", message)`.

A listing travels as `encode` makes it: the format, fields, trailing, notes and slack, a table of
the distinct metadata, and per member a row of Member's fields with `meta` as an index into that
table and `opener` as whether there is one.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Any

from netvet.firmware.blob import Blob, FileBlob
from netvet.firmware.context import CHUNK, WalkContext
from netvet.firmware.digests import HASHED, digest_of
from netvet.firmware.formats import iter_codecs
from netvet.firmware.limits import Limits
from netvet.firmware.model import Listing, Member, Meta
from netvet.firmware.prefetch_wire import plain, recv, send
from netvet.firmware.walk import open_container


def servable(blob: Blob) -> bool:
    """Whether the worker can list `blob` as the comparison would: not when a codec claims it
    (the comparison peels it first; the worker would answer "skip")."""
    return not any(codec.probe(blob.head, blob.size) for codec in iter_codecs(blob.head, blob.size))


def encode(listing: Listing, ctx: WalkContext) -> tuple[Any, ...]:
    """A listing as plain data, its members hashed (see the module docstring)."""
    metas: dict[Meta, int] = {}
    rows = []
    for m in listing.members:
        digest = digest_of(m, ctx) if m.opener is not None and m.kind in HASHED else None
        meta = metas.get(m.meta)
        if meta is None:
            meta = metas[m.meta] = len(metas)
        size, offset = plain(m.size), plain(m.offset)
        rows.append((m.name, m.kind.value, meta, size, m.opener is not None, offset, digest))
    table = tuple(plain((x.mode, x.uid, x.gid, x.target, x.rdev, x.xattrs, x.mtime)) for x in metas)
    fields = tuple((plain(f.name), plain(f.value), f.rule.value) for f in listing.fields)
    head = plain((listing.format, fields, listing.trailing, listing.notes, listing.slack))
    return (*head, table, tuple(rows))


class Worker:
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
            data = None if listing is None else encode(listing, ctx)
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
    worker = Worker()
    try:
        while True:
            send(out, worker.handle(recv(sys.stdin.buffer)))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass
    finally:
        worker.close()
    # Tearing down a heap of parser objects takes longer than the work it did for some images;
    # nothing is left to flush or remove.
    os._exit(0)
