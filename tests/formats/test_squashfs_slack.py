"""Bytes of a SquashFS image that no structure references must make a comparison different.

mksquashfs leaves no such byte inside `bytes_used`, so every member comparing equal proved
nothing about a payload put between blocks, after a block's compressed stream, past the pieces
of a fragment block or between metadata blocks. Fixtures: tests/fixtures/slack/
make_squashfs_slack.sh (notes in SQUASHFS.md): squashfs-plain.img stores its metadata and
fragment block uncompressed, so each hostile variant here is made as an attacker would: bytes
inserted, and every pointer past them (superblock, table indexes, fragment entries, the block
list) moved to keep the image readable.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.formats import squashfs
from netvet.firmware.formats.squashfs import FORMAT
from netvet.firmware.limits import Limits
from netvet.firmware.result import Status, Verdict
from tests.formats.pairs import field as field_value
from tests.formats.pairs import run_pair, unexplained

SLACK = Path(__file__).resolve().parent.parent / "fixtures" / "slack"
PAYLOAD = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n" * 2
_Q = struct.Struct("<q")
# superblock: bytes_used, then the table starts (squashfs_fs.h), each a u64 at these offsets
POINTERS = range(40, 96, 8)
DATA_START = 96  # bin/tool's blocks come first: no compression options
UNCOMPRESSED = 1 << 24
MTIME = 1700000000  # make_squashfs_slack.sh: -all-time
NO_FRAGMENT = 0xFFFFFFFF


def _plain() -> bytearray:
    return bytearray((SLACK / "squashfs-plain.img").read_bytes())


def _u64(img: bytearray, at: int) -> int:
    return int(_Q.unpack_from(img, at)[0])


@dataclass(frozen=True)
class Tables:
    """Where the tables of squashfs-plain.img are (every one a single metadata block)."""

    inode: int
    directory: int
    fragment_index: int
    fragment_block: int  # the fragment table's metadata block
    lookup_index: int
    id_index: int

    @classmethod
    def of(cls, img: bytearray) -> Tables:
        frag_index = _u64(img, 80)
        return cls(
            inode=_u64(img, 64),
            directory=_u64(img, 72),
            fragment_index=frag_index,
            fragment_block=_u64(img, frag_index),
            lookup_index=_u64(img, 88),
            id_index=_u64(img, 48),
        )


def _insert(img: bytearray, at: int, payload: bytes) -> bytearray:
    """`payload` inserted at `at`, and every absolute pointer at or past `at` moved: what an
    attacker does to keep the image mountable. (The fixture's one file with blocks starts
    before any insertion point, so no inode's start needs moving.)"""
    t = Tables.of(img)
    n = len(payload)
    out = bytearray(img[:at] + payload + img[at:])

    def move(field: int) -> None:
        if field >= at:
            field += n
        value = _u64(out, field)
        if value >= at:
            _Q.pack_into(out, field, value + n)

    for index in (t.fragment_index, t.lookup_index, t.id_index):
        move(index)
    if img[t.fragment_block + 1] & 0x80:  # the entries can be patched: stored uncompressed
        for entry in range(_u64(img, 16) & 0xFFFFFFFF):  # start u64, size u32, unused u32
            move(t.fragment_block + 2 + 16 * entry)
    else:  # compressed: the caller inserts after the fragment blocks
        assert at > _u64(img, 64) - 1, "fragment entries would need recompressing"
    for field in POINTERS:
        value = _u64(out, field)
        if value >= at:
            _Q.pack_into(out, field, value + n)
    return out


def _files(img: bytearray) -> list[tuple[int, int, int, int, int]]:
    """(position in the inode table, start, fragment, offset, size) of every basic file inode of
    the uncompressed inode table (a record at any byte that reads as one whose size fits)."""
    t = Tables.of(img)
    table = bytes(img[t.inode + 2 : t.directory])
    found = []
    for at in range(len(table) - 32):
        kind, _m, _u, _g, mtime, _i, start, frag, off, size = struct.unpack_from(
            "<HHHHIIIIII", table, at
        )
        if kind == 2 and mtime == MTIME and size < 1 << 16 and start < len(img):
            found.append((at, start, frag, off, size))
    return found


def _tool_block_list(img: bytearray) -> tuple[int, list[int]]:
    """Image offset and words of bin/tool's block list (its blocks start the data)."""
    [(at, _, frag, _, size)] = [f for f in _files(img) if f[1] == DATA_START and f[4] > 4096]
    assert frag == NO_FRAGMENT  # so its last block is a short one: no tail-end fragment
    at += Tables.of(img).inode + 2
    words = list(struct.unpack_from(f"<{-(-size // 4096)}I", img, at + 32))
    return at + 32, words


def _fragment_entry(img: bytearray) -> tuple[int, int, int]:
    """(image offset of fragment 0's entry, block start, size word)."""
    entry = Tables.of(img).fragment_block + 2
    start, word = struct.unpack_from("<QI", img, entry)
    return entry, start, word


_run = run_pair
_unexplained = unexplained


def _unaccounted(img: bytes) -> str:
    return field_value(squashfs, img, "unaccounted")


# -- honest images -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["plain", "xz", "zstd", "lz4"])
def test_honest_images_have_nothing_unaccounted(name: str) -> None:
    img = (SLACK / f"squashfs-{name}.img").read_bytes()
    assert _unaccounted(img) == "none"


@pytest.mark.parametrize("name", ["xz", "zstd", "lz4"])
def test_honest_rebuild_stays_equivalent(tmp_path: Path, name: str) -> None:
    ref = (SLACK / "squashfs-plain.img").read_bytes()
    dep = (SLACK / f"squashfs-{name}.img").read_bytes()
    result = _run(tmp_path, ref, dep)
    assert result.verdict is Verdict.EQUIVALENT, _unexplained(result)


def _hostile() -> dict[str, bytearray]:
    """Each hiding place below, as the tests build it."""
    img = _plain()
    t = Tables.of(img)
    where, words = _tool_block_list(img)
    blocks_end = DATA_START + sum(w & ~UNCOMPRESSED for w in words)
    stream = _insert(img, blocks_end, PAYLOAD)
    last = where + len(PAYLOAD) + 4 * (len(words) - 1)
    struct.pack_into("<I", stream, last, words[-1] + len(PAYLOAD))
    _, start, word = _fragment_entry(img)
    tail = _insert(img, start + (word & ~UNCOMPRESSED), PAYLOAD)
    entry, _, _ = _fragment_entry(tail)
    struct.pack_into("<I", tail, entry + 8, word + len(PAYLOAD))
    return {
        "before the inode table": _insert(img, t.inode, PAYLOAD),
        "between inode and directory tables": _insert(img, t.directory, PAYLOAD),
        "after a file's blocks": _insert(img, blocks_end, PAYLOAD),
        "before the id table index": _insert(img, t.id_index, PAYLOAD),
        "after a gzip stream": stream,
        "after a fragment block's last piece": tail,
    }


def _digests(img: bytes) -> dict[str, str | None]:
    """Each member's digest as the comparison reads it (None for members without content)."""
    from io import BytesIO

    from netvet.firmware.digests import digest_of

    ctx = WalkContext(Limits())
    listing = FORMAT.list(BytesIO(img), len(img), ctx)
    return {m.name: digest_of(m, ctx) if m.opener else None for m in listing.members}


def _unsquashfs_agrees(tmp_path: Path, hostile: dict[str, bytes | bytearray]) -> None:
    """Where squashfs-tools is installed: unsquashfs extracts each hostile image without a
    word, to the same tree as the original's."""
    unsquashfs = shutil.which("unsquashfs")
    if unsquashfs is None:
        return
    (tmp_path / "ref.img").write_bytes(_plain())
    subprocess.run([unsquashfs, "-q", "-n", "-d", str(tmp_path / "ref"), str(tmp_path / "ref.img")])
    for i, (what, img) in enumerate(hostile.items()):
        (tmp_path / f"{i}.img").write_bytes(img)
        done = subprocess.run(
            [unsquashfs, "-q", "-n", "-d", str(tmp_path / str(i)), str(tmp_path / f"{i}.img")],
            capture_output=True,
        )
        assert done.returncode == 0, (what, done.stderr)
        assert _tree(tmp_path / str(i)) == _tree(tmp_path / "ref"), what


def test_hostile_images_read_back_the_same(tmp_path: Path) -> None:
    """The patching is sound, as an attacker's would be: every hostile image lists, its members
    read back as the original's, and (where squashfs-tools is installed) unsquashfs extracts
    the same tree from it without a word. Only the checks here see the payload."""
    original = _digests(bytes(_plain()))
    for what, img in _hostile().items():
        got = _digests(bytes(img))
        if what.startswith("after a f") or what.startswith("after a g"):  # refused on reading
            assert got.keys() == original.keys(), what
        else:
            assert got == original, what
    _unsquashfs_agrees(tmp_path, _hostile())


def _tree(root: Path) -> dict[str, bytes | str]:
    return {
        str(p.relative_to(root)): str(p.readlink()) if p.is_symlink() else p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_symlink() or p.is_file()
    }


# -- hostile variants ----------------------------------------------------------------------------


def _hidden_between(tmp_path: Path, at: int, expect: str, payload: bytes = PAYLOAD) -> None:
    img = _plain()
    dep = _insert(img, at, payload)
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    [field] = [f for f in result.findings if f.locations and f.locations[0].symbol == "unaccounted"]
    assert field.status is Status.UNEXPLAINED
    assert f"{len(payload)} bytes at {at:#x} between {expect}" in field.summary, field.summary


def test_bytes_before_the_inode_table(tmp_path: Path) -> None:
    at = Tables.of(_plain()).inode
    _hidden_between(tmp_path, at, "fragment block 0 and the inode table")


def test_bytes_between_inode_and_directory_tables(tmp_path: Path) -> None:
    at = Tables.of(_plain()).directory
    _hidden_between(tmp_path, at, "the inode table and the directory table")


def test_bytes_between_a_files_blocks_and_the_fragment_block(tmp_path: Path) -> None:
    img = _plain()
    _, words = _tool_block_list(img)
    at = DATA_START + sum(w & ~UNCOMPRESSED for w in words)
    _hidden_between(tmp_path, at, "data blocks of /bin/tool and fragment block 0")


def test_bytes_before_the_id_table_index(tmp_path: Path) -> None:
    at = Tables.of(_plain()).id_index
    _hidden_between(tmp_path, at, "the id table and the id table index")


def test_metadata_block_of_payload_after_the_last_inode(tmp_path: Path) -> None:
    """A well-formed (uncompressed) metadata block appended to the inode table: every block
    chains, but its bytes follow the last inode."""
    img = _plain()
    block = struct.pack("<H", 0x8000 | len(PAYLOAD)) + PAYLOAD
    dep = _insert(img, Tables.of(img).directory, block)
    found = _unaccounted(bytes(dep))
    assert f"inode table: {len(PAYLOAD)} decompressed bytes after the last inode" in found
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT


def test_payloads_of_one_size_in_one_table_gap_differ(tmp_path: Path) -> None:
    """Decompressed table bytes are in no image range that slack compares: the finding carries
    their digest, so two hostile images alike but for the payload's bytes still differ."""
    img = _plain()
    images = []
    for payload in (PAYLOAD, PAYLOAD[::-1]):
        block = struct.pack("<H", 0x8000 | len(payload)) + payload
        images.append(bytes(_insert(img, Tables.of(img).directory, block)))
    found = [_unaccounted(i) for i in images]
    assert found[0] != found[1] and all("(sha256 " in f for f in found)
    assert _run(tmp_path, *images).verdict is Verdict.DIFFERENT


def test_bytes_after_a_compressed_stream(tmp_path: Path) -> None:
    """Junk appended to bin/tool's last data block, the block's size word grown to cover it:
    the file still reads back the same, the zlib stream ends before the block."""
    img = _plain()
    where, words = _tool_block_list(img)
    at = DATA_START + sum(w & ~UNCOMPRESSED for w in words)
    dep = _insert(img, at, PAYLOAD)
    last = where + len(PAYLOAD) + 4 * (len(words) - 1)  # the inode table moved too
    struct.pack_into("<I", dep, last, words[-1] + len(PAYLOAD))
    assert _unaccounted(bytes(dep)) == "none"  # every byte is in a block now
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.path.endswith("bin/tool")
    block = at - (words[-1] & ~UNCOMPRESSED)
    assert (
        f"{len(PAYLOAD)} bytes at {at:#x} after the end of the gzip stream of the "
        f"{(words[-1] & ~UNCOMPRESSED) + len(PAYLOAD)}-byte block at {block:#x}"
    ) in finding.summary, finding.summary


def test_bytes_after_the_last_piece_of_a_fragment_block(tmp_path: Path) -> None:
    img = _plain()
    _, start, word = _fragment_entry(img)
    at = start + (word & ~UNCOMPRESSED)
    dep = _insert(img, at, PAYLOAD)
    entry, _, _ = _fragment_entry(dep)
    struct.pack_into("<I", dep, entry + 8, word + len(PAYLOAD))
    assert _unaccounted(bytes(dep)) == "none"
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    found = _unexplained(result)
    assert found, found
    assert all("fragment block 0" in f and "after the last file's piece" in f for f in found)


def test_a_gap_between_pieces_of_a_fragment_block(tmp_path: Path) -> None:
    """Payload put in the fragment block before the last piece, whose offset (in the
    uncompressed inode table) is moved past it."""
    img = _plain()
    t = Tables.of(img)
    _, start, word = _fragment_entry(img)
    length = word & ~UNCOMPRESSED
    [(inode, _, _, off, size)] = [f for f in _files(img) if f[2] == 0 and f[3] + f[4] == length]
    dep = bytearray(img)
    dep[start + off : start + off] = PAYLOAD
    dep = _shift_after(dep, img, start + off, len(PAYLOAD))
    entry, _, _ = _fragment_entry(dep)
    struct.pack_into("<I", dep, entry + 8, word + len(PAYLOAD))
    struct.pack_into("<I", dep, t.inode + len(PAYLOAD) + 2 + inode + 24, off + len(PAYLOAD))
    found = _unaccounted(bytes(dep))
    assert f"fragment block 0: decompressed bytes {off:#x}..{off + len(PAYLOAD):#x}" in found
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT


def _shift_after(dep: bytearray, img: bytearray, at: int, n: int) -> bytearray:
    """`dep` is `img` with n bytes inserted at `at`: move the pointers as `_insert` does."""
    moved = _insert(img, at, bytes(n))
    moved[at : at + n] = dep[at : at + n]
    return moved


# -- malformed tables: a clear refusal, never a traceback -------------------------------------


def _set(img: bytearray, at: int, value: int) -> bytearray:
    out = bytearray(img)
    _Q.pack_into(out, at, value)
    return out


def _malformed() -> list[tuple[str, bytearray]]:
    img = _plain()
    t = Tables.of(img)
    entry, _, _ = _fragment_entry(img)
    return [
        ("fragment block over the superblock", _set(img, entry, 0)),
        ("directory table past the end", _set(img, 72, len(img) + 100)),
        ("inode table inside the directory table", _set(img, 64, t.directory + 4)),
        ("export table over the inode table", _set(img, t.lookup_index, t.inode)),
        ("bytes_used before the id table", _set(img, 40, t.id_index)),
        ("id table index over the superblock", _set(img, t.id_index, 0)),
    ]


@pytest.mark.parametrize(("what", "dep"), _malformed(), ids=[w for w, _ in _malformed()])
def test_malformed_tables_are_not_compared(tmp_path: Path, what: str, dep: bytearray) -> None:
    result = _run(tmp_path, bytes(_plain()), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT, what
    assert any(f.klass == "not-compared" for f in result.findings), _unexplained(result)


def test_bytes_after_the_stream_of_a_metadata_block(tmp_path: Path) -> None:
    """squashfs-zstd.img's inode table block (compressed) grown by bytes after its zstd
    frame: the whole image is refused, the block and the bytes located."""
    img = bytearray((SLACK / "squashfs-zstd.img").read_bytes())
    block = Tables.of(img).inode
    (header,) = struct.unpack_from("<H", img, block)
    assert not header & 0x8000
    end = block + 2 + header
    dep = _insert(img, end, PAYLOAD)
    struct.pack_into("<H", dep, block, header + len(PAYLOAD))
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = _unexplained(result)
    assert f"{len(PAYLOAD)} bytes at {end:#x} after the end of the zstd stream" in finding


# -- every codec: a block's stream must end where the block does ------------------------------


def _streams() -> list[tuple[int, bytes]]:
    import lzma
    import zlib

    import lz4.block
    import zstandard
    from lzallright import LZOCompressor

    plain = b"squashfs block " * 300
    return [
        (1, zlib.compress(plain)),
        (2, lzma.compress(plain, format=lzma.FORMAT_ALONE)),
        (3, LZOCompressor().compress(plain)),
        (4, lzma.compress(plain, format=lzma.FORMAT_XZ)),
        (5, lz4.block.compress(plain, store_size=False)),
        (6, zstandard.ZstdCompressor().compress(plain)),
    ]


@pytest.mark.parametrize(("comp", "stream"), _streams(), ids=lambda v: str(v)[:6])
def test_every_codec_refuses_bytes_after_its_stream(comp: int, stream: bytes) -> None:
    from netvet.firmware.errors import CorruptContainer
    from netvet.firmware.formats.squashfs_data import decompressor

    decompress = decompressor(comp, 8192)
    assert decompress(stream) == b"squashfs block " * 300
    # lzo and lz4 refuse input left over in the library (lzallright, lz4.block errors, which
    # the format's parser_errors turns into CorruptContainer); the others are checked here
    with pytest.raises(CorruptContainer if comp not in (3, 5) else Exception):
        decompress(stream + PAYLOAD)


def test_zstd_frames_around_the_block_are_refused() -> None:
    import zstandard

    from netvet.firmware.errors import CorruptContainer
    from netvet.firmware.formats.squashfs_data import decompressor

    frame = zstandard.ZstdCompressor().compress(b"content")
    skippable = struct.pack("<II", 0x184D2A50, len(PAYLOAD)) + PAYLOAD
    decompress = decompressor(6, 8192)
    for hostile in (skippable + frame, frame + skippable, frame + frame):
        with pytest.raises(CorruptContainer):
            decompress(hostile)
    unsized = zstandard.ZstdCompressor(write_content_size=False).compress(b"content")
    assert decompress(unsized) == b"content"
    with pytest.raises(CorruptContainer):
        decompress(unsized + PAYLOAD)


def test_overlapping_pieces_do_not_hide_a_gap() -> None:
    """Pieces [0,10), [5,15), then [20,30) of one fragment block: the overlap would make the
    lengths add up to the end (10 + 10 + 10 = 30), the sweep still finds 15..20."""
    from types import SimpleNamespace

    from netvet.firmware.formats.squashfs_slack import Layout, _fragments

    sb = SimpleNamespace(block_log=12, flags=0)
    layout = Layout(sb, [], [])  # type: ignore[arg-type]
    layout.pieces = [(0, 10), (5, 15), (20, 30), (0, 0)]
    data = SimpleNamespace(fragments=SimpleNamespace(entry=lambda index: (4096, 100)))
    regions: list[tuple[int, int, str]] = []
    found: list[str] = []
    ends = _fragments(layout, data, regions, found, [])  # type: ignore[arg-type]
    assert ends == {0: 30}
    assert regions == [(4096, 4196, "fragment block 0")]
    [gap] = found
    assert "fragment block 0: decompressed bytes 0xf..0x14 (5 bytes)" in gap


# -- the entries of the indexed tables, inode numbers -------------------------------------------

NO_IDS = 26  # superblock: u16 count of the id table's entries
FRAGMENTS = 16  # superblock: u32 count of fragment table entries
ROOT_INODE = 32


def _dir_entries(img: bytearray) -> dict[bytes, tuple[int, int]]:
    """Name -> (image offset of its entry, the inode number it gives) of every entry of the
    uncompressed directory table (one metadata block; the names are unique in the tree)."""
    t = Tables.of(img)
    (word,) = struct.unpack_from("<H", img, t.directory)
    assert word & 0x8000
    p, end = t.directory + 2, t.directory + 2 + (word & 0x7FFF)
    out = {}
    while p < end:
        count, _, base = struct.unpack_from("<III", img, p)
        p += 12
        for _ in range(count + 1):
            _, delta, _, size = struct.unpack_from("<HhHH", img, p)
            out[bytes(img[p + 8 : p + 9 + size])] = (p, base + delta)
            p += 9 + size
    return out


def _renumber(img: bytearray, number: int, entry: bool = True) -> bytearray:
    """bin/tool's inode numbered `number` (its directory entry too, if `entry`)."""
    out = bytearray(img)
    t = Tables.of(out)
    at, old = _dir_entries(out)[b"tool"]
    [pos] = [t.inode + 2 + f[0] for f in _files(out) if f[1] == DATA_START]
    assert struct.unpack_from("<I", out, pos + 12)[0] == old
    struct.pack_into("<I", out, pos + 12, number)
    if entry:
        (delta,) = struct.unpack_from("<h", out, at + 2)
        struct.pack_into("<h", out, at + 2, delta + number - old)
    return out


def _fragment_table(blocks: list[bytes], count: int) -> bytearray:
    """squashfs-plain.img with its fragment table (one block) made of `blocks` (headers
    included) of `count` entries, written where it was, its index after them; every pointer
    past it moved."""
    img = _plain()
    t = Tables.of(img)
    joined = b"".join(blocks)
    grown = len(joined) + 8 * len(blocks) - (t.fragment_index + 8 - t.fragment_block)
    out = _insert(img, t.fragment_index, bytes(grown))
    index, pos = bytearray(), t.fragment_block
    for block in blocks:
        index += _Q.pack(pos)
        pos += len(block)
    out[t.fragment_block : pos + len(index)] = joined + index
    _Q.pack_into(out, 80, pos)  # fragment_table_start: the index
    struct.pack_into("<I", out, FRAGMENTS, count)
    return out


def _set_u32(img: bytearray, at: int, value: int) -> bytearray:
    out = bytearray(img)
    struct.pack_into("<I", out, at, value)
    return out


def _stored(data: bytes) -> bytes:
    """A metadata block storing `data` uncompressed."""
    return struct.pack("<H", 0x8000 | len(data)) + data


def _entry_bytes(img: bytearray) -> bytes:
    entry, _, _ = _fragment_entry(img)
    return bytes(img[entry : entry + 16])


def _notes() -> dict[str, tuple[bytearray, str]]:
    """Hostile images whose payload only `unaccounted` names: (image, what it must say)."""
    img = _plain()
    t = Tables.of(img)
    entry, _, _ = _fragment_entry(img)
    unused = bytearray(img)
    struct.pack_into("<I", unused, entry + 12, 0x6E632D6C)
    spare = _fragment_table([_stored(_entry_bytes(img) * 2)], 2)  # entry 1: a copy of 0
    ids = _insert(img, t.id_index, struct.pack("<I", 4444))  # id 1, which no inode takes
    struct.pack_into("<H", ids, t.id_index - 6, 0x8008)
    struct.pack_into("<H", ids, NO_IDS, 2)
    export = bytearray(img)
    first = t.lookup_index - 8 * 18  # the export block's 18 entries end at its index
    # entries 0 and 1 swapped
    export[first : first + 16] = export[first + 8 : first + 16] + export[first : first + 8]
    return {
        "fragment entry's unused field": (
            unused,
            "fragment table: entries with a non-zero unused field (1): 0 (0x6e632d6c)",
        ),
        "fragment entry no file uses": (spare, "fragment table: entries no file uses (1): 1"),
        "id no inode uses": (ids, "id table: ids no inode uses (1): 1 (4444)"),
        "export entries swapped": (
            export,
            "export table: entries not the reference of the inode numbered one more (2): 0 (",
        ),
        "inode count past the inodes": (
            _set_u32(img, 4, 19),
            "the superblock counts 19 inodes, the tree has 18",
        ),
        "inode number past the count": (
            _renumber(img, 1000),
            "inode table: inode numbers outside 1..18 (1): 1000 (the inode at 0x0:",
        ),
    }


@pytest.mark.parametrize("what", list(_notes()))
def test_table_entries_nothing_reads(tmp_path: Path, what: str) -> None:
    """Bytes of an indexed table that no reader of the tree looks at, or that contradict the
    inodes: every member reads back the same, only `unaccounted` tells."""
    dep, expect = _notes()[what]
    found = _unaccounted(bytes(dep))
    assert expect in found, found
    result = _run(tmp_path, bytes(_plain()), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    assert any(expect in f for f in _unexplained(result))


def test_hostile_table_entries_read_back_the_same(tmp_path: Path) -> None:
    """As test_hostile_images_read_back_the_same: the patching of `_notes` and
    `_spread_inodes` is sound."""
    hostile = {what: img for what, (img, _) in _notes().items()}
    hostile["gaps between inodes"] = _spread_inodes([8] * 17)
    original = _digests(bytes(_plain()))
    for what, img in hostile.items():
        assert _digests(bytes(img)) == original, what
    # unsquashfs refuses an inode number past the count ("too large")
    del hostile["inode number past the count"]
    _unsquashfs_agrees(tmp_path, hostile)


def test_a_short_metadata_block_before_the_last(tmp_path: Path) -> None:
    """A fragment table of 513 entries in two blocks, the first holding entry 0 only: the
    kernel looks for entries 1..511 in it and reads on into the second block; no file uses
    them, the last block holds what the count leaves it (16 bytes), so only the first block's
    length tells."""
    img = _plain()
    dep = _fragment_table([_stored(_entry_bytes(img)), _stored(bytes(16))], 513)
    found = _unaccounted(bytes(dep))
    block = Tables.of(img).fragment_block
    assert f"fragment table: metadata block at {block:#x} holds 16 bytes, not 8192" in found
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT


def test_bytes_after_the_stream_of_a_middle_table_block(tmp_path: Path) -> None:
    """A fragment table of 1025 entries in three blocks, the middle one (entries no file uses,
    so never read for a file) a gzip stream with the payload after it."""
    import zlib

    img = _plain()
    head = _stored(_entry_bytes(img) + bytes(16 * 511))
    packed = zlib.compress(bytes(8192)) + PAYLOAD
    middle = struct.pack("<H", len(packed)) + packed
    dep = _fragment_table([head, middle, _stored(bytes(16))], 1025)
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = _unexplained(result)
    at = Tables.of(img).fragment_block + len(head) + len(middle) - len(PAYLOAD)
    assert f"{len(PAYLOAD)} bytes at {at:#x} after the end of the gzip stream" in finding


def _renumbered() -> list[tuple[str, bytearray, str]]:
    img = _plain()
    entries = _dir_entries(img)
    _, tool = entries[b"tool"]
    _, other = entries[b"passwd"]
    return [
        ("two inodes of one number", _renumber(img, other), f"inode number {other}"),
        (
            "an entry giving another number",
            _renumber(img, tool + 1, entry=False),
            f"is inode {tool} in its directory, {tool + 1} in its inode",
        ),
    ]


@pytest.mark.parametrize(
    ("what", "dep", "expect"), _renumbered(), ids=[w for w, *_ in _renumbered()]
)
def test_inode_numbers_the_kernel_would_confuse(
    tmp_path: Path, what: str, dep: bytearray, expect: str
) -> None:
    """The kernel caches inodes by the number the directory entry gives: two inodes of one
    number read as one there, so the image is refused rather than compared."""
    result = _run(tmp_path, bytes(_plain()), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT, what
    [finding] = _unexplained(result)
    assert "not compared" in finding and expect in finding, finding


# -- many findings ------------------------------------------------------------------------------


def _spread_inodes(gaps: list[int]) -> bytearray:
    """squashfs-plain.img with gaps[i] bytes of payload before inode record i + 1 (in table
    order), and every reference to an inode moved: directory entries, the root's, the export
    table's (the inode table is one uncompressed block)."""
    img = _plain()
    t = Tables.of(img)
    root = _u64(img, ROOT_INODE)
    offsets = {struct.unpack_from("<H", img, p)[0] for p, _ in _dir_entries(img).values()}
    starts = sorted(offsets | {root})
    assert starts[0] == 0 and root >> 16 == 0 and len(gaps) == len(starts) - 1
    table = bytes(img[t.inode + 2 : t.directory])
    moved: dict[int, int] = {}
    new = bytearray()
    for i, (start, end) in enumerate(zip(starts, [*starts[1:], len(table)], strict=True)):
        if i:
            new += (PAYLOAD * 4)[: gaps[i - 1]]
        moved[start] = len(new)
        new += table[start:end]
    out = _insert(img, t.directory, bytes(len(new) - len(table)))
    out[t.inode : t.inode + 2 + len(new)] = _stored(bytes(new))
    for p, _ in _dir_entries(out).values():
        struct.pack_into("<H", out, p, moved[struct.unpack_from("<H", out, p)[0]])
    _Q.pack_into(out, ROOT_INODE, moved[root])
    export = _u64(out, Tables.of(out).lookup_index) + 2
    (inodes,) = struct.unpack_from("<I", out, 4)
    for at in range(export, export + 8 * inodes, 8):
        _Q.pack_into(out, at, moved[_u64(out, at)])
    return out


def test_many_findings_are_cut_with_a_digest_of_all(tmp_path: Path) -> None:
    """17 gaps in the inode table: 16 named, the rest counted and digested, so two images
    that differ only past the cut still compare different."""
    from netvet.firmware.formats._notes import MAX_NOTES

    dep = _spread_inodes([8] * 17)
    notes = _unaccounted(bytes(dep)).split("; ")
    assert len(notes) == MAX_NOTES + 1
    assert all("inode table: 8 decompressed bytes before the inode at" in n for n in notes[:-1])
    assert notes[-1].startswith("and 1 more (all: sha256 ")
    other = _spread_inodes([8] * 16 + [9])
    assert _unaccounted(bytes(other)).split("; ")[:-1] == notes[:-1]
    result = _run(tmp_path, bytes(dep), bytes(other))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = _unexplained(result)
    assert "unaccounted" in finding


def test_findings_cost_no_sort_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each finding in a table is placed in its metadata block by bisection over the blocks
    sorted once, not by sorting them again: a hostile table of n gaps in b blocks costs
    (n + b) log b, not n * b log b."""
    from netvet.firmware.formats import squashfs_slack

    calls = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return sorted(*args, **kwargs)

    monkeypatch.setattr(squashfs_slack, "sorted", counting, raising=False)
    assert _unaccounted(bytes(_plain())) == "none"
    honest = len(calls)
    calls.clear()
    assert _unaccounted(bytes(_spread_inodes([8] * 17))) != "none"
    assert len(calls) == honest


# -- xattr ids and the key/value lists they reach ----------------------------------------------


def _xattr_img() -> bytearray:
    return bytearray((SLACK / "squashfs-xattr.img").read_bytes())


@dataclass(frozen=True)
class Xattr:
    """Where the xattr tables of squashfs-xattr.img are (each one uncompressed block): the
    key/value block (the long value, then a's list, then b's), the xattr id block (a's list,
    b's), the 16-byte header and the index."""

    kv: int
    ids: int  # the xattr id block
    header: int

    @classmethod
    def of(cls, img: bytearray) -> Xattr:
        header = _u64(img, 56)
        return cls(kv=_u64(img, header), ids=_u64(img, header + 16), header=header)

    def entry(self, img: bytearray, index: int) -> tuple[int, int, int, int]:
        """(image offset, reference, count, size) of xattr id `index`."""
        at = self.ids + 2 + 16 * index
        return (at, *struct.unpack_from("<QII", img, at))


def _kv_payload(block: bool) -> bytearray:
    """PAYLOAD after b's list, inside the key/value block (its header grown) or as a block of
    its own; the xattr id block, header and index moved after it: every member reads the same.
    (unsquashfs 4.5 refuses the second, a key/value block short of 8 KiB before the last; the
    kernel, like netvet, reads a list where its reference says and does not look.)"""
    img = _xattr_img()
    x = Xattr.of(img)
    data = _stored(PAYLOAD) if block else PAYLOAD
    out = _insert(img, x.ids, data)
    if not block:
        struct.pack_into("<H", out, x.kv, _u16(out, x.kv) + len(data))
    _Q.pack_into(out, x.header + len(data) + 16, x.ids + len(data))
    return out


def _u16(img: bytearray, at: int) -> int:
    return int(struct.unpack_from("<H", img, at)[0])


def _unused_xattr_id() -> bytearray:
    """A third xattr id, a copy of b's, that no inode takes: appended to the id block (header
    count and the block's length grown, the header and index moved after it)."""
    img = _xattr_img()
    x = Xattr.of(img)
    _, ref, count, size = x.entry(img, 1)
    out = _insert(img, x.header, struct.pack("<QII", ref, count, size))
    struct.pack_into("<H", out, x.ids, _u16(out, x.ids) + 16)
    struct.pack_into("<I", out, x.header + 16 + 8, 3)
    return out


def test_honest_xattr_image_has_nothing_unaccounted() -> None:
    img = _xattr_img()
    assert _unaccounted(bytes(img)) == "none"
    assert Xattr.of(img).entry(img, 1)[2] == 2  # b's list: user.b, then user.long out of line


@pytest.mark.parametrize("block", [False, True], ids=["in the block", "a block of its own"])
def test_key_value_bytes_no_xattr_id_reaches(tmp_path: Path, block: bool) -> None:
    img = _xattr_img()
    dep = _kv_payload(block)
    assert _digests(bytes(dep)) == _digests(bytes(img))  # the payload changes no member
    kv = Xattr.of(img).kv
    length = _u16(img, kv) & 0x7FFF  # the key/value block's, stored uncompressed
    at, offset = (kv + 2 + length, 0) if block else (kv, length)
    note = _unaccounted(bytes(dep))
    digest = hashlib.sha256(PAYLOAD).hexdigest()[:16]
    assert note == (
        f"xattr table: {len(PAYLOAD)} decompressed bytes after the last key/value list, in the "
        f"metadata block at {at:#x} from offset {offset:#x} (sha256 {digest})"
    ), note
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT
    assert any("unaccounted" in f for f in _unexplained(result))


def test_an_xattr_id_no_inode_uses(tmp_path: Path) -> None:
    img = _xattr_img()
    dep = _unused_xattr_id()
    assert _digests(bytes(dep)) == _digests(bytes(img))
    _, ref, count, size = Xattr.of(img).entry(img, 1)
    note = _unaccounted(bytes(dep))
    assert note == (
        f"xattr id table: ids no inode uses (1): 2 (0x0:{ref:#x}, {count} xattrs, {size} bytes)"
    ), note
    result = _run(tmp_path, bytes(img), bytes(dep))
    assert result.verdict is Verdict.DIFFERENT


def test_an_xattr_list_shortened_leaves_its_tail_unreached() -> None:
    """b's id counting one entry of its two (its size made to match): the out-of-line entry's
    bytes are then reached by no id."""
    img = _xattr_img()
    at, _, _, _ = Xattr.of(img).entry(img, 1)
    struct.pack_into("<II", img, at + 8, 1, len("user.b") + 1 + len("two"))
    note = _unaccounted(bytes(img))
    assert note.startswith("xattr table: 20 decompressed bytes after the last key/value list"), note


def test_an_xattr_id_size_not_its_lists() -> None:
    img = _xattr_img()
    at, _, _, size = Xattr.of(img).entry(img, 0)
    struct.pack_into("<I", img, at + 12, size + 1)
    note = _unaccounted(bytes(img))
    assert note == (
        f"xattr id table: entries whose size is not their key/value list's (1): "
        f"0 ({size + 1}, the list holds {size})"
    ), note


@pytest.mark.parametrize(
    ("ref", "count", "why"),
    [
        (0xFFFF, 1, "offset 65535 beyond a block"),
        (0x10000, 1, "no xattr block at 1"),
        (4, 2, "an entry runs past its end"),
        (0, 4096, "lists overlap"),  # read over and over, it would cost count * ids
    ],
)
def test_an_unused_xattr_id_of_a_bad_list_is_refused(ref: int, count: int, why: str) -> None:
    """No inode reads it, so only the accounting parses its list: refused as corrupt, and the
    work on lists into one another bounded by what the table can hold."""
    from io import BytesIO

    from netvet.firmware.errors import CorruptContainer

    img = _unused_xattr_id()
    struct.pack_into("<QI", img, Xattr.of(img).entry(img, 2)[0], ref, count)
    with pytest.raises(CorruptContainer, match=why):
        FORMAT.list(BytesIO(bytes(img)), len(img), WalkContext(Limits()))


def test_an_xattr_list_running_into_the_next() -> None:
    """a's id counting three entries, its size grown to match: its list reads on into b's, which
    b's id reaches too, so no byte is unreached, but mksquashfs writes each list apart."""
    img = _xattr_img()
    x = Xattr.of(img)
    at, ref, count, size = x.entry(img, 0)
    _, following, _, _ = x.entry(img, 1)
    struct.pack_into("<II", img, at + 8, count + 1, size + len("user.b") + 1 + len("two"))
    note = _unaccounted(bytes(img))
    assert note.startswith(
        f"xattr table: lists running into the next (1): {ref:#x}..{following + 12:#x} into "
    ), note
