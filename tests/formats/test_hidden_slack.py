"""Data hidden where no member lies must make a comparison different (issue #2).

A real-image trial found `equivalent` verdicts for: a script written into free ext4 blocks or
into the journal, 64 bytes in a UBIFS LEB's free space (and a flipped bit that landed there),
while a flash region whose fill byte alone changed came out unexplained and an ext4 -> squashfs
change drowned in per-format header fields. Fixtures: tests/fixtures/slack/make_slack.sh (two
honest `mke2fs -d` builds of one tree, three block groups, group 1 BLOCK_UNINIT with a
superblock copy, the journal in group 2) and tests/fixtures/formats/fs-ubi.img.
"""

from __future__ import annotations

import gzip
import io
import random
from pathlib import Path

import pytest

from netvet.firmware.compare import compare
from netvet.firmware.formats import ubifs_scan
from netvet.firmware.result import Status, Verdict
from tests.formats.pairs import run_pair, unexplained
from tests.realworld._build import pad, uimage

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
BLOCK = 1024
JOURNAL = 16385  # first block of the journal inode (debugfs stat <8>)
SCRIPT = b"#!/bin/sh\nnc -l -p 4444 -e /bin/sh\n"


def _ext(name: str) -> bytes:
    return gzip.decompress((FIXTURES / "slack" / f"{name}.img.gz").read_bytes())


_run = run_pair
_unexplained = unexplained


def _patched(data: bytes, offset: int, payload: bytes) -> bytes:
    out = bytearray(data)
    out[offset : offset + len(payload)] = payload
    return bytes(out)


def test_honest_ext4_rebuild_stays_equivalent(tmp_path: Path) -> None:
    result = _run(tmp_path, _ext("ext4"), _ext("ext4-rebuild"))
    assert result.verdict is Verdict.EQUIVALENT, _unexplained(result)


@pytest.mark.parametrize(
    ("offset", "what"),
    [
        (5000 * BLOCK, "free block of group 0 (bitmap says free)"),
        (12000 * BLOCK + 100, "free block of group 1 (BLOCK_UNINIT: no bitmap on disk)"),
        ((JOURNAL + 10) * BLOCK, "a journal block"),
        (JOURNAL * BLOCK + 0x200, "spare bytes of the journal superblock"),
        (100, "boot area before the superblock"),
    ],
)
def test_data_in_ext4_slack_is_located(tmp_path: Path, offset: int, what: str) -> None:
    ref = _ext("ext4")
    assert ref[offset : offset + len(SCRIPT)].count(0) == len(SCRIPT), what
    result = _run(tmp_path, ref, _patched(ref, offset, SCRIPT))
    assert result.verdict is Verdict.DIFFERENT, what
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.klass == "trailing-data"
    assert finding.locations[0].offset == offset, what


def test_data_after_a_files_end_in_its_last_block_is_located(tmp_path: Path) -> None:
    ref = _ext("ext4")
    passwd = b"root:x:0:0:root:/root:/bin/sh\n"
    at = ref.index(passwd) + len(passwd) + 16  # /etc/passwd: 30 bytes of a 1 KiB block
    assert at % BLOCK > len(passwd)
    result = _run(tmp_path, ref, _patched(ref, at, SCRIPT))
    assert result.verdict is Verdict.DIFFERENT
    [finding] = [f for f in result.findings if f.status is Status.UNEXPLAINED]
    assert finding.locations[0].offset == at


def test_overwritten_journal_superblock_is_different(tmp_path: Path) -> None:
    ref = _ext("ext4")
    result = _run(tmp_path, ref, _patched(ref, JOURNAL * BLOCK, b"PAYLOAD-IN-JOURNAL"))
    assert result.verdict is Verdict.DIFFERENT
    assert any("journal.header" in s for s in _unexplained(result)), _unexplained(result)


def test_ext4_vs_squashfs_reports_the_format_change_once(tmp_path: Path) -> None:
    formats = FIXTURES / "formats"
    result = compare(formats / "fs-ext4.img", formats / "fs-squashfs-xz.img")
    assert result.verdict is Verdict.DIFFERENT
    assert [f.klass for f in result.findings if f.klass == "format-changed"] == ["format-changed"]
    assert not [f for f in result.findings if f.klass == "header-field"]


UBI = FIXTURES / "formats" / "fs-ubi.img"
PEB = 16 << 10
NODES_PEB, NODES_END = 12, 1024 + 7680  # a UBIFS LEB: 7680 bytes of nodes, then erased


@pytest.mark.parametrize(
    "payload", [random.Random(1).randbytes(64), b"\xfe"], ids=["64-random", "one-bit"]
)
def test_data_in_ubifs_free_space_is_different(tmp_path: Path, payload: bytes) -> None:
    data = UBI.read_bytes()
    at = NODES_PEB * PEB + NODES_END + 1000
    assert data[NODES_PEB * PEB + 1024 :][:4] == ubifs_scan.MAGIC
    assert data[at - 1000 : at + 64] == b"\xff" * 1064
    result = _run(tmp_path, data, _patched(data, at, payload), ".ubi")
    assert result.verdict is Verdict.DIFFERENT
    hits = [f for f in result.findings if "unaccounted" in f.summary]
    assert hits and hits[0].status is Status.UNEXPLAINED, _unexplained(result)
    assert f"{NODES_END - 1024 + 1000:#x} {len(payload)} bytes of data in free space" in (
        hits[0].summary
    )


def test_ubifs_scan_flags_a_bad_crc_and_gap_data() -> None:
    leb_size = 15360  # mkfs.ubifs -e of the fixture
    leb = bytearray((FIXTURES / "formats" / "fs-ubifs.img").read_bytes()[:leb_size])
    assert ubifs_scan.anomalies(io.BytesIO(bytes(leb)), leb_size, 1, (9, 9), 8) == []
    leb[40] ^= 1  # inside the superblock node
    [found] = ubifs_scan.anomalies(io.BytesIO(bytes(leb)), leb_size, 1, (9, 9), 8)
    assert "fails its CRC" in found


def _flash(fill: int, blob: bytes) -> bytes:
    kernel = uimage(random.Random(2).randbytes(3000))
    return pad(blob, 0x10000, fill) + pad(kernel, 0x10000, fill)


def test_fill_byte_change_after_a_blob_is_padding(tmp_path: Path) -> None:
    boot = random.Random(1).randbytes(5000)
    result = _run(tmp_path, _flash(0xFF, boot), _flash(0x00, boot), ".bin")
    assert result.verdict is Verdict.EQUIVALENT, _unexplained(result)
    assert any("fill changed after 5000 equal bytes" in f.summary for f in result.findings)


def test_fill_byte_change_does_not_hide_a_blob_change(tmp_path: Path) -> None:
    boot = random.Random(1).randbytes(5000)
    changed = _patched(boot, 4990, b"\x90\x90")
    result = _run(tmp_path, _flash(0xFF, boot), _flash(0x00, changed), ".bin")
    assert result.verdict is Verdict.DIFFERENT
    assert any("not padding" in s for s in _unexplained(result))


def test_fill_byte_change_with_data_in_the_fill_is_unexplained(tmp_path: Path) -> None:
    boot = random.Random(1).randbytes(5000)
    dep = _patched(_flash(0x00, boot), 0x9000, SCRIPT)
    result = _run(tmp_path, _flash(0xFF, boot), dep, ".bin")
    assert result.verdict is Verdict.DIFFERENT
