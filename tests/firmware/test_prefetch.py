"""The deployed side listed by a worker process (prefetch.py) gives the same comparison as the
serial walk, and every way the worker can fail falls back to the serial walk cleanly."""

from __future__ import annotations

import enum
import io
import json
import pickle
import random
import shutil
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest

from netvet.firmware import compare, prefetch, prefetch_wire
from netvet.firmware.blob import FileBlob
from netvet.firmware.context import WalkContext
from netvet.firmware.limits import Limits
from netvet.firmware.model import Member, Meta
from netvet.firmware.result import Comparison, Node
from netvet.firmware.walk import open_container

PAIRS = Path(__file__).resolve().parents[1] / "fixtures" / "pairs"
CASES = {c["name"]: c for c in json.loads((PAIRS / "cases.json").read_text())["cases"]}
# Every container format at the top, equivalent and different. Compressed inputs are peeled
# first, by the parent: no worker is started for them.
SERVED = (
    "squashfs-timestamps",
    "squashfs-compression",
    "tar-order",
    "uimage-timestamp",
    "fit-timestamp",
    "flash-padding",
    "ext4-rebuilt",
    "jffs2-padding",
    "ubi-image-seq",
    "text-patch",
    "rodata-constant",
    "hidden-file",
    "setuid",
    "library-swap",
    "flash-slack",
    "jffs2-slack",
    "nested-archive",
    "ext4-capability",
    "manifest-forged",
)
DECLINED = ("gzip-mtime", "cpio-order")


class Spy:
    """Records what each Prefetch did: listing served or not, members fetched, local re-lists."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.served: list[bool] = []
        self.fetched = 0
        self.local = 0
        self.handles: list[prefetch.Prefetch] = []
        self.started = 0
        begin, listing, fetch, local = (
            prefetch.Prefetch.begin,
            prefetch.Prefetch.listing,
            prefetch.Prefetch._fetch,
            prefetch.Prefetch._local_opener,
        )

        def spy_begin(pf: prefetch.Prefetch) -> None:
            had = pf._proc is not None
            begin(pf)
            self.started += not had and pf._proc is not None

        def spy_listing(pf: prefetch.Prefetch, ctx: Any) -> Any:
            self.handles.append(pf)
            try:
                out = listing(pf, ctx)
            except prefetch.Unavailable:
                self.served.append(False)
                raise
            self.served.append(True)
            return out

        def spy_fetch(pf: prefetch.Prefetch, index: int) -> bytes | None:
            data = fetch(pf, index)
            self.fetched += data is not None
            return data

        def spy_local(pf: prefetch.Prefetch, index: int) -> Any:
            self.local += 1
            return local(pf, index)

        monkeypatch.setattr(prefetch.Prefetch, "begin", spy_begin)
        monkeypatch.setattr(prefetch.Prefetch, "listing", spy_listing)
        monkeypatch.setattr(prefetch.Prefetch, "_fetch", spy_fetch)
        monkeypatch.setattr(prefetch.Prefetch, "_local_opener", spy_local)


def run(ref: Path, dep: Path, parallel: bool, limits: Limits | None = None) -> Comparison:
    result = compare(ref, dep, limits, parallel=parallel)
    return replace(result, stats=replace(result.stats, seconds=0.0))


def both_ways(ref: Path, dep: Path, limits: Limits | None = None) -> tuple[Comparison, Comparison]:
    return run(ref, dep, True, limits), run(ref, dep, False, limits)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(monkeypatch)


@pytest.mark.parametrize("name", SERVED)
def test_worker_gives_the_serial_result(name: str, spy: Spy) -> None:
    case = CASES[name]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.served == [True] and spy.started == 1
    assert spy.local == 0
    assert all(h._proc is not None and h._proc.poll() is not None for h in spy.handles)


def test_differing_members_are_read_through_the_worker(spy: Spy) -> None:
    case = CASES["text-patch"]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.fetched > 0 and spy.local == 0


@pytest.mark.parametrize("name", DECLINED)
def test_compressed_input_is_left_to_the_serial_path(name: str, spy: Spy) -> None:
    case = CASES[name]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.started == 0


@pytest.mark.parametrize(
    "code",
    [
        "raise SystemExit(3)",  # dies at once
        "import sys; sys.stdout.buffer.write(b'\\xff' * 64)",  # garbage, then EOF
        # a well-formed frame holding an object of a class: the parent refuses to load it
        "import sys, pickle, struct, pathlib; d = pickle.dumps(('ok', pathlib.Path('x'))); "
        "sys.stdin.buffer.read(8); sys.stdout.buffer.write(struct.pack('<Q', len(d)) + d)",
    ],
    ids=["dies", "garbage", "refused-class"],
)
def test_broken_worker_falls_back(code: str, spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefetch, "WORKER_CODE", code)
    case = CASES["library-swap"]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.served == [False]


def test_failed_reads_in_the_worker_relist_here(spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    code = (
        "import sys; sys.path.insert(0, {root!r}); "
        "from netvet.firmware import prefetch_worker as p; "
        "p.Worker.read = lambda self, i, n: ('error', 'refused'); p.serve()"
    )
    monkeypatch.setattr(prefetch, "WORKER_CODE", code)
    case = CASES["rodata-constant"]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.served == [True] and spy.fetched == 0 and spy.local > 0


def test_big_members_are_opened_from_a_local_listing(
    spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prefetch, "FETCH_LIMIT", 0)
    case = CASES["library-swap"]
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"])
    assert with_worker == serial
    assert spy.fetched == 0 and spy.local > 0


def test_limit_hit_in_the_worker_is_reported_by_the_serial_path(spy: Spy) -> None:
    case = CASES["hidden-file"]  # one more member in the deployed image: only its listing fails
    ctx = WalkContext(Limits())
    open_container(FileBlob("ref", str(PAIRS / case["ref"]), ctx), ctx)
    limits = Limits(max_entries=ctx.entries)
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"], limits)
    assert with_worker == serial
    assert spy.served == [False]
    assert any("max-entries" in f.summary for f in serial.findings)


def test_corrupt_deployed_image_is_reported_by_the_serial_path(spy: Spy, tmp_path: Path) -> None:
    ref = PAIRS / "base" / "rootfs.squashfs"
    data = ref.read_bytes()
    dep = tmp_path / "dep.squashfs"
    dep.write_bytes(data[:96] + b"\x5a" * (len(data) - 96))  # header kept, tables garbage
    with_worker, serial = both_ways(ref, dep)
    assert with_worker == serial
    assert spy.served == [False]
    assert any(f.node is Node.NOT_COMPARED for f in serial.findings)


def test_hostile_and_plain_inputs_give_the_serial_result(spy: Spy, tmp_path: Path) -> None:
    base = PAIRS / "base" / "rootfs.squashfs"
    half = tmp_path / "half.squashfs"
    half.write_bytes(base.read_bytes()[: base.stat().st_size // 2])
    noise = bytearray(random.Random(7).randbytes(64 << 10))
    noise[:4] = b"\x00RND"  # no magic: plain data on both sides
    (tmp_path / "a.bin").write_bytes(bytes(noise))
    noise[0x1234] ^= 0xFF
    (tmp_path / "b.bin").write_bytes(bytes(noise))
    pairs = [
        (PAIRS / "hostile" / "loop-ref.squashfs", PAIRS / "hostile" / "loop-dep.squashfs"),
        (base, half),
        (tmp_path / "a.bin", tmp_path / "b.bin"),
    ]
    for ref, dep in pairs:
        with_worker, serial = both_ways(ref, dep)
        assert with_worker == serial, (ref, dep)
    assert spy.started == 3


def test_worker_keeps_the_deadline(spy: Spy) -> None:
    case = CASES["library-swap"]
    limits = Limits(max_seconds=600)
    with_worker, serial = both_ways(PAIRS / case["ref"], PAIRS / case["dep"], limits)
    assert with_worker == serial
    assert spy.served == [True]


def test_identical_images_never_start_a_worker(spy: Spy, tmp_path: Path) -> None:
    ref = PAIRS / "base" / "rootfs.squashfs"
    dep = tmp_path / "copy.squashfs"
    shutil.copyfile(ref, dep)
    result = compare(ref, dep, parallel=True)
    assert result.verdict.value == "identical"
    assert spy.started == 0


def test_when_a_worker_is_wanted(monkeypatch: pytest.MonkeyPatch) -> None:
    big = prefetch.PARALLEL_MIN_BYTES
    idle = [1]
    monkeypatch.setattr(prefetch, "idle_cores", lambda: idle[0])
    monkeypatch.delenv("NETVET_NO_PARALLEL", raising=False)
    assert prefetch.wanted(None, big, big)
    assert not prefetch.wanted(None, big, big - 1)  # small images: not worth a process
    assert not prefetch.wanted(False, big, big)
    assert prefetch.wanted(True, 10, 10)
    monkeypatch.setenv("NETVET_NO_PARALLEL", "1")
    assert not prefetch.wanted(None, big, big)
    assert prefetch.wanted(True, big, big)  # an explicit choice wins
    monkeypatch.delenv("NETVET_NO_PARALLEL")
    idle[0] = 0  # every core busy (or only one core): the worker would only compete
    assert not prefetch.wanted(None, big, big)


def test_idle_cores_counts_running_tasks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(prefetch.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    loadavg = tmp_path / "loadavg"
    monkeypatch.setattr(prefetch, "LOADAVG", str(loadavg))
    loadavg.write_text("0.50 0.40 0.30 1/200 999\n")
    assert prefetch.idle_cores() == 3  # only this process runs
    loadavg.write_text("3.10 2.90 2.50 4/200 999\n")
    assert prefetch.idle_cores() == 0
    loadavg.write_text("garbled")
    assert prefetch.idle_cores() == 3
    loadavg.unlink()
    assert prefetch.idle_cores() == 3


def test_wire_format_names_every_member_and_meta_field() -> None:
    # prefetch_worker.encode and Prefetch._build spell these out: a new field must be carried too.
    assert [f.name for f in fields(Member)] == [
        "name",
        "kind",
        "meta",
        "size",
        "opener",
        "offset",
        "sha256",
    ]
    assert [f.name for f in fields(Meta)] == [
        "mode",
        "uid",
        "gid",
        "target",
        "rdev",
        "xattrs",
        "mtime",
    ]


def test_parsers_int_subclasses_become_plain_but_enums_are_refused() -> None:
    class U32(int):
        pass

    class Colour(enum.IntEnum):
        RED = 1

    out = prefetch_wire.plain((U32(7), (U32(1), 2), "x", None, [U32(3)]))
    assert out == (7, (1, 2), "x", None, [U32(3)])
    assert type(out[0]) is int and type(out[1][0]) is int
    with pytest.raises(TypeError):
        prefetch_wire.plain(Colour.RED)


def test_frames_refuse_classes() -> None:
    frame = io.BytesIO()
    prefetch_wire.send(frame, ("ok", (1, "a", b"b", None)))
    frame.seek(0)
    assert prefetch_wire.recv(frame) == ("ok", (1, "a", b"b", None))
    evil = pickle.dumps(("ok", Path("x")))
    stream = io.BytesIO(prefetch_wire.FRAME.pack(len(evil)) + evil)
    with pytest.raises(pickle.UnpicklingError):
        prefetch_wire.recv(stream)
    with pytest.raises(EOFError):
        prefetch_wire.recv(io.BytesIO(b"\x01"))
