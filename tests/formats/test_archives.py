"""Archive containers: tar, cpio, zip and ar.

tar and zip archives are written in-test with the stdlib; cpio (newc, crc, odc, binary), sparse
tar members, bsdtar xattrs and ar archives come from the real tools via
tests/fixtures/formats/make_archives.sh (arc-* fixtures).
"""

from __future__ import annotations

import io
import os
import struct
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded, NotThisFormat
from netvet.firmware.formats import ar, cpio, tar
from netvet.firmware.formats import zip as zipfmt
from netvet.firmware.formats.base import PROBE_SIZE, Container
from netvet.firmware.limits import Limits
from netvet.firmware.model import Field, Kind, Listing, Member, Rule

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
EPOCH = 1700000000
CAP = b"\x01\x00\x00\x02\x00\x20\x00\x00" + b"\x00" * 12  # security.capability, not UTF-8
BUSYBOX = b"busybox multi-call binary\n"
PASSWD = b"root:x:0:0:root:/root:/bin/sh\n"


_CONTEXTS: list[WalkContext] = []


@pytest.fixture(autouse=True)
def _close_contexts() -> Iterator[None]:
    """Listings read members after `list()` returns, so their context stays open until here."""
    yield
    while _CONTEXTS:
        _CONTEXTS.pop().close()


def listing(fmt: Container, data: bytes) -> Listing:
    ctx = WalkContext(Limits())
    _CONTEXTS.append(ctx)
    assert fmt.probe(data[:PROBE_SIZE], len(data))
    return fmt.list(io.BytesIO(data), len(data), ctx)


def by_name(lst: Listing) -> dict[str, Member]:
    return {m.name: m for m in lst.members}


def content(m: Member) -> bytes:
    assert m.opener is not None
    with m.opener() as f:
        return f.read()


def fixture(name: str) -> bytes:
    return (FIX / name).read_bytes()


# -- tar -----------------------------------------------------------------------------------------
def make_tar(entries: list[tuple[tarfile.TarInfo, bytes]], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for info, data in entries:
            info.size = len(data) if info.isreg() else 0
            tf.addfile(info, io.BytesIO(data) if info.isreg() else None)
    return buf.getvalue()


def info(
    name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, **kw: object
) -> tarfile.TarInfo:
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = kind, mode, EPOCH
    for key, value in kw.items():
        setattr(ti, key, value)
    return ti


ROOTFS = [
    (info("bin", tarfile.DIRTYPE, 0o755), b""),
    (info("bin/busybox", mode=0o4755), BUSYBOX),
    (info("bin/sh", tarfile.SYMTYPE, 0o777, linkname="busybox"), b""),
    (info("bin/su", tarfile.LNKTYPE, 0o4755, linkname="bin/busybox"), b""),
    (info("etc/passwd", mode=0o640, uid=1000, gid=1001, uname="x", gname="y"), PASSWD),
    (info("dev/console", tarfile.CHRTYPE, 0o600, devmajor=5, devminor=1), b""),
    (info("dev/mtdblock0", tarfile.BLKTYPE, 0o660, devmajor=31, devminor=0), b""),
    (info("dev/initctl", tarfile.FIFOTYPE, 0o600), b""),
    (info("sbin/ping", mode=0o755, pax_headers={"SCHILY.xattr.security.capability":
                                                 CAP.decode("utf-8", "surrogateescape")}),
     b"ping\n"),
]  # fmt: skip


@pytest.mark.parametrize("fmt", [tarfile.PAX_FORMAT, tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT])
def test_tar_members_and_metadata(fmt: int) -> None:
    entries = ROOTFS if fmt == tarfile.PAX_FORMAT else ROOTFS[:-1]
    got = by_name(listing(tar.FORMAT, make_tar(entries, fmt)))
    assert content(got["bin/busybox"]) == BUSYBOX
    assert got["bin/busybox"].meta.mode == 0o4755
    assert got["bin/busybox"].meta.mtime == EPOCH
    assert got["bin/sh"].kind is Kind.SYMLINK and got["bin/sh"].meta.target == "busybox"
    assert got["bin/su"].kind is Kind.HARDLINK and got["bin/su"].meta.target == "bin/busybox"
    passwd = got["etc/passwd"]
    assert (passwd.meta.uid, passwd.meta.gid, passwd.meta.mode) == (1000, 1001, 0o640)
    assert content(passwd) == PASSWD and passwd.size == len(PASSWD)
    assert got["dev/console"].kind is Kind.CHAR and got["dev/console"].meta.rdev == (5, 1)
    assert got["dev/mtdblock0"].kind is Kind.BLOCK and got["dev/mtdblock0"].meta.rdev == (31, 0)
    assert got["dev/initctl"].kind is Kind.FIFO
    assert got["bin"].kind is Kind.DIR and got["bin"].meta.mode == 0o755


def test_tar_pax_xattr_bytes_survive() -> None:
    got = by_name(listing(tar.FORMAT, make_tar(ROOTFS)))
    assert got["sbin/ping"].meta.xattrs == (("security.capability", CAP),)
    assert content(got["sbin/ping"]) == b"ping\n"


def test_tar_libarchive_xattrs_from_bsdtar() -> None:
    got = by_name(listing(tar.FORMAT, fixture("arc-xattr-bsdtar.tar")))
    assert got["ping"].meta.xattrs == (("user.netvet", b"reviewed"),)


def test_tar_disagreeing_libarchive_xattr_stays_visible() -> None:
    pax = {"SCHILY.xattr.user.a": "one", "LIBARCHIVE.xattr.user.a": "dHdv"}  # base64 "two"
    got = by_name(listing(tar.FORMAT, make_tar([(info("f", pax_headers=pax), b"x")])))
    assert got["f"].meta.xattrs == (("user.a", b"one"), ("user.a (LIBARCHIVE)", b"two"))


@pytest.mark.parametrize("name", ["arc-sparse-gnu.tar", "arc-sparse-pax.tar"])
def test_tar_sparse_members_expand_through_the_context(name: str) -> None:
    data = fixture(name)
    with WalkContext(Limits()) as ctx:
        lst = tar.FORMAT.list(io.BytesIO(data), len(data), ctx)
        disk = by_name(lst)["disk.img"]
        body = content(disk)
        assert ctx.expanded == 1 << 20  # charged like decompressed bytes
    assert disk.size == len(body) == 1 << 20
    assert body[4096:4108] == b"first extent"
    assert body[786432:786445] == b"second extent"
    assert body.count(0) == len(body) - len("first extent") - len("second extent")


def test_tar_sparse_hole_bomb_hits_the_ratio_limit() -> None:
    data = bytearray(fixture("arc-sparse-gnu.tar"))
    data[483:495] = b"%011o\0" % (1 << 34)  # GNU sparse real size: now 16 GiB of holes
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    with WalkContext(Limits()) as ctx:
        member = tar.FORMAT.list(io.BytesIO(bytes(data)), len(data), ctx).members[0]
        assert member.size == 1 << 34
        with pytest.raises(LimitExceeded, match="max-ratio"):
            content(member)
        assert ctx.expanded < 32 << 20


def test_tar_record_padding_is_not_trailing_but_garbage_is() -> None:
    data = make_tar(ROOTFS)
    assert len(data) % tar.RECORD == 0
    assert listing(tar.FORMAT, data).trailing is None
    lst = listing(tar.FORMAT, data + b"GARBAGE")
    assert lst.trailing == (len(data), 7)


def test_tar_member_hidden_after_end_marker_is_trailing() -> None:
    first = make_tar([(info("a"), b"visible")])
    hidden = make_tar([(info("b"), b"hidden")])
    lst = listing(tar.FORMAT, first + hidden)
    assert [m.name for m in lst.members] == ["a"]
    assert lst.trailing == (len(first), len(hidden))


def test_tar_without_end_marker_is_noted() -> None:
    data = make_tar([(info("a"), b"x" * 10)])
    cut = data[:1024]  # header + one data block, no zero blocks
    lst = listing(tar.FORMAT, cut)
    assert content(lst.members[0]) == b"x" * 10
    assert any("end-of-archive" in n for n in lst.notes)


def test_tar_truncated_member_is_corrupt() -> None:
    data = make_tar([(info("big"), os.urandom(5000))], tarfile.USTAR_FORMAT)
    with pytest.raises(CorruptContainer, match="truncated"):
        listing(tar.FORMAT, data[:2048])


def test_tar_traversal_names_are_cleaned_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    data = make_tar([(info("../../etc/passwd"), b"evil"), (info("/etc/shadow"), b"evil2")])
    lst = listing(tar.FORMAT, data)
    got = by_name(lst)
    assert set(got) == {"%2E%2E/%2E%2E/etc/passwd", "etc/shadow"}
    assert content(got["%2E%2E/%2E%2E/etc/passwd"]) == b"evil"
    assert len([n for n in lst.notes if "leaves the archive" in n]) == 2
    assert list(tmp_path.iterdir()) == []


def test_tar_hostile_pax_header_size_is_refused() -> None:
    header = info("PaxHeader", tarfile.XHDTYPE)
    header.size = 1 << 30  # a 1 GiB pax header tarfile would read into memory
    block = header.tobuf(tarfile.USTAR_FORMAT)
    data = block + b"x" * 4096
    with pytest.raises(CorruptContainer):
        listing(tar.FORMAT, data)


def test_tar_v7_header_is_probed_by_checksum() -> None:
    data = bytearray(make_tar([(info("a"), b"v7 member")], tarfile.USTAR_FORMAT))
    data[257:265] = bytes(8)  # drop the ustar magic and version
    data[148:156] = b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    got = listing(tar.FORMAT, bytes(data))
    assert content(by_name(got)["a"]) == b"v7 member"
    assert not tar.FORMAT.probe(bytes(512), 512)
    assert not tar.FORMAT.probe(os.urandom(512), 512)


def test_tar_member_count_is_bounded() -> None:
    data = make_tar([(info(f"f{i}"), b"") for i in range(20)])
    with WalkContext(Limits(max_entries=10)) as ctx, pytest.raises(LimitExceeded):
        tar.FORMAT.list(io.BytesIO(data), len(data), ctx)


# -- cpio ----------------------------------------------------------------------------------------
CPIO_FORMATS = ["newc", "crc", "odc", "bin"]


@pytest.mark.parametrize("fmt", CPIO_FORMATS)
def test_cpio_fixture_members_and_metadata(fmt: str) -> None:
    lst = listing(cpio.FORMAT, fixture(f"arc-root.{fmt}.cpio"))
    got = by_name(lst)
    assert set(got) == {
        ".", "bin", "bin/busybox", "bin/sh", "bin/su", "dev", "dev/console", "dev/initctl",
        "dev/mtdblock0", "etc", "etc/passwd",
    }  # fmt: skip
    assert lst.trailing is None
    variant = {"bin": "bin-le"}.get(fmt, fmt)
    assert lst.fields == (Field("variant", variant, Rule.LAYOUT),)
    # Hard links: both names are files with the content (newc stores it on the last link only).
    for name in ("bin/busybox", "bin/su"):
        assert got[name].kind is Kind.FILE and content(got[name]) == BUSYBOX
        assert got[name].meta.mode == 0o4755
    assert got["bin/sh"].kind is Kind.SYMLINK and got["bin/sh"].meta.target == "busybox"
    passwd = got["etc/passwd"].meta
    assert (passwd.uid, passwd.gid, passwd.mode, passwd.mtime) == (1000, 1001, 0o640, EPOCH)
    assert content(got["etc/passwd"]) == PASSWD
    assert got["dev/console"].kind is Kind.CHAR and got["dev/console"].meta.rdev == (5, 1)
    assert got["dev/mtdblock0"].kind is Kind.BLOCK and got["dev/mtdblock0"].meta.rdev == (31, 0)
    assert got["dev/initctl"].kind is Kind.FIFO
    assert got["."].kind is Kind.DIR


def newc(name: bytes, data: bytes = b"", mode: int = 0o100644, namesize: int | None = None,
         filesize: int | None = None, ino: int = 1, nlink: int = 1) -> bytes:  # fmt: skip
    """One newc entry, for hostile headers the real tool would never write."""
    nsize = len(name) + 1 if namesize is None else namesize
    fields = [ino, mode, 0, 0, nlink, EPOCH, len(data) if filesize is None else filesize,
              0, 0, 0, 0, nsize, 0]  # fmt: skip
    head = b"070701" + b"".join(b"%08X" % v for v in fields) + name + b"\0"
    head += b"\0" * (-len(head) % 4)
    return head + data + b"\0" * (-len(data) % 4)


TRAILER = newc(b"TRAILER!!!", ino=0)


def test_cpio_trailing_after_block_padding() -> None:
    data = fixture("arc-root.newc.cpio")
    lst = listing(cpio.FORMAT, data + b"GARBAGE")
    assert lst.trailing == (len(data), 7)
    short = newc(b"a", b"x") + TRAILER  # not padded to 512 bytes by its writer
    assert listing(cpio.FORMAT, short + b"\xff").trailing == (len(short), 1)


def test_cpio_concatenated_archives_like_an_initramfs() -> None:
    early = newc(b"kernel/x86/microcode/GenuineIntel.bin", b"ucode") + TRAILER
    early += b"\0" * (-len(early) % 512)
    lst = listing(cpio.FORMAT, early + fixture("arc-root.newc.cpio"))
    got = by_name(lst)
    assert content(got["kernel/x86/microcode/GenuineIntel.bin"]) == b"ucode"
    assert content(got["bin/su"]) == BUSYBOX
    assert lst.trailing is None
    assert "2 concatenated cpio archives" in lst.notes


def test_cpio_big_endian_binary() -> None:
    def entry(name: bytes, data: bytes, mode: int) -> bytes:
        nsize = len(name) + 1
        words = (0o070707, 0, 7, mode, 1000, 1001, 1, 0, EPOCH >> 16, EPOCH & 0xFFFF, nsize,
                 len(data) >> 16, len(data) & 0xFFFF)  # fmt: skip
        out = struct.pack(">13H", *words) + name + b"\0" + b"\0" * (nsize & 1)
        return out + data + b"\0" * (len(data) & 1)

    data = entry(b"bin/busybox", BUSYBOX, 0o104755) + entry(b"TRAILER!!!", b"", 0)
    lst = listing(cpio.FORMAT, data)
    assert lst.fields == (Field("variant", "bin-be", Rule.LAYOUT),)
    got = by_name(lst)
    assert content(got["bin/busybox"]) == BUSYBOX
    meta = got["bin/busybox"].meta
    assert (meta.mode, meta.uid, meta.gid, meta.mtime) == (0o4755, 1000, 1001, EPOCH)


def test_cpio_name_size_beyond_stream_is_corrupt() -> None:
    data = newc(b"a", namesize=0x7FFFFFFF) + TRAILER
    with pytest.raises(CorruptContainer, match="name"):
        listing(cpio.FORMAT, data)


def test_cpio_name_longer_than_path_max_is_corrupt() -> None:
    data = newc(b"a" * 5000) + TRAILER
    with pytest.raises(CorruptContainer):
        listing(cpio.FORMAT, data)


def test_cpio_file_size_beyond_stream_is_corrupt() -> None:
    data = newc(b"a", b"xy", filesize=1 << 30) + TRAILER
    with pytest.raises(CorruptContainer):
        listing(cpio.FORMAT, data)


def test_cpio_missing_trailer_is_corrupt() -> None:
    with pytest.raises(CorruptContainer):
        listing(cpio.FORMAT, newc(b"a", b"xy"))


def test_cpio_bad_hex_header_is_corrupt() -> None:
    data = bytearray(newc(b"a", b"xy") + TRAILER)
    data[10] = ord("g")
    with pytest.raises(CorruptContainer, match="bad newc header"):
        listing(cpio.FORMAT, bytes(data))


def test_cpio_crc_format_checksum_is_verified() -> None:
    for fmt, corrupt in (("crc", True), ("newc", False)):
        data = bytearray(fixture(f"arc-root.{fmt}.cpio"))
        at = data.index(PASSWD)
        data[at] ^= 0x01
        if corrupt:
            with pytest.raises(CorruptContainer, match="checksum"):
                listing(cpio.FORMAT, bytes(data))
        else:  # newc has no checksum: the change shows up as content
            assert content(by_name(listing(cpio.FORMAT, bytes(data)))["etc/passwd"]) != PASSWD


def test_cpio_traversal_names_are_cleaned() -> None:
    data = newc(b"../../etc/passwd", b"evil") + newc(b"/abs", b"x") + TRAILER
    lst = listing(cpio.FORMAT, data)
    assert [m.name for m in lst.members] == ["%2E%2E/%2E%2E/etc/passwd", "abs"]
    assert len([n for n in lst.notes if "leaves the archive" in n]) == 2


def test_cpio_hardlink_data_shared_across_names() -> None:
    data = (
        newc(b"a", mode=0o104755, ino=5, nlink=2)
        + newc(b"b", b"shared", mode=0o104755, ino=5, nlink=2)
        + TRAILER
    )
    got = by_name(listing(cpio.FORMAT, data))
    assert content(got["a"]) == content(got["b"]) == b"shared"


def test_cpio_binary_probe_needs_a_plausible_name() -> None:
    junk = b"\xc7\x71" + os.urandom(200)
    junk = junk[:20] + struct.pack("<H", 3000) + junk[22:]
    assert not cpio.FORMAT.probe(junk, len(junk))


# -- zip -----------------------------------------------------------------------------------------
def zinfo(name: str, mode: int | None = None, system: int = 3) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=(2023, 11, 14, 22, 13, 20))
    zi.create_system = system
    if mode is not None:
        zi.external_attr = mode << 16
    zi.compress_type = zipfile.ZIP_DEFLATED
    return zi


def make_zip(entries: list[tuple[zipfile.ZipInfo, bytes]], comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for zi, data in entries:
            zf.writestr(zi, data)
        zf.comment = comment
    return buf.getvalue()


def test_zip_members_modes_and_links() -> None:
    owner = zinfo("etc/passwd", 0o100640)
    owner.extra = struct.pack("<HHBBIBI", 0x7875, 11, 1, 4, 1000, 4, 1001)
    stored = zinfo("bin/busybox", 0o104755)
    stored.compress_type = zipfile.ZIP_STORED
    xz = zinfo("data/big.txt", 0o100644)
    xz.compress_type = zipfile.ZIP_LZMA
    bz = zinfo("data/big.bz", 0o100644)
    bz.compress_type = zipfile.ZIP_BZIP2
    data = make_zip([
        (zinfo("bin/", 0o40755), b""),
        (stored, BUSYBOX),
        (zinfo("bin/sh", 0o120777), b"busybox"),
        (owner, PASSWD),
        (zinfo("README.TXT", system=0), b"dos"),
        (xz, PASSWD * 1000),
        (bz, PASSWD * 1000),
    ])  # fmt: skip
    got = by_name(listing(zipfmt.FORMAT, data))
    assert got["bin"].kind is Kind.DIR and got["bin"].meta.mode == 0o755
    assert content(got["bin/busybox"]) == BUSYBOX and got["bin/busybox"].meta.mode == 0o4755
    assert got["bin/sh"].kind is Kind.SYMLINK and got["bin/sh"].meta.target == "busybox"
    assert (got["etc/passwd"].meta.uid, got["etc/passwd"].meta.gid) == (1000, 1001)
    assert content(got["etc/passwd"]) == PASSWD
    assert got["README.TXT"].meta.mode is None
    assert got["README.TXT"].meta.mtime == EPOCH
    assert content(got["data/big.txt"]) == content(got["data/big.bz"]) == PASSWD * 1000


def test_zip_bomb_stops_at_the_ratio_limit() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf, zf.open("zeros", "w") as f:
        for _ in range(64):  # 64 MiB of zeros, written chunk by chunk
            f.write(bytes(1 << 20))
    data = buf.getvalue()
    with WalkContext(Limits(max_ratio=100)) as ctx:
        member = zipfmt.FORMAT.list(io.BytesIO(data), len(data), ctx).members[0]
        with pytest.raises(LimitExceeded, match="max-ratio"):
            content(member)
        assert ctx.expanded < 8 << 20


def test_zip_bzip2_bomb_is_bounded_too() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_BZIP2) as zf, zf.open("zeros", "w") as f:
        for _ in range(64):
            f.write(bytes(1 << 20))
    data = buf.getvalue()
    with WalkContext(Limits()) as ctx:
        member = zipfmt.FORMAT.list(io.BytesIO(data), len(data), ctx).members[0]
        with pytest.raises(LimitExceeded):
            content(member)
        assert ctx.expanded < 16 << 20


def test_zip_overlapping_entries_are_corrupt() -> None:
    data = make_zip([(zinfo("a", 0o100644), b"payload " * 100)])
    cd = data.index(b"PK\x01\x02")
    eocd = data.index(b"PK\x05\x06")
    entry = data[cd:eocd]
    # A second central entry pointing at the same local header ("overlapped files" bomb).
    tail = bytearray(data[eocd:])
    struct.pack_into("<HHI", tail, 8, 2, 2, len(entry) * 2)
    with pytest.raises(CorruptContainer, match="overlaps"):
        listing(zipfmt.FORMAT, data[:cd] + entry + entry + bytes(tail))


def test_zip_local_name_mismatch_is_corrupt() -> None:
    data = bytearray(make_zip([(zinfo("good", 0o100644), b"x")]))
    data[30:34] = b"evil"  # the local header's copy of the name
    with pytest.raises(CorruptContainer, match="differs"):
        listing(zipfmt.FORMAT, bytes(data))


def test_zip_trailing_after_comment_and_prefix_region() -> None:
    data = make_zip([(zinfo("a", 0o100644), b"x")], comment=b"hello")
    lst = listing(zipfmt.FORMAT, data + b"JUNK")
    assert lst.trailing == (len(data), 4)
    assert [(f.name, f.rule) for f in lst.fields] == [("comment", Rule.STRICT)]
    assert listing(zipfmt.FORMAT, data).trailing is None
    # A self-extractor stub before the archive: zipfile accepts it; it is listed as a region.
    buf = io.BytesIO(b"#!/bin/sh\nexit 0\n")
    buf.seek(0, io.SEEK_END)
    with zipfile.ZipFile(buf, "a") as zf:
        zf.writestr(zinfo("a", 0o100644), b"x")
    sfx = buf.getvalue()
    with WalkContext(Limits()) as ctx:
        got = by_name(zipfmt.FORMAT.list(io.BytesIO(sfx), len(sfx), ctx))
        assert got["[zip prefix]"].kind is Kind.REGION
        assert content(got["[zip prefix]"]) == b"#!/bin/sh\nexit 0\n"
        assert content(got["a"]) == b"x"


class _Unseekable(io.RawIOBase):
    """A pipe-like sink: zipfile then writes data descriptors after each member."""

    def __init__(self) -> None:
        super().__init__()
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


@pytest.mark.parametrize("zip64", [False, True])
def test_zip_streamed_with_data_descriptors(zip64: bool) -> None:
    sink = _Unseekable()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in ("a", "b", "c"):
            with zf.open(name, "w", force_zip64=zip64) as f:
                f.write(name.encode() * 1000)
    lst = listing(zipfmt.FORMAT, bytes(sink.data))
    assert [(m.name, m.kind) for m in lst.members] == [(n, Kind.FILE) for n in "abc"]
    assert content(lst.members[1]) == b"b" * 1000
    assert lst.trailing is None


def test_zip_truncated_is_corrupt() -> None:
    data = make_zip([(zinfo("a", 0o100644), os.urandom(3000))])
    with pytest.raises(CorruptContainer):
        listing(zipfmt.FORMAT, data[:2000])


def test_zip_crc_error_is_corrupt_at_read_time() -> None:
    zi = zinfo("a", 0o100644)
    zi.compress_type = zipfile.ZIP_STORED
    data = bytearray(make_zip([(zi, b"original content")]))
    data[data.index(b"original")] ^= 0x01
    lst = listing(zipfmt.FORMAT, bytes(data))
    with pytest.raises(CorruptContainer, match="CRC"):
        content(lst.members[0])


def test_zip_traversal_names_are_cleaned() -> None:
    data = make_zip([(zinfo("../../etc/passwd", 0o100644), b"evil")])
    lst = listing(zipfmt.FORMAT, data)
    assert [m.name for m in lst.members] == ["%2E%2E/%2E%2E/etc/passwd"]
    assert any("leaves the archive" in n for n in lst.notes)


def test_zip_probe_and_decline() -> None:
    assert not zipfmt.FORMAT.probe(b"not a zip", 9)
    with WalkContext(Limits()) as ctx, pytest.raises(NotThisFormat):
        zipfmt.FORMAT.list(io.BytesIO(b"PK\x05\x06garbage"), 11, ctx)


# -- ar ------------------------------------------------------------------------------------------
LONG = "a-rather-long-member-name.txt"


def test_ar_gnu_symbol_table_and_long_names() -> None:
    lst = listing(ar.FORMAT, fixture("arc-gnu.a"))
    got = by_name(lst)
    assert [m.name for m in lst.members] == ["netvet.o", "short.txt", LONG]  # "/" and "//" skipped
    assert content(got["netvet.o"]).startswith(b"\x7fELF")
    assert content(got[LONG]) == b"a member whose name needs the long-name table\n"
    short = got["short.txt"].meta
    assert (short.mode, short.uid, short.gid, short.mtime) == (0o4750, 1000, 1001, EPOCH)
    assert content(got["short.txt"]) == b"short member\n"
    assert lst.trailing is None


def test_ar_bsd_long_names() -> None:
    got = by_name(listing(ar.FORMAT, fixture("arc-bsd.a")))
    assert set(got) == {"short.txt", LONG}
    assert content(got[LONG]) == b"a member whose name needs the long-name table\n"
    assert got[LONG].size == len(content(got[LONG]))


def test_ar_trailing_and_truncation() -> None:
    data = fixture("arc-gnu.a")
    assert listing(ar.FORMAT, data + b"junk").trailing == (len(data), 4)
    with pytest.raises(CorruptContainer, match="past the end"):
        listing(ar.FORMAT, data[:-20])


def test_ar_bad_numeric_field_is_corrupt() -> None:
    header = b"name/".ljust(16) + b"0".ljust(12) + b"0".ljust(6) + b"0".ljust(6)
    header += b"999".ljust(8) + b"1".ljust(10) + b"`\n"  # mode 999 is not octal
    with pytest.raises(CorruptContainer, match="mode"):
        listing(ar.FORMAT, ar.MAGIC + header + b"x\n")
