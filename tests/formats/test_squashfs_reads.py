"""Reads at any offset and size through squashfs files, fragments and whole blocks alike.

netvet reads files with its own stream (squashfs_data.py); dissect's stock stream, slow but
correct, is the oracle.
"""

from __future__ import annotations

import io
import random
import zlib

import pytest
from dissect.squashfs import SquashFS

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats import squashfs
from netvet.firmware.formats.squashfs_data import DATA_UNCOMPRESSED, Data, FileStream
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


@pytest.mark.parametrize("comp", ["gzip", "lzma", "lzo", "xz", "lz4"])
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


class _OneFragment:
    """A fragment table of one entry: the block at `pos`, stored uncompressed."""

    def __init__(self, pos: int, size: int) -> None:
        self.pos, self.size = pos, size

    def entry(self, index: int) -> tuple[int, int]:
        assert index == 0
        return self.pos, self.size | DATA_UNCOMPRESSED


def test_sparse_uncompressed_and_fragment_pieces() -> None:
    bs = 4096
    first = bytes(range(256)) * 16  # one whole block, stored uncompressed
    frag = b"tail!" * 100  # the fragment block; the file's tail starts 7 bytes in
    image = io.BytesIO(b"\xee" * 10 + first + frag)
    data = Data(image, bs, zlib.decompress, _OneFragment(10 + bs, len(frag)))  # type: ignore[arg-type]
    words = (bs | DATA_UNCOMPRESSED, 0)  # the second block is sparse: zeros, nothing stored
    want = first + bytes(bs) + frag[7:107]
    stream = FileStream(data, "f", len(want), 10, words, 0, 7)
    assert stream.read() == want
    rng = random.Random(3)
    for _ in range(200):
        offset, size = rng.randrange(len(want) + 5), rng.choice([1, 7, 100, bs, bs + 1, 3 * bs])
        stream.seek(offset)
        assert stream.read(size) == want[offset : offset + size], (offset, size)
    short = FileStream(data, "f", len(want) + 1000, 10, words, 0, 7)  # claims more than it holds
    with pytest.raises(CorruptContainer, match="fragment holds"):
        short.read()


def _fed(stream: FileStream) -> tuple[bytes, int, int]:
    """(bytes fed, count returned, checks made) by `hash_into`."""
    out = bytearray()
    checks = []
    fed = stream.hash_into(out.extend, lambda: checks.append(1))
    return bytes(out), fed, len(checks)


def test_hash_into_feeds_what_reads_give() -> None:
    bs = 4096
    first = bytes(range(256)) * 16
    frag = b"tail!" * 100
    image = io.BytesIO(b"\xee" * 10 + first + frag)
    data = Data(image, bs, zlib.decompress, _OneFragment(10 + bs, len(frag)))  # type: ignore[arg-type]
    words = (bs | DATA_UNCOMPRESSED, 0)
    want = first + bytes(bs) + frag[7:107]
    stream = FileStream(data, "f", len(want), 10, words, 0, 7)
    stream.seek(123)  # hashing is of the whole content, wherever the stream stands
    assert _fed(stream) == (want, len(want), 3)  # a check after every block
    small = FileStream(data, "f", 50, 0, (), 0, 20)  # a fragment piece only
    assert _fed(small) == (frag[20:70], 50, 1)
    assert _fed(FileStream(data, "f", 0, 0, (), 0, 0)) == (b"", 0, 0)
    with pytest.raises(CorruptContainer, match="fragment holds"):
        _fed(FileStream(data, "f", len(want) + 1000, 10, words, 0, 7))
    with pytest.raises(CorruptContainer, match="fragment holds"):
        _fed(FileStream(data, "f", 600, 0, (), 0, 7))


@pytest.mark.parametrize("comp", ["gzip", "xz"])
def test_hash_into_matches_the_stock_reader(comp: str) -> None:
    data = image(f"squashfs-{comp}")
    expected = stock_contents(data)
    members = {m.name: m for m in listing(squashfs, data).members if m.opener}
    for name, want in expected.items():
        opener = members[name].opener
        assert opener is not None
        fed, count, _ = _fed(opener())  # type: ignore[arg-type]
        assert (fed, count) == (want, len(want)), name
