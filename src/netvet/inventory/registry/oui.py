"""IEEE MAC address block registry: which organization an address's prefix is assigned to.

The IEEE Registration Authority assigns three block sizes: MA-L (24-bit OUI), MA-M (28 bits)
and MA-S (36 bits; the older IAB registry also hands out 36-bit blocks). MA-M and MA-S blocks
are carved out of OUIs registered to the "IEEE Registration Authority" itself, so the longest
matching prefix wins. Lookups are three dict probes keyed by the integer prefix: identification
runs over millions of rows.

What does not name a maker is said so, not hidden: group and locally administered addresses
(see `mac.not_evidence_reason`), blocks registered as "Private", and addresses inside an IEEE RA
carve-out OUI whose sub-block is not in the snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from netvet.inventory.errors import DataError
from netvet.inventory.registry import store
from netvet.inventory.registry.mac import format_mac, not_evidence_reason, parse_mac

REGISTRIES = {"MA-L": 24, "MA-M": 28, "MA-S": 36, "IAB": 36}
IEEE_RA = "IEEE Registration Authority"
PRIVATE = "Private"


@dataclass(frozen=True, slots=True)
class OuiAssignment:
    """One row of the registry: a prefix and the organization it is assigned to."""

    prefix: str  # upper-case hex, 6, 7 or 9 digits
    bits: int  # 24, 28 or 36
    registry: str  # "MA-L", "MA-M", "MA-S" or "IAB"
    organization: str  # as the registry spells it
    source: str  # id of the snapshot source (see SnapshotInfo.sources)


@dataclass(frozen=True, slots=True)
class OuiMatch:
    """What the registry says about one MAC address.

    `assignment` is the longest matching block (None when the address's flag bits already rule
    it out). `not_evidence` gives the reason when the result must not be read as a vendor.
    """

    value: int  # the 48-bit address
    assignment: OuiAssignment | None
    not_evidence: str | None = None

    @property
    def mac(self) -> str:
        """Canonical AA:BB:CC:DD:EE:FF (formatted on demand: most callers never need it)."""
        return format_mac(self.value)

    @property
    def organization(self) -> str | None:
        """The organization that names the maker, or None when this is not vendor evidence."""
        if self.not_evidence is not None or self.assignment is None:
            return None
        return self.assignment.organization

    @property
    def is_evidence(self) -> bool:
        return self.organization is not None


class OuiRegistry:
    """All assignments of a snapshot, indexed by prefix length for longest-prefix lookup."""

    def __init__(self, assignments: list[OuiAssignment], info: store.SnapshotInfo) -> None:
        self.info = info
        self._by_bits: dict[int, dict[int, OuiAssignment]] = {24: {}, 28: {}, 36: {}}
        for a in assignments:
            self._by_bits[a.bits][int(a.prefix, 16)] = a
        self._l24 = self._by_bits[24]
        self._m28 = self._by_bits[28]
        self._s36 = self._by_bits[36]

    def __len__(self) -> int:
        return sum(len(d) for d in self._by_bits.values())

    def lookup(self, mac: str) -> OuiMatch | None:
        """Longest-prefix match of `mac` (any accepted format; `BadValue` if malformed).

        Returns None for a well-formed universal address whose prefix is not assigned in the
        snapshot.
        """
        return self.lookup_int(parse_mac(mac))

    def lookup_int(self, value: int) -> OuiMatch | None:
        """`lookup` for an address already parsed with `parse_mac`."""
        reason = not_evidence_reason(value)
        if reason is not None:
            return OuiMatch(value, None, reason)
        found = (
            self._s36.get(value >> 12) or self._m28.get(value >> 20) or self._l24.get(value >> 24)
        )
        if found is None:
            return None
        return self._judged(value, found)

    @staticmethod
    def _judged(value: int, found: OuiAssignment) -> OuiMatch:
        reason = None
        if found.organization == IEEE_RA and found.bits == 24:
            reason = "block reserved by the IEEE RA for MA-M/MA-S; its sub-assignment is unknown"
        elif found.organization == PRIVATE:
            reason = "assignment registered as Private: the holder's name is withheld"
        return OuiMatch(value, found, reason)

    def lookup_prefix(self, prefix: str) -> OuiMatch | None:
        """Longest-prefix match of an address known only by its first `len(prefix)` hex digits
        (6 to 12): only blocks no longer than the prefix are tried, so the unknown digits never
        select a sub-block. The all-zero placeholder check is left to the caller (a prefix of
        zeros is not an all-zero address)."""
        digits = len(prefix)
        if not 6 <= digits <= 12:
            raise ValueError(f"an OUI prefix has 6 to 12 hex digits, not {prefix!r}")
        value = int(prefix, 16) << (48 - 4 * digits)
        reason = not_evidence_reason(value | 1)  # bit 0 only keeps the all-zero check off
        if reason is not None:
            return OuiMatch(value, None, reason)
        found = (
            (self._s36.get(value >> 12) if digits >= 9 else None)
            or (self._m28.get(value >> 20) if digits >= 7 else None)
            or self._l24.get(value >> 24)
        )
        return None if found is None else self._judged(value, found)

    def blocks(self, bits: int) -> list[OuiAssignment]:
        """Every block of `bits` bits (24, 28 or 36), in no particular order."""
        return list(self._by_bits[bits].values())

    def carved_prefixes(self) -> frozenset[str]:
        """The 24-bit prefixes (6 upper-case hex digits) under which MA-M, MA-S or IAB blocks
        exist: there an address's longest match needs more than its first 24 bits."""
        return frozenset(a.prefix[:6] for bits in (28, 36) for a in self._by_bits[bits].values())

    def assignments(self, organization: str) -> list[OuiAssignment]:
        """Every block registered to exactly this organization name (slow; for checks)."""
        return [
            a for d in self._by_bits.values() for a in d.values() if a.organization == organization
        ]

    def organizations(self) -> set[str]:
        """Every organization name in the snapshot."""
        return {a.organization for d in self._by_bits.values() for a in d.values()}


def parse_row(row: list[str], where: str) -> OuiAssignment:
    """One stored row (prefix, bits, registry, source, organization), validated."""
    prefix, bits_text, registry, source, organization = row
    bits = REGISTRIES.get(registry)
    if bits is None or bits_text != str(bits) or len(prefix) * 4 != bits:
        raise DataError(f"{where}: inconsistent prefix/bits/registry {row[:3]}")
    try:
        int(prefix, 16)
    except ValueError as exc:
        raise DataError(f"{where}: prefix is not hex: {prefix!r}") from exc
    if not organization:
        raise DataError(f"{where}: empty organization for {prefix}")
    return OuiAssignment(prefix.upper(), bits, registry, organization, source)


def load_oui(directory: Path | None = None, *, cache: Path | None = None) -> OuiRegistry:
    """Load the OUI registry: from `directory` if given, else the user cache when it is newer
    than the bundled snapshot, else the bundled snapshot."""
    where, info = store.choose("oui", directory, cache)
    path = where / store.FILES["oui"]
    names: dict[str, str] = {}  # one string object per organization: 50k rows, ~30k names
    assignments = []
    for i, row in enumerate(store.read_rows(path, 5), 1):
        a = parse_row(row, f"{path}:{i}")
        org = names.setdefault(a.organization, a.organization)
        src = names.setdefault(a.source, a.source)
        assignments.append(OuiAssignment(a.prefix, a.bits, a.registry, org, src))
    if len(assignments) != info.rows:
        raise DataError(f"{path}: {len(assignments)} rows, sources.json says {info.rows}")
    return OuiRegistry(assignments, info)
