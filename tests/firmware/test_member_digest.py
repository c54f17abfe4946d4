"""Member.with_sha256 copies a frozen member through its slots: it must copy every field."""

from __future__ import annotations

import dataclasses

import pytest

from netvet.firmware.model import MEMBER_FIELDS, Kind, Member, Meta


def _opener() -> None:
    raise AssertionError("not called")


def test_member_fields_are_all_copied() -> None:
    assert tuple(f.name for f in dataclasses.fields(Member)) == MEMBER_FIELDS


def test_with_sha256_is_a_frozen_copy() -> None:
    m = Member("etc/passwd", Kind.FILE, Meta(mode=0o644, uid=0, gid=0), 12, _opener, 7)  # type: ignore[arg-type]
    d = m.with_sha256("ab" * 32)
    assert d is not m and m.sha256 is None
    for name in MEMBER_FIELDS[:-1]:
        assert getattr(d, name) is getattr(m, name)
    assert d.sha256 == "ab" * 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.sha256 = "00"  # type: ignore[misc]
