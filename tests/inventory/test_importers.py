"""Each importer on its committed sample (tests/inventory/samples/), column mapping, bad rows."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from netvet.inventory.importers import (
    FieldMap,
    MappingError,
    UnreadableInventory,
    detect_format,
    load_inventory,
)
from netvet.inventory.importers.csv import sniff_delimiter
from netvet.inventory.importers.fields import column_key, resolve

SAMPLES = Path(__file__).parent / "samples"


def canon(path: Path, **kwargs: object) -> list[dict[str, str | None]]:
    return load_inventory(path, **kwargs).canonical().to_dicts()  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("netbox-devices.csv", "netbox"),
        ("netbox-devices.json", "netbox"),
        ("bom.cdx.json", "cyclonedx"),
        ("walk-huawei.txt", "snmpwalk"),
        ("walk-multi.txt", "snmpwalk"),
        ("inventory-latin1.csv", "csv"),
        ("inventory-semicolon.csv", "csv"),
        ("inventory.xlsx", "xlsx"),
        ("inventory.parquet", "parquet"),
    ],
)
def test_format_detection(name: str, fmt: str) -> None:
    assert detect_format(SAMPLES / name) == fmt


def test_netbox_csv_maps_type_to_model_and_keeps_columns() -> None:
    inv = load_inventory(SAMPLES / "netbox-devices.csv")
    rows = inv.canonical().to_dicts()
    assert [r["model"] for r in rows][:2] == ["CE6850-48S6Q-HI", "ISR4331/K9"]
    assert rows[0]["id"] == "1" and rows[0]["site"] == "DC1" and rows[0]["role"] == "Core switch"
    assert rows[3]["manufacturer"] is None  # an empty field
    original = inv.collect()
    assert original.columns[:3] == ["ID", "Name", "Status"]
    assert original.get_column("IP Address").to_list()[0] == "10.0.0.1/24"


def test_netbox_json_nested_fields_interfaces_and_bad_record() -> None:
    inv = load_inventory(SAMPLES / "netbox-devices.json")
    rows = inv.canonical().to_dicts()
    assert len(rows) == 4  # the bad record is kept as an empty row
    first = rows[0]
    assert (first["manufacturer"], first["model"], first["role"]) == (
        "Huawei",
        "S5735-L48T4X-A1",
        "Aggregation",
    )
    assert first["mac"] == "00:E0:FC:12:34:56 00:E0:FC:12:34:57"
    assert first["ip"] == "10.3.0.2" and first["date"] == "2019-06-30"
    assert rows[1]["role"] == "NVR"  # device_role, NetBox before 3.6
    assert rows[1]["mac"] == "00:1F:54:AA:BB:CC"  # primary_mac_address, NetBox 4.2+
    assert rows[2]["mac"] == "00:09:0F:01:02:03"  # mac_addresses list
    assert rows[3]["id"] is None
    assert inv.report.problems["not-a-record"].rows == [4]


def test_cyclonedx_devices_only_with_manufacturer_fallbacks() -> None:
    inv = load_inventory(SAMPLES / "bom.cdx.json")
    frame = inv.collect()
    assert frame.get_column("id").to_list() == ["cam-1", "sw-1", "sw-1-psu", "ap-1"]
    assert frame.get_column("manufacturer_source").to_list() == [
        "metadata.manufacturer",
        "manufacturer",
        "manufacturer",
        "supplier",
    ]
    assert frame.get_column("supplier").to_list()[1] == "Acme Networks Distribution"
    assert frame.get_column("parent").to_list()[2] == "sw-1"
    rows = inv.canonical().to_dicts()
    assert rows[0]["serial"] == "DS-2CD2143G0-I20200101AAWR"
    assert rows[0]["mac"] == "C0:56:E3:11:22:33"
    assert rows[3]["mac"] == "24:5A:4C:01:02:03"  # older cdx:deviceInfo: spelling
    assert any("not devices" in n for n in inv.report.notes)


def test_snmpwalk_single_device_multiline_and_chassis_entity() -> None:
    (row,) = canon(SAMPLES / "walk-huawei.txt")
    assert row["sys_descr"].startswith("Huawei Versatile Routing Platform Software\nVRP")
    assert row["sys_descr"].endswith("HUAWEI CE6850-48S6Q-HI")
    assert row["sys_object_id"] == "SNMPv2-SMI::enterprises.2011.2.239.11"
    assert (row["manufacturer"], row["model"], row["serial"]) == (
        "Huawei",
        "CE6850-48S6Q-HI",
        "2102350DLS10XXXX",
    )
    assert row["mac"] == "00:e0:fc:0a:0b:0c"  # short octets padded, duplicates dropped
    assert row["name"] == "dc1-leaf-07" and row["site"] == "DC1 Hall A R07"


def test_snmpwalk_several_devices_numeric_and_hex_forms() -> None:
    inv = load_inventory(SAMPLES / "walk-multi.txt")
    rows = inv.canonical().to_dicts()
    assert len(rows) == 3
    cam, switch, gateway = rows
    assert cam["mac"] == "C0:56:E3:11:22:33" and cam["manufacturer"] == "LTS"
    assert cam["sys_object_id"] == ".1.3.6.1.4.1.8072.3.2.10"
    assert switch["sys_descr"].count("\n") == 2
    assert switch["manufacturer"] == "Cisco Systems Inc" and switch["serial"] == "FOC1234X0AB"
    assert switch["mac"] == "00:00:0C:9F:F0:01"
    assert gateway["sys_object_id"] == "NET-SNMP-MIB::netSnmpAgentOIDs.10"
    assert inv.collect().get_column("host").to_list() == ["192.0.2.21", "192.0.2.22", "192.0.2.23"]
    assert any("not in snmpwalk format" in n for n in inv.report.notes)


def test_snmpwalk_without_headers_splits_on_repeated_sysdescr(tmp_path: Path) -> None:
    walk = tmp_path / "two.walk"
    walk.write_text("SNMPv2-MIB::sysDescr.0 = STRING: one\nSNMPv2-MIB::sysDescr.0 = STRING: two\n")
    inv = load_inventory(walk)
    assert inv.canonical().get_column("sys_descr").to_list() == ["one", "two"]
    assert any("guessed" in n for n in inv.report.notes)


def test_latin1_csv_is_read_as_cp1252_with_a_note() -> None:
    inv = load_inventory(SAMPLES / "inventory-latin1.csv")
    rows = inv.canonical().to_dicts()
    assert rows[0]["site"] == "Société Générale – Paris"  # the en dash is cp1252's 0x96
    assert rows[0]["name"] == "caméra-entrée"
    assert inv.report.encoding == "cp1252"
    assert any("cp1252" in n for n in inv.report.notes)


def test_damaged_utf8_reports_the_rows_and_keeps_good_accents(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        "name,site\nsw1,Zürich\nsw2,Gen\xe8ve\n".encode().replace(b"\xc3\xa8", b"\xe8")
    )
    inv = load_inventory(path)
    rows = inv.canonical().to_dicts()
    assert rows[0]["site"] == "Zürich"
    assert rows[1]["site"] == "Gen\ufffdve"
    assert inv.report.problems["undecodable"].rows == [2]


def test_semicolon_csv_with_bom_quotes_and_foreign_headers() -> None:
    inv = load_inventory(SAMPLES / "inventory-semicolon.csv")
    assert inv.report.encoding == "utf-8-sig"
    assert inv.fields.get("manufacturer") == "Hersteller"
    assert inv.fields.get("date") == "Kaufdatum" and inv.fields.get("site") == "Standort"
    rows = inv.canonical().to_dicts()
    assert len(rows) == 4
    assert rows[0]["site"] == "Lager; Halle 2"  # the delimiter inside quotes
    assert rows[3]["site"] == "Büro"
    assert inv.collect().columns[0] == "id"  # the BOM is not part of the first name


def test_xlsx_types_blank_rows_and_extra_cells() -> None:
    inv = load_inventory(SAMPLES / "inventory.xlsx")
    rows = inv.canonical().to_dicts()
    assert [r["id"] for r in rows] == ["1001", "1002", "1003", "1004"]  # no "1001.0"
    assert rows[0]["date"] == "2019-03-01"
    assert rows[1]["date"] == "2021-06-01T09:00:00"
    assert rows[2]["mac"] in (None, "")
    assert any("Notes" in n for n in inv.report.notes)
    assert any("1 empty row" in n for n in inv.report.notes)
    assert inv.report.problems["ragged"].rows == [4]


def test_parquet_keeps_types_and_reads_list_columns() -> None:
    inv = load_inventory(SAMPLES / "inventory.parquet")
    frame = inv.collect()
    assert frame.schema["ports"] == pl.Int16 and frame.schema["purchase_date"] == pl.Date
    rows = inv.canonical().to_dicts()
    assert rows[1]["mac"] == "00:1F:54:00:00:02 02:00:00:00:00:01"
    assert rows[0]["date"] == "2021-05-01" and inv.report.rows == 3


def test_jsonl_bad_lines_are_reported_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "devices.jsonl"
    lines = [
        json.dumps({"vendor": "Huawei", "mac": "00:E0:FC:00:00:01", "info": {"site": "POP1"}}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"vendor": "ZTE", "macs": ["a", "b"]}),
    ]
    path.write_text("\n".join(lines) + "\n")
    inv = load_inventory(path)
    frame = inv.collect()
    assert frame.height == 4
    assert frame.get_column("info.site").to_list()[0] == "POP1"
    assert frame.get_column("macs").to_list()[3] == "a b"
    assert inv.report.problems["not-a-record"].rows == [2, 3]


def test_json_array_and_wrapped_results(tmp_path: Path) -> None:
    path = tmp_path / "page.json"
    path.write_text(json.dumps({"count": 2, "results": [{"Make": "Cisco"}, {"Make": "Nokia"}]}))
    assert canon(path)[1]["manufacturer"] == "Nokia"


def test_ragged_csv_rows_are_kept_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("name,vendor,mac\na,Huawei,00:E0:FC:00:00:01\nb,ZTE\nc,Cisco,x,extra\n")
    inv = load_inventory(path)
    assert inv.canonical().get_column("name").to_list() == ["a", "b", "c"]
    assert inv.report.problems["ragged"].rows == [2, 3]


def test_sniffing_picks_the_consistent_delimiter() -> None:
    assert sniff_delimiter("a;b;c\n1;2,5;3\n4;5;6\n") == ";"
    assert sniff_delimiter("a\tb\n1\t2\n") == "\t"
    assert sniff_delimiter("a|b|c\n1|2|3\n") == "|"
    assert sniff_delimiter('a,b\n"x;y",2\n') == ","


def test_excel_sep_line_is_obeyed(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text("sep=;\nname;vendor\nsw;Huawei\n")
    assert canon(path)[0]["manufacturer"] == "Huawei"


def test_column_keys_and_synonym_tiers() -> None:
    assert column_key("Serial Number") == column_key("serial_number") == "serialnumber"
    assert column_key("Modèle") == "modele"
    mapped = resolve(["Brand", "Manufacturer", "hw addr", "MAC 2", "sysObjectID"])
    assert mapped.get("manufacturer") == "Manufacturer"  # tier 1 beats "Brand"
    assert mapped.all("mac") == ("hw addr", "MAC 2")
    assert mapped.get("sys_object_id") == "sysObjectID"


def test_ambiguous_columns_ask_for_a_mapping() -> None:
    with pytest.raises(MappingError, match="--map"):
        resolve(["Vendor", "Manufacturer"])
    mapped = resolve(["Vendor", "Manufacturer"], {"Vendor": "manufacturer"})
    assert mapped.get("manufacturer") == "Vendor"
    ignored = resolve(["Vendor", "Manufacturer"], {"Vendor": "-"})
    assert ignored.get("manufacturer") == "Manufacturer"


def test_bad_explicit_mappings() -> None:
    with pytest.raises(MappingError, match="does not have"):
        resolve(["a"], {"b": "manufacturer"})
    with pytest.raises(MappingError, match="unknown field"):
        resolve(["a"], {"a": "colour"})
    with pytest.raises(MappingError, match="two columns"):
        resolve(["a", "b"], {"a": "model", "b": "model"})


def test_explicit_mapping_through_load(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Lieferant,Geraet\nHuawei,S5735\n")
    inv = load_inventory(path, mapping={"Lieferant": "manufacturer", "Geraet": "model"})
    assert inv.fields == FieldMap({"manufacturer": ("Lieferant",), "model": ("Geraet",)})


def test_unreadable_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableInventory, match="empty"):
        load_inventory(empty)
    with pytest.raises(UnreadableInventory, match="no such file"):
        load_inventory(tmp_path / "missing.csv")
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"not a zip")
    with pytest.raises(UnreadableInventory, match="xlsx"):
        load_inventory(fake)
    with pytest.raises(UnreadableInventory, match="unknown inventory format"):
        load_inventory(empty, "docx")
