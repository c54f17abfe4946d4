"""identify_file end to end: every row kept in order, each output format, the samples."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
from pathlib import Path

import polars as pl
import pytest

from netvet.inventory.families import Families
from netvet.inventory.identify import OUTPUT, Identifier, identify_file
from netvet.inventory.registry import OuiRegistry, PenRegistry

SAMPLES = Path(__file__).parent / "samples"
DAY = dt.date(2025, 6, 1)
PROFILES = [
    ("Huawei", "S5735-L48T4X-A1", "00:E0:FC", "1.3.6.1.4.1.2011.2.23.96", "huawei"),
    ("LTS", "CMIP7442-28", "C0:56:E3", "1.3.6.1.4.1.8072.3.2.10", "hikvision"),
    ("", "DS-2CD2143G0-I", "", "", "hikvision"),
    ("Cisco Systems, Inc.", "C9300-48P", "00:00:0C", "1.3.6.1.4.1.9.1.2494", "cisco"),
    ("Realtek", "", "00:E0:4C", "", ""),
]


@pytest.fixture(scope="module")
def ident(oui: OuiRegistry, pen: PenRegistry, families: Families) -> Identifier:
    return Identifier(oui, pen, families)


def generated_csv(path: Path, rows: int) -> list[str]:
    """A CSV of `rows` devices drawn from PROFILES (seeded); returns the expected vendors."""
    rng = random.Random(7)
    expected = []
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "hostname", "manufacturer", "model", "mac", "sysObjectID", "notes"])
        for i in range(rows):
            maker, model, oui, oid, vendor = rng.choice(PROFILES)
            suffix = f"{rng.randrange(256):02X}:{rng.randrange(256):02X}:{i % 256:02X}"
            note = "line one\nline two, with a comma" if i % 97 == 0 else f"n{i}"
            writer.writerow(
                [
                    f"dev{i:05d}",
                    f"host-{i}",
                    maker,
                    model,
                    f"{oui}:{suffix}" if oui else "",
                    oid,
                    note,
                ]
            )
            expected.append(vendor)
    return expected


def test_thousand_rows_round_trip_keeps_every_row_in_order(
    tmp_path: Path, ident: Identifier
) -> None:
    source = tmp_path / "inventory.csv"
    expected = generated_csv(source, 1000)
    out = tmp_path / "out.csv"
    report = identify_file(source, out, "csv", as_of=DAY, identifier=ident)
    original = pl.read_csv(source, infer_schema=False)
    result = pl.read_csv(out, infer_schema=False)
    assert result.height == 1000 and report.summary.rows == 1000
    assert result.columns == [*original.columns, *OUTPUT]
    assert result.select(original.columns).equals(original)  # input columns untouched, in order
    assert result.get_column("vendor").fill_null("").to_list() == expected
    assert report.summary.identified == sum(1 for v in expected if v)
    assert report.output == str(out)


@pytest.mark.parametrize("fmt", ["jsonl", "parquet", "json"])
def test_other_output_formats(tmp_path: Path, ident: Identifier, fmt: str) -> None:
    source = tmp_path / "inventory.csv"
    expected = generated_csv(source, 50)
    out = tmp_path / f"out.{fmt}"
    identify_file(source, out, fmt, as_of=DAY, identifier=ident)
    if fmt == "parquet":
        frame = pl.read_parquet(out)
    elif fmt == "jsonl":
        frame = pl.read_ndjson(out)
    else:
        frame = pl.DataFrame(json.loads(out.read_text()))
    assert frame.get_column("vendor").to_list() == expected
    assert frame.get_column("id").to_list()[:2] == ["dev00000", "dev00001"]


def test_unknown_output_format_is_refused(tmp_path: Path, ident: Identifier) -> None:
    with pytest.raises(ValueError, match="output format"):
        identify_file(SAMPLES / "netbox-devices.csv", tmp_path / "x", "xml", identifier=ident)


def test_netbox_export(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "netbox.csv"
    report = identify_file(SAMPLES / "netbox-devices.csv", out, as_of=DAY, identifier=ident)
    vendors = pl.read_csv(out, infer_schema=False).get_column("vendor").fill_null("").to_list()
    assert vendors == ["huawei", "cisco", "hikvision", "hikvision", "zte"]
    assert report.summary.white_labels == {("LTS", "hikvision"): 1}


def test_netbox_json_dates_from_a_custom_field(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "netbox.jsonl"
    report = identify_file(
        SAMPLES / "netbox-devices.json", out, "jsonl", as_of=DAY, identifier=ident
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    # Lorex bought in 2023 (purchase_date), after Dahua sold it.
    assert [r["vendor"] for r in rows] == ["huawei", "", "fortinet", ""]
    assert rows[1]["vendor_entity"] == "Lorex Technology Inc."
    assert report.imported.problems["not-a-record"].rows == [4]


def test_snmpwalk_files(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "walk.csv"
    identify_file(SAMPLES / "walk-multi.txt", out, as_of=DAY, identifier=ident)
    rows = pl.read_csv(out, infer_schema=False).fill_null("").to_dicts()
    assert [r["vendor"] for r in rows] == ["hikvision", "cisco", ""]
    assert "net-snmp agent" in rows[0]["vendor_evidence"]
    assert "locally administered" in rows[2]["vendor_evidence"]
    identify_file(SAMPLES / "walk-huawei.txt", out, as_of=DAY, identifier=ident)
    (huawei,) = pl.read_csv(out, infer_schema=False).to_dicts()
    assert huawei["vendor"] == "huawei" and huawei["vendor_confidence"] == "1.0"


def test_cyclonedx_bom(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "bom.csv"
    identify_file(SAMPLES / "bom.cdx.json", out, as_of=DAY, identifier=ident)
    rows = pl.read_csv(out, infer_schema=False).fill_null("").to_dicts()
    assert [r["vendor"] for r in rows] == ["hikvision", "huawei", "huawei", ""]
    assert rows[3]["vendor_entity"] == "Ubiquiti Inc"


def test_xlsx_and_parquet_samples(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "x.csv"
    identify_file(SAMPLES / "inventory.xlsx", out, as_of=DAY, identifier=ident)
    vendors = pl.read_csv(out, infer_schema=False).get_column("vendor").fill_null("").to_list()
    assert vendors == ["huawei", "hikvision", "huawei", "honor"]  # Honor by install date
    out = tmp_path / "p.parquet"
    report = identify_file(
        SAMPLES / "inventory.parquet", out, "parquet", as_of=DAY, identifier=ident
    )
    frame = pl.read_parquet(out)
    assert frame.get_column("vendor").to_list() == ["dahua", "", "hikvision"]
    assert frame.schema["ports"] == pl.Int16  # input types kept
    assert "bad-mac" not in report.imported.problems


def test_semicolon_and_latin1_samples(tmp_path: Path, ident: Identifier) -> None:
    out = tmp_path / "s.csv"
    report = identify_file(SAMPLES / "inventory-semicolon.csv", out, as_of=DAY, identifier=ident)
    frame = pl.read_csv(out, infer_schema=False)
    assert frame.get_column("vendor").fill_null("").to_list() == [
        "huawei",
        "hikvision",
        "cisco",
        "",
    ]
    assert frame.get_column("Standort").to_list()[0] == "Lager; Halle 2"
    assert report.imported.problems["bad-mac"].rows == [3]
    assert report.imported.problems["bad-date"].rows == [3]  # 30 February
    assert frame.get_column("vendor_entity").to_list()[3] == "Ubiquiti Networks Inc."
    out = tmp_path / "l.csv"
    identify_file(SAMPLES / "inventory-latin1.csv", out, as_of=DAY, identifier=ident)
    result = pl.read_csv(out, infer_schema=False)  # written back as UTF-8
    assert result.get_column("Site").to_list()[0] == "Société Générale – Paris"
    assert result.get_column("vendor").to_list() == ["hikvision", "huawei", "fortinet"]
