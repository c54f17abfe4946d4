"""Filesystem cases that used to come out "not compared", and ext feature flags as layout.

Big-endian CramFS, ext4 with inline-data files and directories, JFFS2 with OpenWrt's LZMA nodes:
the fixtures are real images made by tests/fixtures/fsgaps/make_fsgaps.sh (mkfs.cramfs -N big,
mke2fs -O inline_data plus a loop mount, mkfs.jffs2 rewritten by jffs2_lzma.py), each with a
benign rebuild and a changed image carrying one implant in etc/init.d/S50httpd.
"""

from __future__ import annotations

import gzip
import io
import random
import struct
import zlib
from pathlib import Path
from types import ModuleType

import pytest

from netvet.firmware import compare
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, FirmwareError
from netvet.firmware.formats import cramfs, ext, jffs2
from netvet.firmware.formats.ext_features import feature_fields
from netvet.firmware.formats.jffs2_compr import COMPR_LZMA, COMPR_ZLIB
from netvet.firmware.limits import Limits
from netvet.firmware.model import Kind, Listing, Member, Meta, Rule
from netvet.firmware.result import Comparison, Status, Verdict

HERE = Path(__file__).resolve().parent.parent / "fixtures"
GAPS = HERE / "fsgaps"
IMPLANT = "etc/init.d/S50httpd"


def raw(name: str) -> bytes:
    data = (GAPS / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def listing(fmt: ModuleType, data: bytes) -> Listing:
    return fmt.FORMAT.list(io.BytesIO(data), len(data), WalkContext(Limits()))


def contents(result: Listing) -> dict[str, tuple[Kind, Meta, bytes | None]]:
    def read(m: Member) -> bytes | None:
        return m.opener().read() if m.opener else None

    return {m.name: (m.kind, m.meta, read(m)) for m in result.members}


def run(ref: Path, dep: Path) -> Comparison:
    return compare(ref, dep, parallel=False)


def classes(result: Comparison) -> set[str]:
    assert all(f.status is Status.BENIGN for f in result.findings), result.findings
    return {f.klass for f in result.findings}


# -- end to end: identical, benign rebuild, changed ----------------------------------------------
SAME = ["cramfs-be.img", "ext4-inline.img.gz", "jffs2-lzma.img"]
BENIGN = [
    ("cramfs-be.img", "cramfs-be-rebuild.img", {"layout", "derived-checksum"}),
    ("cramfs-be.img", "cramfs-le.img", {"layout", "derived-checksum"}),
    (
        "ext4-inline.img.gz",
        "ext4-inline-rebuild.img.gz",
        {"container-timestamp", "random-id", "derived-checksum"},
    ),
    ("jffs2-lzma.img", "jffs2-lzma-rebuild.img", {"container-timestamp"}),
    ("jffs2-zlib.img", "jffs2-lzma.img", {"padding"}),
]
CHANGED = [
    ("cramfs-be.img", "cramfs-be-changed.img"),
    ("ext4-inline.img.gz", "ext4-inline-changed.img.gz"),
    ("jffs2-lzma.img", "jffs2-lzma-changed.img"),
]


@pytest.mark.parametrize("name", SAME)
def test_same_image_is_identical(name: str) -> None:
    assert run(GAPS / name, GAPS / name).verdict is Verdict.IDENTICAL


@pytest.mark.parametrize(("ref", "dep", "want"), BENIGN, ids=[f"{r}-{d}" for r, d, _ in BENIGN])
def test_benign_rebuild_is_equivalent(ref: str, dep: str, want: set[str]) -> None:
    result = run(GAPS / ref, GAPS / dep)
    assert result.verdict is Verdict.EQUIVALENT, result.findings
    assert classes(result) == want


def test_byte_order_is_named_as_layout() -> None:
    result = run(GAPS / "cramfs-be.img", GAPS / "cramfs-le.img")
    assert any("byte_order big -> little" in f.summary for f in result.findings)


@pytest.mark.parametrize(("ref", "dep"), CHANGED, ids=[d for _, d in CHANGED])
def test_implant_is_found_and_located(ref: str, dep: str) -> None:
    result = run(GAPS / ref, GAPS / dep)
    assert result.verdict is Verdict.DIFFERENT
    bad = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert [f.path.split("/", 1)[1] for f in bad] == [IMPLANT]
    assert "nc -l -p 4444" in " ".join(loc.detail or "" for loc in bad[0].locations)


@pytest.mark.parametrize("name", SAME)
def test_truncated_image_is_not_compared(name: str, tmp_path: Path) -> None:
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    data = raw(name)
    whole.write_bytes(data)
    cut.write_bytes(data[: len(data) // 2])
    result = run(whole, cut)
    assert result.verdict is Verdict.DIFFERENT
    assert [f.klass for f in result.findings] == ["not-compared"]
    assert "truncated" in result.findings[0].summary


# -- big-endian CramFS -----------------------------------------------------------------------------
def test_big_endian_cramfs_lists_the_same_tree_as_little_endian() -> None:
    be, le = listing(cramfs, raw("cramfs-be.img")), listing(cramfs, raw("cramfs-le.img"))
    got = contents(be)
    assert got == contents(le)
    su, console, sh = be.members, got["dev/console"], got["bin/sh"]
    assert next(m for m in su if m.name == "bin/su").meta.mode == 0o4755
    assert console[0] is Kind.CHAR and console[1].rdev == (5, 1)
    assert sh[0] is Kind.SYMLINK and sh[1].target == "busybox"
    assert got["etc/shadow"][1].gid == 42
    assert got["tmp"][1].mode == 0o1777 and got["mnt"][0] is Kind.DIR  # two empty directories
    assert len(got["usr/lib/data.bin"][2] or b"") == 9000  # three 4 KiB blocks
    assert ("big", Rule.LAYOUT) in {(f.value, f.rule) for f in be.fields if f.name == "byte_order"}


def test_cramfs_crc_mismatch_and_bad_root_are_corrupt() -> None:
    data = bytearray(raw("cramfs-be.img"))
    data[2000] ^= 0x01  # inside the image, covered by the superblock CRC
    with pytest.raises(CorruptContainer, match="CRC"):
        listing(cramfs, bytes(data))
    data = bytearray(raw("cramfs-be.img"))
    data[64:66] = struct.pack(">H", 0o100644)  # the root inode's mode: a regular file
    data[32:36] = bytes(4)
    data[32:36] = struct.pack(">I", zlib.crc32(bytes(data[:4096])))
    with pytest.raises(CorruptContainer, match="root"):
        listing(cramfs, bytes(data))


# -- ext4 inline data ------------------------------------------------------------------------------
def test_ext4_inline_directories_and_files_are_read() -> None:
    result = listing(ext, raw("ext4-inline.img.gz"))
    got = contents(result)
    # etc/net: an inline directory whose entries continue in its system.data xattr (6 names)
    assert sorted(p for p in got if p.startswith("etc/net/")) == [
        f"etc/net/{n}" for n in ("dmz", "eth0", "eth1", "eth2", "lan", "wan")
    ]
    assert got["etc/net/eth0"][2] == b"dhcp\n"
    # etc/hosts: 91 bytes, 60 in i_block and the rest in system.data
    hosts = got["etc/hosts"][2] or b""
    assert len(hosts) == 91 and hosts.startswith(b"127.0.0.1 localhost") and hosts.endswith(b"\n")
    assert got["etc/passwd"][2] == b"root:x:0:0:root:/root:/bin/sh\n"
    assert got["bin/sh"][1].target == "busybox"
    assert "inline_data" in dict((f.name, f.value) for f in result.fields)["layout_features"]


def test_ext4_inline_directory_with_a_bad_entry_is_corrupt() -> None:
    data = bytearray(raw("ext4-inline.img.gz"))
    at = data.find(b"eth0")  # first entry of etc/net, inside its inode's i_block
    assert at > 0
    struct.pack_into("<H", data, at - 4, 2)  # rec_len 2: shorter than an entry header
    with pytest.raises(CorruptContainer):
        listing(ext, bytes(data))


# -- JFFS2 with LZMA nodes -----------------------------------------------------------------------
def _scan(data: bytes) -> jffs2._Image:
    return jffs2._Scanner(io.BytesIO(data), len(data), "<", WalkContext(Limits())).run()


def test_jffs2_lzma_nodes_read_like_zlib_ones() -> None:
    data = raw("jffs2-lzma.img")
    comprs = {n.compr for nodes in _scan(data).inodes.values() for n in nodes}
    assert COMPR_LZMA in comprs and COMPR_ZLIB not in comprs
    assert contents(listing(jffs2, data)) == contents(listing(jffs2, raw("jffs2-zlib.img")))


def _corrupt_lzma_node(data: bytes) -> bytes:
    """The image with the first LZMA payload damaged and every CRC made right again."""
    node = next(n for nodes in _scan(data).inodes.values() for n in nodes if n.compr == COMPR_LZMA)
    out = bytearray(data)
    start = node.at - 68
    out[node.at + 1 : node.at + node.csize] = bytes(node.csize - 1)  # keeps the leading 0 byte
    struct.pack_into("<I", out, start + 56, jffs2._crc(bytes(out[node.at : node.at + node.csize])))
    struct.pack_into("<I", out, start + 64, jffs2._crc(bytes(out[start : start + 60])))
    return bytes(out)


def test_jffs2_corrupt_lzma_node_is_corrupt_on_read_and_not_compared(tmp_path: Path) -> None:
    bad = _corrupt_lzma_node(raw("jffs2-lzma.img"))
    with pytest.raises(CorruptContainer):
        for member in listing(jffs2, bad).members:
            if member.opener:
                member.opener().read()
    (tmp_path / "bad.img").write_bytes(bad)
    result = run(GAPS / "jffs2-lzma.img", tmp_path / "bad.img")
    assert result.verdict is Verdict.DIFFERENT
    assert "not-compared" in {f.klass for f in result.findings}


@pytest.mark.parametrize(
    ("fmt", "name"),
    [(cramfs, "cramfs-be.img"), (ext, "ext4-inline.img.gz"), (jffs2, "jffs2-lzma.img")],
)
def test_mutated_images_fail_only_with_firmware_errors(fmt: ModuleType, name: str) -> None:
    rng = random.Random(name)
    data = raw(name)
    for _ in range(40):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            bad[rng.randrange(min(len(bad), 8192))] = rng.randrange(256)
        try:
            for member in listing(fmt, bytes(bad)).members:
                if member.opener:
                    member.opener().read()
        except FirmwareError:
            pass


# -- ext feature flags: layout, unless they change what the system enforces --------------------
def test_ext2_and_ext4_of_one_tree_are_equivalent() -> None:
    formats = HERE / "formats"
    result = run(formats / "fs-ext2.img", formats / "fs-ext4.img")
    assert result.verdict is Verdict.EQUIVALENT, result.findings
    assert "layout" in classes(result)
    assert any("layout_features" in f.summary and "extent" in f.summary for f in result.findings)


def test_feature_fields_split_layout_security_and_unknown() -> None:
    fields = {f.name: (f.value, f.rule) for f in feature_fields(0x0C, 0x10042, 0x8401)}
    assert fields["layout_features"] == ("ext_attr extent filetype has_journal metadata_csum "
                                         "sparse_super", Rule.LAYOUT)  # fmt: skip
    assert fields["security_features"] == ("encrypt verity", Rule.STRICT)
    assert fields["unknown_features"] == ("", Rule.STRICT)
    assert feature_fields(0, 0x4 | 0x80000000, 0)[2].value == "incompat=0x80000000"


@pytest.mark.parametrize(
    ("offset", "bit", "what"),
    [(0x64, 0x8000, "verity"), (0x60, 0x20000, "casefold"), (0x64, 0x1000, "read-only")],
)
def test_security_relevant_feature_stays_unexplained(
    offset: int, bit: int, what: str, tmp_path: Path
) -> None:
    ref = HERE / "formats" / "fs-ext2.img"  # no metadata_csum: the superblock has no checksum
    data = bytearray(ref.read_bytes())
    word = struct.unpack_from("<I", data, 1024 + offset)[0]
    struct.pack_into("<I", data, 1024 + offset, word | bit)
    (tmp_path / "dep.img").write_bytes(data)
    result = run(ref, tmp_path / "dep.img")
    assert result.verdict is Verdict.DIFFERENT
    bad = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert [f.klass for f in bad] == ["header-field"]
    assert "security_features" in bad[0].summary and what in bad[0].summary
