"""The registry of firmware formats, in probe order.

Adding a format = one module defining `FORMAT`, one line here, one fixture pair in tests.
Codecs are tried before containers; the first container whose probe matches and whose `list`
does not decline wins. `flash` comes last: it scans raw dumps for images at offsets.
Modules are imported on first use, so importing one format does not import them all, and
`iter_codecs`/`iter_containers` import a module only when the probe loop reaches it and its
`GATES` entry, if any, lets the bytes through: probing a plain file (or a squashfs image) then
never loads the ext, FAT or UBIFS parsers, whose imports take 0.1-0.3 s each (dissect.cstruct
compiles their struct definitions).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from functools import cache

from netvet.firmware.formats.base import PROBE_SIZE, Codec, Container, Decoded

CODEC_MODULES = ("gzip", "xz", "bzip2", "zstd", "lz4", "lzo")

CONTAINER_MODULES = (
    "uimage",
    "fdt",
    "squashfs",
    "ext",
    "ubi",
    "ubifs",
    "jffs2",
    "cramfs",
    "cpio",
    "tar",
    "zip",
    "ar",
    "fat",
    "flash",
)


# Necessary conditions for the probes of modules that are slow to import, checked before the
# import: each accepts everything its module's probe accepts (tests/formats/test_squashfs_tables.py
# checks that on every fixture); the module's own probe still decides.
GATES: dict[str, Callable[[bytes, int], bool]] = {
    "ext": lambda head, size: head[1080:1082] == b"\x53\xef",  # s_magic, 0x38 into the sb
    "ubi": lambda head, size: head[:4] == b"UBI#",
    "ubifs": lambda head, size: head[:4] == b"\x31\x18\x10\x06",
    "fat": lambda head, size: head[510:512] == b"\x55\xaa",
    "flash": lambda head, size: size >= 64 << 10,  # flash.MIN_SIZE
    "lzo": lambda head, size: head[:9] == b"\x89LZO\x00\r\n\x1a\n",
}


@cache
def _load(name: str) -> object:
    return importlib.import_module(f"netvet.firmware.formats.{name}").FORMAT


@cache
def codecs() -> tuple[Codec, ...]:
    return tuple(_load(n) for n in CODEC_MODULES)  # type: ignore[misc]


@cache
def containers() -> tuple[Container, ...]:
    return tuple(_load(n) for n in CONTAINER_MODULES)  # type: ignore[misc]


def iter_codecs(head: bytes, size: int) -> Iterator[Codec]:
    """The codecs that may accept `head`, in probe order, each imported when reached."""
    for name in CODEC_MODULES:
        gate = GATES.get(name)
        if gate is None or gate(head, size):
            yield _load(name)  # type: ignore[misc]


def iter_containers(head: bytes, size: int) -> Iterator[Container]:
    """The containers that may accept `head`, in probe order, each imported when reached."""
    for name in CONTAINER_MODULES:
        gate = GATES.get(name)
        if gate is None or gate(head, size):
            yield _load(name)  # type: ignore[misc]


__all__ = [
    "PROBE_SIZE",
    "Codec",
    "Container",
    "Decoded",
    "codecs",
    "containers",
    "iter_codecs",
    "iter_containers",
]
