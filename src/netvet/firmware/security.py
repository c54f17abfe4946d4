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


def _owner(uid: int | None, gid: int | None) -> str:
    """`0:50`; a container that keeps no owner (zip -X, FAT) says so instead of `None:None`."""
    if uid is None and gid is None:
        return "(not recorded)"
    return f"{'?' if uid is None else uid}:{'?' if gid is None else gid}"


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
        add("owner", f"owner {_owner(ma.uid, ma.gid)} -> {_owner(mb.uid, mb.gid)}", "owner")
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
                    f"extended attribute {key}: {_x(ra.get(key), key)} -> {_x(rb.get(key), key)}",
                    f"xattr:{key}",
                )
    return out


def _x(v: bytes | None, key: str = "") -> str:
    if v is None:
        return "(absent)"
    caps = _capabilities(v) if key == "security.capability" else None
    return f"{caps} ({v.hex()})" if caps else v.hex()


# linux/capability.h, in bit order; a reviewer reads cap_net_raw, not 0x2000
_CAP_NAMES = (
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
)


def _capabilities(v: bytes) -> str | None:
    """A file capability (struct vfs_cap_data, revisions 1-3) as getcap spells it
    (`cap_net_raw=ep`); None when the value is not one, so the raw hex alone is shown."""
    if len(v) < 12:
        return None
    magic = int.from_bytes(v[:4], "little")
    words = {0x01000000: 1, 0x02000000: 2, 0x03000000: 2}.get(magic & 0xFF000000)
    if words is None or len(v) < 4 + 8 * words:
        return None
    permitted = inheritable = 0
    for i in range(words):
        permitted |= int.from_bytes(v[4 + 8 * i : 8 + 8 * i], "little") << (32 * i)
        inheritable |= int.from_bytes(v[8 + 8 * i : 12 + 8 * i], "little") << (32 * i)
    groups: dict[str, list[str]] = {}
    for bit in range(64):
        # getcap's spelling: e (effective, one flag for the file), i, p
        flags = ("i" if inheritable >> bit & 1 else "") + ("p" if permitted >> bit & 1 else "")
        if flags:
            flags = ("e" if magic & 1 else "") + flags
            name = _CAP_NAMES[bit] if bit < len(_CAP_NAMES) else str(bit)
            groups.setdefault(flags, []).append(f"cap_{name}")
    text = " ".join(",".join(names) + "=" + flags for flags, names in groups.items())
    if magic & 0xFF000000 == 0x03000000 and len(v) >= 24:
        text += f" (rootid {int.from_bytes(v[20:24], 'little')})"
    return text or "no capabilities"
