"""walk() skips component() for plain names: every name needing escaping must still get it."""

from __future__ import annotations

import pytest

from netvet.firmware.context import WalkContext
from netvet.firmware.errors import CorruptContainer
from netvet.firmware.formats._fs import component, walk
from netvet.firmware.limits import Limits

NAMES: list[str | bytes] = [
    "plain",
    "",
    ".",
    "..",
    "...",
    "a/b",
    "/",
    "a\\b",
    "50%",
    "%2E%2E",
    "nul\x00byte",
    "tab\tand\nnewline",
    "\udcff",
    b"bytes",
    b"..",
    b"x/y",
    b"\xff\xfe",
]


def _paths(names: list[str | bytes]) -> list[str]:
    tree = {"root": [(name, f"leaf{i}") for i, name in enumerate(names)]}
    found = walk(
        "root",
        lambda node: tree.get(node, []),
        lambda node: node if node in tree else None,
        WalkContext(Limits()),
        "test",
    )
    return [path for path, _ in found]


@pytest.mark.parametrize("name", NAMES)
def test_walk_escapes_like_component(name: str | bytes) -> None:
    assert _paths([name]) == [component(name)]


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "x\x00"])
def test_hostile_names_never_stay_raw(name: str) -> None:
    (path,) = _paths([name])
    assert path not in ("", ".", "..") and "/" not in path and "\x00" not in path


def test_escaping_keeps_distinct_names_distinct() -> None:
    assert len(set(_paths(["a%2Fb", "a/b", "%2E%2E", ".."]))) == 4


def test_a_name_listed_twice_is_refused() -> None:
    with pytest.raises(CorruptContainer, match="listed twice"):
        _paths(["x", b"x"])
