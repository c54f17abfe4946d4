"""The registries that name makers: IEEE MAC address blocks (MA-L/MA-M/MA-S) and IANA Private
Enterprise Numbers.

Snapshots ship with the package (see `netvet/data/registries/sources.json` for their dates and
origins); `update.update_oui` / `update.update_pen` refresh them into the user cache, and the
loaders take whichever is newer.
"""

from netvet.inventory.registry.mac import format_mac, not_evidence_reason, parse_mac
from netvet.inventory.registry.oui import OuiAssignment, OuiMatch, OuiRegistry, load_oui
from netvet.inventory.registry.pen import (
    GENERIC_AGENTS,
    PenEntry,
    PenMatch,
    PenRegistry,
    enterprise_number,
    load_pen,
    parse_oid,
)
from netvet.inventory.registry.store import SnapshotInfo, Source

__all__ = [
    "GENERIC_AGENTS",
    "OuiAssignment",
    "OuiMatch",
    "OuiRegistry",
    "PenEntry",
    "PenMatch",
    "PenRegistry",
    "SnapshotInfo",
    "Source",
    "enterprise_number",
    "format_mac",
    "load_oui",
    "load_pen",
    "not_evidence_reason",
    "parse_mac",
    "parse_oid",
]
