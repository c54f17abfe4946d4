"""Core pieces of the walker: names, stream views, byte ranges, security metadata, claims."""

from __future__ import annotations

import hashlib
import io

import pytest

from netvet.firmware.blob import Blob
from netvet.firmware.claims import settle_claims
from netvet.firmware.compare import Pending
from netvet.firmware.content import DigestClaim
from netvet.firmware.content.ranges import diff_ranges
from netvet.firmware.context import WalkContext
from netvet.firmware.errors import LimitExceeded
from netvet.firmware.limits import Limits
from netvet.firmware.model import Kind, Member, Meta, clean_name, has_traversal
from netvet.firmware.result import Change, Finding, Status
from netvet.firmware.security import metadata_findings
from netvet.firmware.streams import SubStream, is_fill, view


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("etc/passwd", "etc/passwd"),
        ("/etc/passwd", "etc/passwd"),
        ("./a/./b//c", "a/b/c"),
        ("../../etc/passwd", "%2E%2E/%2E%2E/etc/passwd"),
        (b"bin/\xffname", "bin/\udcffname"),
        ("a\x00b", "a%00b"),
        ("", ""),
    ],
)
def test_clean_name(raw: str | bytes, clean: str) -> None:
    assert clean_name(raw) == clean


def test_has_traversal() -> None:
    assert has_traversal("../x")
    assert has_traversal("a/../../x")
    assert not has_traversal("a/..b/x")


def test_substream_views_share_a_base() -> None:
    base = io.BytesIO(bytes(range(100)))
    a = view(base, 10, 20)
    b = view(base, 50)
    assert a.read(5) == bytes(range(10, 15))
    assert b.read(3) == bytes([50, 51, 52])
    assert a.read() == bytes(range(15, 30))
    assert a.read() == b""
    a.seek(-2, io.SEEK_END)
    assert a.read() == bytes([28, 29])
    assert len(b.read()) == 47
    with pytest.raises(ValueError):
        SubStream(base, -1, 3)


def test_is_fill() -> None:
    assert is_fill(b"\xff" * 100)
    assert is_fill(b"")
    assert not is_fill(b"\xff" * 99 + b"\x00")


def test_diff_ranges_merges_and_tails() -> None:
    a = bytes(10_000)
    b = bytearray(a)
    b[100] = 1
    b[104] = 1
    b[9000] = 7
    assert diff_ranges(a, bytes(b)) == [(100, 5), (9000, 1)]
    assert diff_ranges(a, a + b"xyz") == [(10_000, 3)]
    assert diff_ranges(a, a) == []


def test_context_limits() -> None:
    ctx = WalkContext(Limits(max_total_bytes=10, max_entries=2))
    ctx.charge(10)
    with pytest.raises(LimitExceeded):
        ctx.charge(1)
    ctx.entry(2)
    with pytest.raises(LimitExceeded):
        ctx.entry()
    with pytest.raises(LimitExceeded):
        WalkContext(Limits(max_ratio=10)).check_ratio(20 << 20, 1 << 20, "x")


def test_spool_goes_to_private_dir_and_is_removed() -> None:
    import os

    ctx = WalkContext(Limits(spool_memory=10))
    s = ctx.spool([b"a" * 100, b"b" * 100], "test")
    assert s.read() == b"a" * 100 + b"b" * 100
    tmp = ctx.tmpdir()
    assert oct(os.stat(tmp).st_mode & 0o777) == "0o700"
    ctx.close()
    assert not os.path.exists(tmp)


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        Limits(max_depth=0)


def _member(**meta: object) -> Member:
    return Member("bin/x", Kind.FILE, Meta(**meta))  # type: ignore[arg-type]


def test_setuid_is_named() -> None:
    [f] = metadata_findings("p", _member(mode=0o755), _member(mode=0o4755))
    assert f.klass == "mode" and "+setuid" in f.summary and f.status is Status.UNEXPLAINED


def test_every_security_field_is_strict() -> None:
    a = _member(mode=0o644, uid=0, gid=0, target="a", rdev=(1, 3), xattrs=(("user.x", b"1"),))
    b = _member(mode=0o644, uid=1, gid=0, target="b", rdev=(1, 5), xattrs=())
    assert {f.klass for f in metadata_findings("p", a, b)} == {
        "owner",
        "symlink-target",
        "device",
        "xattr",
    }
    assert metadata_findings("p", _member(mtime=1), _member(mtime=2)) == []


def _blob(data: bytes) -> Blob:
    return Blob("x", lambda: io.BytesIO(data), WalkContext(Limits()))


def test_claims_hold_only_for_equivalent_entries() -> None:
    r, d = _blob(b"ref"), _blob(b"dep")
    good = DigestClaim("", hashlib.sha256(b"ref").hexdigest(), hashlib.sha256(b"dep").hexdigest())
    bad = DigestClaim("md5", hashlib.md5(b"ref").hexdigest(), "0" * 32)
    f = Finding("m", Change.MODIFIED, Status.BENIGN, "derived-digest", "digest changed")
    [kept] = settle_claims([Pending(f, (good,))], [(r, d)])
    assert kept.status is Status.BENIGN
    [flipped] = settle_claims([Pending(f, (good, bad))], [(r, d)])
    assert flipped.status is Status.UNEXPLAINED
    [alone] = settle_claims([Pending(f, (good,))], [])
    assert alone.status is Status.UNEXPLAINED
