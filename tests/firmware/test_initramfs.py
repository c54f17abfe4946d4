"""A kernel initramfs: an early uncompressed cpio followed by a compressed main cpio."""

from __future__ import annotations

import gzip
import lzma
from pathlib import Path

from netvet.firmware import Verdict, compare
from netvet.firmware.formats.cpio import APPENDED
from netvet.firmware.result import Status


def newc(files: dict[str, bytes], mtime: int = 0) -> bytes:
    """A minimal newc archive of regular files (what `cpio -o -H newc` writes)."""
    out = b""
    for ino, (name, data) in enumerate([*files.items(), ("TRAILER!!!", b"")], start=1):
        mode = 0o100644 if name != "TRAILER!!!" else 0
        fields = [ino, mode, 0, 0, 1, mtime, len(data), 0, 0, 0, 0, len(name) + 1, 0]
        head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        out += head + b"\0" * (-len(head) % 4) + data + b"\0" * (-len(data) % 4)
    return out + b"\0" * (-len(out) % 512)


EARLY = newc({"kernel/x86/microcode/GenuineIntel.bin": b"\x01" * 64})


def image(tmp: Path, name: str, main: bytes) -> Path:
    p = tmp / name
    p.write_bytes(EARLY + main)
    return p


def test_recompressed_main_archive_is_equivalent(tmp_path: Path) -> None:
    main = newc({"init": b"#!/bin/sh\nexec /sbin/init\n"})
    ref = image(tmp_path, "ref.img", gzip.compress(main, mtime=1))
    dep = image(
        tmp_path, "dep.img", lzma.compress(newc({"init": b"#!/bin/sh\nexec /sbin/init\n"}, 5))
    )
    result = compare(ref, dep)
    assert result.verdict is Verdict.EQUIVALENT
    assert all(f.status is Status.BENIGN for f in result.findings)


def test_change_inside_compressed_main_archive_is_located(tmp_path: Path) -> None:
    ref = image(tmp_path, "ref.img", gzip.compress(newc({"init": b"#!/bin/sh\n"}), mtime=1))
    dep = image(tmp_path, "dep.img", gzip.compress(newc({"init": b"#!/bin/sh\nnc -l -e sh\n"})))
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    [f] = result.unexplained
    assert f.path == f"ref.img/{APPENDED}/init"
