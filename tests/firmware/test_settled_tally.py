"""The statistics after digest claims are settled, and the input-size bound of `compare()`.

A manifest finding is counted equivalent when it is made (its claims are checked at the end);
a claim that fails makes it different, and the tally must say so too, for the file and for
every container that was equivalent only because of it.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.firmware.compare import compare
from netvet.firmware.limits import Limits
from netvet.firmware.result import Comparison, Node, Status, Verdict

ROOTFS = bytes(range(256)) * 64


def _package(path: Path, files: dict[str, bytes], manifest: str | None = None) -> Path:
    """An update tar.gz: the files plus a sha256sums manifest (theirs, unless given)."""
    if manifest is None:
        manifest = "".join(f"{hashlib.sha256(d).hexdigest()}  {n}\n" for n, d in files.items())
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {**files, "sha256sums": manifest.encode()}.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))
    return path


def _consistent(result: Comparison) -> None:
    s = result.stats
    assert min(s.identical, s.equivalent, s.different, s.not_compared) >= 0
    assert s.entries_compared == s.identical + s.equivalent + s.different + s.not_compared


def test_failed_claim_counts_the_manifest_different(tmp_path: Path) -> None:
    patched = bytearray(ROOTFS)
    patched[5000] ^= 0x01
    ref = _package(tmp_path / "a.tar.gz", {"rootfs.bin": ROOTFS, "version": b"V1\n"})
    dep = _package(tmp_path / "b.tar.gz", {"rootfs.bin": bytes(patched), "version": b"V1\n"})
    result = compare(ref, dep, parallel=False)
    manifest = [f for f in result.findings if f.path.endswith("/sha256sums")]
    assert [(f.status, f.node) for f in manifest] == [(Status.UNEXPLAINED, Node.DIFFERENT)]
    # rootfs.bin, sha256sums, the tar and the gzip layer around it differ; version is identical
    assert (result.stats.identical, result.stats.equivalent) == (1, 0)
    assert result.stats.different == 3
    _consistent(result)


def test_forged_manifest_makes_its_containers_different(tmp_path: Path) -> None:
    # Contents identical, the manifest alone changed: the tar was equivalent only as far as
    # it knew before the claim was checked.
    files = {"rootfs.bin": ROOTFS, "version": b"V1\n"}
    forged = (
        f"{'ab' * 32}  rootfs.bin\n{hashlib.sha256(b'V1' + bytes([10])).hexdigest()}  version\n"
    )
    ref = _package(tmp_path / "a.tar.gz", files)
    dep = _package(tmp_path / "b.tar.gz", files, forged)
    result = compare(ref, dep, parallel=False)
    assert result.verdict is Verdict.DIFFERENT
    assert (result.stats.identical, result.stats.equivalent) == (2, 0)
    assert result.stats.different == 2  # sha256sums and the tar (the gzip layer passes it on)
    _consistent(result)


def test_held_claim_stays_equivalent(tmp_path: Path) -> None:
    ref = _package(
        tmp_path / "a.tar.gz", {"rootfs.bin": ROOTFS, "version": b"built 2024-01-01 10:00:00\n"}
    )
    dep = _package(
        tmp_path / "b.tar.gz", {"rootfs.bin": ROOTFS, "version": b"built 2024-02-03 11:22:33\n"}
    )
    result = compare(ref, dep, parallel=False)
    assert result.verdict is Verdict.EQUIVALENT
    # version (a build time), sha256sums (its digest) and the tar; rootfs.bin is identical
    assert (result.stats.identical, result.stats.equivalent, result.stats.different) == (1, 3, 0)
    _consistent(result)


def test_compare_refuses_an_input_over_max_total_bytes(tmp_path: Path) -> None:
    ref = tmp_path / "ref.bin"
    dep = tmp_path / "dep.bin"
    ref.write_bytes(b"x" * 4096)
    with dep.open("wb") as f:  # sparse: the bound is on the size, nothing is read
        f.truncate(1 << 30)
    with pytest.raises(InputError, match=r"dep\.bin: 1073741824 bytes, more than the max_total"):
        compare(ref, dep, Limits(max_total_bytes=1 << 20))
    assert compare(ref, ref, Limits(max_total_bytes=4096)).verdict is Verdict.IDENTICAL
