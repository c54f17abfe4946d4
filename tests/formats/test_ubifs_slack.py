"""Bytes hidden in UBIFS areas the listing never reads must make a comparison different (issue #2).

Before: the LPT LEBs were not scanned at all, and any node whose CRC matched was accepted
wherever it lay, so a CRC-fixed node in free space, in the log or orphan area, after the
superblock, or bytes in the reserved fields of the superblock or master node kept the verdict
`equivalent`. Fixtures: tests/fixtures/slack/make_ubifs_slack.sh (each image built twice from one
tree; see UBIFS.md there): ubi-small (UBI image, small LPT model: log LEBs 3-6, LPT 7-8, orphan 9,
main 10-12) and ubifs-big (bare UBIFS, big LPT model with lsave: LPT 23-28, orphan 29, main 30-32).
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from pathlib import Path

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats import ubifs_lprops, ubifs_lpt
from netvet.firmware.formats.ubifs import FORMAT
from netvet.firmware.limits import Limits
from netvet.firmware.result import Comparison, Status, Verdict
from tests.formats.pairs import run_pair

SLACK = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
PEB, DATA_OFFSET, LEB = 16 << 10, 1024, 15360
SCRIPT = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n"
SMALL, BIG = "ubi-small", "ubifs-big"
MAGIC = b"\x31\x18\x10\x06"


def _image(name: str) -> bytes:
    return gzip.decompress((SLACK / f"{name}.img.gz").read_bytes())


def _at(name: str, lnum: int, offs: int = 0) -> int:
    """Offset in the image file of UBIFS LEB `lnum` (ubinize maps LEB n to PEB n + 2)."""
    return (lnum + 2) * PEB + DATA_OFFSET + offs if name == SMALL else lnum * LEB + offs


def _volume(name: str, data: bytes) -> bytes:
    if name == BIG:
        return data
    return b"".join(data[_at(SMALL, n) : _at(SMALL, n) + LEB] for n in range(13))


_run = run_pair


def _unaccounted(result: Comparison) -> str:
    hits = [f for f in result.findings if "unaccounted" in f.summary]
    assert hits, [f.summary for f in result.findings]
    assert hits[0].status is Status.UNEXPLAINED
    return hits[0].summary


def _different(tmp_path: Path, name: str, dep: bytearray, where: str, what: str) -> None:
    result = _run(tmp_path, _image(name), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    summary = _unaccounted(result)
    assert f"-> {where} " in summary or f"; {where} " in summary, summary
    assert what in summary, summary


def _fix_crc(data: bytearray, at: int) -> None:
    """Recompute the CRC of the UBIFS node at `at`, as an attacker would."""
    (length,) = struct.unpack_from("<I", data, at + 16)
    crc = ~zlib.crc32(bytes(data[at + 8 : at + length])) & 0xFFFFFFFF
    struct.pack_into("<I", data, at + 4, crc)


def _node(ntype: int, body: bytes) -> bytes:
    node = bytearray(MAGIC + bytes(4) + struct.pack("<QIBBH", 999, 24 + len(body), ntype, 0, 0))
    node += body
    _fix_crc(node, 0)
    return bytes(node)


def _put(data: bytearray, at: int, payload: bytes) -> None:
    assert data[at : at + len(payload)] == b"\xff" * len(payload), "not free space"
    data[at : at + len(payload)] = payload


@pytest.mark.parametrize("name", [SMALL, BIG])
def test_honest_rebuilds_stay_equivalent_with_nothing_unaccounted(
    tmp_path: Path, name: str
) -> None:
    ref, dep = _image(name), _image(f"{name}-rebuild")
    assert ref != dep  # the UUID (and for UBI the image sequence number) differ
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.EQUIVALENT, [f.summary for f in result.findings]
    for image in (ref, dep):
        volume = _volume(name, image)
        with WalkContext(Limits()) as ctx:
            listing = FORMAT.list(io.BytesIO(volume), len(volume), ctx)
        assert dict((f.name, f.value) for f in listing.fields)["unaccounted"] == "none"


@pytest.mark.parametrize(
    ("name", "lnum", "offs"),
    [
        (SMALL, 7, 0x2E + 100),  # after the small model's live nodes (46 bytes)
        (SMALL, 8, 0x100),  # the second LPT LEB, empty
        (BIG, 23, 0x1EC + 4),  # after the big model's live nodes, lsave included
        (BIG, 28, 0x3000),  # the last LPT LEB
    ],
)
def test_data_in_lpt_free_space_is_located(tmp_path: Path, name: str, lnum: int, offs: int) -> None:
    dep = bytearray(_image(name))
    _put(dep, _at(name, lnum, offs), SCRIPT)
    _different(tmp_path, name, dep, f"LEB {lnum}:{offs:#x}", "in the LPT outside its live nodes")


def test_a_crc_valid_lpt_node_that_no_nnode_reaches_is_located(tmp_path: Path) -> None:
    ref = _image(SMALL)
    dep = bytearray(ref)
    pnode = ref[_at(SMALL, 7) : _at(SMALL, 7, 14)]  # the one pnode, a valid LPT node
    _put(dep, _at(SMALL, 7, 0x200), pnode)
    _different(tmp_path, SMALL, dep, "LEB 7:0x200", "outside its live nodes")


def test_data_in_the_spare_bits_of_an_lpt_node_is_located(tmp_path: Path) -> None:
    dep = bytearray(_image(SMALL))
    root = _at(SMALL, 7, 25)  # the root nnode: 84 bits in 11 bytes
    dep[root + 10] |= 0x80
    dep[root : root + 2] = ubifs_lpt.crc16(bytes(dep[root + 2 : root + 11])).to_bytes(2, "little")
    _different(tmp_path, SMALL, dep, "LEB 7:0x19", "spare bits")


def test_a_crc_valid_node_in_main_free_space_is_located(tmp_path: Path) -> None:
    dep = bytearray(_image(BIG))
    planted = _node(1, bytes(24) + SCRIPT)  # a data node the index does not reference
    _put(dep, _at(BIG, 30, 0xC00), planted)  # where the next node would go
    _different(tmp_path, BIG, dep, "LEB 30:0xc00", "the index does not reference")


@pytest.mark.parametrize(
    ("lnum", "offs", "area"),
    [(4, 0, "log"), (9, 0, "orphan"), (1, 0x200, "master"), (0, 0x1200, "superblock")],
)
def test_a_crc_valid_node_outside_its_area_is_located(
    tmp_path: Path, lnum: int, offs: int, area: str
) -> None:
    dep = bytearray(_image(SMALL))
    _put(dep, _at(SMALL, lnum, offs), _node(1, bytes(24) + SCRIPT))
    _different(tmp_path, SMALL, dep, f"LEB {lnum}:{offs:#x}", f"belong in the {area} area")


def test_data_in_the_empty_signature_node_is_located(tmp_path: Path) -> None:
    dep = bytearray(_image(SMALL))
    sig = _at(SMALL, 0, 0x1000)  # mkfs.ubifs 2.1 writes a zeroed 64-byte node there
    assert dep[sig : sig + 4] == MAGIC and dep[sig + 24 : sig + 64] == bytes(40)
    dep[sig + 30 : sig + 30 + 20] = SCRIPT[:20]
    _fix_crc(dep, sig)
    _different(tmp_path, SMALL, dep, "LEB 0:0x1000", "does not belong in the superblock area")


def test_data_in_the_superblock_reserved_bytes_is_located(tmp_path: Path) -> None:
    dep = bytearray(_image(BIG))
    dep[0x800 : 0x800 + len(SCRIPT)] = SCRIPT  # padding2 of the superblock node
    _fix_crc(dep, 0)
    _different(tmp_path, BIG, dep, "LEB 0:0x0", "reserved bytes 0x142-0x1000")


def test_data_in_both_master_copies_reserved_bytes_is_located(tmp_path: Path) -> None:
    dep = bytearray(_image(BIG))
    for lnum in (1, 2):
        at = _at(BIG, lnum)
        dep[at + 400 : at + 400 + len(SCRIPT)] = SCRIPT
        _fix_crc(dep, at)
    _different(tmp_path, BIG, dep, "LEB 1:0x0", "reserved bytes 0x168-0x200")


def test_master_copies_that_differ_are_located(tmp_path: Path) -> None:
    dep = bytearray(_image(BIG))
    at = _at(BIG, 2)
    struct.pack_into("<Q", dep, at + 112, 4242)  # total_dark of the second copy only
    _fix_crc(dep, at)
    _different(tmp_path, BIG, dep, "LEB 2:0x0", "master copies differ")


@pytest.mark.parametrize(
    ("field", "value", "what"),
    [
        (120, 40, "LPT nnode lies outside the LPT area"),  # lpt_lnum: the main area
        (124, 15355, "LPT nnode lies outside the LPT area"),  # lpt_offs: across the LEB end
        (124, 0, "LEB 7:0x0 LPT nnode fails its CRC16"),  # the root pointing at the pnode
        (136, 9, "LPT ltab lies outside the LPT area"),  # ltab_lnum
    ],
)
def test_hostile_lpt_pointers_give_a_finding(
    tmp_path: Path, field: int, value: int, what: str
) -> None:
    dep = bytearray(_image(SMALL))
    for lnum in (1, 2):
        at = _at(SMALL, lnum)
        struct.pack_into("<I", dep, at + field, value)
        _fix_crc(dep, at)
    result = _run(tmp_path, _image(SMALL), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    assert what in _unaccounted(result)


def _geometry() -> ubifs_lpt.Geometry:
    sb = ubifs_lpt.Superblock(LEB, 13, 64, 4, 2, 1, 256, 0)
    geo = ubifs_lpt.geometry(sb)
    assert isinstance(geo, ubifs_lpt.Geometry)
    return geo


def test_a_cyclic_lpt_is_reported_not_followed() -> None:
    geo = _geometry()
    # an nnode whose four branches all point back at itself (LEB 7:0)
    nnode = (ubifs_lpt.NNODE << 16).to_bytes(geo.sizes[ubifs_lpt.NNODE], "little")
    raw = bytearray(nnode)
    raw[:2] = ubifs_lpt.crc16(bytes(raw[2:])).to_bytes(2, "little")
    data = bytes(raw).ljust(2 * LEB, b"\xff")
    area = ubifs_lpt.Area(io.BytesIO(b"\xff" * 7 * LEB + data), range(7, 9), LEB)
    heads = ubifs_lpt.Heads((7, 0), (7, 11), (0, 0))
    found = list(ubifs_lpt.walk(geo, heads, area))
    assert "LEB 7:0x0 LPT nnode is reached twice" in found
    assert any("ltab fails its CRC16" in f for f in found)


@pytest.mark.parametrize(
    "sb",
    [
        ubifs_lpt.Superblock(LEB, 13, 64, 4, 0, 1, 256, 0),  # no LPT LEBs
        ubifs_lpt.Superblock(LEB, 13, 12, 4, 2, 1, 256, 0),  # max_leb_cnt below leb_cnt
        ubifs_lpt.Superblock(LEB, 9, 64, 4, 2, 1, 256, 0),  # no main area
        ubifs_lpt.Superblock(64, 13, 64, 4, 2, 1, 256, 2),  # lsave larger than a LEB
        ubifs_lpt.Superblock(LEB, 13, 1 << 40, 4, 2, 1, 256, 0),  # absurd max_leb_cnt
    ],
)
def test_impossible_lpt_geometry_is_a_message(sb: ubifs_lpt.Superblock) -> None:
    assert isinstance(ubifs_lpt.geometry(sb), str)


def test_impossible_lpt_geometry_in_an_image_gives_a_finding(tmp_path: Path) -> None:
    dep = bytearray(_image(BIG))
    struct.pack_into("<I", dep, 44, 20)  # max_leb_cnt below leb_cnt (33)
    _fix_crc(dep, 0)
    result = _run(tmp_path, _image(BIG), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    assert "LPT geometry impossible" in _unaccounted(result)


def _flip_lpt_bit(data: bytearray, at: int, size: int, bit: int) -> None:
    """Flip one bit of the LPT node at `at` and recompute its CRC16, as an attacker would."""
    value = int.from_bytes(data[at : at + size], "little") ^ (1 << bit)
    data[at : at + size] = value.to_bytes(size, "little")
    data[at : at + 2] = ubifs_lpt.crc16(bytes(data[at + 2 : at + size])).to_bytes(2, "little")


@pytest.mark.parametrize(
    ("name", "lnum", "offs", "size", "bit", "what"),
    [
        (SMALL, 7, 0, 14, 20 + 11, "LEB 7:0x0 LPT pnode says LEB 10 has 12288 free, 272 dirty"),
        (SMALL, 7, 0, 14, 20 + 22, "pnode says LEB 10 has 12288 free, 280 dirty bytes (index)"),
        (SMALL, 7, 0, 14, 20 + 3 * 23, "pnode says LEB 13 has 15368 free"),  # past the main area
        (SMALL, 7, 36, 10, 20, "LEB 7:0x24 LPT ltab says LEB 7 has 14849 free"),
        (BIG, 23, 81, 387, 20 + 12 * 5, "LEB 23:0x51 LPT lsave entry 5 is 34"),
        (BIG, 23, 68, 13, 20, "LEB 23:0x44 LPT nnode is not 1"),
        (BIG, 23, 68, 13, 30 + 17 + 3, "LEB 23:0x44 LPT nnode has data in absent branch 1"),
        (BIG, 23, 0, 16, 20, "LEB 23:0x0 LPT pnode is not number 0"),
    ],
)
def test_data_in_the_numbers_of_a_live_lpt_node_is_located(
    tmp_path: Path, name: str, lnum: int, offs: int, size: int, bit: int, what: str
) -> None:
    dep = bytearray(_image(name))
    _flip_lpt_bit(dep, _at(name, lnum, offs), size, bit)
    result = _run(tmp_path, _image(name), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    assert what in _unaccounted(result)


def test_the_kernels_default_lsave_is_honest_too() -> None:
    geo = ubifs_lpt.geometry(ubifs_lpt.Superblock(LEB, 33, 4000, 20, 6, 1, 256, 2, 512))
    assert isinstance(geo, ubifs_lpt.Geometry)
    lnums = [30 + i if i < 3 else 30 for i in range(256)]  # ubifs_create_dflt_lpt()
    body = sum(lnum << (geo.leb_bits * i) for i, lnum in enumerate(lnums))
    assert list(ubifs_lprops._lsave(geo, "here", body)) == []
    body ^= 1 << (geo.leb_bits * 7)
    [found] = ubifs_lprops._lsave(geo, "here", body)
    assert "lsave entry 7 is 31" in found


def test_a_master_header_of_length_zero_is_corrupt_not_a_hang() -> None:
    data = bytearray(_image(BIG))
    # zeros after the master node: ubi-reader skipped a CRC-failing header by its length, 0
    data[_at(BIG, 1, 0x200) : _at(BIG, 1, 0x200) + 24] = bytes(24)
    with WalkContext(Limits()) as ctx, pytest.raises(CorruptContainer, match="master area"):
        FORMAT.list(io.BytesIO(bytes(data)), len(data), ctx)


@pytest.mark.parametrize(
    ("offs", "at", "what"),
    [
        (0x968, 140, "LEB 30:0x968 node of type 0 has data in its unused bytes 0x86-0xa0"),
        (0x968, 36, "LEB 30:0x968 node of type 0 has data in its unused bytes 0x20-0x28"),
        (0xA08, 59, "LEB 30:0xa08 entry node of 60 bytes"),  # the name's NUL
    ],
)
def test_data_in_the_unused_bytes_of_a_referenced_node_is_located(
    tmp_path: Path, offs: int, at: int, what: str
) -> None:
    dep = bytearray(_image(BIG))
    node = _at(BIG, 30, offs)  # an inode node, then a directory entry, both in the index
    assert dep[node : node + 4] == MAGIC and dep[node + at] == 0
    dep[node + at] = 0x41
    _fix_crc(dep, node)
    _different(tmp_path, BIG, dep, f"LEB 30:{offs:#x}", what)


@pytest.mark.parametrize(
    ("offs", "length", "what"),
    [
        (0x808, 128, "data after the end of a compressed block (data node at LEB 30:0x808)"),
        (0x0, 80, "32-byte block sized 30 (data node at LEB 30:0x0)"),  # stored uncompressed
    ],
)
def test_data_appended_to_a_data_nodes_payload_is_different(
    tmp_path: Path, offs: int, length: int, what: str
) -> None:
    dep = bytearray(_image(BIG))
    node = _at(BIG, 30, offs)  # a data node followed by an alignment gap
    (old,) = struct.unpack_from("<I", dep, node + 16)
    dep[node + old : node + length] = SCRIPT[: length - old]
    struct.pack_into("<I", dep, node + 16, length)
    _fix_crc(dep, node)
    result = _run(tmp_path, _image(BIG), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    found = [f.summary for f in result.findings if f.status is Status.UNEXPLAINED]
    assert any(what in s for s in found), found


def test_long_lists_differing_past_the_cut_still_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """The field keeps sixteen notes and a digest of all: two scans that differ only in their
    twentieth finding still give two values (a count alone would not)."""
    from netvet.firmware.formats import ubifs_areas

    img = _image(BIG)
    notes = [f"LEB {n}:0x0 35 bytes of data in free space" for n in range(20)]
    values = []
    for last in ("LEB 19:0x0", "LEB 19:0x100"):
        found = [*notes[:19], notes[19].replace("LEB 19:0x0", last)]
        monkeypatch.setattr(ubifs_areas, "problems", lambda *_, found=found: list(found))
        listing = FORMAT.list(io.BytesIO(img), len(img), WalkContext(Limits()))
        values.append({f.name: f.value for f in listing.fields}["unaccounted"])
    assert values[0] != values[1]
    assert values[0].startswith(notes[0]) and " more (all: sha256 " in values[0]


def test_zstd_data_blocks_end_with_their_frame() -> None:
    """A zstd data node decodes one frame that ends where the node's data does: bytes after it
    (read by no decoder), a block that starts elsewhere, or one expanding past 4 KiB refuse."""
    import zstandard

    from netvet.firmware.formats import ubifs

    zstd = ubifs.UBIFS_COMPR_ZSTD
    text = b"#!/bin/sh\nexec /bin/tool -p 80\n" * 20
    frame = zstandard.ZstdCompressor().compress(text)
    assert ubifs._decompress(zstd, frame) == text
    for bad, match in [
        (frame + SCRIPT, "data after the end of a compressed block"),
        (b"\x50\x2a\x4d\x18" + bytes(4) + frame, "does not start with a frame"),
        (zstandard.ZstdCompressor().compress(bytes(5000)), "expands beyond 4096"),
        (frame[:-3], "frame does not end|zstd:"),
    ]:
        with pytest.raises(CorruptContainer, match=match):
            ubifs._decompress(zstd, bad)
