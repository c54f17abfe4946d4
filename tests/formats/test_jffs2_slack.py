"""JFFS2 images: bytes inside the node log that no member shows must make a comparison different.

Fixtures: the mkfs.jffs2 images of tests/fixtures/formats, fsgaps and pairs, and the sumtool
images of tests/fixtures/slack/make_jffs2_slack.sh (summary nodes, 16-byte cleanmarkers). Hostile
variants patch a copy or append nodes to it, with every CRC made right, as an attacker would: a
node with a stale CRC is merely corrupt.
"""

from __future__ import annotations

import gzip
import io
import lzma
import struct
import zlib
from pathlib import Path

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats import jffs2
from netvet.firmware.formats.jffs2_compr import (
    COMPR_LZMA,
    COMPR_NONE,
    COMPR_RTIME,
    COMPR_ZERO,
    COMPR_ZLIB,
    OPENWRT_LZMA,
    decode,
)
from netvet.firmware.limits import Limits
from netvet.firmware.result import Status, Verdict
from tests.formats.pairs import field, listing, run_pair, unexplained

FIX = Path(__file__).resolve().parent.parent / "fixtures"
SCRIPT = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n"  # 35 bytes
HONEST = [
    "formats/fs-jffs2-le.img",
    "formats/fs-jffs2-be.img",
    "formats/fs-jffs2-rtime.img",
    "formats/fs-jffs2-lzo.img",
    "fsgaps/jffs2-zlib.img",
    "fsgaps/jffs2-lzma.img",
    "fsgaps/jffs2-lzma-changed.img",
    "pairs/base/rootfs.jffs2",
    "pairs/jffs2-padding/dep.jffs2",
    "slack/jffs2-sum-le.img.gz",
    "slack/jffs2-sum-be.img.gz",
]
REBUILDS = [
    ("slack/jffs2-sum-le.img.gz", "slack/jffs2-sum-le-rebuild.img.gz"),
    ("slack/jffs2-sum-be.img.gz", "slack/jffs2-sum-be-rebuild.img.gz"),
    ("fsgaps/jffs2-lzma.img", "fsgaps/jffs2-lzma-rebuild.img"),
    ("formats/fs-jffs2-le.img", "formats/fs-jffs2-be.img"),
]
# node type -> (bytes node_crc covers, where it lies)
NODE_CRC = {0xE001: (32, 32), 0xE002: (60, 64), 0xE008: (28, 28), 0xE009: (24, 24)}


def _image(name: str) -> bytes:
    data = (FIX / name).read_bytes()
    return gzip.decompress(data) if name.endswith(".gz") else data


def _order(img: bytes) -> str:
    return "<" if img[:2] == b"\x85\x19" else ">"


def _scan(img: bytes) -> jffs2._Image:
    return jffs2._Scanner(io.BytesIO(img), len(img), _order(img), WalkContext(Limits())).run()


def _unaccounted(img: bytes) -> str:
    return field(jffs2, img, "unaccounted")


def _nodes(img: bytes) -> list[tuple[int, int, int]]:
    """(offset, type, totlen) of every node whose header CRC holds."""
    e, pos, out = _order(img), 0, []
    while pos + 12 <= len(img):
        magic, ntype, totlen, hcrc = struct.unpack_from(e + "HHII", img, pos)
        if magic != 0x1985 or jffs2._crc(img[pos : pos + 8]) != hcrc:
            pos += 4
            continue
        out.append((pos, ntype, totlen))
        pos += (totlen + 3) & ~3
    return out


def _seal(img: bytearray, pos: int, e: str) -> None:
    """The node at `pos` with its header and node CRCs made right."""
    struct.pack_into(e + "I", img, pos + 8, jffs2._crc(bytes(img[pos : pos + 8])))
    ntype = struct.unpack_from(e + "H", img, pos + 2)[0]
    if ntype in NODE_CRC:
        covers, at = NODE_CRC[ntype]
        struct.pack_into(e + "I", img, pos + at, jffs2._crc(bytes(img[pos : pos + covers])))


def _node(e: str, ntype: int, body: bytes) -> bytes:
    """A node of `ntype` with header CRC, padded with 0xFF to 4 bytes (no node CRC)."""
    head = struct.pack(e + "HHI", 0x1985, ntype, 12 + len(body))
    node = head + struct.pack(e + "I", jffs2._crc(head)) + body
    return node + b"\xff" * (-len(node) % 4)


def _inode(
    e: str, ino: int, version: int, isize: int, offset: int, data: bytes, **kw: int
) -> bytes:
    """A data node of a regular file (mode 0644) holding `data` stored as `compr`."""
    compr, dsize = kw.get("compr", COMPR_NONE), kw.get("dsize", len(data))
    head = struct.pack(e + "HHI", 0x1985, 0xE002, 68 + len(data))
    head += struct.pack(e + "I", jffs2._crc(head))
    node = head + struct.pack(
        e + "IIIHHIIIIIIIBBH", ino, version, 0o100644, 0, 0, isize, 0, 0, 0, offset,
        len(data), dsize, compr, 0, 0,
    )  # fmt: skip
    node += struct.pack(e + "I", kw.get("dcrc", jffs2._crc(data)))
    node += struct.pack(e + "I", jffs2._crc(node[:60])) + data
    return node + b"\xff" * (-len(node) % 4)


def _dirent(e: str, pino: int, ino: int, name: bytes, version: int) -> bytes:
    head = struct.pack(e + "HHI", 0x1985, 0xE001, 40 + len(name))
    head += struct.pack(e + "I", jffs2._crc(head))
    node = head + struct.pack(e + "IIIIBBxx", pino, version, ino, 0, len(name), 8)
    node += struct.pack(e + "II", jffs2._crc(node), jffs2._crc(name)) + name
    return node + b"\xff" * (-len(node) % 4)


def _append(img: bytes, *nodes: bytes) -> bytes:
    """`img` with `nodes` written where its last node ends (into the erased tail, if any)."""
    end = _scan(img).end
    extra = b"".join(nodes)
    out = img[:end] + extra + img[end + len(extra) :]
    return out + b"\xff" * (-len(out) % 4)


def _ino(img: bytes, path: bytes) -> int:
    ino = 1
    dirents = _scan(img).dirents
    for name in path.split(b"/"):
        ino = dirents[(ino, name)][1]
    return ino


def _different(tmp_path: Path, ref: bytes, dep: bytes) -> list[str]:
    result = run_pair(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    return unexplained(result)


# -- honest images: nothing noted, nothing slack, rebuilds equivalent ---------------------------
@pytest.mark.parametrize("name", HONEST)
def test_honest_images_leave_nothing_unaccounted(name: str) -> None:
    img = _image(name)
    found = listing(jffs2, img)
    assert _unaccounted(img) == "none"
    assert found.slack == ()
    for member in found.members:
        if member.opener:
            member.opener().read()


@pytest.mark.parametrize(("ref", "dep"), REBUILDS)
def test_honest_rebuilds_stay_equivalent(tmp_path: Path, ref: str, dep: str) -> None:
    assert _unaccounted(_image(dep)) == "none"
    result = run_pair(tmp_path, _image(ref), _image(dep))
    assert result.verdict is Verdict.EQUIVALENT, unexplained(result)


# -- bytes inside and after nodes ----------------------------------------------------------------
def test_alignment_bytes_after_a_node_are_slack_and_noted(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    pos, _, totlen = next(n for n in _nodes(ref) if n[1] == 0xE001 and n[2] % 4 == 1)
    at = pos + totlen
    assert ref[at : at + 3] == b"\xff" * 3
    dep = bytearray(ref)
    dep[at : at + 3] = b"sh\n"  # a CRC covers none of them
    assert f"3 bytes at {at:#x} after the dirent at {pos:#x} not erased" in _unaccounted(dep)
    result = run_pair(tmp_path, ref, bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    slack = [f for f in result.findings if f.klass == "trailing-data"]
    assert slack and slack[0].locations[0].offset == at
    one_byte = bytearray(ref)  # too short for the slack stream to differ from fill: the note
    one_byte[at] = 0x41
    assert f"3 bytes at {at:#x}" in _unaccounted(one_byte)
    _different(tmp_path, ref, bytes(one_byte))


def test_bytes_past_a_nodes_payload_are_noted(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-be.img")  # -p: 0xFF after the last node
    pos, ntype, totlen = _nodes(ref)[-1]
    dep = bytearray(ref)
    struct.pack_into(">I", dep, pos + 4, totlen + len(SCRIPT))
    dep[pos + totlen : pos + totlen + len(SCRIPT)] = SCRIPT
    _seal(dep, pos, ">")
    assert _scan(bytes(dep)).counts["bad_crc_nodes"] == 0
    assert f"36 bytes at {pos + totlen:#x} after the inode node at {pos:#x}" in _unaccounted(dep)
    _different(tmp_path, ref, bytes(dep))


@pytest.mark.parametrize("body", [bytes(4), SCRIPT[:4]])
def test_cleanmarker_body_must_be_erased(tmp_path: Path, body: bytes) -> None:
    ref = _image("slack/jffs2-sum-le.img.gz")  # -c 16: 12-byte header, 4 bytes of 0xFF
    assert ref[:16] == ref[:12] + b"\xff" * 4 and struct.unpack_from("<I", ref, 4)[0] == 16
    dep = ref[:12] + body + ref[16:]
    assert "4 bytes at 0xc after the cleanmarker at 0x0 not erased" in _unaccounted(dep)
    _different(tmp_path, ref, dep)


def test_padding_node_body_zero_is_layout_other_bytes_are_noted(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-be.img")
    honest = _append(ref, _node(">", 0x2004, bytes(52)))  # as the kernel's write buffer pads
    assert _unaccounted(honest) == "none"
    result = run_pair(tmp_path, ref, honest)
    assert result.verdict is Verdict.EQUIVALENT, unexplained(result)
    hostile = _append(ref, _node(">", 0x2004, SCRIPT + bytes(17)))
    assert "52 bytes at" in _unaccounted(hostile) and "after the padding node" in _unaccounted(
        hostile
    )
    _different(tmp_path, honest, hostile)


# -- nodes the kernel does not show --------------------------------------------------------------
def _two(ref: bytes, make: object) -> tuple[bytes, bytes]:
    """Two images that differ only inside one appended node: same counts, other bytes."""
    assert callable(make)
    return _append(ref, make(SCRIPT)), _append(ref, make(SCRIPT.upper()))


@pytest.mark.parametrize("kind", ["obsolete", "bad_crc", "unknown"])
def test_nodes_that_only_counts_described_are_noted_with_their_digest(
    tmp_path: Path, kind: str
) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    e, ino = "<", _ino(ref, b"etc/passwd")
    make = {
        "obsolete": lambda d: _retype(_inode(e, ino, 99, len(d), 0, d), 0xC002),
        "bad_crc": lambda d: _inode(e, ino, 99, len(d), 0, d, dcrc=0),
        "unknown": lambda d: _node(e, 0x2042, d),  # RWCOMPAT_DELETE-class: the kernel skips it
    }[kind]
    one, other = _two(ref, make)
    what = {"obsolete": "obsolete node 0xc002", "bad_crc": "node whose CRC fails",
            "unknown": "unknown node 0x2042"}[kind]  # fmt: skip
    assert f"{what} at {len(ref):#x}" in _unaccounted(one)
    assert _unaccounted(one) != _unaccounted(other)
    assert "header field unaccounted" in " ".join(_different(tmp_path, one, other))


def _retype(node: bytes, ntype: int) -> bytes:
    """A little-endian node as another type (the kernel clears 0x2000 to obsolete a node)."""
    out = bytearray(node)
    struct.pack_into("<H", out, 2, ntype)
    struct.pack_into("<I", out, 8, jffs2._crc(bytes(out[:8])))
    return bytes(out)


def test_superseded_dirent_is_noted(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    etc = _ino(ref, b"etc")
    old = _dirent("<", etc, 4242, b"passwd", 0)  # older than mkfs.jffs2's own (version 0 wins)
    dep = _append(ref, old)
    assert f"superseded dirent at {len(ref):#x}: {len(old) - 2} bytes" in _unaccounted(dep)
    assert {m.name for m in listing(jffs2, dep).members} == {
        m.name for m in listing(jffs2, ref).members
    }
    _different(tmp_path, ref, dep)


@pytest.mark.parametrize("offset", ["covered", "past_size"])
def test_superseded_data_node_is_noted(tmp_path: Path, offset: str) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    ino = _ino(ref, b"etc/passwd")
    size = next(m for m in listing(jffs2, ref).members if m.name == "etc/passwd").size
    at = 0 if offset == "covered" else size  # under the newer node, or past the file's size
    dep = _append(ref, _inode("<", ino, 0, size, at, SCRIPT[:size] if at == 0 else SCRIPT))
    assert f"superseded node of inode {ino} at {len(ref):#x}" in _unaccounted(dep)
    passwd = next(m for m in listing(jffs2, dep).members if m.name == "etc/passwd")
    assert passwd.opener and passwd.opener().read() == _read(ref, "etc/passwd")
    _different(tmp_path, ref, dep)


def _read(img: bytes, name: str) -> bytes:
    member = next(m for m in listing(jffs2, img).members if m.name == name)
    assert member.opener
    return member.opener().read()


def test_unreachable_inode_and_deletion_dirent_are_noted(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    orphan = _inode("<", 4242, 1, len(SCRIPT), 0, SCRIPT)
    dep = _append(ref, orphan)
    assert f"node of unreachable inode 4242 at {len(ref):#x}" in _unaccounted(dep)
    _different(tmp_path, ref, dep)
    gone = _append(ref, _dirent("<", _ino(ref, b"etc"), 0, SCRIPT[:32], 1))
    assert f"deletion dirent at {len(ref):#x}" in _unaccounted(gone)
    _different(tmp_path, ref, gone)


# -- summary nodes -------------------------------------------------------------------------------
def _summary(img: bytes) -> tuple[int, int]:
    pos, _, totlen = next(n for n in _nodes(img) if n[1] == 0x2006)
    return pos, totlen


def _reseal_summary(img: bytearray, pos: int, totlen: int, e: str) -> bytes:
    """sum_crc (over the records) and node_crc (over the header before it) made right."""
    struct.pack_into(e + "I", img, pos + 24, jffs2._crc(bytes(img[pos + 32 : pos + totlen])))
    struct.pack_into(e + "I", img, pos + 28, jffs2._crc(bytes(img[pos : pos + 24])))
    return bytes(img)


@pytest.mark.parametrize("name", ["slack/jffs2-sum-le.img.gz", "slack/jffs2-sum-be.img.gz"])
@pytest.mark.parametrize("where", ["fill", "record"])
def test_summary_must_be_the_one_its_erase_block_gives(
    tmp_path: Path, name: str, where: str
) -> None:
    ref = _image(name)
    e = _order(ref)
    pos, totlen = _summary(ref)
    dep = bytearray(ref)
    if where == "fill":  # the 0xFF between the last record and the marker
        at = pos + totlen - 8 - 64
        assert dep[at : at + len(SCRIPT)] == b"\xff" * len(SCRIPT)
        dep[at : at + len(SCRIPT)] = SCRIPT
    else:  # the first record's inode/version word
        dep[pos + 32 + 6] ^= 0x40
    hostile = _reseal_summary(dep, pos, totlen, e)
    assert _reseal_summary(bytearray(ref), pos, totlen, e) == ref
    assert f"summary node its erase block's nodes do not give at {pos:#x}" in _unaccounted(hostile)
    _different(tmp_path, ref, hostile)


# -- stored bytes a data node's decoder does not consume -----------------------------------------
def _lzma_node(img: bytes) -> tuple[bytes, int]:
    node = next(n for ns in _scan(img).inodes.values() for n in ns if n.compr == COMPR_LZMA)
    return img[node.at : node.at + node.csize], node.dsize


def test_honest_streams_decode() -> None:
    text = b"abc" * 300
    assert decode(COMPR_NONE, text, len(text)) == text
    assert decode(COMPR_ZERO, b"", 7) == bytes(7)
    assert decode(COMPR_RTIME, b"a\x03b\x00", 5) == b"aaaab"
    assert decode(COMPR_ZLIB, zlib.compress(text, 9), len(text)) == text
    raw, dsize = _lzma_node(_image("fsgaps/jffs2-lzma.img"))
    plain = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[OPENWRT_LZMA]).decompress(raw)
    assert decode(COMPR_LZMA, raw, dsize) == plain[:dsize]


@pytest.mark.parametrize(
    ("compr", "raw", "dsize", "match"),
    [
        (COMPR_NONE, b"abc" + SCRIPT, 3, "35 stored bytes after the end of the 3 uncompressed"),
        (COMPR_ZERO, SCRIPT, 8, "35 stored bytes after the end of the zero-filled"),
        (COMPR_RTIME, b"a\x03b\x00" + SCRIPT[:34], 5, "34 stored bytes after the end of the rtime"),
        (COMPR_RTIME, b"a\x09", 5, "rtime run of 9 bytes goes past 5 bytes"),
        (COMPR_ZLIB, zlib.compress(b"abc" * 300) + SCRIPT, 900, "35 stored bytes after the end"),
        (COMPR_ZLIB, zlib.compress(b"abc" * 300 + SCRIPT), 900, "more than the node's 900 bytes"),
    ],
)
def test_stored_bytes_past_the_stream_are_refused(
    compr: int, raw: bytes, dsize: int, match: str
) -> None:
    with pytest.raises(CorruptContainer, match=match):
        decode(compr, raw, dsize)


def test_lzma_stream_with_bytes_after_it_is_refused() -> None:
    raw, dsize = _lzma_node(_image("fsgaps/jffs2-lzma.img"))
    with pytest.raises(CorruptContainer, match="35 stored bytes after the end of the LZMA stream"):
        decode(COMPR_LZMA, raw + SCRIPT, dsize)


def test_data_node_with_hidden_bytes_makes_its_file_not_compared(tmp_path: Path) -> None:
    ref = _image("formats/fs-jffs2-le.img")
    ino, text = _ino(ref, b"etc/passwd"), _read(ref, "etc/passwd")
    packed = zlib.compress(text, 9) + SCRIPT
    dep = _append(
        ref, _inode("<", ino, 99, len(text), 0, packed, compr=COMPR_ZLIB, dsize=len(text))
    )
    result = run_pair(tmp_path, ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    assert any(
        f.klass == "not-compared"
        and f.path.endswith("etc/passwd")
        and "35 stored bytes" in f.summary
        and f"in the data node at {len(ref):#x}" in f.summary
        for f in result.findings
        if f.status is Status.UNEXPLAINED or f.klass == "not-compared"
    ), result.findings
