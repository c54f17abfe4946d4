"""Data written where UBI stores nothing must make the comparison different.

Found by flipping bytes in a ubinize'd rootfs: 64 random bytes between a PEB's erase-counter
and volume-id headers, or after the volume table records, gave `equivalent` ("bytes differ but
every header field and member is equal"). DESIGN.md: data hidden in slack is never benign.
The fixture is tests/fixtures/formats/fs-ubi.img (16 KiB PEBs, headers at 0/512, data at 1024;
PEBs 0-1 the volume table, 2-14 a dynamic UBIFS volume, 15 a static volume of 3000 bytes).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from netvet.firmware.compare import compare
from netvet.firmware.context import WalkContext
from netvet.firmware.formats import ubi
from netvet.firmware.limits import Limits
from netvet.firmware.result import Status, Verdict

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "formats" / "fs-ubi.img"
PEB = 16 << 10


def _slack_field(data: bytes) -> str:
    with WalkContext(Limits()) as ctx:
        listing = ubi.FORMAT.list(io.BytesIO(data), len(data), ctx)
    return next(f.value for f in listing.fields if f.name == "slack_pebs")


def test_ubinize_output_has_no_slack_data() -> None:
    assert _slack_field(FIXTURE.read_bytes()) == "0"


@pytest.mark.parametrize(
    "offset",
    [
        3 * PEB + 200,  # between the EC header (64 bytes) and the VID header at 512
        5 * PEB + 512 + 64 + 10,  # between the VID header and the data at 1024
        0 * PEB + 1024 + 89 * 172 + 8,  # after the 89 volume-table records of a 15 KiB LEB
        15 * PEB + 1024 + 3000 + 100,  # after the static volume's 3000 bytes of data
    ],
)
def test_data_in_ubi_slack_is_different(tmp_path: Path, offset: int) -> None:
    data = FIXTURE.read_bytes()
    hidden = bytearray(data)
    hidden[offset : offset + 16] = b"#!/bin/sh\nnc -l\n"
    assert _slack_field(bytes(hidden)) == "1"
    ref, dep = tmp_path / "ref.ubi", tmp_path / "dep.ubi"
    ref.write_bytes(data)
    dep.write_bytes(bytes(hidden))
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    assert any(
        f.status is Status.UNEXPLAINED and "slack_pebs" in f.summary for f in result.findings
    ), [f.summary for f in result.findings]
