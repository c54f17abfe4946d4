"""An update package whose manifest lists the digest of a changed rootfs.

Found on a tar.gz update (rootfs.squashfs + uImage + sha256sums) whose rootfs carried a patched
libz: the sha256sums finding was rightly unexplained, but still said node "equivalent" (the
producer's mark from before the claim failed), so the HTML and JSON rows contradicted
themselves.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path

from netvet.firmware.compare import compare
from netvet.firmware.result import Node, Status, Verdict


def _package(path: Path, rootfs: bytes, version: bytes, mtime: int) -> Path:
    files = {"rootfs.bin": rootfs, "version": version}
    manifest = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in files.items()
    )
    files["sha256sums"] = manifest.encode()
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), mtime
            tar.addfile(info, io.BytesIO(data))
    return path


def test_failed_digest_claim_is_a_different_node(tmp_path: Path) -> None:
    rootfs = bytes(range(256)) * 64
    patched = bytearray(rootfs)
    patched[5000] ^= 0x01
    ref = _package(tmp_path / "a.tar.gz", rootfs, b"V1.2.3\n", 1700000000)
    dep = _package(tmp_path / "b.tar.gz", bytes(patched), b"V1.2.3\n", 1700000000)
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    manifest = [f for f in result.findings if f.path.endswith("/sha256sums")]
    assert len(manifest) == 1
    assert manifest[0].status is Status.UNEXPLAINED
    assert manifest[0].node is Node.DIFFERENT
    assert "is not the sha256 of any equivalent entry" in manifest[0].summary


def test_manifest_of_an_equivalent_entry_stays_benign(tmp_path: Path) -> None:
    ref = _package(tmp_path / "a.tar.gz", b"data" * 1000, b"built 2024-01-01 10:00:00\n", 1)
    dep = _package(tmp_path / "b.tar.gz", b"data" * 1000, b"built 2024-02-03 11:22:33\n", 2)
    result = compare(ref, dep)
    assert result.verdict is Verdict.EQUIVALENT, [f.summary for f in result.findings]
    manifest = [f for f in result.findings if f.path.endswith("/sha256sums")]
    assert [(f.status, f.node, f.klass) for f in manifest] == [
        (Status.BENIGN, Node.EQUIVALENT, "derived-digest")
    ]
