"""Raw flash dumps that are mostly erased or zeroed space.

Found on a sparse 100 GiB "dump" and a 2 GiB zero file: the scanner searched every 1 MiB window
once per magic (ten passes), about 12 s of CPU per GiB, so a large mostly-empty dump looked like
a hang. Fill windows are now skipped with one comparison; these tests pin that they are skipped
and that images right after or between fill windows are still found.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.formats import flash
from netvet.firmware.limits import Limits
from tests.realworld._build import pad, uimage

MiB = 1 << 20


@pytest.fixture
def ctx() -> Iterator[WalkContext]:
    with WalkContext(Limits()) as c:
        yield c


def _count_candidate_windows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = flash._candidates

    def counting(window: bytes, base: int) -> Iterator[tuple[int, flash.Detector]]:
        seen.append(base)
        return real(window, base)

    monkeypatch.setattr(flash, "_candidates", counting)
    return seen


@pytest.mark.parametrize("fill", [0xFF, 0x00])
def test_fill_windows_are_not_searched(
    ctx: WalkContext, monkeypatch: pytest.MonkeyPatch, fill: int
) -> None:
    kernel = uimage(bytes(range(256)) * 64)
    dump = pad(b"", 6 * MiB, fill) + pad(kernel, 2 * MiB, fill)
    seen = _count_candidate_windows(monkeypatch)
    hits = flash.scan(io.BytesIO(dump), len(dump), ctx)
    assert [(h.offset, h.fmt) for h in hits] == [(6 * MiB, "uimage")]
    # windows of fill alone are skipped: before the image (but for the one whose overlap
    # reaches it) and after it
    assert seen == [5 * MiB, 6 * MiB]


@pytest.mark.parametrize("offset", [MiB - 64, MiB - 4, MiB, 3 * MiB + 0x1000])
def test_image_near_a_fill_window_edge_is_found(ctx: WalkContext, offset: int) -> None:
    kernel = uimage(b"\x11" * 5000)
    dump = bytearray(b"\xff" * (4 * MiB))
    dump[offset : offset + len(kernel)] = kernel
    hits = flash.scan(io.BytesIO(bytes(dump)), len(dump), ctx)
    assert [(h.offset, h.fmt, h.end - h.offset) for h in hits] == [(offset, "uimage", len(kernel))]


def test_mixed_fill_window_is_searched(ctx: WalkContext) -> None:
    # half zeros, half 0xFF: not one fill byte, so it must be searched like data
    kernel = uimage(b"\x22" * 3000)
    dump = b"\x00" * (MiB // 2) + b"\xff" * (MiB // 2 - 4096) + pad(kernel, MiB + 4096, 0xFF)
    hits = flash.scan(io.BytesIO(dump), len(dump), ctx)
    assert [(h.offset, h.fmt) for h in hits] == [(MiB - 4096, "uimage")]
