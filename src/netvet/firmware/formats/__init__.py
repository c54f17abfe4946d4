"""The registry of firmware formats, in probe order.

Adding a format = one module defining `FORMAT`, one line here, one fixture pair in tests.
Codecs are tried before containers; the first container whose probe matches and whose `list`
does not decline wins. `flash` comes last: it scans raw dumps for images at offsets.
Modules are imported on first use, so importing one format does not import them all.
"""

from __future__ import annotations

import importlib
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


def _load(name: str) -> object:
    return importlib.import_module(f"netvet.firmware.formats.{name}").FORMAT


@cache
def codecs() -> tuple[Codec, ...]:
    return tuple(_load(n) for n in CODEC_MODULES)  # type: ignore[misc]


@cache
def containers() -> tuple[Container, ...]:
    return tuple(_load(n) for n in CONTAINER_MODULES)  # type: ignore[misc]


__all__ = ["PROBE_SIZE", "Codec", "Container", "Decoded", "codecs", "containers"]
