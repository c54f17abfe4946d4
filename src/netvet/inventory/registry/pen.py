"""IANA Private Enterprise Numbers and the sysObjectID values that carry them.

An SNMP agent's sysObjectID (RFC 3418) is normally an OID under the maker's enterprise arc
1.3.6.1.4.1.N (RFC 2578 §2: iso.org.dod.internet.private.enterprises). N is parsed arc by arc:
a text prefix test would read IBM's PEN 2 into Huawei's 2011.

Some enterprise numbers belong to SNMP agent *software* that many makers ship unchanged, so a
device answering with them says nothing about who built it. See `GENERIC_AGENTS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from netvet.inventory.errors import BadValue, DataError
from netvet.inventory.registry import store

ENTERPRISES = (1, 3, 6, 1, 4, 1)

GENERIC_AGENTS: dict[int, str] = {
    # Net-SNMP's agent answers sysObjectID 1.3.6.1.4.1.8072.3.2.N (NET-SNMP-MIB
    # netSnmpAgentOIDs; N names the OS: 10 = Linux) unless its config sets one. It runs inside
    # countless routers, cameras, NAS and Linux servers of every maker.
    8072: "net-snmp agent default sysObjectID (netSnmpAgentOIDs), shipped by many makers",
    # UCD-SNMP, Net-SNMP's predecessor from U.C. Davis, answered 1.3.6.1.4.1.2021.250.N
    # (UCD-SNMP-MIB ucdSnmpAgent); old embedded Linux devices still do.
    2021: "UCD-SNMP agent (predecessor of net-snmp) default sysObjectID, shipped by many makers",
}
# Not listed on purpose: 311 (Microsoft) names the OS maker of a Windows host, which is real
# evidence about that host; 4413 (Broadcom) is a chip maker whose reference switch software
# some OEMs ship, so it is handled as chip-vendor evidence by the vendor families, not here.

# Symbolic forms that need no MIB lookup: the numeric enterprise arc is spelt out, or the MIB
# module belongs to a generic agent whose enterprise number is fixed.
_SYMBOLIC = {
    "SNMPv2-SMI::enterprises": ENTERPRISES,
    "iso.org.dod.internet.private.enterprises": ENTERPRISES,
    "enterprises": ENTERPRISES,
    "NET-SNMP-MIB::netSnmpAgentOIDs": (*ENTERPRISES, 8072, 3, 2),
    "UCD-SNMP-MIB::ucdSnmpAgent": (*ENTERPRISES, 2021, 250),
}
_GENERIC_MODULES = ("NET-SNMP-MIB::", "UCD-SNMP-MIB::")
_ARC = re.compile(r"0|[1-9][0-9]{0,9}")
# With its MIBs loaded, snmpwalk names the last arc: NET-SNMP-MIB::netSnmpAgentOIDs.linux.
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9-]*")


@dataclass(frozen=True, slots=True)
class PenEntry:
    """One IANA assignment."""

    number: int
    organization: str  # as the registry spells it


@dataclass(frozen=True, slots=True)
class PenMatch:
    """What a sysObjectID says: its enterprise number and the registry's entry for it.

    `entry` is None when the number is not assigned in the snapshot (a private or newer
    number). `not_evidence` gives the reason when the number must not be read as a vendor.
    """

    oid: str  # numeric, without leading dot
    number: int
    entry: PenEntry | None
    not_evidence: str | None = None

    @property
    def organization(self) -> str | None:
        if self.not_evidence is not None or self.entry is None:
            return None
        return self.entry.organization

    @property
    def is_evidence(self) -> bool:
        return self.organization is not None


def parse_oid(text: str) -> tuple[int, ...]:
    """Numeric arcs of an OID written `1.3.6...`, `.1.3.6...`, `iso.3.6...` or with one of the
    symbolic prefixes net-snmp prints (`SNMPv2-SMI::enterprises.2011...`,
    `.iso.org.dod.internet.private.enterprises.2011...`). `BadValue` if not."""
    s = text.strip()
    if s.startswith("OID:"):  # snmpwalk's type tag, kept by some exports
        s = s[4:].strip()
    if s.startswith("."):  # absolute form; snmpwalk -Of prints `.iso.org.dod.internet...`
        s = s[1:]
    head: tuple[int, ...] = ()
    for name, arcs in _SYMBOLIC.items():
        if s == name or s.startswith(name + "."):
            head, s = arcs, s[len(name) + 1 :]
            if name.startswith(_GENERIC_MODULES) and _WORD.fullmatch(s):
                # The agent's OS name (linux, freebsd...) says nothing about the maker: keep
                # the agent's arcs, which are all identification needs.
                return head
            break
    else:
        if s.startswith("iso."):
            head, s = (1,), s[4:]
        if "::" in s:
            raise BadValue(
                f"symbolic OID needs its MIB to be resolved: {text!r}; "
                "export numeric OIDs (snmpwalk -On)"
            )
    parts = s.split(".") if s else []
    if not all(_ARC.fullmatch(p) for p in parts) or not head + tuple(parts):
        raise BadValue(f"not an OID: {text!r}")
    arcs = head + tuple(int(p) for p in parts)
    if arcs[0] > 2 or any(a > 0xFFFFFFFF for a in arcs):
        raise BadValue(f"not an OID: {text!r}")
    return arcs


def enterprise_number(text: str) -> int | None:
    """The enterprise number of an OID under 1.3.6.1.4.1, None for other valid OIDs (such as
    zeroDotZero, which agents report when they have no sysObjectID)."""
    arcs = parse_oid(text)
    if len(arcs) > len(ENTERPRISES) and arcs[: len(ENTERPRISES)] == ENTERPRISES:
        return arcs[len(ENTERPRISES)]
    return None


class PenRegistry:
    """The IANA enterprise numbers of a snapshot."""

    def __init__(self, entries: dict[int, PenEntry], info: store.SnapshotInfo) -> None:
        self.info = info
        self._entries = entries

    def __len__(self) -> int:
        return len(self._entries)

    def entries(self) -> Iterator[PenEntry]:
        """Every assignment, in number order."""
        return (self._entries[n] for n in sorted(self._entries))

    def lookup(self, number: int) -> PenEntry | None:
        """The assignment of `number`, None when the snapshot has none."""
        return self._entries.get(number)

    def match(self, number: int, oid: str = "") -> PenMatch:
        """`number` judged as vendor evidence (generic agent software is not)."""
        entry = self._entries.get(number)
        reason = GENERIC_AGENTS.get(number)
        if reason is None and entry is None:
            reason = f"enterprise number not assigned in the IANA snapshot of {self.info.date}"
        oid = oid or ".".join(map(str, (*ENTERPRISES, number)))
        return PenMatch(oid, number, entry, reason)

    def from_sysobjectid(self, text: str) -> PenMatch | None:
        """Parse a sysObjectID and judge its enterprise number; None if it is a valid OID outside
        the enterprises arc; `BadValue` if it is not an OID."""
        arcs = parse_oid(text)
        if len(arcs) <= len(ENTERPRISES) or arcs[: len(ENTERPRISES)] != ENTERPRISES:
            return None
        return self.match(arcs[len(ENTERPRISES)], ".".join(map(str, arcs)))


def load_pen(directory: Path | None = None, *, cache: Path | None = None) -> PenRegistry:
    """Load the PEN registry: from `directory` if given, else the user cache when it is newer
    than the bundled snapshot, else the bundled snapshot."""
    where, info = store.choose("pen", directory, cache)
    path = where / store.FILES["pen"]
    entries: dict[int, PenEntry] = {}
    for i, (number_text, organization) in enumerate(store.read_rows(path, 2), 1):
        if not number_text.isdigit() or not organization:
            raise DataError(f"{path}:{i}: bad enterprise row {number_text!r}")
        number = int(number_text)
        entries[number] = PenEntry(number, organization)
    if len(entries) != info.rows:
        raise DataError(f"{path}: {len(entries)} rows, sources.json says {info.rows}")
    return PenRegistry(entries, info)
