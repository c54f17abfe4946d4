"""Security metadata worded for a reviewer: file capabilities as getcap spells them, owners a
container does not record.

Found comparing two squashfs rootfs where the deployed busybox had gained cap_net_raw: the
finding read `security.capability: (absent) -> 0100000200200000...`, which a reviewer cannot
read. The values below are what `setcap` wrote (checked against `getcap` when written).
"""

from __future__ import annotations

import pytest

from netvet.firmware.model import Kind, Member, Meta
from netvet.firmware.security import _capabilities, metadata_findings

NET_RAW_EP = bytes.fromhex("0100000200200000000000000000000000000000")  # setcap cap_net_raw+ep


def _file(xattrs: tuple[tuple[str, bytes], ...]) -> Member:
    return Member("bin/busybox", Kind.FILE, Meta(mode=0o755, uid=0, gid=0, xattrs=xattrs))


def test_added_capability_is_named() -> None:
    (f,) = metadata_findings(
        "rootfs/bin/busybox", _file(()), _file((("security.capability", NET_RAW_EP),))
    )
    assert f.klass == "xattr"
    assert f.summary == (
        f"extended attribute security.capability: (absent) -> cap_net_raw=ep ({NET_RAW_EP.hex()})"
    )


@pytest.mark.parametrize(
    ("hex_value", "expected"),
    [
        # setcap cap_net_bind_service,cap_net_admin+p
        ("0000000200140000000000000000000000000000", "cap_net_bind_service,cap_net_admin=p"),
        # setcap cap_bpf,cap_checkpoint_restore+eip: bits 39 and 40, in the second word
        ("0100000200000000000000008001000080010000", "cap_bpf,cap_checkpoint_restore=eip"),
        # revision 3 carries the namespace root uid
        ("000000030004000000000000000000000000000000000000", "cap_net_bind_service=p (rootid 0)"),
        ("0100000200000000000000000000000000000000", "no capabilities"),
    ],
)
def test_capability_revisions(hex_value: str, expected: str | None) -> None:
    assert _capabilities(bytes.fromhex(hex_value)) == expected


@pytest.mark.parametrize("value", [b"", b"\x01\x00\x00\x02", b"\xff" * 20, b"not a cap value"])
def test_malformed_capability_values_show_hex_only(value: bytes) -> None:
    assert _capabilities(value) is None
    (f,) = metadata_findings(
        "x",
        _file((("security.capability", b"\x00" * 20),)),
        _file((("security.capability", value),)),
    )
    assert f.summary.endswith(f"-> {value.hex() if value else ''}")


def test_other_xattrs_stay_hex() -> None:
    (f,) = metadata_findings(
        "x", _file((("user.note", b"\x01\x00\x00\x02" + bytes(16)),)), _file(())
    )
    assert (
        f.summary
        == "extended attribute user.note: 0100000200000000000000000000000000000000 -> (absent)"
    )


def test_owner_missing_on_one_side_is_worded() -> None:
    # zip -X drops the unix uid/gid extra field; the same files zipped without -X carry 0:0
    a = Member("version", Kind.FILE, Meta(mode=0o644))
    b = Member("version", Kind.FILE, Meta(mode=0o644, uid=0, gid=0))
    (f,) = metadata_findings("fw.zip/version", a, b)
    assert (f.klass, f.summary) == ("owner", "owner (not recorded) -> 0:0")
