"""Hostile images end to end: limits become `not compared` findings, never exceptions, hangs or
files written where an image says.

Inputs are made here with the standard library, except the squashfs ones, which make_pairs.sh
builds with mksquashfs (tests/fixtures/pairs/hostile/).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import tarfile
import tempfile
from pathlib import Path

import pytest

from netvet.firmware import Limits, compare
from netvet.firmware.result import Comparison, Node, Status, Verdict

PAIRS = Path(__file__).resolve().parent / "fixtures" / "pairs"
HOSTILE = PAIRS / "hostile"


def tar_bytes(*members: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    """A tar made in memory from (name, data) files and ready-made TarInfo entries (links)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tar.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size, info.mtime, info.mode = len(m[1]), 1709294400, 0o644
                tar.addfile(info, io.BytesIO(m[1]))
    return buf.getvalue()


def symlink(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime, info.mode = tarfile.SYMTYPE, target, 1709294400, 0o777
    return info


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def not_compared(result: Comparison) -> list[str]:
    return [f.summary for f in result.findings if f.node is Node.NOT_COMPARED]


def test_nesting_beyond_max_depth_is_not_compared(tmp_path: Path) -> None:
    def nest(core: bytes, levels: int) -> bytes:
        data = core
        for _ in range(levels):  # gzip(tar(l.tgz = gzip(tar(...))))
            data = gzip.compress(tar_bytes(("l.tgz", data)), mtime=0)
        return data

    ref = write(tmp_path / "ref.tgz", nest(b"reference\n", 10))
    dep = write(tmp_path / "dep.tgz", nest(b"deployed!\n", 10))
    result = compare(ref, dep, Limits(max_depth=6))
    assert result.verdict is Verdict.DIFFERENT
    reasons = not_compared(result)
    assert reasons and all("max-depth" in r for r in reasons), reasons
    # Within the limit the same images compare down to the innermost file.
    deep = compare(ref, dep, Limits(max_depth=40))
    assert not not_compared(deep)
    assert any(f.path.endswith("/l.tgz/l.tgz") for f in deep.unexplained)


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        (Limits(max_ratio=100), "--max-ratio"),
        (Limits(max_total_bytes=4 << 20), "--max-total-bytes"),
    ],
    ids=["ratio", "total-bytes"],
)
def test_gzip_bomb_in_tar_is_not_compared(tmp_path: Path, limits: Limits, named: str) -> None:
    bomb = gzip.compress(bytes(32 << 20), compresslevel=9, mtime=0)  # 32 MiB of zeros, ~32 KiB
    ref = write(tmp_path / "ref.tar", tar_bytes(("data.gz", gzip.compress(b"small\n", mtime=0))))
    dep = write(tmp_path / "dep.tar", tar_bytes(("data.gz", bomb)))
    result = compare(ref, dep, limits)
    assert result.verdict is Verdict.DIFFERENT
    reasons = [
        f.summary for f in result.findings if f.node is Node.NOT_COMPARED and "data.gz" in f.path
    ]
    assert reasons and named in reasons[0], [f.summary for f in result.findings]


def _snapshot(*dirs: Path) -> dict[Path, set[str]]:
    return {d: set(os.listdir(d)) for d in dirs}


def test_path_traversal_names_are_cleaned_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    ref = write(tmp_path / "ref.tar", tar_bytes(("../../etc/passwd", b"root:x:0:0::/:/bin/sh\n")))
    dep = write(
        tmp_path / "dep.tar", tar_bytes(("../../etc/passwd", b"root::0:0::/:/bin/sh\nx::0:0::/:\n"))
    )
    tmp = Path(tempfile.gettempdir())
    before = _snapshot(work, tmp, tmp_path, tmp_path.parent)
    passwd = hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest()
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    paths = [f.path for f in result.unexplained]
    assert "ref.tar/%2E%2E/%2E%2E/etc/passwd" in paths, paths
    assert not any(".." in p.split("/") for f in result.findings for p in [f.path])
    after = _snapshot(work, tmp, tmp_path, tmp_path.parent)
    for d, names in after.items():
        gained = names - before[d]
        assert not gained or not any("passwd" in n or n == "etc" for n in gained), (d, gained)
    assert os.listdir(work) == []
    assert hashlib.sha256(Path("/etc/passwd").read_bytes()).hexdigest() == passwd


def test_symlink_loop_in_tar_is_compared_as_targets(tmp_path: Path) -> None:
    loop = (symlink("a", "b"), symlink("b", "a"), symlink("self", "self"), symlink("up", "."))
    ref = write(tmp_path / "ref.tar", tar_bytes(*loop, ("x", b"one\n")))
    same = write(tmp_path / "same.tar", tar_bytes(*loop, ("x", b"one\n")))
    dep = write(
        tmp_path / "dep.tar",
        tar_bytes(symlink("a", "c"), *loop[1:], ("x", b"two\n")),
    )
    assert compare(ref, same).verdict is Verdict.IDENTICAL
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    by_path = {f.path: f for f in result.unexplained}
    assert by_path["ref.tar/a"].klass == "symlink-target"
    assert "ref.tar/x" in by_path
    assert not not_compared(result)


def test_symlink_loop_in_squashfs_is_compared_as_targets() -> None:
    result = compare(HOSTILE / "loop-ref.squashfs", HOSTILE / "loop-dep.squashfs")
    assert result.verdict is Verdict.DIFFERENT
    by_path = {f.path: f for f in result.unexplained}
    assert by_path["loop-ref.squashfs/a"].klass == "symlink-target"
    assert "loop-ref.squashfs/etc/x" in by_path
    assert not not_compared(result)


def test_truncated_squashfs_on_deployed_side_is_different(tmp_path: Path) -> None:
    ref = PAIRS / "base" / "rootfs.squashfs"
    data = ref.read_bytes()
    dep = write(tmp_path / "rootfs.squashfs", data[: len(data) // 2])
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    assert result.unexplained
    assert all(f.path.startswith("rootfs.squashfs") for f in result.findings)


def test_random_bytes_are_compared_as_plain_binary(tmp_path: Path) -> None:
    data = bytearray(random.Random(7).randbytes(64 << 10))
    data[:4] = b"\x00RND"  # no format magic can match
    ref = write(tmp_path / "ref.bin", bytes(data))
    for i in (0x1234, 0x8000, 0x8001, 0x8002, 0x8003):
        data[i] ^= 0xFF
    dep = write(tmp_path / "dep.bin", bytes(data))
    result = compare(ref, dep)
    assert result.verdict is Verdict.DIFFERENT
    assert len(result.findings) == 1
    f = result.findings[0]
    assert (f.path, f.klass, f.status) == ("ref.bin", "content", Status.UNEXPLAINED)
    assert [(loc.offset, loc.length) for loc in f.locations] == [(0x1234, 1), (0x8000, 4)]
