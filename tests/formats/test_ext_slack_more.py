"""Data hidden inside used ext2/3/4 structures must make a comparison different (issue #2).

test_hidden_slack.py covers free blocks, the journal, the boot area and extent files' tails.
These cover the rest: unused inode-table entries and a used inode's free in-inode xattr space,
bitmap padding, the unused part of a fast symlink's or device's i_block, directory gaps (a
name's padding, a record's unused end, a hashed directory's unused index slots), ext2/3 files'
tails and unused indirect slots (the journal's too), the superblock and descriptor copies with
the reserved GDT blocks, and blocks a bitmap marks used that nothing references. Each patch
lands on bytes that two honest builds leave zero, and its finding must name the patched
offset. Fixtures:
tests/fixtures/slack/make_slack.sh (ext2 with 4 KiB blocks, ext3 with 1 KiB blocks and a
double-indirect file, ext4 with a hashed directory, each built twice).
"""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path
from types import SimpleNamespace

import pytest
from dissect.extfs.extfs import ExtFS

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats.ext import FORMAT
from netvet.firmware.formats.ext_inode_slack import _in_inode_free
from netvet.firmware.formats.ext_member_slack import extent_slack
from netvet.firmware.limits import Limits
from netvet.firmware.result import Status, Verdict
from tests.formats.pairs import run_pair

SLACK = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
SCRIPT = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n"


def _ext(name: str) -> bytes:
    return gzip.decompress((SLACK / f"{name}.img.gz").read_bytes())


_run = run_pair


def _patched(data: bytes, offset: int, payload: bytes) -> bytes:
    out = bytearray(data)
    out[offset : offset + len(payload)] = payload
    return bytes(out)


class _Img:
    """Where things are in an image, read with dissect and the on-disk layout."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.fs = ExtFS(io.BytesIO(data))
        self.bs = self.fs.block_size
        sb = self.fs.sb
        self.ipg, self.isz, self.bpg = sb.s_inodes_per_group, sb.s_inode_size, sb.s_blocks_per_group
        self.first = sb.s_first_data_block

    def gd(self, group: int) -> object:
        return self.fs._read_group_desc(group)

    def inode_at(self, inum: int) -> int:
        g, i = divmod(inum - 1, self.ipg)
        return self.gd(g).bg_inode_table_lo * self.bs + i * self.isz  # type: ignore[attr-defined]

    def node(self, path: str):  # type: ignore[no-untyped-def]
        return self.fs.get(path)

    def slots(self, path: str) -> tuple[int, ...]:
        return struct.unpack("<15I", bytes(self.node(path).inode.i_block))

    def word(self, offset: int) -> int:
        return int(struct.unpack_from("<I", self.data, offset)[0])


def _assert_located(tmp_path: Path, ref: bytes, offset: int, payload: bytes = SCRIPT) -> None:
    assert ref[offset : offset + len(payload)].count(0) == len(payload), "patch lands on data"
    result = _run(tmp_path, ref, _patched(ref, offset, payload))
    unexplained = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert result.verdict is Verdict.DIFFERENT, [f.summary for f in result.findings]
    [finding] = unexplained
    assert finding.klass == "trailing-data"
    assert finding.locations[0].offset == offset


@pytest.mark.parametrize("name", ["ext2-4k", "ext3-1k", "ext4-htree"])
def test_honest_rebuilds_stay_equivalent(tmp_path: Path, name: str) -> None:
    result = _run(tmp_path, _ext(name), _ext(f"{name}-rebuild"))
    assert result.verdict is Verdict.EQUIVALENT, [f.summary for f in result.findings]


def test_honest_builds_leave_the_new_slack_zero() -> None:
    """The rule's premise: every byte these checks add is zero in an honest build."""
    for name in ("ext4", "ext2-4k", "ext3-1k", "ext4-htree"):
        data = _ext(name)
        listing = FORMAT.list(io.BytesIO(data), len(data), WalkContext(Limits()))
        assert not any(any(data[a : a + n]) for a, n in listing.slack), name


# -- 1. inode tables -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "inum", "at"),
    [
        ("ext4", 1000, 0),  # group 0: bit clear in the inode bitmap
        ("ext4", 2 * 2048 + 5, 40),  # group 2: INODE_UNINIT, no bitmap on disk
        ("ext2-4k", 1024 + 3, 100),  # group 1 of an ext2 image
        ("ext3-1k", 300, 0x28),  # an unused inode's i_block
    ],
)
def test_data_in_an_unused_inode_is_located(tmp_path: Path, name: str, inum: int, at: int) -> None:
    ref = _ext(name)
    _assert_located(tmp_path, ref, _Img(ref).inode_at(inum) + at)


@pytest.mark.parametrize("name", ["ext4", "ext2-4k"])
def test_data_past_a_used_inodes_extra_fields_is_located(tmp_path: Path, name: str) -> None:
    ref = _ext(name)
    img = _Img(ref)
    inode = img.inode_at(img.node("/etc/passwd").inum)  # no in-inode xattrs
    extra = struct.unpack_from("<H", ref, inode + 128)[0]
    _assert_located(tmp_path, ref, inode + 128 + extra + 8, SCRIPT[:40])


@pytest.mark.parametrize(("path", "used"), [("/bin/sh", 12), ("/dev/null", 8)])
def test_data_in_the_unused_part_of_i_block_is_located(
    tmp_path: Path, path: str, used: int
) -> None:
    ref = _ext("ext2-4k")  # a fast symlink's target, a device number: the rest is unused
    img = _Img(ref)
    _assert_located(tmp_path, ref, img.inode_at(img.node(path).inum) + 0x28 + used + 4, b"HIDE")


def test_data_between_in_inode_xattrs_and_their_values_is_located(tmp_path: Path) -> None:
    ref = _ext("ext3-1k")
    img = _Img(ref)
    inode = img.inode_at(img.node("/etc/data.bin").inum)  # security.capability in-inode
    area = inode + 128 + struct.unpack_from("<H", ref, inode + 128)[0]
    assert img.word(area) == 0xEA020000
    _assert_located(tmp_path, ref, area + 4 + 16 + 12 + 4 + 8, b"HIDDEN")


def test_in_inode_xattr_values_are_not_slack() -> None:
    area = bytearray(96)
    struct.pack_into("<I", area, 0, 0xEA020000)
    struct.pack_into("<BBHII", area, 4, 3, 1, 64, 0, 5)  # user.abc, 5 bytes at 4 + 64
    area[20:23] = b"abc"
    area[68:73] = b"value"
    raw = bytes(128) + struct.pack("<H", 32) + bytes(30) + bytes(area)
    free = _in_inode_free(raw, 0)
    taken = {i for a, n in free for i in range(a, a + n)}
    assert not taken & set(range(160, 160 + 24))  # magic, the entry and its terminator
    assert not taken & set(range(160 + 68, 160 + 76))  # the value, padded to 4 bytes
    assert 160 + 30 in taken and 160 + 90 in taken


def test_a_corrupt_in_inode_xattr_is_refused() -> None:
    area = bytearray(96)
    struct.pack_into("<I", area, 0, 0xEA020000)
    struct.pack_into("<BBHII", area, 4, 3, 1, 90, 0, 60)  # a value past the inode
    with pytest.raises(CorruptContainer):
        _in_inode_free(bytes(128) + struct.pack("<H", 32) + bytes(30) + bytes(area), 0)
    with pytest.raises(CorruptContainer):
        _in_inode_free(bytes(128) + struct.pack("<H", 31) + bytes(126), 0)


def test_data_in_inode_bitmap_padding_is_located(tmp_path: Path) -> None:
    ref = _ext("ext2-4k")
    img = _Img(ref)
    bitmap = img.gd(0).bg_inode_bitmap_lo * img.bs  # type: ignore[attr-defined]
    at = bitmap + img.ipg // 8 + 100
    assert ref[at : at + 8] == b"\xff" * 8  # honest padding is 0xff
    result = _run(tmp_path, ref, _patched(ref, at, b"HIDDEN!!"))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.locations[0].offset == at


# -- 2. directory blocks ---------------------------------------------------------------------


def _dir_block(img: _Img, path: str, index: int = 0) -> int:
    runs = img.node(path).dataruns()
    pos = 0
    for start, count in runs:
        if pos <= index < pos + count:
            return int((start + index - pos) * img.bs)
        pos += count
    raise AssertionError(path)


@pytest.mark.parametrize("name", ["ext4", "ext2-4k", "ext3-1k"])
def test_data_after_the_last_directory_entry_is_located(tmp_path: Path, name: str) -> None:
    ref = _ext(name)
    img = _Img(ref)
    block = _dir_block(img, "/etc")
    off = 0
    while True:  # the last entry's record runs to the block's end (or its checksum tail)
        rec_len, name_len = struct.unpack_from("<HB", ref, block + off + 4)
        if off + rec_len >= img.bs - 12:
            break
        off += rec_len
    _assert_located(tmp_path, ref, block + off + 8 + ((name_len + 3) & ~3) + 16)


def test_data_in_a_names_padding_is_located(tmp_path: Path) -> None:
    ref = _ext("ext2-4k")
    block = _dir_block(_Img(ref), "/etc")
    entry = ref.index(b"passwd", block, block + 4096) - 8
    assert ref[entry + 6] == 6  # name_len: 2 bytes of padding follow
    _assert_located(tmp_path, ref, entry + 8 + 6, b"HI")


def test_the_directory_checksum_tail_is_not_slack(tmp_path: Path) -> None:
    ref = _ext("ext4")
    block = _dir_block(_Img(ref), "/etc")
    tail = block + 1024 - 12
    assert struct.unpack_from("<IHBB", ref, tail) == (0, 12, 0, 0xDE)
    rebuilt = _ext("ext4-rebuild")
    result = _run(tmp_path, ref, rebuilt)  # the checksums differ (another seed): no slack
    assert result.verdict is Verdict.EQUIVALENT


def test_data_in_unused_hash_index_slots_is_located(tmp_path: Path) -> None:
    ref = _ext("ext4-htree")
    img = _Img(ref)
    assert img.node("/www").inode.i_flags & 0x1000  # INDEX_FL: a hashed directory
    root = _dir_block(img, "/www")
    limit, count = struct.unpack_from("<HH", ref, root + 0x20)
    assert count < limit
    _assert_located(tmp_path, ref, root + 0x20 + count * 8 + 8)


# -- 3. superblock and descriptor copies -----------------------------------------------------


_COPIES = {  # where, in ext2-4k (4 KiB blocks, 3 groups, 23 reserved GDT blocks)
    "backup-block-past-1024": lambda b, p: b + 1024 + 10,
    "backup-s_reserved": lambda b, p: b + 0x284 + 8,
    "primary-s_reserved": lambda b, p: 1024 + 0x284 + 8,
    "backup-gdt-past-last-group": lambda b, p: b + 4096 + 3 * 32 + 64,
    "primary-gdt-past-last-group": lambda b, p: 4096 + 3 * 32 + 4,
    "backup-reserved-gdt-block": lambda b, p: b + 2 * 4096 + 100,
    "primary-reserved-gdt-past-its-list": lambda b, p: p + 4 + 40,
}


@pytest.mark.parametrize("where", list(_COPIES))
def test_data_in_superblock_copies_and_reserved_gdt_blocks_is_located(
    tmp_path: Path, where: str
) -> None:
    ref = _ext("ext2-4k")
    img = _Img(ref)
    assert (img.bs, img.first, img.fs.groups_count) == (4096, 0, 3)
    backup = (img.first + img.bpg) * img.bs  # group 1: superblock, GDT copy, reserved GDT
    primary_rsv = (img.first + 2) * img.bs
    assert img.word(primary_rsv) == img.first + img.bpg + 2  # lists its one backup
    _assert_located(tmp_path, ref, _COPIES[where](backup, primary_rsv))


def test_the_resize_inodes_unused_slots_are_slack(tmp_path: Path) -> None:
    ref = _ext("ext3-1k")
    img = _Img(ref)
    dind = _resize_dind(img)
    used = [i for i in range(img.bs // 4) if img.word(dind * img.bs + 4 * i)]
    assert used and used[0] == 1  # one descriptor block: the reserved ones follow it
    _assert_located(tmp_path, ref, dind * img.bs + 4 * (used[-1] + 3))


def _resize_dind(img: _Img) -> int:
    node = img.fs.get_inode(7)
    return int(struct.unpack_from("<I", bytes(node.inode.i_block), 13 * 4)[0])


# -- 4. block-mapped (ext2/3) files ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"), [("ext2-4k", "/etc/passwd"), ("ext3-1k", "/bin/big.bin")]
)
def test_data_after_a_block_mapped_files_end_is_located(
    tmp_path: Path, name: str, path: str
) -> None:
    ref = _ext(name)
    img = _Img(ref)
    node = img.node(path)
    assert not node.inode.i_flags & 0x80000  # no extents: the indirect map
    *_, (start, count) = node.dataruns()
    at = (start + count - 1) * img.bs + node.size % img.bs + 8
    _assert_located(tmp_path, ref, at)


def test_unused_indirect_slots_are_located(tmp_path: Path) -> None:
    ref = _ext("ext2-4k")
    img = _Img(ref)
    ind = img.slots("/bin/big.bin")[12]  # 83 blocks: 12 direct, 71 in the indirect block
    _assert_located(tmp_path, ref, ind * img.bs + 71 * 4 + 40)


@pytest.mark.parametrize("which", ["double", "its-last-child"])
def test_unused_double_indirect_slots_are_located(tmp_path: Path, which: str) -> None:
    ref = _ext("ext3-1k")
    img = _Img(ref)
    dind = img.slots("/bin/big.bin")[13]  # 329 blocks: 12 + 256 + 61 under the double one
    if which == "double":
        _assert_located(tmp_path, ref, dind * img.bs + 4 + 8)  # past its one used slot
    else:
        child = img.word(dind * img.bs)
        _assert_located(tmp_path, ref, child * img.bs + 61 * 4 + 8)  # past the child's 61


@pytest.mark.parametrize("which", ["double", "its-last-child"])
def test_unused_slots_of_an_ext3_journals_indirect_blocks_are_located(
    tmp_path: Path, which: str
) -> None:
    ref = _ext("ext3-1k")
    img = _Img(ref)
    journal = img.fs.get_inode(8)  # 1024 blocks: 12 + 256 + 3 children of the double one
    dind = struct.unpack_from("<I", bytes(journal.inode.i_block), 13 * 4)[0]
    if which == "double":
        _assert_located(tmp_path, ref, dind * img.bs + 3 * 4 + 8)
    else:
        child = img.word(dind * img.bs + 2 * 4)  # 244 blocks under the last child
        _assert_located(tmp_path, ref, child * img.bs + 244 * 4 + 8)


def test_extent_blocks_past_the_end_are_slack() -> None:
    fs, node = SimpleNamespace(block_size=1024), SimpleNamespace(size=4 * 1024 + 100)
    runs: list[tuple[int | None, int]] = [(50, 2), (None, 1), (70, 4)]  # 7 mapped, 5 needed
    spans = extent_slack(fs, node, runs, tail=True)  # type: ignore[arg-type]
    assert spans == [(71 * 1024 + 100, 924), (72 * 1024, 2 * 1024)]  # block 4's tail, 5 and 6


@pytest.mark.parametrize(("name", "block"), [("ext4", 5000), ("ext2-4k", 600), ("ext3-1k", 1900)])
def test_data_in_a_block_marked_used_but_owned_by_nothing_is_located(
    tmp_path: Path, name: str, block: int
) -> None:
    ref = _ext(name)
    img = _Img(ref)
    bitmap = img.gd(0).bg_block_bitmap_lo * img.bs  # type: ignore[attr-defined]
    bit = block - img.first
    assert not ref[bitmap + bit // 8] >> (bit % 8) & 1  # free in the reference
    dep = _patched(ref, bitmap + bit // 8, bytes([ref[bitmap + bit // 8] | 1 << (bit % 8)]))
    dep = _patched(dep, block * img.bs + 16, SCRIPT)
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.locations[0].offset == block * img.bs + 16


# -- hostile input ---------------------------------------------------------------------------


def _listing(data: bytes) -> object:
    return FORMAT.list(io.BytesIO(data), len(data), WalkContext(Limits()))


def test_an_indirect_block_pointing_at_itself_is_refused() -> None:
    ref = _ext("ext3-1k")
    img = _Img(ref)
    dind = img.slots("/bin/big.bin")[13]
    with pytest.raises(CorruptContainer, match="reused"):
        _listing(_patched(ref, dind * img.bs, struct.pack("<I", dind)))


def test_a_hash_index_pointing_back_at_its_root_is_refused() -> None:
    ref = _ext("ext4-htree")
    root = _dir_block(_Img(ref), "/www")
    dep = _patched(ref, root + 0x1E, b"\1")  # one level of index nodes below the root
    with pytest.raises(CorruptContainer, match="loops"):
        _listing(_patched(dep, root + 0x20 + 4, struct.pack("<I", 0)))
