"""Security-relevant metadata of a member, compared strictly: every difference is unexplained.

DESIGN.md: mode bits (setuid!), owner, symlink target, device numbers and extended attributes
(file capabilities) are never benign.
"""

from __future__ import annotations

import stat

from netvet.firmware.model import Member
from netvet.firmware.result import Change, Finding, Location, Status

_SPECIAL = ((stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"), (stat.S_ISVTX, "sticky"))


def _mode(m: int | None) -> str:
    return "(none)" if m is None else f"{m & 0o7777:04o}"


def _special_change(a: int, b: int) -> str:
    notes = []
    for bit, name in _SPECIAL:
        if (a & bit) != (b & bit):
            notes.append(("+" if b & bit else "-") + name)
    return f" ({', '.join(notes)})" if notes else ""


def metadata_findings(path: str, a: Member, b: Member) -> list[Finding]:
    out: list[Finding] = []
    ma, mb = a.meta, b.meta

    def add(klass: str, summary: str, field: str) -> None:
        out.append(
            Finding(
                path,
                Change.METADATA,
                Status.UNEXPLAINED,
                klass,
                summary,
                (Location(section="metadata", symbol=field),),
            )
        )

    if ma.mode != mb.mode and (
        ma.mode is None or mb.mode is None or (ma.mode & 0o7777) != (mb.mode & 0o7777)
    ):
        extra = (
            _special_change(ma.mode, mb.mode) if ma.mode is not None and mb.mode is not None else ""
        )
        add("mode", f"mode {_mode(ma.mode)} -> {_mode(mb.mode)}{extra}", "mode")
    if ma.uid != mb.uid or ma.gid != mb.gid:
        add("owner", f"owner {ma.uid}:{ma.gid} -> {mb.uid}:{mb.gid}", "owner")
    if ma.target != mb.target:
        add("symlink-target", f"link target {ma.target!r} -> {mb.target!r}", "target")
    if ma.rdev != mb.rdev:
        add("device", f"device numbers {ma.rdev} -> {mb.rdev}", "rdev")
    if ma.xattrs != mb.xattrs:
        ra, rb = dict(ma.xattrs), dict(mb.xattrs)
        for key in sorted(ra.keys() | rb.keys()):
            if ra.get(key) != rb.get(key):
                add(
                    "xattr",
                    f"extended attribute {key}: {_x(ra.get(key))} -> {_x(rb.get(key))}",
                    f"xattr:{key}",
                )
    return out


def _x(v: bytes | None) -> str:
    return "(absent)" if v is None else v.hex()
