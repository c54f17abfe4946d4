"""Helpers the slack tests share: compare two images given as bytes, and read what they say."""

from __future__ import annotations

import io
from pathlib import Path

from netvet.firmware.compare import compare
from netvet.firmware.context import WalkContext
from netvet.firmware.limits import Limits
from netvet.firmware.model import Listing
from netvet.firmware.result import Comparison, Status, Verdict


def run_pair(tmp_path: Path, ref: bytes, dep: bytes, suffix: str = ".img") -> Comparison:
    """`compare` of the two images, written to `tmp_path` as ref/dep with `suffix`."""
    (tmp_path / f"ref{suffix}").write_bytes(ref)
    (tmp_path / f"dep{suffix}").write_bytes(dep)
    return compare(tmp_path / f"ref{suffix}", tmp_path / f"dep{suffix}")


def unexplained(result: Comparison) -> list[str]:
    """The summaries of the findings nothing explains."""
    return [f.summary for f in result.findings if f.status is Status.UNEXPLAINED]


def listing(fmt: object, img: bytes) -> Listing:
    """What format module `fmt`'s FORMAT lists in `img`."""
    return fmt.FORMAT.list(io.BytesIO(img), len(img), WalkContext(Limits()))  # type: ignore[attr-defined, no-any-return]


def field(fmt: object, img: bytes, name: str) -> str:
    """The value of container field `name` that `fmt` lists for `img`."""
    return {f.name: f.value for f in listing(fmt, img).fields}[name]


def assert_honest_rebuild(tmp_path: Path, fmt: object, ref: bytes, dep: bytes) -> None:
    """Two honest builds of one tree: nothing unaccounted in either, their slack all zeros,
    and the pair equivalent."""
    assert ref != dep
    for img in (ref, dep):
        found = listing(fmt, img)
        assert field(fmt, img, "unaccounted") == "none"
        assert found.slack and all(img[a : a + n].count(0) == n for a, n in found.slack)
    result = run_pair(tmp_path, ref, dep)
    assert result.verdict is Verdict.EQUIVALENT, unexplained(result)
