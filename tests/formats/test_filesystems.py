"""Filesystem containers: squashfs, ext, jffs2, cramfs, FAT, UBI and UBIFS.

The fixtures are real images made by tests/fixtures/formats/make_fs.sh from one tree (setuid
binary, capability xattr, symlinks, device nodes, a FIFO, hard links, a multi-block file).
"""

from __future__ import annotations

import io
import random
import struct
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import (
    CorruptContainer,
    FirmwareError,
    LimitExceeded,
    NotThisFormat,
)
from netvet.firmware.formats import cramfs, ext, fat, jffs2, squashfs, ubi, ubifs
from netvet.firmware.limits import Limits
from netvet.firmware.model import Kind, Listing, Rule

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
CAP = b"\x01\x00\x00\x02\x00\x20" + b"\x00" * 14  # cap_net_raw+ep
DATA = "".join(f"line {i:06d} of the multi-block data file\n" for i in range(1, 501)).encode()
DATA = DATA[:20000]
EPOCH = 1700000000


@dataclass(frozen=True)
class Want:
    kind: Kind
    mode: int
    uid: int = 0
    gid: int = 0
    target: str | None = None
    rdev: tuple[int, int] | None = None
    content: bytes | None = None
    xattrs: tuple[tuple[str, bytes], ...] = ()


D, F = Kind.DIR, Kind.FILE
TREE = {
    "bin": Want(D, 0o755),
    "bin/busybox": Want(F, 0o755, content=b"busybox multi-call binary\n"),
    "bin/su": Want(F, 0o4755, content=b"setuid helper\n"),
    "bin/sh": Want(Kind.SYMLINK, 0o777, target="busybox"),
    "dev": Want(D, 0o755),
    "dev/console": Want(Kind.CHAR, 0o600, rdev=(5, 1)),
    "dev/sda": Want(Kind.BLOCK, 0o660, rdev=(8, 0)),
    "dev/initctl": Want(Kind.FIFO, 0o600),
    "empty": Want(D, 0o1777),
    "etc": Want(D, 0o755),
    "etc/passwd": Want(
        F, 0o644, content=b"root:x:0:0:root:/root:/bin/sh\n", xattrs=(("user.comment", b"fixture"),)
    ),
    "etc/passwd.link": Want(Kind.SYMLINK, 0o777, target="/etc/passwd"),
    "etc/shadow": Want(F, 0o640, gid=42, content=b"root:*:19000:0:99999:7:::\n"),
    "etc/hard1": Want(F, 0o644, content=b"linked twice\n"),
    "etc/hard2": Want(F, 0o644, content=b"linked twice\n"),
    "etc/empty.conf": Want(F, 0o644, content=b""),
    "home": Want(D, 0o755),
    "home/user": Want(D, 0o755, uid=1000, gid=1000),
    "home/user/notes.txt": Want(F, 0o644, uid=1000, gid=1000, content=b"user data\n"),
    "sbin": Want(D, 0o755),
    "sbin/ping": Want(
        F, 0o755, content=b"ping with a capability\n", xattrs=(("security.capability", CAP),)
    ),
    "usr": Want(D, 0o755),
    "usr/lib": Want(D, 0o755),
    "usr/lib/data.bin": Want(F, 0o644, content=DATA),
}


def tree(*, xattrs: bool = True, gid_mask: int = 0xFFFFFFFF, extra: dict | None = None) -> dict:
    """The fixture tree as a format can hold it."""
    out = {}
    for path, want in TREE.items():
        out[path] = Want(
            want.kind,
            want.mode,
            want.uid,
            want.gid & gid_mask,
            want.target,
            want.rdev,
            want.content,
            want.xattrs if xattrs else (),
        )
    out.update(extra or {})
    return out


def listing(fmt: ModuleType, data: bytes, **limits: int) -> Listing:
    ctx = WalkContext(Limits(**limits))
    return fmt.FORMAT.list(io.BytesIO(data), len(data), ctx)  # type: ignore[no-any-return]


def image(name: str) -> bytes:
    return (FIX / f"fs-{name}.img").read_bytes()


def check_tree(result: Listing, want: dict[str, Want], *, mtime: int | None = EPOCH) -> None:
    got = {m.name: m for m in result.members}
    assert sorted(got) == sorted(want)
    for path, w in want.items():
        m = got[path]
        assert (m.kind, m.meta.mode, m.meta.uid, m.meta.gid) == (w.kind, w.mode, w.uid, w.gid), path
        assert (m.meta.target, m.meta.rdev, m.meta.xattrs) == (w.target, w.rdev, w.xattrs), path
        assert m.meta.mtime == mtime, path
        if w.kind is Kind.FILE:
            assert m.opener is not None and m.size == len(w.content or b""), path
            assert m.opener().read() == w.content, path
        else:
            assert m.opener is None, path


def field(result: Listing, name: str) -> tuple[str, Rule]:
    found = [f for f in result.fields if f.name == name]
    assert found, name
    return found[0].value, found[0].rule


CASES = [
    *((squashfs, f"squashfs-{c}", tree()) for c in ("gzip", "lzma", "lzo", "xz", "lz4", "zstd")),
    (squashfs, "squashfs-padded", tree()),
    (ext, "ext2", tree(extra={"lost+found": Want(D, 0o700)})),
    (ext, "ext4", tree(extra={"lost+found": Want(D, 0o700)})),
    *((jffs2, f"jffs2-{v}", tree()) for v in ("le", "be", "rtime", "lzo")),
    (ubifs, "ubifs", tree(xattrs=False)),  # Debian's mkfs.ubifs writes no xattrs
]


@pytest.mark.parametrize(("fmt", "name", "want"), CASES, ids=[c[1] for c in CASES])
def test_lists_the_tree_with_metadata_and_content(fmt: ModuleType, name: str, want: dict) -> None:
    data = image(name)
    assert fmt.FORMAT.probe(data[:4096], len(data))
    check_tree(listing(fmt, data), want)


def test_cramfs_tree_has_8_bit_gids_and_no_times() -> None:
    check_tree(listing(cramfs, image("cramfs")), tree(xattrs=False, gid_mask=0xFF), mtime=None)


def test_openers_give_independent_fresh_streams() -> None:
    for fmt, name in ((squashfs, "squashfs-xz"), (ext, "ext4"), (jffs2, "jffs2-le")):
        member = next(m for m in listing(fmt, image(name)).members if m.name.endswith("data.bin"))
        assert member.opener is not None
        first, second = member.opener(), member.opener()
        first.seek(15000)
        assert second.read(100) == DATA[:100]
        assert first.read(100) == DATA[15000:15100]
        second.seek(-10, io.SEEK_END)
        assert second.read() == DATA[-10:]


def test_squashfs_fields_and_trailing_padding() -> None:
    data = image("squashfs-padded")
    result = listing(squashfs, data)
    used = struct.unpack_from("<Q", data, 40)[0]
    assert result.trailing == (used, 65536 - used)
    assert field(result, "compressor") == ("gzip", Rule.COMPRESSION)
    assert field(result, "mkfs_time") == (str(EPOCH), Rule.TIMESTAMP)
    assert field(result, "inodes") == ("24", Rule.LAYOUT)
    assert field(result, "root.mode") == ("0o755", Rule.STRICT)
    for comp in ("lzma", "lzo", "xz", "lz4", "zstd"):
        assert field(listing(squashfs, image(f"squashfs-{comp}")), "compressor")[0] == comp


def test_ext_fields() -> None:
    result = listing(ext, image("ext4"))
    assert field(result, "uuid") == ("0b2f8d52-5c1e-4b7a-9a39-6f0e7c2d1a00", Rule.RANDOM_ID)
    assert field(result, "hash_seed") == ("11111111222233334444555555555555", Rule.RANDOM_ID)
    assert field(result, "mkfs_time") == (str(EPOCH), Rule.TIMESTAMP)
    assert field(result, "volume_name") == ("fixture", Rule.STRICT)
    assert field(result, "free_blocks")[1] is Rule.LAYOUT
    assert result.trailing is None


def test_jffs2_fields() -> None:
    result = listing(jffs2, image("jffs2-be"))
    assert field(result, "byte_order") == ("big", Rule.LAYOUT)
    assert result.slack == ()  # no stray bytes between nodes
    assert result.trailing == (4748, 16384 - 4748)  # erased flash after the last node
    assert field(result, "bad_crc_nodes") == ("0", Rule.STRICT)


def test_fat_tree_and_fields() -> None:
    result = listing(fat, image("fat"))
    got = {m.name: m for m in result.members}
    assert sorted(got) == ["DOCS", "DOCS/A long file name.bin", "DOCS/EMPTY.CFG", "PASSWD"]
    assert got["DOCS"].kind is Kind.DIR
    assert got["PASSWD"].opener is not None
    assert got["PASSWD"].opener().read() == TREE["etc/passwd"].content
    assert got["DOCS/A long file name.bin"].opener().read() == DATA  # type: ignore[misc]
    assert all(m.meta.mode is None and m.meta.uid is None for m in result.members)
    assert field(result, "volume_id") == ("1234abcd", Rule.RANDOM_ID)
    assert field(result, "volume_label") == ("FIXTURE", Rule.STRICT)


def test_ubi_volumes_are_members_in_leb_order() -> None:
    result = listing(ubi, image("ubi"))
    got = {m.name: m for m in result.members}
    assert sorted(got) == ["kernel", "rootfs"]
    assert got["rootfs"].opener is not None and got["kernel"].opener is not None
    assert got["rootfs"].opener().read() == image("ubifs")
    assert got["kernel"].opener().read() == DATA[:3000]
    assert field(result, "image_seq") == ("1234567", Rule.RANDOM_ID)
    assert field(result, "kernel.vol_type") == ("static", Rule.STRICT)
    assert field(result, "rootfs.mapped_lebs")[1] is Rule.LAYOUT
    assert field(result, "foreign_pebs") == ("0", Rule.STRICT)


# -- hostile input --------------------------------------------------------------------------------
ALL = [
    (squashfs, "squashfs-gzip"),
    (ext, "ext4"),
    (jffs2, "jffs2-le"),
    (cramfs, "cramfs"),
    (fat, "fat"),
    (ubi, "ubi"),
    (ubifs, "ubifs"),
]
IDS = [name for _, name in ALL]
BAD = (CorruptContainer, NotThisFormat)


@pytest.mark.parametrize(("fmt", "name"), ALL, ids=IDS)
def test_truncated_image_is_corrupt(fmt: ModuleType, name: str) -> None:
    data = image(name)
    cut = {"jffs2-le": 3001, "ubi": len(data) - 5000}.get(name, len(data) // 2)
    with pytest.raises(CorruptContainer):
        listing(fmt, data[:cut])


@pytest.mark.parametrize(("fmt", "name"), ALL, ids=IDS)
def test_zero_length_and_magic_followed_by_noise(fmt: ModuleType, name: str) -> None:
    data = image(name)
    assert not fmt.FORMAT.probe(b"", 0)
    with pytest.raises(BAD):
        listing(fmt, b"")
    noise = bytes((i * 131 + 7) % 251 for i in range(len(data)))
    head = 2048 if name.startswith("ext") else 64
    with pytest.raises(BAD):
        listing(fmt, data[:head] + noise[head:])


@pytest.mark.parametrize(("fmt", "name"), ALL, ids=IDS)
def test_entry_limit(fmt: ModuleType, name: str) -> None:
    with pytest.raises(LimitExceeded):
        listing(fmt, image(name), max_entries=1)


@pytest.mark.parametrize(("fmt", "name"), ALL[:5], ids=IDS[:5])
def test_content_is_charged(fmt: ModuleType, name: str) -> None:
    with pytest.raises(LimitExceeded):
        listing(fmt, image(name), max_total_bytes=1000)


def test_corrupt_superblocks() -> None:
    sq = bytearray(image("squashfs-gzip"))
    sq[12:16] = struct.pack("<I", 12345)  # block size not a power of two
    with pytest.raises(NotThisFormat):
        listing(squashfs, bytes(sq))
    e = bytearray(image("ext4"))
    e[1024:1028] = b"\0\0\0\0"  # no inodes
    with pytest.raises(BAD):
        listing(ext, bytes(e))
    cr = bytearray(image("cramfs"))
    cr[4:8] = struct.pack("<I", 1 << 30)  # claims a gigabyte
    with pytest.raises(CorruptContainer):
        listing(cramfs, bytes(cr))
    ub = bytearray(image("ubifs"))
    ub[30:40] = b"\xff" * 10  # superblock node CRC no longer matches its fields
    with pytest.raises(BAD):
        listing(ubifs, bytes(ub))


def test_corrupt_block_surfaces_as_corrupt_container_on_read() -> None:
    data = bytearray(image("squashfs-gzip"))
    data[100:400] = b"\x55" * 300  # inside the first compressed data block
    member = next(m for m in listing(squashfs, bytes(data)).members if m.name == "usr/lib/data.bin")
    assert member.opener is not None
    with pytest.raises(CorruptContainer):
        member.opener().read()


def _jffs2_dirent(pino: int, ino: int, name: bytes, version: int) -> bytes:
    """A valid little-endian JFFS2 dirent node (CRCs included)."""
    totlen = 40 + len(name)
    head = struct.pack("<HHI", 0x1985, 0xE001, totlen)
    head += struct.pack("<I", jffs2._crc(head))
    body = struct.pack("<IIIIBBxx", pino, version, ino, 0, len(name), 4)
    node = head + body
    node += struct.pack("<II", jffs2._crc(node), jffs2._crc(name)) + name
    return node + b"\xff" * (-len(node) % 4)


def test_jffs2_directory_cycle_is_corrupt() -> None:
    data = image("jffs2-le")
    result = listing(jffs2, data)
    assert result.members
    # find the inode number of /etc from its dirent, then make etc/loop point back at /etc
    etc_ino = next(
        ino
        for (pino, name), (_, ino) in jffs2._Scanner(
            io.BytesIO(data), len(data), "<", WalkContext(Limits())
        )
        .run()
        .dirents.items()
        if pino == 1 and name == b"etc"
    )
    looped = data + b"\xff" * (-len(data) % 4) + _jffs2_dirent(etc_ino, etc_ino, b"loop", 99)
    with pytest.raises(CorruptContainer, match="reached twice"):
        listing(jffs2, looped)


def test_jffs2_deletion_dirent_removes_the_name() -> None:
    data = image("jffs2-le")
    scan = jffs2._Scanner(io.BytesIO(data), len(data), "<", WalkContext(Limits())).run()
    etc_ino = next(ino for (p, n), (_, ino) in scan.dirents.items() if p == 1 and n == b"etc")
    deleted = data + b"\xff" * (-len(data) % 4) + _jffs2_dirent(etc_ino, 0, b"shadow", 99)
    names = {m.name for m in listing(jffs2, deleted).members}
    assert "etc/shadow" not in names and "etc/passwd" in names


def test_fat_cluster_chain_loop_is_corrupt() -> None:
    data = bytearray(image("fat"))
    result = listing(fat, bytes(data))
    big = next(m for m in result.members if m.name.endswith(".bin"))
    assert big.opener is not None
    # FAT12 at sector 1: point every data cluster's entry at cluster 2, closing a loop
    fat_start = 512
    for cluster in range(2, 40):
        off = fat_start + cluster + cluster // 2
        word = struct.unpack_from("<H", data, off)[0]
        word = (word & 0x000F) | (2 << 4) if cluster & 1 else (word & 0xF000) | 2
        struct.pack_into("<H", data, off, word)
    with pytest.raises(CorruptContainer):
        for member in listing(fat, bytes(data)).members:
            if member.opener:
                member.opener().read()


@pytest.mark.parametrize(("fmt", "name"), ALL, ids=IDS)
def test_mutated_images_fail_only_with_firmware_errors(fmt: ModuleType, name: str) -> None:
    """Seeded byte flips, biased to the metadata at both ends: listing and reading every member
    either works or raises one of the walker's error types, never a parser's own exception."""
    rng = random.Random(name)
    data = image(name)
    for _ in range(40):
        bad = bytearray(data)
        for _ in range(rng.randint(1, 6)):
            near = min(len(bad), 4096)
            pos = rng.choice([rng.randrange(near), len(bad) - 1 - rng.randrange(near)])
            bad[pos] = rng.randrange(256)
        try:
            for member in listing(fmt, bytes(bad)).members:
                if member.opener:
                    member.opener().read()
        except FirmwareError:
            pass
