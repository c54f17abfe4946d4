"""Reads at any offset and size through squashfs files, fragments and whole blocks alike.

netvet reads tail-end fragments with its own stream (see squashfs.py); dissect's stock stream,
slow but correct, is the oracle.
"""

from __future__ import annotations

import io
import random

import pytest
from dissect.squashfs import SquashFS

from netvet.firmware.formats import squashfs
from tests.formats.test_filesystems import image, listing


def stock_contents(data: bytes) -> dict[str, bytes]:
    fs = SquashFS(io.BytesIO(data))
    out: dict[str, bytes] = {}

    def walk(node, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for child in node.iterdir():
            path = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, path + "/")
            elif child.is_file():
                out[path] = child.open().read()

    walk(fs.root, "")
    return out


@pytest.mark.parametrize("comp", ["gzip", "xz", "lz4"])
def test_random_reads_match_the_stock_reader(comp: str) -> None:
    data = image(f"squashfs-{comp}")
    expected = stock_contents(data)
    members = {m.name: m for m in listing(squashfs, data).members if m.opener}
    assert expected.keys() == members.keys()
    assert any(0 < len(v) < 4096 for v in expected.values())  # fragments are exercised
    rng = random.Random(7)
    for name, want in expected.items():
        opener = members[name].opener
        assert opener is not None
        stream = opener()
        assert stream.read() == want, name
        for _ in range(40):
            offset = rng.randrange(0, len(want) + 10)
            size = rng.choice([1, 3, 100, 3616, 4096, 5000, 30000])
            stream.seek(offset)
            assert stream.read(size) == want[offset : offset + size], (name, offset, size)
