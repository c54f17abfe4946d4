"""CramFS images: bytes no member shows must make a comparison different, located.

Fixtures: tests/fixtures/slack/make_cramfs_slack.sh (mkfs.cramfs -z, both byte orders, each
built twice from one tree with another edition number). Hostile variants patch a copy of the
first build and recompute the superblock CRC, as an attacker would: with a stale CRC the image
is merely corrupt.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import pytest

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats import cramfs
from netvet.firmware.model import Listing
from netvet.firmware.result import Verdict
from tests.formats.pairs import assert_honest_rebuild, field, listing, run_pair, unexplained

SLACK = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
SCRIPT = b"nc -l -p 4444"
ORDERS = {"cramfs-le": "<", "cramfs-be": ">"}


def _image(name: str) -> bytes:
    return gzip.decompress((SLACK / f"{name}.img.gz").read_bytes())


def _sealed(img: bytes | bytearray, e: str) -> bytes:
    """The image with its superblock CRC recomputed (fsid version 2)."""
    out = bytearray(img)
    length = struct.unpack_from(e + "I", out, 4)[0]
    out[32:36] = bytes(4)
    struct.pack_into(e + "I", out, 32, zlib.crc32(out[:length]))
    return bytes(out)


def _patch(img: bytes, at: int, payload: bytes, e: str) -> bytes:
    out = bytearray(img)
    out[at : at + len(payload)] = payload
    return _sealed(out, e)


_run = run_pair
_unexplained = unexplained


def _listing(img: bytes) -> Listing:
    return listing(cramfs, img)


def _unaccounted(img: bytes) -> str:
    return field(cramfs, img, "unaccounted")


def _inodes(img: bytes, e: str) -> dict[str, tuple[int, cramfs._Inode]]:
    """Every inode by path, with the offset of its 12 bytes."""
    image = cramfs._Image(io.BytesIO(img), len(img), e)
    out = {}
    stack = [("", image.root)]
    while stack:
        path, node = stack.pop()
        for name, child in image.children(node):
            sub = f"{path}/{name.decode()}"
            out[sub] = (child.end - 12 - (len(name) + 3) // 4 * 4, child)
            stack.append((sub, child))
    return out


def _set_offset(img: bytes, at: int, offset: int, e: str) -> bytes:
    """The inode at `at` pointed at `offset` (its name length kept)."""
    word = struct.unpack_from(e + "I", img, at + 8)[0]
    # the offset is the high 26 bits of the third word in little-endian images, the low ones
    # in big-endian images (cramfs._FIELDS)
    little = (word & 0x3F) | (offset >> 2) << 6
    word = little if e == "<" else (word & 0xFC000000) | offset >> 2
    return _patch(img, at + 8, struct.pack(e + "I", word), e)


def _data_end(img: bytes, e: str, path: str) -> tuple[int, int]:
    """(offset of the last block pointer, the end it names) of a one-block file."""
    _, node = _inodes(img, e)[path]
    return node.offset, struct.unpack_from(e + "I", img, node.offset)[0]


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_honest_rebuild_stays_equivalent_with_nothing_unaccounted(
    tmp_path: Path, name: str
) -> None:
    assert_honest_rebuild(tmp_path, cramfs, _image(name), _image(f"{name}-rebuild"))


def _gap_after(img: bytes, e: str, path: str) -> int:
    _, end = _data_end(img, e, path)
    assert end % 4 and img[end] == 0, "the 4-byte padding after the file's data"
    return end


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_bytes_between_files_data_are_located(tmp_path: Path, name: str) -> None:
    e, ref = ORDERS[name], _image(name)
    at = _gap_after(ref, e, "/etc/passwd")
    dep = _patch(ref, at, b"\x42", e)
    assert "between the data of /etc/passwd and the data of /etc/rc" in _unaccounted(dep)
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    slack = [f for f in result.findings if f.klass == "trailing-data"]
    assert slack and slack[0].locations[0].offset == at


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_bytes_before_the_image_size_are_located(tmp_path: Path, name: str) -> None:
    e, ref = ORDERS[name], _image(name)
    at = len(ref) - 100
    dep = _patch(ref, at, SCRIPT, e)
    assert f"at {at:#x}" not in _unaccounted(dep)  # the gap starts earlier, first byte named
    assert f"not zero (first {at:#x})" in _unaccounted(dep)
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT, _unexplained(result)


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_data_after_a_zlib_stream_end_is_refused_when_read(tmp_path: Path, name: str) -> None:
    """/etc/passwd's block grown over the padding after it: its stream ends before it."""
    e, ref = ORDERS[name], _image(name)
    pointer_at, end = _data_end(ref, e, "/etc/passwd")
    dep = _patch(ref, end, b"\x42" * (4 - end % 4), e)
    dep = _patch(dep, pointer_at, struct.pack(e + "I", end + 4 - end % 4), e)
    assert _unaccounted(dep) == "none"  # no gap left: the block owns the bytes
    result = _run(tmp_path, ref, dep)
    assert result.verdict is not Verdict.EQUIVALENT
    assert any("ends" in s and "before the block's end" in s for s in _unexplained(result))


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_name_padding_is_checked(tmp_path: Path, name: str) -> None:
    e, ref = ORDERS[name], _image(name)
    at, _ = _inodes(ref, e)["/bin/sh"]
    assert ref[at + 12 : at + 16] == b"sh\0\0"
    dep = _patch(ref, at + 15, b"X", e)
    assert "holds bytes after its NUL" in _unaccounted(dep)
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT


@pytest.mark.parametrize(
    ("at", "payload", "expect"),
    [
        (12, b"\x01", "'future' is not zero"),
        (48 + 8, b"X", "name holds bytes after its NUL"),
        (8 + 2, b"\x10", "flags 0x100000 are unknown"),
    ],
)
def test_superblock_spare_bytes_are_checked(
    tmp_path: Path, at: int, payload: bytes, expect: str
) -> None:
    ref = _image("cramfs-le")
    dep = _patch(ref, at, payload, "<")
    assert expect in _unaccounted(dep)
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT


def test_an_inode_without_data_may_not_point_anywhere() -> None:
    ref = _image("cramfs-le")
    at, _ = _inodes(ref, "<")["/dev/console"]
    dep = _set_offset(ref, at, 0x1000, "<")
    assert "/dev/console has no data but an offset of 0x1000" in _unaccounted(dep)


def test_uncompressed_block_flag_is_bit_31() -> None:
    """linux cramfs_fs.h: CRAMFS_BLK_FLAG_UNCOMPRESSED is bit 31, DIRECT_PTR bit 30, both
    meaningful only with CRAMFS_FLAG_EXT_BLOCK_POINTERS in the superblock."""
    ref, e = _image("cramfs-le"), "<"
    pointer_at, end = _data_end(ref, e, "/etc/passwd")
    passwd = b"root:x:0:0:root:/root:/bin/sh\n"
    start = pointer_at + 4
    out = bytearray(ref)
    out[start:end] = passwd + bytes(end - start - len(passwd))
    struct.pack_into("<I", out, pointer_at, (start + len(passwd)) | 1 << 31)
    flags = struct.unpack_from("<I", out, 8)[0]
    struct.pack_into("<I", out, 8, flags | 0x800)
    dep = _sealed(out, e)
    listing = _listing(dep)
    [member] = [m for m in listing.members if m.name == "etc/passwd"]
    assert member.opener is not None
    assert member.opener().read() == passwd
    struct.pack_into("<I", out, 8, flags)  # without the capability bit: an offset past 2 GiB
    with pytest.raises(CorruptContainer, match="out of order"):
        _listing(_sealed(out, e))


def _overlap(img: bytes, e: str) -> bytes:
    inodes = _inodes(img, e)
    at, _ = inodes["/etc/rc"]
    return _set_offset(img, at, inodes["/bin/data.bin"][1].offset + 4, e)


def _shared_other_size(img: bytes, e: str) -> bytes:
    inodes = _inodes(img, e)
    at, _ = inodes["/etc/rc"]
    return _set_offset(img, at, inodes["/etc/passwd"][1].offset, e)


def _pointer_past_image(img: bytes, e: str) -> bytes:
    pointer_at, _ = _data_end(img, e, "/etc/rc")
    return _patch(img, pointer_at, struct.pack(e + "I", len(img) + 4), e)


def _pointer_backwards(img: bytes, e: str) -> bytes:
    pointer_at, _ = _data_end(img, e, "/etc/rc")
    return _patch(img, pointer_at, struct.pack(e + "I", pointer_at - 8), e)


@pytest.mark.parametrize("name", sorted(ORDERS))
@pytest.mark.parametrize(
    ("malform", "match"),
    [
        (_overlap, "overlaps"),
        (_shared_other_size, "share data but not their size"),
        (_pointer_past_image, "out of order"),
        (_pointer_backwards, "out of order"),
    ],
)
def test_malformed_data_regions_are_corrupt(name: str, malform: object, match: str) -> None:
    e = ORDERS[name]
    with pytest.raises(CorruptContainer, match=match):
        _listing(malform(_image(name), e))  # type: ignore[operator]


def _set_size(img: bytes, at: int, size: int, e: str) -> bytes:
    """The inode at `at` with another size (its uid and gid kept)."""
    word = struct.unpack_from(e + "I", img, at + 4)[0]
    # the size is the low 24 bits of the second word in little-endian images, the high ones in
    # big-endian images (cramfs._FIELDS)
    word = (word & 0xFF000000) | size if e == "<" else (word & 0xFF) | size << 8
    return _patch(img, at + 4, struct.pack(e + "I", word), e)


def _shrunk(img: bytes, e: str, path: str, cut: int) -> tuple[bytes, bytes]:
    """(honest, hiding): `path` made `cut` bytes shorter, its block count kept.

    The hiding image only lowers the size field: the last block still inflates to the old tail,
    `cut` bytes of which the file no longer uses. The honest one stores that block recompressed
    from what the file uses, followed by zeros up to the next file's data: the bytes both
    images show as members and slack are then the same.
    """
    at, node = _inodes(img, e)[path]
    count = (node.size + cramfs.BLOCK - 1) // cramfs.BLOCK
    size = node.size - cut
    assert (size + cramfs.BLOCK - 1) // cramfs.BLOCK == count, "the pointer table is kept"
    hiding = _set_size(img, at, size, e)
    pointers = struct.unpack_from(f"{e}{count}I", img, node.offset)
    start = pointers[-2] if count > 1 else node.offset + 4 * count
    tail = zlib.decompress(img[start : pointers[-1]])
    block = zlib.compress(tail[: len(tail) - cut], 9)
    assert len(block) < pointers[-1] - start
    out = bytearray(hiding)
    out[start : pointers[-1]] = block.ljust(pointers[-1] - start, b"\0")
    struct.pack_into(e + "I", out, node.offset + 4 * (count - 1), start + len(block))
    return _sealed(out, e), hiding


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_a_block_decoding_past_the_file_size_is_refused(tmp_path: Path, name: str) -> None:
    """/bin/data.bin's size lowered from 49500 to 49200: its last block inflates to 348 bytes
    of which the file uses 48, so 300 bytes hide in the block (the slack is all accounted)."""
    e, ref = ORDERS[name], _image(name)
    honest, hiding = _shrunk(ref, e, "/bin/data.bin", 300)
    for img in (honest, hiding):
        assert _unaccounted(img) == "none"
    [member] = [m for m in _listing(honest).members if m.name == "bin/data.bin"]
    assert member.opener is not None and len(member.opener().read()) == 49200
    result = _run(tmp_path, honest, hiding)
    assert result.verdict is not Verdict.EQUIVALENT
    assert any(
        "bin/data.bin: block 12" in s and "holds 348 bytes, the file uses 48" in s
        for s in _unexplained(result)
    ), _unexplained(result)


@pytest.mark.parametrize("name", sorted(ORDERS))
def test_a_stored_block_longer_than_the_file_uses_is_refused(name: str) -> None:
    """An uncompressed block is read as stored: bytes past what the file uses hide as well."""
    e, ref = ORDERS[name], _image(name)
    honest, _ = _shrunk(ref, e, "/bin/data.bin", 300)
    _, node = _inodes(honest, e)["/bin/data.bin"]
    count = (node.size + cramfs.BLOCK - 1) // cramfs.BLOCK
    start, _ = struct.unpack_from(f"{e}2I", honest, node.offset + 4 * (count - 2))
    end = start + 48 + len(SCRIPT)
    tail = zlib.decompress(
        honest[start : struct.unpack_from(e + "I", honest, node.offset + 4 * (count - 1))[0]]
    )
    out = bytearray(honest)
    out[start:end] = tail + SCRIPT
    struct.pack_into(e + "I", out, node.offset + 4 * (count - 1), end | cramfs.UNCOMPRESSED)
    flags = struct.unpack_from(e + "I", out, 8)[0]
    struct.pack_into(e + "I", out, 8, flags | cramfs.EXT_BLOCK_POINTERS)
    [member] = [m for m in _listing(_sealed(out, e)).members if m.name == "bin/data.bin"]
    assert member.opener is not None
    with pytest.raises(CorruptContainer, match="block 12 at .* holds 61 bytes, the file uses 48"):
        member.opener().read()
    out[end - len(SCRIPT) : end] = bytes(len(SCRIPT))  # stored exactly: reads as the file
    struct.pack_into(
        e + "I", out, node.offset + 4 * (count - 1), (end - len(SCRIPT)) | cramfs.UNCOMPRESSED
    )
    [member] = [m for m in _listing(_sealed(out, e)).members if m.name == "bin/data.bin"]
    assert member.opener is not None
    assert member.opener().read()[-48:] == tail
