"""MAC parsing and OUI lookups against the bundled IEEE snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from netvet.inventory.errors import BadValue, DataError
from netvet.inventory.registry import OuiRegistry, format_mac, load_oui, parse_mac, store

HUAWEI = 0x001882_0A0B0C


@pytest.mark.parametrize(
    "text",
    [
        "00:18:82:0a:0b:0c",
        "00:18:82:0A:0B:0C",
        "00-18-82-0A-0B-0C",
        "0018.820a.0b0c",
        "0018.820A.0B0C",
        "0018820A0B0C",
        "0018820a0b0c",
        "  00:18:82:0a:0b:0c\t",
        "0:18:82:a:b:c",  # net-snmp and some ARP tables drop leading zeros
        "0-18-82-a-b-c",
    ],
)
def test_parse_mac_accepts_the_usual_formats(text: str) -> None:
    assert parse_mac(text) == HUAWEI


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00:18:82:0a:0b",
        "00:18:82:0a:0b:0c:0d",
        "00:18:82:0a:0b:0g",
        "00:18-82:0a:0b:0c",  # mixed separators
        "00 18 82 0a 0b 0c",
        "0018.820a.0b0",
        "0018820a0b0c0d",
        "0x0018820a0b0c",
        "001:18:82:0a:0b:0c",
        "00:18:82:0a:0b:",
        "unknown",
    ],
)
def test_parse_mac_rejects_malformed_input_naming_it(text: str) -> None:
    with pytest.raises(BadValue, match="not a MAC address") as info:
        parse_mac(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_format_mac_is_canonical() -> None:
    assert format_mac(HUAWEI) == "00:18:82:0A:0B:0C"


def test_ma_l_lookup(oui: OuiRegistry) -> None:
    match = oui.lookup("00-18-82-0A-0B-0C")
    assert match is not None and match.is_evidence and match.assignment is not None
    assert match.mac == "00:18:82:0A:0B:0C"
    assert match.organization == "HUAWEI TECHNOLOGIES CO.,LTD"
    assert (match.assignment.bits, match.assignment.registry) == (24, "MA-L")


def test_ma_m_block_wins_over_the_ieee_ra_oui(oui: OuiRegistry) -> None:
    match = oui.lookup("2085.93b1.2345")
    assert match is not None and match.assignment is not None
    assert (match.assignment.prefix, match.assignment.bits) == ("208593B", 28)
    assert match.organization == "IOG Products LLC"


def test_ma_s_block_wins(oui: OuiRegistry) -> None:
    match = oui.lookup("70b3d5f2f001")
    assert match is not None and match.assignment is not None
    assert (match.assignment.bits, match.assignment.registry) == (36, "MA-S")
    assert match.organization == "TELEPLATFORMS"
    # The neighbouring MA-S block belongs to someone else: 36 bits really are compared.
    other = oui.lookup("70:B3:D5:0A:E0:01")
    assert other is not None and other.organization == "Norsat International Inc."


def test_iab_block(oui: OuiRegistry) -> None:
    match = oui.lookup("00:50:C2:7D:5F:FF")
    assert match is not None and match.assignment is not None
    assert (match.assignment.registry, match.organization) == ("IAB", "DEUTA-WERKE GmbH")


def test_newer_blocks_come_from_the_wireshark_supplement(oui: OuiRegistry) -> None:
    match = oui.lookup("E0:06:30:00:00:01")  # assigned after ieee-data's 2022 snapshot
    assert match is not None and match.assignment is not None
    assert match.assignment.source == "wireshark-manuf"
    # Respelled as the IEEE registry spells Huawei, not Wireshark's "Huawei Technologies Co.,Ltd".
    assert match.organization == "HUAWEI TECHNOLOGIES CO.,LTD"


def test_unassigned_sub_block_of_an_ieee_ra_oui_is_not_evidence(oui: OuiRegistry) -> None:
    match = oui.lookup("00:69:67:F0:00:01")  # MA-M block F of 00:69:67 is not assigned
    assert match is not None and match.assignment is not None
    assert match.assignment.organization == "IEEE Registration Authority"
    assert match.organization is None and "IEEE RA" in (match.not_evidence or "")


def test_private_registration_is_not_evidence(oui: OuiRegistry) -> None:
    match = oui.lookup("74:1A:E0:90:00:01")
    assert match is not None and match.assignment is not None
    assert match.assignment.organization == "Private"
    assert not match.is_evidence and "Private" in (match.not_evidence or "")


@pytest.mark.parametrize(
    ("mac", "reason"),
    [
        ("02:18:82:0A:0B:0C", "locally administered"),  # Huawei OUI with the U/L bit set
        ("DA:A1:19:12:34:56", "locally administered"),  # a typical randomised phone MAC
        ("01:00:5E:00:00:01", "multicast"),
        ("33:33:00:00:00:01", "multicast"),
        ("FF:FF:FF:FF:FF:FF", "broadcast"),
        ("00:00:00:00:00:00", "all-zero"),  # 00:00:00 is Xerox's OUI, the address is a placeholder
    ],
)
def test_addresses_that_cannot_name_a_maker(oui: OuiRegistry, mac: str, reason: str) -> None:
    match = oui.lookup(mac)
    assert match is not None
    assert match.assignment is None and match.organization is None
    assert reason in (match.not_evidence or "")


@pytest.mark.parametrize("mac", ["F4:F4:F4:00:00:01", "00:08:33:00:00:01"])
def test_unassigned_prefix_is_none(oui: OuiRegistry, mac: str) -> None:
    assert oui.lookup(mac) is None


def test_malformed_mac_raises(oui: OuiRegistry) -> None:
    with pytest.raises(BadValue):
        oui.lookup("00:18:82:0a:0b")


def test_bundled_snapshot_is_described(oui: OuiRegistry) -> None:
    info = oui.info
    assert info.location == "bundled"
    assert info.date == "2024-08-25" and len(oui) == info.rows
    ieee = info.source("ieee-data")
    supplement = info.source("wireshark-manuf")
    assert ieee is not None and supplement is not None
    assert (ieee.date, ieee.version) == ("2022-08-27", "20220827.1")
    assert ieee.rows + supplement.rows == info.rows


def _write_cache(cache: Path, date: str, org: str) -> None:
    rows = [("001882", 24, "MA-L", "ieee-test", org)]
    count = store.write_rows(cache / store.FILES["oui"], rows)
    source = store.Source("ieee-test", "test", "test", date, date, count)
    store.write_info(cache, store.SnapshotInfo("oui", date, count, (source,), str(cache)))


def test_a_newer_cache_is_preferred(tmp_path: Path) -> None:
    _write_cache(tmp_path, "2099-01-01", "Cached Name")
    registry = load_oui(cache=tmp_path)
    assert registry.info.location == str(tmp_path)
    match = registry.lookup("00:18:82:00:00:01")
    assert match is not None and match.organization == "Cached Name"


def test_an_older_cache_is_ignored(tmp_path: Path) -> None:
    _write_cache(tmp_path, "2001-01-01", "Cached Name")
    assert load_oui(cache=tmp_path).info.location == "bundled"


def test_default_cache_is_under_xdg_cache_home(tmp_path: Path) -> None:
    cache = tmp_path / "xdg-cache" / "netvet" / "registries"  # set by the autouse fixture
    assert store.cache_dir() == cache
    _write_cache(cache, "2099-01-01", "From XDG")
    match = load_oui().lookup("00:18:82:00:00:01")
    assert match is not None and match.organization == "From XDG"


def test_corrupt_cache_is_reported(tmp_path: Path) -> None:
    _write_cache(tmp_path, "2099-01-01", "x")
    (tmp_path / store.FILES["oui"]).write_bytes(b"not gzip")
    with pytest.raises(DataError, match="unreadable registry snapshot"):
        load_oui(cache=tmp_path)


def test_row_count_mismatch_is_reported(tmp_path: Path) -> None:
    _write_cache(tmp_path, "2099-01-01", "x")
    doc = json.loads((tmp_path / store.SOURCES_FILE).read_text())
    doc["oui"]["rows"] = 2
    (tmp_path / store.SOURCES_FILE).write_text(json.dumps(doc))
    with pytest.raises(DataError, match="sources.json says 2"):
        load_oui(cache=tmp_path)


def test_inconsistent_row_is_reported(tmp_path: Path) -> None:
    _write_cache(tmp_path, "2099-01-01", "x")
    store.write_rows(tmp_path / store.FILES["oui"], [("0018820", 24, "MA-L", "t", "x")])
    with pytest.raises(DataError, match="inconsistent prefix"):
        load_oui(cache=tmp_path)


def test_explicit_directory_without_snapshot(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no oui registry snapshot"):
        load_oui(tmp_path)
