"""sysObjectID parsing and IANA enterprise numbers from the bundled snapshot."""

from __future__ import annotations

import pytest

from netvet.inventory.errors import BadValue
from netvet.inventory.registry import (
    GENERIC_AGENTS,
    PenEntry,
    PenRegistry,
    enterprise_number,
    parse_oid,
)

HUAWEI_S5700 = (1, 3, 6, 1, 4, 1, 2011, 2, 23, 1)


@pytest.mark.parametrize(
    "text",
    [
        "1.3.6.1.4.1.2011.2.23.1",
        ".1.3.6.1.4.1.2011.2.23.1",
        "iso.3.6.1.4.1.2011.2.23.1",
        "SNMPv2-SMI::enterprises.2011.2.23.1",
        "iso.org.dod.internet.private.enterprises.2011.2.23.1",
        "OID: SNMPv2-SMI::enterprises.2011.2.23.1",
        "  1.3.6.1.4.1.2011.2.23.1 ",
    ],
)
def test_oid_forms(text: str) -> None:
    assert parse_oid(text) == HUAWEI_S5700


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1.3.6.1.4.1.2011.",
        "1..3.6",
        "1.3.6.a",
        "1.03.6.1",  # leading zero: not how arcs are written
        "3.6.1",  # first arc is 0, 1 or 2
        "1.3.6.1.4.1.99999999999",
        "enterprises.2011 extra",
        "SNMPv2-SMI::enterprises.huawei",  # a word arc is accepted only after generic agents
    ],
)
def test_malformed_oids_are_rejected(text: str) -> None:
    with pytest.raises(BadValue, match="not an OID"):
        parse_oid(text)


def test_symbolic_oid_without_mib_asks_for_numeric_output() -> None:
    with pytest.raises(BadValue, match="snmpwalk -On"):
        parse_oid("CISCO-PRODUCTS-MIB::cisco2811")


def test_enterprise_number_is_compared_arc_by_arc() -> None:
    # A text prefix test would read IBM's "1.3.6.1.4.1.2" into Huawei's "1.3.6.1.4.1.2011".
    assert enterprise_number("1.3.6.1.4.1.2.3.51") == 2
    assert enterprise_number("1.3.6.1.4.1.2011.2.23.1") == 2011
    assert enterprise_number("1.3.6.1.2.1.1.1") is None  # mib-2, not an enterprise OID
    assert enterprise_number("0.0") is None  # zeroDotZero: the agent has no sysObjectID


def test_lookup(pen: PenRegistry) -> None:
    entry = pen.lookup(2011)
    assert entry is not None and entry.organization == "HUAWEI Technology Co.,Ltd"
    assert pen.lookup(9) == PenEntry(9, "ciscoSystems")
    assert pen.lookup(10**9) is None


def test_sysobjectid_names_the_maker(pen: PenRegistry) -> None:
    match = pen.from_sysobjectid("SNMPv2-SMI::enterprises.2011.2.23.1")
    assert match is not None and match.is_evidence
    assert (match.number, match.oid) == (2011, "1.3.6.1.4.1.2011.2.23.1")
    assert match.organization == "HUAWEI Technology Co.,Ltd"


@pytest.mark.parametrize(
    "oid",
    [
        "1.3.6.1.4.1.8072.3.2.10",
        "NET-SNMP-MIB::netSnmpAgentOIDs.10",
        "1.3.6.1.4.1.2021.250.10",
        "NET-SNMP-MIB::netSnmpAgentOIDs.linux",  # snmpwalk output with the MIBs loaded
        "UCD-SNMP-MIB::ucdSnmpAgent.linux",
    ],
)
def test_generic_agents_are_not_vendor_evidence(pen: PenRegistry, oid: str) -> None:
    match = pen.from_sysobjectid(oid)
    assert match is not None and match.entry is not None
    assert match.number in GENERIC_AGENTS
    assert not match.is_evidence and match.organization is None
    assert "agent" in (match.not_evidence or "")


def test_net_snmp_entry_is_the_registry_s(pen: PenRegistry) -> None:
    entry = pen.lookup(8072)
    assert entry is not None and entry.organization == "net-snmp"


def test_unassigned_number_is_kept_but_not_evidence(pen: PenRegistry) -> None:
    # Dahua devices reportedly answer under 1004849, beyond any IANA assignment.
    match = pen.from_sysobjectid("1.3.6.1.4.1.1004849.1.2")
    assert match is not None and match.number == 1004849
    assert match.entry is None and not match.is_evidence
    assert pen.info.date in (match.not_evidence or "")


def test_non_enterprise_oid_gives_none(pen: PenRegistry) -> None:
    assert pen.from_sysobjectid("1.3.6.1.2.1.1.1.0") is None
    assert pen.from_sysobjectid("1.3.6.1.4.1") is None


def test_snapshot_is_described(pen: PenRegistry) -> None:
    assert pen.info.date == "2024-08-23" and len(pen) == pen.info.rows > 60000
    source = pen.info.source("wireshark-enterprises")
    assert source is not None and source.origin.endswith("libwireshark-data")


def test_formerly_suffix_is_restored_in_the_bundled_data(pen: PenRegistry) -> None:
    entry = pen.lookup(637)
    assert entry is not None and entry.organization == "Nokia (formerly 'Alcatel-Lucent')"
