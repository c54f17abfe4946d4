"""FAT volumes: bytes no member shows must make a comparison different, located.

Fixtures: tests/fixtures/slack/make_fat_slack.sh (mkfs.fat + mcopy, FAT12/16/32, each built
twice with another volume id and later mtimes). Every hostile variant patches a copy of the
first build; the honest rebuild must stay equivalent with nothing unaccounted.
"""

from __future__ import annotations

import gzip
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats import fat
from netvet.firmware.formats._ranges import merge
from netvet.firmware.model import Listing
from netvet.firmware.result import Status, Verdict
from tests.formats.pairs import assert_honest_rebuild, field, listing, run_pair, unexplained

SLACK = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
SCRIPT = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n"
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


def _image(name: str) -> bytes:
    return gzip.decompress((SLACK / f"{name}.img.gz").read_bytes())


@dataclass(frozen=True)
class Geo:
    """Where the parts of a FAT image lie, from its boot sector."""

    bits: int
    sector: int
    reserved: int
    fats: int
    fat_size: int
    root: int  # byte offset of the FAT12/16 root region, or of the FAT32 root cluster
    data: int

    @classmethod
    def of(cls, img: bytes) -> Geo:
        ss, spc, rsvd, nfats, rootent = struct.unpack_from("<HBHBH", img, 11)
        assert spc == 1
        fat16 = struct.unpack_from("<H", img, 22)[0]
        size = fat16 or struct.unpack_from("<I", img, 36)[0]
        fat_end = (rsvd + nfats * size) * ss
        data = fat_end + rootent * 32
        bits = 32 if not fat16 else (12 if img[54:59] == b"FAT12" else 16)
        root = fat_end if bits != 32 else data + (struct.unpack_from("<I", img, 44)[0] - 2) * ss
        return cls(bits, ss, rsvd, nfats, size, root, data)

    def cluster(self, n: int) -> int:
        return self.data + (n - 2) * self.sector

    def set_entry(self, img: bytearray, n: int, value: int, copies: tuple[int, ...]) -> None:
        for copy in copies:
            base = (self.reserved + copy * self.fat_size) * self.sector
            if self.bits == 32:
                struct.pack_into("<I", img, base + 4 * n, value)
            elif self.bits == 16:
                struct.pack_into("<H", img, base + 2 * n, value)
            else:
                at = base + n + n // 2
                pair = struct.unpack_from("<H", img, at)[0]
                pair = (pair & 0x000F) | value << 4 if n & 1 else (pair & 0xF000) | value
                struct.pack_into("<H", img, at, pair)

    def eoc(self) -> int:
        return {12: 0xFFF, 16: 0xFFFF, 32: 0x0FFFFFFF}[self.bits]


_run = run_pair
_unexplained = unexplained


def _listing(img: bytes) -> Listing:
    return listing(fat, img)


def _unaccounted(img: bytes) -> str:
    return field(fat, img, "unaccounted")


TYPES = ("fat12", "fat16", "fat32")


@pytest.mark.parametrize("name", TYPES)
def test_honest_rebuild_stays_equivalent_with_nothing_unaccounted(
    tmp_path: Path, name: str
) -> None:
    assert_honest_rebuild(tmp_path, fat, _image(name), _image(f"{name}-rebuild"))


def _free_cluster(img: bytes) -> int:
    geo = Geo.of(img)
    return geo.cluster(2000)  # past the tree's few hundred clusters, zero


def _file_tail(img: bytes) -> int:
    return img.index(PASSWD) + len(PASSWD) + 10


def _after_dir_end(img: bytes) -> int:
    return Geo.of(img).root + 32 * 6  # label + three directories, then the end entry


def _deleted_entry(img: bytes) -> bytes:
    at = Geo.of(img).root + 32 * 4
    return _patch(img, at, b"\xe5" + SCRIPT[1:32])


def _patch(img: bytes, at: int, payload: bytes) -> bytes:
    out = bytearray(img)
    out[at : at + len(payload)] = payload
    return bytes(out)


def _in_place(where: Callable[[bytes], int]) -> Callable[[bytes], bytes]:
    return lambda img: _patch(img, where(img), SCRIPT)


def _second_fat(img: bytes) -> bytes:
    geo, out = Geo.of(img), bytearray(img)
    geo.set_entry(out, 2000, geo.eoc(), (1,))
    return bytes(out)


def _boot_code(img: bytes) -> bytes:
    return _patch(img, 400, b"\x90\x90\xeb\xfe")


def _lost_chain(img: bytes) -> bytes:
    geo, out = Geo.of(img), bytearray(img)
    geo.set_entry(out, 2000, geo.eoc(), (0, 1))
    return _patch(bytes(out), geo.cluster(2000), SCRIPT)


def _bad_cluster(img: bytes) -> bytes:
    geo, out = Geo.of(img), bytearray(img)
    geo.set_entry(out, 2000, geo.eoc() - 8, (0, 1))  # 0xFF7, 0xFFF7, 0x0FFFFFF7
    return _patch(bytes(out), geo.cluster(2000), SCRIPT)


def _chain_past_size(img: bytes) -> bytes:
    """/etc/passwd's one cluster made to link to a free one holding the payload."""
    geo, out = Geo.of(img), bytearray(img)
    first = (img.index(PASSWD) - geo.data) // geo.sector + 2
    geo.set_entry(out, first, 2000, (0, 1))
    geo.set_entry(out, 2000, geo.eoc(), (0, 1))
    return _patch(bytes(out), geo.cluster(2000), SCRIPT)


def _lfn_padding(img: bytes) -> bytes:
    # "page number NN.html": the second long-name entry holds ".html" in its first five
    # slots, the NUL in the sixth (entry byte 14), then 0xFFFF padding
    entry = img.index(b"\x42" + ".html".encode("utf-16-le") + b"\x0f\x00")
    assert img[entry + 14 : entry + 16] == b"\0\0"
    at = entry + 16
    assert img[at : at + 2] == b"\xff\xff"
    return _patch(img, at, b"\x41\x41")


HIDING = {
    "free cluster": (_in_place(_free_cluster), "data between fat records"),
    "file tail": (_in_place(_file_tail), "tail of /ETC/PASSWD past its 30 bytes"),
    "after end of directory": (_in_place(_after_dir_end), "end-of-directory entry of the root"),
    "deleted entry": (_deleted_entry, "deleted entry in the root directory"),
    "second FAT": (_second_fat, "FAT copy 2 differs from the first at entry 2000"),
    "boot code": (_boot_code, "header field boot_code"),
    "lost chain": (_lost_chain, "1 clusters marked used reach no entry (first: 2000)"),
    "bad cluster": (_bad_cluster, "1 clusters marked bad (first: 2000)"),
    "chain past size": (_chain_past_size, "chain of /ETC/PASSWD holds 1 clusters past its size"),
    "long-name padding": (_lfn_padding, "padding not 0xFFFF"),
}


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("where", sorted(HIDING))
def test_hidden_data_is_different_and_located(tmp_path: Path, name: str, where: str) -> None:
    patch, expect = HIDING[where]
    ref = _image(name)
    dep = patch(ref)
    assert dep != ref and _listing(dep).members  # still lists: the tree is intact
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT, where
    found = _unexplained(result)
    assert any(expect in s for s in found), found


@pytest.mark.parametrize("name", TYPES)
def test_free_cluster_payload_is_located_at_its_offset(tmp_path: Path, name: str) -> None:
    ref = _image(name)
    at = _free_cluster(ref) + 100
    result = _run(tmp_path, ref, _patch(ref, at, SCRIPT))
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.locations[0].offset == at


@pytest.mark.parametrize(
    ("at", "expect"),
    [
        (2 * 512 + 7, "reserved sector 2 at 0x400 is not zero"),
        (512 + 100, "FSInfo reserved bytes 4-483"),
        (6 * 512 + 300, "backup boot sector 6 differs from sector 0"),
        (7 * 512 + 20, "backup FSInfo sector 7 differs"),
        (52, "bytes 52-63 (FAT32 reserved) are not zero"),
    ],
)
def test_fat32_reserved_area_is_checked(tmp_path: Path, at: int, expect: str) -> None:
    ref = _image("fat32")
    assert ref[at] == 0
    dep = _patch(ref, at, b"\x42")
    assert expect in _unaccounted(dep)
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT


def test_fsinfo_hints_are_layout(tmp_path: Path) -> None:
    ref = _image("fat32")
    dep = _patch(ref, 512 + 488, struct.pack("<II", 1234, 99))
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.EQUIVALENT, _unexplained(result)
    assert any("fsinfo free_clusters" in f.summary for f in result.findings)


def test_fat_entries_past_the_last_cluster_must_be_zero() -> None:
    ref = _image("fat16")
    geo = Geo.of(ref)
    last_entry = (geo.reserved + geo.fat_size) * geo.sector - 2  # the FAT's last sector's end
    dep = _patch(ref, last_entry, b"\x01\x00")
    dep = _patch(dep, last_entry + geo.fat_size * geo.sector, b"\x01\x00")
    assert "FAT entries past cluster" in _unaccounted(dep)


@pytest.mark.parametrize("name", TYPES)
def test_a_used_volume_reports_deleted_files_located(tmp_path: Path, name: str) -> None:
    """A deleted file leaves its entry (0xE5) and its bytes in now free clusters: honestly
    different from a fresh build, and said where."""
    ref = _image(name)
    geo = Geo.of(ref)
    at = ref.index(b"PASSWD     ")
    dep = bytearray(_patch(ref, at, b"\xe5"))
    first = (ref.index(PASSWD) - geo.data) // geo.sector + 2
    geo.set_entry(dep, first, 0, (0, 1))
    assert "deleted entry in /ETC at" in _unaccounted(bytes(dep))
    result = _run(tmp_path, ref, bytes(dep))
    assert result.verdict is Verdict.DIFFERENT


def _cross_linked(img: bytes) -> bytes:
    """/etc/passwd's entry pointed at the first cluster of /bin/data.bin."""
    geo = Geo.of(img)
    data_first = (img.index(b"line 00001") - geo.data) // geo.sector + 2
    at = img.index(b"PASSWD     ")
    return _patch(img, at + 26, struct.pack("<H", data_first))


def _out_of_range(img: bytes) -> bytes:
    geo, out = Geo.of(img), bytearray(img)
    first = (img.index(PASSWD) - geo.data) // geo.sector + 2
    geo.set_entry(out, first, {12: 0xFF0, 16: 0xFFF0, 32: 0x0FFFFFF0}[geo.bits], (0, 1))
    return bytes(out)


def _directory_loop(img: bytes) -> bytes:
    """/etc's init.d entry pointed back at /etc's own cluster."""
    geo = Geo.of(img)
    at = img.index(b"INIT    D  ")
    etc = img.index(b"ETC        ", geo.root)
    return _patch(img, at + 26, img[etc + 26 : etc + 28])


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("malform", [_cross_linked, _out_of_range, _directory_loop])
def test_malformed_chains_are_corrupt(name: str, malform: Callable[[bytes], bytes]) -> None:
    with pytest.raises(CorruptContainer, match="fat: "):
        _listing(malform(_image(name)))


@pytest.mark.parametrize("name", TYPES)
def test_fat_entries_0_and_1_hold_only_the_media_byte_and_flags(name: str) -> None:
    ref = _image(name)
    geo, dep = Geo.of(ref), bytearray(ref)
    geo.set_entry(dep, 1, 0x123, (0, 1))
    assert "FAT entries 0 and 1 are" in _unaccounted(bytes(dep))
    geo.set_entry(dep, 1, geo.eoc() & ~{12: 0, 16: 0xC000, 32: 0x0C000000}[geo.bits], (0, 1))
    assert _unaccounted(bytes(dep)) == "none"  # the clean-shutdown flags: layout


def test_long_note_lists_are_cut_with_a_digest_of_all() -> None:
    ref = _image("fat16")
    root = Geo.of(ref).root
    many = ref
    for i in range(4, 24):  # twenty deleted entries after the three directories
        many = _patch(many, root + 32 * i, b"\xe5" + bytes(31))
    more = _patch(many, root + 32 * 24, b"\xe5" + bytes(31))
    first, second = _unaccounted(many), _unaccounted(more)
    assert first.count("deleted entry") == second.count("deleted entry") == 16
    assert first.endswith("more (all: sha256 " + first[-17:])
    assert first[-17:] != second[-17:]


def _lfn(seq: int, payload: bytes) -> bytes:
    """A long-name entry carrying 26 bytes of `payload` in its name fields."""
    name = payload.ljust(26, b"\0")[:26]
    return bytes([seq]) + name[:10] + b"\x0f\0\0" + name[10:22] + b"\0\0" + name[22:26]


@pytest.mark.parametrize("name", TYPES)
def test_long_name_entries_that_end_a_directory_are_reported(tmp_path: Path, name: str) -> None:
    """/etc's one cluster filled up, from its end entry on, with long-name entries: no short
    entry follows, so they name nothing and dissect skips them; their bytes are slack."""
    ref = _image(name)
    geo = Geo.of(ref)
    etc = ref.index(b"ETC        ", geo.root)
    base = geo.cluster(struct.unpack_from("<H", ref, etc + 26)[0])
    end = next(at for at in range(base, base + geo.sector, 32) if ref[at] == 0)
    count = (base + geo.sector - end) // 32
    chunks = [SCRIPT[i : i + 26] for i in range(0, 26 * count, 26)]
    dep = _patch(
        ref,
        end,
        b"".join(_lfn((count - i) | (0x40 if i == 0 else 0), c) for i, c in enumerate(chunks)),
    )
    assert f"{count} long-name entries in /ETC at {end:#x} name no entry" in _unaccounted(dep)
    found = _listing(dep)
    assert any(a <= end and end + 32 * count <= a + n for a, n in merge_slack(found))
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT


def merge_slack(found: Listing) -> list[tuple[int, int]]:
    """The listing's slack as merged runs (adjacent entries make one)."""
    return merge(list(found.slack))


def _fat32_with_root_entries(payload: bytes) -> bytes:
    """The FAT32 fixture with 16 fixed root entries: one more sector before the data area
    (the FATs, clusters and size kept), holding `payload`."""
    img = _image("fat32")
    geo = Geo.of(img)
    fat_end = (geo.reserved + geo.fats * geo.fat_size) * geo.sector
    out = bytearray(img[:fat_end] + payload.ljust(geo.sector, b"\0") + img[fat_end:])
    for boot in (0, 6 * geo.sector):  # the boot sector and its backup stay equal
        struct.pack_into("<H", out, boot + 17, 16)
        total = struct.unpack_from("<I", out, boot + 32)[0]
        struct.pack_into("<I", out, boot + 32, total + 1)
    return bytes(out)


def test_a_fat32_fixed_root_region_is_read(tmp_path: Path) -> None:
    ref, dep = _fat32_with_root_entries(b""), _fat32_with_root_entries(SCRIPT)
    assert _unaccounted(ref) == "FAT32 boot sector reserves 16 root entries"
    assert [m.name for m in _listing(ref).members] == [m.name for m in _listing(dep).members]
    assert "after the fixed root-directory region" in _unaccounted(dep)
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT
    assert _run(tmp_path, _image("fat32"), ref).verdict is Verdict.DIFFERENT


def test_fat32_without_a_backup_boot_sector_exempts_no_sector(tmp_path: Path) -> None:
    """BkBootSec 0 (no backup) with FSInfo moved to sector 2: sector 1 is a plain reserved
    sector, zero in an honest image, and a payload there is reported."""
    img = bytearray(_image("fat32"))
    img[2 * 512 : 3 * 512] = img[512:1024]
    img[512:1024] = bytes(512)
    img[6 * 512 : 8 * 512] = bytes(1024)  # no backup boot sector, no backup FSInfo
    struct.pack_into("<HH", img, 48, 2, 0)
    ref = bytes(img)
    assert _unaccounted(ref) == "none"
    dep = _patch(ref, 512 + 40, SCRIPT)
    assert "reserved sector 1 at 0x200 is not zero" in _unaccounted(dep)
    assert _run(tmp_path, ref, dep).verdict is Verdict.DIFFERENT
