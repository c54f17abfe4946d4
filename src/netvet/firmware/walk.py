"""From bytes to structure: peel compression layers, then find the container that lists them.

Probing is by magic on the first bytes (`PROBE_SIZE`), in the registry's order. A format that
declines (`NotThisFormat`) passes the bytes to the next; one that fails on corrupt data is
remembered, so a truncated squashfs is reported as such rather than as an opaque file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from netvet.firmware.blob import Blob
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded, NotThisFormat
from netvet.firmware.formats import Decoded, iter_codecs, iter_containers
from netvet.firmware.model import Listing
from netvet.firmware.streams import view


@dataclass(frozen=True, slots=True)
class Layer:
    """One peeled compression layer: which codec, and what its header said."""

    codec: str
    decoded: Decoded


def peel(blob: Blob, ctx: WalkContext) -> tuple[Layer, Blob] | None:
    """The first codec layer of `blob` and the decompressed blob, or None if not compressed."""
    head, size = blob.head, blob.size
    for codec in iter_codecs(head, size):
        if not codec.probe(head, size):
            continue
        try:
            decoded = codec.open(blob.open(), size, ctx)
        except NotThisFormat:
            continue
        except (EOFError, OSError, ValueError) as exc:  # codec libraries' ways to say "corrupt"
            raise CorruptContainer(f"{codec.name}: {exc}") from exc
        inner = Blob(blob.path, partial(view, decoded.stream, 0), ctx)
        return Layer(codec.name, decoded), inner
    return None


def open_container(blob: Blob, ctx: WalkContext) -> Listing | None:
    """List `blob` with the first container format that accepts it; None for a plain file.

    Raises CorruptContainer when a format recognised its magic but could not parse it and no
    later format accepted the bytes.
    """
    head, size = blob.head, blob.size
    failure: Exception | None = None
    for fmt in iter_containers(head, size):
        if not fmt.probe(head, size):
            continue
        try:
            return fmt.list(blob.open(), size, ctx)
        except NotThisFormat:
            continue
        except LimitExceeded:
            raise
        except CorruptContainer as exc:
            failure = failure or exc
        except Exception as exc:  # a parser library's own error on hostile bytes
            failure = failure or CorruptContainer(f"{fmt.name}: {type(exc).__name__}: {exc}")
    if failure is not None:
        raise failure
    return None
