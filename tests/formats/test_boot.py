"""Boot and flash formats: legacy uImage, FDT/FIT and raw flash dumps.

The fixtures were made by tests/fixtures/formats/make_boot.sh with mkimage, dtc, mksquashfs,
mkfs.jffs2, ubinize, mkfs.cramfs and mke2fs; hostile inputs are built here byte by byte.
"""

from __future__ import annotations

import io
import lzma
import random
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from netvet.firmware import compare
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer, LimitExceeded, NotThisFormat
from netvet.firmware.formats import fdt, flash, uimage
from netvet.firmware.formats.base import Container
from netvet.firmware.limits import Limits
from netvet.firmware.model import Kind, Listing, Member, Rule
from netvet.firmware.result import Status, Verdict

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "formats"
FIRMWARE_ERRORS = (CorruptContainer, LimitExceeded, NotThisFormat)


@pytest.fixture
def ctx() -> Iterator[WalkContext]:
    with WalkContext(Limits()) as c:
        yield c


def data(name: str) -> bytes:
    return (FIX / name).read_bytes()


def listing(fmt: Container, blob: bytes, ctx: WalkContext) -> Listing:
    assert fmt.probe(blob[:4096], len(blob))
    return fmt.list(io.BytesIO(blob), len(blob), ctx)


def fields(lst: Listing) -> dict[str, tuple[str, Rule]]:
    return {f.name: (f.value, f.rule) for f in lst.fields}


def members(lst: Listing) -> dict[str, Member]:
    return {m.name: m for m in lst.members}


def content(m: Member) -> bytes:
    assert m.opener is not None
    with m.opener() as s:
        return s.read()


# -- uImage -----------------------------------------------------------------------------------
def make_uimage(payload: bytes, typ: int = 2, name: bytes = b"test", os_: int = 5) -> bytes:
    """A legacy uImage with correct CRCs, the way mkimage writes one."""
    dcrc = zlib.crc32(payload)
    head = struct.pack(
        ">7I4B32s",
        0x27051956,
        0,
        1700000000,
        len(payload),
        0x80008000,
        0x80008000,
        dcrc,
        os_,
        2,
        typ,
        0,
        name,
    )
    head = head[:4] + struct.pack(">I", zlib.crc32(head)) + head[8:]
    return head + payload


def test_uimage_gzip_kernel_fields_and_payload(ctx: WalkContext) -> None:
    blob = data("boot-uimage-gzip.uimg")
    lst = listing(uimage.FORMAT, blob, ctx)
    f = fields(lst)
    assert lst.format == "uimage"
    assert f["timestamp"] == ("2023-11-14T22:13:20Z", Rule.TIMESTAMP)
    for derived in ("header_crc", "data_crc", "data_size"):
        assert f[derived][1] is Rule.DERIVED
    assert f["data_size"][0] == str(len(blob) - 64)
    assert f["crc_valid"] == ("true", Rule.STRICT)
    assert f["load_address"] == ("0x80008000", Rule.STRICT)
    assert f["entry_point"] == ("0x80008000", Rule.STRICT)
    assert f["os"] == ("linux", Rule.STRICT)
    assert f["arch"] == ("arm", Rule.STRICT)
    assert f["type"] == ("kernel", Rule.STRICT)
    assert f["compression"] == ("gzip", Rule.STRICT)
    assert f["name"] == ("netvet test kernel", Rule.STRICT)
    (payload,) = lst.members
    assert (payload.name, payload.kind, payload.offset, payload.size) == (
        "payload",
        Kind.FILE,
        64,
        len(blob) - 64,
    )
    assert content(payload) == blob[64:]
    assert content(payload).startswith(b"\x1f\x8b\x08")
    assert lst.trailing is None


def test_uimage_plain_kernel(ctx: WalkContext) -> None:
    lst = listing(uimage.FORMAT, data("boot-uimage-none.uimg"), ctx)
    f = fields(lst)
    assert f["compression"][0] == "none"
    assert f["entry_point"][0] == "0x80008040"
    assert content(members(lst)["payload"]).startswith(b"kernel line 1\nkernel line 2\n")


def test_uimage_multi_lists_each_part(ctx: WalkContext) -> None:
    blob = data("boot-uimage-multi.uimg")
    lst = listing(uimage.FORMAT, blob, ctx)
    m = members(lst)
    assert list(m) == ["payload/0", "payload/1"]
    assert fields(lst)["type"][0] == "multi"
    assert fields(lst)["part_padding"] == ("zero", Rule.STRICT)
    # header 64 + size table (2 sizes + terminator) 12; the 1235-byte part is padded to 1236
    assert (m["payload/0"].offset, m["payload/0"].size) == (76, 1235)
    assert m["payload/1"].offset == 76 + 1236
    assert content(m["payload/0"]).endswith(b"333\ninitrd end\n")
    assert content(m["payload/1"]) == content(
        members(listing(uimage.FORMAT, data("boot-uimage-gzip.uimg"), ctx))["payload"]
    )


def test_uimage_flipped_payload_byte_fails_data_crc(ctx: WalkContext) -> None:
    blob = bytearray(data("boot-uimage-gzip.uimg"))
    blob[200] ^= 0x01
    lst = listing(uimage.FORMAT, bytes(blob), ctx)
    assert fields(lst)["crc_valid"] == ("false", Rule.STRICT)
    assert any("data CRC" in n for n in lst.notes)


def test_uimage_flipped_header_byte_fails_header_crc(ctx: WalkContext) -> None:
    blob = bytearray(data("boot-uimage-gzip.uimg"))
    blob[32] ^= 0x20  # first byte of ih_name
    lst = listing(uimage.FORMAT, bytes(blob), ctx)
    assert fields(lst)["crc_valid"][0] == "false"
    assert fields(lst)["name"][0] == "Netvet test kernel"
    assert any("header CRC" in n for n in lst.notes)


def test_uimage_truncated_and_bogus(ctx: WalkContext) -> None:
    blob = data("boot-uimage-gzip.uimg")
    with pytest.raises(CorruptContainer, match="truncated"):
        listing(uimage.FORMAT, blob[:-1], ctx)
    bogus = bytearray(blob[:-1])
    bogus[4] ^= 0xFF  # bad header CRC and an impossible size: not a uImage at all
    with pytest.raises(NotThisFormat):
        listing(uimage.FORMAT, bytes(bogus), ctx)
    with pytest.raises(NotThisFormat):
        uimage.FORMAT.list(io.BytesIO(blob[:40]), 40, ctx)


def test_uimage_trailing_bytes(ctx: WalkContext) -> None:
    blob = data("boot-uimage-gzip.uimg")
    lst = listing(uimage.FORMAT, blob + b"\xff" * 100, ctx)
    assert lst.trailing == (len(blob), 100)
    # a big stream with erased flash after the image is still the image plus padding...
    big = blob + b"\xff" * (70 << 10)
    assert listing(uimage.FORMAT, big, ctx).trailing == (len(blob), 70 << 10)
    # ...but with data after it, it is a flash dump: leave it to the flash scanner
    with pytest.raises(NotThisFormat, match="flash"):
        listing(uimage.FORMAT, big + b"data", ctx)


def test_uimage_unknown_codes_and_hidden_name_bytes(ctx: WalkContext) -> None:
    blob = make_uimage(b"x" * 10, name=b"kernel\0hidden", os_=200)
    f = fields(listing(uimage.FORMAT, blob, ctx))
    assert f["os"][0] == "unknown (200)"
    assert f["name"][0] == "kernel\\x00hidden"
    assert f["crc_valid"][0] == "true"


def test_uimage_multi_slack_and_hostile_tables(ctx: WalkContext) -> None:
    parts = struct.pack(">III", 3, 2, 0) + b"abc\x07de" + b"tail"
    lst = listing(uimage.FORMAT, make_uimage(parts, typ=4), ctx)
    m = members(lst)
    assert content(m["payload/0"]) == b"abc"
    assert content(m["payload/1"]) == b"de"
    assert fields(lst)["part_padding"][0] == "07"  # nonzero alignment byte is shown
    assert (m["payload/tail"].kind, content(m["payload/tail"])) == (Kind.REGION, b"tail")
    with pytest.raises(CorruptContainer, match="no end"):
        listing(uimage.FORMAT, make_uimage(struct.pack(">II", 4, 4), typ=4), ctx)
    with pytest.raises(CorruptContainer, match="runs past"):
        listing(uimage.FORMAT, make_uimage(struct.pack(">II", 99, 0) + b"ab", typ=4), ctx)


# -- FDT and FIT ------------------------------------------------------------------------------
def test_dtb_nodes_properties_and_header(ctx: WalkContext) -> None:
    blob = data("boot.dtb")
    lst = listing(fdt.FORMAT, blob, ctx)
    f, m = fields(lst), members(lst)
    assert lst.format == "fdt"
    assert f["version"] == ("17", Rule.STRICT)
    assert f["last_comp_version"] == ("16", Rule.STRICT)
    assert f["boot_cpuid"] == ("0", Rule.STRICT)
    assert f["memreserve"] == ("0x10000000+0x4000", Rule.STRICT)
    assert f["totalsize"] == (str(len(blob)), Rule.LAYOUT)
    for name in (
        "off_dt_struct",
        "off_dt_strings",
        "off_mem_rsvmap",
        "size_dt_struct",
        "size_dt_strings",
    ):
        assert f[name][1] is Rule.LAYOUT
    assert f["unreferenced_strings"][0] == "none"
    assert f["struct_padding"][0] == "zero"
    dirs = [k for k, v in m.items() if v.kind is Kind.DIR]
    assert dirs == ["chosen", "memory@80000000", "soc", "soc/serial@1000"]
    assert content(m["model"]) == b"netvet test board\0"
    assert content(m["chosen/bootargs"]).startswith(b"console=ttyS0,115200 root=/dev/mtdblock2")
    assert content(m["soc/serial@1000/reg"]) == struct.pack(">II", 0x1000, 0x100)
    assert content(m["soc/ranges"]) == b""
    assert m["soc/serial@1000/compatible"].kind is Kind.FILE
    assert {k for k, v in m.items() if v.kind is Kind.REGION} == {
        "~slack/after-header",
        "~slack/after-memreserve",
        "~slack/after-struct",
        "~slack/after-strings",
    }
    assert lst.trailing is None


def test_fit_embedded_images(ctx: WalkContext) -> None:
    lst = listing(fdt.FORMAT, data("boot-fit.itb"), ctx)
    f, m = fields(lst), members(lst)
    assert lst.format == "fit"
    assert f["timestamp"] == ("2023-11-14T22:13:20Z", Rule.TIMESTAMP)
    assert "timestamp" not in m
    kernel = content(members(listing(uimage.FORMAT, data("boot-uimage-gzip.uimg"), ctx))["payload"])
    assert content(m["images/kernel-1/data"]) == kernel
    assert content(m["images/fdt-1/data"]) == data("boot.dtb")
    assert len(content(m["images/kernel-1/hash-2/value"])) == 32
    assert content(m["images/kernel-1/hash-1/value"]) == struct.pack(">I", zlib.crc32(kernel))
    assert content(m["configurations/conf-1/kernel"]) == b"kernel-1\0"
    slack = content(m["~slack/after-strings"])  # mkimage leaves free space in the blob
    assert slack and not slack.strip(b"\0")


def test_fit_external_data(ctx: WalkContext) -> None:
    blob = data("boot-fit-external.itb")
    lst = listing(fdt.FORMAT, blob, ctx)
    f, m = fields(lst), members(lst)
    assert lst.format == "fit"
    kernel = content(
        members(listing(fdt.FORMAT, data("boot-fit.itb"), ctx))["images/kernel-1/data"]
    )
    assert content(m["images/kernel-1/data"]) == kernel
    assert content(m["images/fdt-1/data"]) == data("boot.dtb")
    assert m["images/fdt-1/data"].offset == len(blob) - len(data("boot.dtb"))
    assert f["images/kernel-1/data-offset"] == ("0", Rule.LAYOUT)
    assert f["images/kernel-1/data-size"] == (str(len(kernel)), Rule.DERIVED)
    assert f["images/fdt-1/data-offset"] == (str((len(kernel) + 3) & ~3), Rule.LAYOUT)
    assert "images/kernel-1/data-offset" not in m
    assert content(m["images/fdt-1/~data-padding"]) == b"\0" * (-len(kernel) % 4)
    assert m["images/fdt-1/~data-padding"].kind is Kind.REGION
    assert f["unreferenced_strings"][0] == "'data'"  # mkimage -E deletes the data properties
    # mkimage -E leaves stale bytes in the alignment after the strings: not compared
    assert m["~slack/after-strings"].size == 0
    assert lst.trailing is None
    with pytest.raises(CorruptContainer, match="outside the image"):
        listing(fdt.FORMAT, blob[:-1], ctx)


def test_fit_external_data_at_fixed_positions(ctx: WalkContext) -> None:
    lst = listing(fdt.FORMAT, data("boot-fit-position.itb"), ctx)
    f, m = fields(lst), members(lst)
    assert f["images/kernel-1/data-position"] == ("4096", Rule.LAYOUT)
    assert m["images/kernel-1/data"].offset == 4096
    assert content(m["images/fdt-1/data"]) == data("boot.dtb")
    pad = m["images/kernel-1/~data-padding"]  # from the end of the tree to position 4096
    end = int(f["totalsize"][0])
    assert (pad.kind, pad.offset, pad.size) == (Kind.REGION, end, 4096 - end)
    assert not content(pad).strip(b"\0")


class Fdt:
    """Builds flattened device trees token by token, for the hostile cases."""

    def __init__(self) -> None:
        self.struct = b""
        self.strings = b""

    def begin(self, name: bytes) -> Fdt:
        raw = name + b"\0"
        self.struct += struct.pack(">I", 1) + raw + b"\0" * (-len(raw) % 4)
        return self

    def end(self) -> Fdt:
        self.struct += struct.pack(">I", 2)
        return self

    def prop(self, name: bytes, value: bytes, length: int | None = None) -> Fdt:
        off = self.strings.find(name + b"\0")
        if off < 0:
            off, self.strings = len(self.strings), self.strings + name + b"\0"
        n = len(value) if length is None else length
        self.struct += struct.pack(">III", 3, n, off) + value + b"\0" * (-len(value) % 4)
        return self

    def token(self, tag: int) -> Fdt:
        self.struct += struct.pack(">I", tag)
        return self

    def blob(self, rsv: bytes = b"\0" * 16, **patch: int) -> bytes:
        off_rsv = 40
        off_struct = off_rsv + len(rsv)
        off_strings = off_struct + len(self.struct)
        total = off_strings + len(self.strings)
        hdr = dict(
            magic=0xD00DFEED,
            totalsize=total,
            off_dt_struct=off_struct,
            off_dt_strings=off_strings,
            off_mem_rsvmap=off_rsv,
            version=17,
            last_comp_version=16,
            boot_cpuid=0,
            size_dt_strings=len(self.strings),
            size_dt_struct=len(self.struct),
        )
        hdr.update(patch)
        return struct.pack(">10I", *hdr.values()) + rsv + self.struct + self.strings


def good() -> Fdt:
    return (
        Fdt()
        .begin(b"")
        .prop(b"model", b"m\0")
        .begin(b"chosen")
        .prop(b"bootargs", b"console=ttyS0\0")
        .end()
        .end()
        .token(9)
    )


def test_builder_makes_a_valid_tree(ctx: WalkContext) -> None:
    m = members(listing(fdt.FORMAT, good().blob(), ctx))
    assert content(m["chosen/bootargs"]) == b"console=ttyS0\0"


@pytest.mark.parametrize(
    ("blob", "match"),
    [
        (good().blob(off_dt_struct=0x10000), "outside the blob"),
        (good().blob(off_dt_strings=0xFFFFFFF0), "outside the blob"),
        (good().blob(totalsize=0x10000), "does not fit"),
        (good().blob(size_dt_struct=0x10000), "outside the blob"),
        (good().blob(off_mem_rsvmap=44), "misaligned"),
        (good().blob(version=3, last_comp_version=2), "unsupported version"),
        (
            Fdt().begin(b"").prop(b"x", b"abcd", length=0xFFFFFFF0).end().token(9).blob(),
            "past the struct block",
        ),
        (Fdt().begin(b"").end().blob(), "leaves its block"),  # no FDT_END
        (Fdt().begin(b"").token(9).blob(), "inside a node"),
        (Fdt().token(9).blob(), "before the root"),
        (Fdt().begin(b"").end().end().token(9).blob(), "without a node"),
        (Fdt().begin(b"").end().begin(b"").end().token(9).blob(), "second root"),
        (Fdt().prop(b"x", b"").token(9).blob(), "outside any node"),
        (Fdt().begin(b"").token(7).blob(), "unknown token"),
        (Fdt().begin(b"").end().token(9).blob(rsv=b"\x01" * 32), "leaves its block"),
    ],
)
def test_hostile_fdt_is_corrupt(blob: bytes, match: str, ctx: WalkContext) -> None:
    with pytest.raises(CorruptContainer, match=match):
        listing(fdt.FORMAT, blob, ctx)


def test_endless_nesting_stops_at_the_depth_limit(ctx: WalkContext) -> None:
    tree = Fdt().begin(b"")
    for i in range(200):
        tree.begin(b"n%d" % i)
    with pytest.raises(CorruptContainer, match="deeper than 64"):
        listing(fdt.FORMAT, tree.blob(), ctx)
    ok = Fdt().begin(b"")
    for i in range(63):
        ok.begin(b"n%d" % i)
    for _ in range(64):
        ok.end()
    assert len(listing(fdt.FORMAT, ok.token(9).blob(), ctx).members) == 63 + 4


def test_bad_property_name_offset(ctx: WalkContext) -> None:
    tree = Fdt().begin(b"").prop(b"x", b"")
    tree.struct = tree.struct[:-4] + struct.pack(">I", 500)
    with pytest.raises(CorruptContainer, match="name offset"):
        listing(fdt.FORMAT, tree.end().token(9).blob(), ctx)


def test_hidden_bytes_and_hostile_names_show(ctx: WalkContext) -> None:
    tree = Fdt().begin(b"").begin(b"..").prop(b"a/b", b"x").begin(b"").end().end().end()
    tree.token(9)
    tree.struct = tree.struct.replace(b"x\0\0\0", b"xSEC")  # data in a value's alignment
    tree.strings += b"secret\0"  # a name no property uses
    lst = listing(fdt.FORMAT, tree.blob(), ctx)
    f, m = fields(lst), members(lst)
    assert f["struct_padding"][0] == "3 nonzero bytes"
    assert f["unreferenced_strings"][0] == "'secret'"
    assert "%2E%2E/a%2Fb" in m  # no traversal, no extra path level
    assert m["%2E%2E/%00"].kind is Kind.DIR  # an unnamed node stays a node of its own


def test_memreserve_and_trailing(ctx: WalkContext) -> None:
    rsv = struct.pack(">QQQQ", 0x1000, 0x2000, 0, 0)
    blob = good().blob(rsv=rsv)
    lst = listing(fdt.FORMAT, blob + b"\0" * 8, ctx)
    assert fields(lst)["memreserve"][0] == "0x1000+0x2000"
    assert lst.trailing == (len(blob), 8)
    big = blob + b"\xff" * (70 << 10)
    assert listing(fdt.FORMAT, big, ctx).trailing == (len(blob), 70 << 10)
    with pytest.raises(NotThisFormat, match="flash"):
        listing(fdt.FORMAT, big + b"data", ctx)


def test_every_truncation_of_a_dtb_is_a_firmware_error(ctx: WalkContext) -> None:
    blob = data("boot.dtb")
    for cut in range(len(blob)):
        with pytest.raises((CorruptContainer, NotThisFormat)):
            fdt.FORMAT.list(io.BytesIO(blob[:cut]), cut, ctx)


def test_random_corruption_never_escapes(ctx: WalkContext) -> None:
    rng = random.Random(1985)
    outcomes: set[str] = set()
    for blob in (data("boot.dtb"), data("boot-fit-external.itb")):
        for _ in range(300):
            bad = bytearray(blob)
            for _ in range(rng.randint(1, 4)):
                bad[rng.randrange(len(bad))] = rng.randrange(256)
            try:
                fdt.FORMAT.list(io.BytesIO(bytes(bad)), len(bad), ctx)
                outcomes.add("listed")
            except FIRMWARE_ERRORS as exc:
                outcomes.add(type(exc).__name__)
    assert {"listed", "CorruptContainer"} <= outcomes


# -- flash dumps ------------------------------------------------------------------------------
def layout(lst: Listing) -> list[tuple[str, Kind, int | None, int]]:
    return [(m.name, m.kind, m.offset, m.size) for m in lst.members]


def test_flash_dump_lists_images_and_gaps(ctx: WalkContext) -> None:
    blob = data("boot-flash.bin")
    ulen, flen = len(data("boot-uimage-gzip.uimg")), len(data("boot-fit.itb"))
    lst = listing(flash.FORMAT, blob, ctx)
    assert lst.format == "flash"
    assert layout(lst) == [
        ("0x00000000.uimage", Kind.FILE, 0, ulen),
        ("gap-before-0x00010000", Kind.REGION, ulen, 0x10000 - ulen),
        ("0x00010000.fit", Kind.FILE, 0x10000, flen),
        ("gap-before-0x00020000", Kind.REGION, 0x10000 + flen, 0x10000 - flen),
        ("0x00020000.squashfs", Kind.FILE, 0x20000, 0x1000),  # mksquashfs pads to 4 KiB
        ("gap-to-end", Kind.REGION, 0x21000, 0x3000),
    ]
    m = members(lst)
    assert content(m["0x00000000.uimage"]) == data("boot-uimage-gzip.uimg")
    assert content(m["0x00010000.fit"]) == data("boot-fit.itb")
    assert content(m["0x00020000.squashfs"]).startswith(b"hsqs")
    assert set(content(m["gap-to-end"])) == {0xFF}
    assert lst.notes == ()


def test_flash_dump_of_other_formats(ctx: WalkContext) -> None:
    lst = listing(flash.FORMAT, data("boot-flash-misc.bin"), ctx)
    images = [(n, o) for n, k, o, _ in layout(lst) if k is Kind.FILE]
    assert images == [
        ("0x00001000.gzip", 0x1000),
        ("0x00002000.xz", 0x2000),
        ("0x00003000.cramfs", 0x3000),
        ("0x00004000.jffs2", 0x4000),
        ("0x00008000.ubi", 0x8000),
        ("0x00010000.ext", 0x10000),
    ]
    m = members(lst)
    gz = zlib.decompressobj(31)
    assert gz.decompress(content(m["0x00001000.gzip"])).endswith(b"initrd end\n")
    assert gz.eof and not gz.unused_data
    xz = lzma.LZMADecompressor()
    assert xz.decompress(content(m["0x00002000.xz"])).endswith(b"initrd end\n")
    assert xz.eof and not xz.unused_data
    assert m["0x00003000.cramfs"].size == 0x1000
    assert m["0x00008000.ubi"].size == 5 * 0x1000  # five 4 KiB PEBs
    assert m["0x00010000.ext"].size == 0x10000  # 64 blocks of 1 KiB
    jffs2 = content(m["0x00004000.jffs2"])  # to the end of the last node
    assert jffs2[:2] == b"\x85\x19" and jffs2[-1] != 0xFF
    for name, kind, _, _ in layout(lst):
        if kind is Kind.REGION:
            assert set(content(m[name])) == {0xFF}, name


def test_flash_scan_crosses_window_boundaries(ctx: WalkContext) -> None:
    misc = members(listing(flash.FORMAT, data("boot-flash-misc.bin"), ctx))
    ext, cramfs = content(misc["0x00010000.ext"]), content(misc["0x00003000.cramfs"])
    blob = bytearray(b"\xff" * 0x220000)
    blob[0xFFC00 : 0xFFC00 + len(ext)] = ext  # its magic lies past the first 1 MiB window
    blob[0x200000 : 0x200000 + len(cramfs)] = cramfs
    images = [
        (n, s) for n, k, _, s in layout(listing(flash.FORMAT, bytes(blob), ctx)) if k is Kind.FILE
    ]
    assert images == [("0x000ffc00.ext", len(ext)), ("0x00200000.cramfs", len(cramfs))]


def test_flash_declines_streams_without_images(ctx: WalkContext) -> None:
    for blob in (b"\xff" * (128 << 10), bytes(range(256)) * 512, b"\0" * (64 << 10)):
        with pytest.raises(NotThisFormat, match="no embedded image"):
            listing(flash.FORMAT, blob, ctx)
    with pytest.raises(NotThisFormat, match="whole stream"):
        listing(flash.FORMAT, data("boot-uimage-none.uimg"), ctx)
    assert not flash.FORMAT.probe(b"\x7fELF" + b"\0" * 60, 1 << 20)
    assert not flash.FORMAT.probe(b"\xff" * 64, (64 << 10) - 1)


def test_truncated_flash_keeps_the_cut_image(ctx: WalkContext) -> None:
    blob = data("boot-flash.bin")[:0x20100]  # inside the squashfs
    lst = listing(flash.FORMAT, blob, ctx)
    assert layout(lst)[-1] == ("0x00020000.squashfs", Kind.FILE, 0x20000, 0x100)
    assert len(lst.members) == 5
    assert lst.notes and "cut short" in lst.notes[0]


def test_every_cut_of_a_flash_dump_is_listed_or_declined(ctx: WalkContext) -> None:
    blob = data("boot-flash-misc.bin")
    for cut in range(64 << 10, len(blob), 0x1F3C):
        try:
            lst = flash.FORMAT.list(io.BytesIO(blob[:cut]), cut, ctx)
        except FIRMWARE_ERRORS:
            continue
        assert sum(m.size for m in lst.members) == cut


def test_fake_magics_are_not_images(ctx: WalkContext) -> None:
    blob = bytearray(b"\xff" * (128 << 10))
    blob[0x1000:0x1010] = b"\x1f\x8b\x08\x00" + b"\xaa" * 12  # gzip header, garbage deflate
    blob[0x2000:0x2040] = b"UBI#\x01" + b"\0" * 59  # wrong CRC
    blob[0x3000:0x300C] = b"\x85\x19\x01\xe0" + b"\0" * 8  # wrong node CRC
    blob[0x4000:0x4040] = b"\x27\x05\x19\x56" + b"\0" * 60  # wrong header CRC
    blob[0x5000:0x5010] = b"hsqs" + b"\0" * 12  # no sane superblock
    blob[0x6000:0x6028] = b"\xd0\x0d\xfe\xed" + b"\xff" * 36
    with pytest.raises(NotThisFormat):
        listing(flash.FORMAT, bytes(blob), ctx)


def test_compression_bomb_in_flash_is_bounded() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    gz = bomb.compress(b"\0" * (8 << 20)) + bomb.flush()
    blob = b"\xff" * 0x1000 + gz + b"\xff" * (64 << 10)
    with WalkContext(Limits(max_ratio=50)) as c, pytest.raises(LimitExceeded):
        flash.FORMAT.list(io.BytesIO(blob), len(blob), c)


def test_member_openers_are_independent(ctx: WalkContext) -> None:
    m = members(listing(flash.FORMAT, data("boot-flash.bin"), ctx))["0x00010000.fit"]
    assert m.opener is not None
    a, b = m.opener(), m.opener()
    assert a.read(4) == b"\xd0\x0d\xfe\xed"
    assert b.read(8)[:4] == b"\xd0\x0d\xfe\xed"
    assert a.read(4) == data("boot-fit.itb")[4:8]


# -- end to end through the comparison ------------------------------------------------------
def test_rebuilt_uimage_is_equivalent_but_a_broken_crc_is_not(tmp_path: Path) -> None:
    ref = tmp_path / "kernel.uimg"
    ref.write_bytes(data("boot-uimage-gzip.uimg"))
    later = bytearray(ref.read_bytes())
    later[8:12] = struct.pack(">I", 1710000000)  # ih_time, then the header CRC that follows
    later[4:8] = struct.pack(">I", zlib.crc32(bytes(later[:4]) + bytes(4) + bytes(later[8:64])))
    (tmp_path / "later.uimg").write_bytes(later)
    result = compare(ref, tmp_path / "later.uimg")
    assert result.verdict is Verdict.EQUIVALENT
    assert {f.klass for f in result.findings} == {"container-timestamp", "derived-checksum"}
    later[4] ^= 1  # the header CRC no longer matches
    (tmp_path / "forged.uimg").write_bytes(later)
    result = compare(ref, tmp_path / "forged.uimg")
    assert result.verdict is Verdict.DIFFERENT
    assert any(f.status is Status.UNEXPLAINED and "crc_valid" in f.summary for f in result.findings)


def test_changed_bootargs_is_located(tmp_path: Path) -> None:
    ref = tmp_path / "board.dtb"
    ref.write_bytes(data("boot.dtb"))
    (tmp_path / "dep.dtb").write_bytes(data("boot.dtb").replace(b"ttyS0", b"ttyS1"))
    result = compare(ref, tmp_path / "dep.dtb")
    assert result.verdict is Verdict.DIFFERENT
    assert [f.path for f in result.findings if f.status is Status.UNEXPLAINED] == [
        "board.dtb/chosen/bootargs"
    ]


def test_flash_fill_is_padding_and_slack_data_is_not(tmp_path: Path) -> None:
    ref = tmp_path / "flash.bin"
    ref.write_bytes(data("boot-flash.bin"))
    zeroed = bytearray(ref.read_bytes())
    zeroed[0x21000:] = bytes(len(zeroed) - 0x21000)  # erased to 0x00 instead of 0xFF
    (tmp_path / "zeroed.bin").write_bytes(zeroed)
    result = compare(ref, tmp_path / "zeroed.bin")
    assert result.verdict is Verdict.EQUIVALENT
    assert [(f.path, f.klass) for f in result.findings] == [("flash.bin/gap-to-end", "padding")]
    zeroed[0xF000:0xF004] = b"evil"
    (tmp_path / "slack.bin").write_bytes(zeroed)
    result = compare(ref, tmp_path / "slack.bin")
    assert result.verdict is Verdict.DIFFERENT
    [slack] = [f for f in result.findings if f.path == "flash.bin/gap-before-0x00010000"]
    assert slack.status is Status.UNEXPLAINED and slack.klass == "trailing-data"
    assert slack.locations[0].offset == 0xF000  # where the data is in the dump, not the gap
