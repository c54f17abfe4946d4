"""netvet's struct-based squashfs reader lists every fixture image as dissect.squashfs does.

dissect.squashfs (the reader netvet used before squashfs_tables.py) is the oracle: the same walk
over its inodes must give the same paths in the same order, kinds, modes, owners, link targets,
device numbers, mtimes, sizes, contents and superblock fields. Extended attributes, which
dissect does not read, are checked against the fixture tree in test_filesystems.py.
"""

from __future__ import annotations

import io
import stat
import struct
import sys
import types
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard
from dissect.squashfs import SquashFS
from dissect.squashfs.squashfs import INode

from netvet.firmware import formats
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded
from netvet.firmware.formats import squashfs
from netvet.firmware.formats._fs import decode_dev, kind_of, walk
from netvet.firmware.limits import Limits
from tests.formats.test_filesystems import image, listing

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
IMAGES = sorted(
    [*FIXTURES.glob("formats/fs-squashfs-*.img"), *FIXTURES.glob("pairs/**/*.squashfs")]
)


@pytest.fixture(autouse=True)
def _dissect_zstd(monkeypatch: pytest.MonkeyPatch) -> None:
    """dissect reads zstd through `backports.zstd`, not installed here: lend it `zstandard`."""

    def decompress(data: bytes) -> bytes:
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)

    monkeypatch.setitem(sys.modules, "backports.zstd", types.SimpleNamespace(decompress=decompress))


def dissect_rows(data: bytes) -> tuple[list[tuple[Any, ...]], tuple[Any, ...]]:
    """(a row per member, the root's row) as netvet's old dissect-based listing made them."""
    fs = SquashFS(io.BytesIO(data))

    def children(node: INode) -> list[tuple[str, INode]]:
        return [(c.name, c) for c in node.iterdir()] if node.is_dir() else []

    def key(node: INode) -> int | None:
        return (node.block << 16) | node.offset if node.is_dir() else None

    def row(path: str, node: INode) -> tuple[Any, ...]:
        hdr = node.header
        is_file = node.is_file()
        return (
            path,
            kind_of(node.mode, "squashfs"),
            hdr.mode & 0o7777,
            node.uid,
            node.gid,
            node.link if node.is_symlink() else None,
            decode_dev(hdr.rdev) if node.is_device() else None,
            hdr.mtime,
            (node.size or 0) if is_file else 0,
            node.open().read() if is_file else None,
        )

    found = walk(fs.root, children, key, WalkContext(Limits()), "squashfs")
    return [row(path, node) for path, node in found], row("", fs.root)


def netvet_rows(data: bytes) -> list[tuple[Any, ...]]:
    out = []
    for m in listing(squashfs, data).members:
        x = m.meta
        content = m.opener().read() if m.opener else None
        out.append(
            (m.name, m.kind, x.mode, x.uid, x.gid, x.target, x.rdev, x.mtime, m.size, content)
        )
    return out


@pytest.mark.parametrize("path", IMAGES, ids=lambda p: str(p.relative_to(FIXTURES)))
def test_listing_matches_dissect(path: Path) -> None:
    data = path.read_bytes()
    want, root = dissect_rows(data)
    assert netvet_rows(data) == want
    result = listing(squashfs, data)
    fields = {f.name: f.value for f in result.fields}
    assert fields["root.mode"] == oct(root[2]) and fields["root.owner"] == f"{root[3]}:{root[4]}"
    sb = SquashFS(io.BytesIO(data)).sb
    for name in (
        "inodes",
        "bytes_used",
        "xattr_id_table_start",
        "lookup_table_start",
        "root_inode",
    ):
        assert fields[name] == str(getattr(sb, name)), name
    assert fields["flags"] == f"{sb.flags:#x}"


def test_fixtures_cover_every_entry_type() -> None:
    kinds = {row[1] for p in IMAGES for row in dissect_rows(p.read_bytes())[0]}
    assert {kind_of(t, "") for t in (stat.S_IFDIR, stat.S_IFREG, stat.S_IFLNK)} <= kinds
    assert {kind_of(t, "") for t in (stat.S_IFCHR, stat.S_IFBLK, stat.S_IFIFO)} <= kinds


def test_directory_entry_naming_another_type_is_corrupt() -> None:
    data = image("squashfs-gzip")
    img = squashfs._Image(io.BytesIO(data), len(data), WalkContext(Limits()))
    entries = img.children((img.sb.root_inode, 1, squashfs.ROOT))
    name, (ref, etype, number) = next(e for e in entries if e[1][1] == 1)  # a directory
    with pytest.raises(CorruptContainer, match="in its directory"):
        img.member(name, (ref, 2, number))  # listed as a regular file
    assert img.member(name, (ref, etype, number)).name == name


def test_metadata_expansion_is_bounded() -> None:
    # An inode table of 200 gzip blocks of 8 KiB of zeros (~270:1), the root inode in the last.
    data = bytearray(image("squashfs-gzip"))
    packed = zlib.compress(bytes(8192), 9)
    unit = struct.pack("<H", len(packed)) + packed
    table = len(data)
    data += unit * 200
    struct.pack_into("<qq", data, 32, (199 * len(unit)) << 16, len(data))  # root, bytes_used
    struct.pack_into("<q", data, 64, table)  # inode_table_start
    with pytest.raises(LimitExceeded, match="ratio"):
        listing(squashfs, bytes(data), max_ratio=100)
    with pytest.raises(CorruptContainer, match="inode type 0"):  # all decoded: zeros, no inode
        listing(squashfs, bytes(data))


def test_import_gates_pass_whatever_the_probe_accepts() -> None:
    from netvet.firmware.formats import flash

    assert formats.GATES["flash"](b"", flash.MIN_SIZE)
    assert not formats.GATES["flash"](b"", flash.MIN_SIZE - 1)
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    assert len(files) > 50
    for name in formats.GATES:
        module = formats._load(name)
        for p in files:
            with p.open("rb") as f:
                head = f.read(formats.PROBE_SIZE)
            size = p.stat().st_size
            if module.probe(head, size):  # type: ignore[attr-defined]
                assert formats.GATES[name](head, size), (name, p)


def _image_with_inode_table(extra: bytes, root: int = 0) -> bytes:
    """The gzip fixture with its inode table replaced by `extra`, appended at its end."""
    data = bytearray(image("squashfs-gzip"))
    table = len(data)
    data += extra
    struct.pack_into("<qq", data, 32, root, len(data))  # root_inode, bytes_used
    struct.pack_into("<q", data, 64, table)  # inode_table_start
    return bytes(data)


def test_empty_and_endless_metadata_blocks_are_corrupt() -> None:
    with pytest.raises(CorruptContainer, match="empty metadata block"):
        listing(squashfs, _image_with_inode_table(b"\x00\x80" * 8))
    one = b"\x01\x80\x00"  # an uncompressed block of one byte: legal, but 40,000 of them?
    with pytest.raises(CorruptContainer, match="blocks"):
        listing(squashfs, _image_with_inode_table(one * 40_000, root=(39_999 * 3) << 16))


def test_directories_are_bounded_before_they_are_walked() -> None:
    data = image("squashfs-gzip")
    img = squashfs._Image(io.BytesIO(data), len(data), WalkContext(Limits(max_entries=3)))
    root = (img.sb.root_inode, 1, squashfs.ROOT)
    with pytest.raises(LimitExceeded, match="max-entries"):
        img.children(root)  # the root directory holds 7 entries
    img = squashfs._Image(io.BytesIO(data), len(data), WalkContext(Limits()))
    assert len(img.children(root)) == 7
    p, _ = img.inode(root[0])
    start, _, _, offset, _ = struct.unpack_from("<IIHHI", img.inodes.buf, p + 16)
    struct.pack_into("<I", img.dirs.buf, img.dirs.pos(start, offset), 300)  # header count
    with pytest.raises(CorruptContainer, match="301 entries"):
        img.children(root)
