"""Importer problems found by the user trial of issue #3 ("Bad rows never stop the run and never
lose the other rows"): each test is one reproduction from the trial report. Hostile inputs must
end in a clear message and exit 2, never a traceback, a hang or unbounded memory."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from netvet.cli.main import app
from netvet.inventory.importers import (
    UnreadableInventory,
    detect_format,
    jsonl,
    limits,
    load_inventory,
)
from netvet.inventory.importers import csv as csv_importer
from netvet.inventory.importers import xlsx as xlsx_importer
from netvet.inventory.importers.limits import looks_binary, scan_lines
from netvet.inventory.importers.xlsx import read_xlsx

TRIAL = Path(__file__).parent / "samples" / "trial"
runner = CliRunner()


def canon(path: Path) -> list[dict[str, str | None]]:
    return load_inventory(path).canonical().to_dicts()


def identify(path: Path, tmp_path: Path) -> tuple[int, str]:
    result = runner.invoke(
        app, ["inventory", "identify", str(path), "-o", str(tmp_path / "out.csv")]
    )
    assert "Traceback" not in result.output and "bug in netvet" not in result.output
    return result.exit_code, result.output


# P1: XLSX with a title row above the header


def _title_workbook(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Netzinventar Berlin - Stand 03.12.2026"])
    ws.merge_cells("A1:D1")
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_xlsx_header_below_a_merged_title_row_is_found(tmp_path: Path) -> None:
    book = _title_workbook(
        tmp_path / "title.xlsx",
        ["Hostname", "Hersteller", "Modell", "MAC-Adresse"],
        [["ber-core-01", "Huawei", "NE40E-X16A", "00:E0:FC:12:34:56"]],
    )
    inv = load_inventory(book)
    (row,) = inv.canonical().to_dicts()
    assert (row["name"], row["manufacturer"], row["model"], row["mac"]) == (
        "ber-core-01",
        "Huawei",
        "NE40E-X16A",
        "00:E0:FC:12:34:56",
    )
    assert not inv.report.problems  # nothing reported as ragged any more
    # The skipped title is named, not dropped silently.
    assert any("sheet row 2" in n and "Netzinventar Berlin" in n for n in inv.report.notes)


def test_xlsx_header_row_can_be_given(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["a", "b"])  # looks like a header, but is not the one
    ws.append(["Hostname", "Hersteller"])
    ws.append(["r1", "ZTE"])
    wb.save(tmp_path / "given.xlsx")
    inv = read_xlsx(tmp_path / "given.xlsx", header_row=2)
    assert inv.canonical().select("name", "manufacturer").rows() == [("r1", "ZTE")]
    with pytest.raises(UnreadableInventory, match="sheet row 9 is empty"):
        read_xlsx(tmp_path / "given.xlsx", header_row=9)


def test_xlsx_without_title_keeps_first_row_as_header(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Gerät", "Fabrikat"])  # unknown names: still the header (first text row)
    ws.append(["ber-1", "Huawei"])
    wb.save(tmp_path / "plain.xlsx")
    frame = load_inventory(tmp_path / "plain.xlsx").collect()
    assert frame.columns == ["Gerät", "Fabrikat"] and frame.height == 1


def test_xlsx_total_row_is_not_a_device_and_merged_cells_fill_down(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Hostname", "Hersteller", "Standort", "Preis"])
    ws.append(["r1", "Huawei", "Berlin", 100])
    ws.append(["r2", "ZTE", None, 200])
    ws.append(["Summe", None, None, 300])
    ws.merge_cells("C2:C3")
    wb.save(tmp_path / "sum.xlsx")
    inv = load_inventory(tmp_path / "sum.xlsx")
    rows = inv.canonical().select("name", "manufacturer", "site").rows()
    assert rows == [("r1", "Huawei", "Berlin"), ("r2", "ZTE", "Berlin")]
    assert any("total, not a device" in n and "Summe" in n for n in inv.report.notes)
    assert any("filled down" in n for n in inv.report.notes)


def test_xlsx_last_row_named_like_a_total_but_holding_text_is_kept(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Hostname", "Hersteller"])
    ws.append(["total", "Huawei"])  # a device that happens to be called "total"
    wb.save(tmp_path / "named.xlsx")
    assert load_inventory(tmp_path / "named.xlsx").collect().height == 1


# P5: CR-only line ends, CR inside quotes, random bytes


def test_cr_only_csv_is_read(tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes(b"name,manufacturer\rr1,Huawei\rr2,ZTE\r")
    assert detect_format(path) == "csv"
    inv = load_inventory(path)
    assert inv.canonical().select("name", "manufacturer").rows() == [
        ("r1", "Huawei"),
        ("r2", "ZTE"),
    ]
    assert any("CR line ends" in n for n in inv.report.notes)


def test_cr_inside_a_quoted_value_and_mixed_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "cr2.csv"
    path.write_bytes(b'name,manufacturer,notes\r\nr1,Huawei,"line1\rline2"\r\nr2,ZTE,x\r')
    rows = load_inventory(path).collect().rows()
    assert rows == [("r1", "Huawei", "line1\nline2"), ("r2", "ZTE", "x")]


def test_random_bytes_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes((i * 7919 + 13) % 256 for i in range(1 << 16)))
    with pytest.raises(UnreadableInventory, match="binary data"):
        load_inventory(path)
    code, output = identify(path, tmp_path)
    assert code == 2 and "binary data" in output


def test_binary_test_keeps_text_in_legacy_encodings() -> None:
    assert not looks_binary("Gerät;Hersteller\nberlin-1;Huawei\n".encode("cp1252") * 20)
    assert not looks_binary(b"name,manufacturer\nr1,Hua\0wei\n")
    assert looks_binary(bytes(range(256)) * 4)


# P6: deeply nested JSON


def test_deep_json_array_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100000 + "]" * 100000)
    code, output = identify(path, tmp_path)
    assert code == 2 and "nested too deeply" in output


def test_deep_results_object_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "deep2.json"
    path.write_text('{"results": ' + '{"a": ' * 50000 + "1" + "}" * 50001)
    with pytest.raises(UnreadableInventory, match="nested too deeply"):
        load_inventory(path)


def test_deep_jsonl_line_is_a_bad_row_and_the_others_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    deep = '{"a": ' * 900 + "1" + "}" * 900  # parses, but nested beyond the limit
    deeper = "[" * 100000 + "]" * 100000  # beyond the parser's recursion limit
    lines = [{"name": "r1", "manufacturer": "Huawei"}, None, None, {"name": "r4"}]
    text = [json.dumps(x) if x else "" for x in lines]
    text[1], text[2] = deep, deeper
    path.write_text("\n".join(text) + "\n")
    inv = load_inventory(path)
    assert inv.collect().get_column("name").to_list() == ["r1", None, None, "r4"]
    assert inv.report.problems["not-a-record"].rows == [2, 3]


# P8: limits


def _bomb(path: Path, pad: int) -> Path:
    """A real workbook whose sheet XML carries `pad` bytes of blanks (deflates ~1000:1)."""
    source = tmp_book = path.with_suffix(".src.xlsx")
    wb = openpyxl.Workbook()
    wb.active.append(["name", "manufacturer"])
    wb.active.append(["r1", "Huawei"])
    wb.save(tmp_book)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * pad, 1)
            out.writestr(info.filename, data)
    return path


def test_xlsx_zip_bomb_refused_from_the_directory(tmp_path: Path) -> None:
    path = _bomb(tmp_path / "bomb.xlsx", 8 << 20)
    with pytest.raises(UnreadableInventory, match="zip bomb"):
        load_inventory(path)
    code, output = identify(path, tmp_path)
    assert code == 2 and "inflates" in output


def test_xlsx_total_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _bomb(tmp_path / "big.xlsx", 0)
    assert load_inventory(path).collect().height == 1
    monkeypatch.setattr(xlsx_importer, "MAX_XLSX_UNCOMPRESSED", 1000)
    with pytest.raises(UnreadableInventory, match="over the limit"):
        load_inventory(path)


def test_xlsx_cell_limit_enforced_while_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb = openpyxl.Workbook()
    for i in range(50):
        wb.active.append([f"r{i}", "Huawei"])
    wb.save(tmp_path / "cells.xlsx")
    monkeypatch.setattr(xlsx_importer, "MAX_XLSX_CELLS", 40)
    with pytest.raises(UnreadableInventory, match="more than 40 cells"):
        load_inventory(tmp_path / "cells.xlsx")


def test_over_long_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_importer, "MAX_LINE", 1 << 12)
    path = tmp_path / "oneline.csv"
    path.write_text("name,manufacturer," + "x" * 10000)
    with pytest.raises(UnreadableInventory, match="a line longer than"):
        load_inventory(path)


def test_over_long_field_is_cut_and_reported_others_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_importer, "MAX_FIELD", 100)
    path = tmp_path / "long.csv"
    path.write_text("name,manufacturer,notes\nr1,Huawei," + "y" * 500 + "\nr2,ZTE,short\n")
    inv = load_inventory(path)
    frame = inv.collect()
    assert frame.get_column("manufacturer").to_list() == ["Huawei", "ZTE"]
    assert frame.get_column("notes").str.len_chars().to_list() == [100, 5]
    problem = inv.report.problems["long-field"]
    assert problem.rows == [1] and "500 characters, cut to 100" in problem.examples[0]


def test_over_long_quoted_multiline_field_is_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csv_importer, "MAX_FIELD", 100)
    path = tmp_path / "quoted.csv"
    value = ("z" * 10 + "\n") * 30
    path.write_text(f'name,manufacturer,notes\nr1,Huawei,"{value}"\nr2,ZTE,x\n')
    # Lines are short: only the quote parity says a value may be long.
    assert scan_lines(path, 1 << 20, 16).maybe_long_field
    inv = load_inventory(path)
    assert inv.report.problems["long-field"].rows == [1]


def test_short_quoted_values_are_not_taken_for_a_long_one(tmp_path: Path) -> None:
    # Window ends fall inside quoted values all the time; only a window wholly inside one
    # value says a value may be long (the importer would otherwise measure every value).
    path = tmp_path / "quoted.csv"
    rows = "".join(f'r{i},"Huawei Technologies Co., Ltd.","a ""b"" c"\n' for i in range(5000))
    path.write_text("name,manufacturer,notes\n" + rows)
    assert not scan_lines(path, 1 << 20, 64).maybe_long_field


def test_long_quoted_value_with_escaped_quotes_is_found(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    value = 'say ""hi""\n' * 40  # 480 characters, short lines, doubled quotes inside
    path.write_text(f'name,notes\nr1,"{value}"\n' + "r2,x\n" * 100)
    assert scan_lines(path, 1 << 20, 100).maybe_long_field
    assert not scan_lines(path, 1 << 20, 1000).maybe_long_field


def test_scan_lines_measures_lines_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_bytes(b"a,b\n" + b"x" * 5000 + b"\r\n1,2\r3,4")
    found = scan_lines(path, 4096, 1024)
    assert found.long_line_at == 4 and found.maybe_long_field and found.bare_cr
    short = scan_lines(path, 8192, 8192)
    assert short.long_line_at is None and not short.maybe_long_field


# P9: snmpwalk output styles


@pytest.mark.parametrize("name", ["walk-Oq.txt", "walk-OQ.txt", "walk-Ox.txt", "walk-Of.txt"])
def test_snmpwalk_output_styles(name: str) -> None:
    path = TRIAL / name
    assert detect_format(path) == "snmpwalk"
    (row,) = canon(path)
    assert row["sys_descr"] == "ZXR10 M6000-8S Plus, ZTE ZXR10 Software Version: V5.00.10"
    assert row["sys_object_id"] in ("iso.3.6.1.4.1.3902.3.100.7", "1.3.6.1.4.1.3902.3.100.7")
    assert row["name"] == "olt-lab-01"
    assert row["mac"] == "42:5B:20:D4:64:48 DE:26:B8:D5:FF:8D 02:FC:00:00:00:01"


def test_snmpwalk_onq_without_iso_prefix(tmp_path: Path) -> None:
    path = tmp_path / "onq.txt"
    path.write_text(
        '.1.3.6.1.2.1.1.1.0 "ZXR10 M6000"\n.1.3.6.1.2.1.1.2.0 .1.3.6.1.4.1.3902.3.100.7\n'
        '.1.3.6.1.2.1.2.2.1.6.2 "42 5B 20 D4 64 48 "\n'
    )
    assert detect_format(path) == "snmpwalk"
    (row,) = canon(path)
    assert row["sys_object_id"] == ".1.3.6.1.4.1.3902.3.100.7"
    assert row["mac"] == "42:5B:20:D4:64:48"


def test_snmpwalk_utf16_file() -> None:
    path = TRIAL / "walk-utf16.txt"
    assert detect_format(path) == "snmpwalk"
    (row,) = canon(path)
    assert row["manufacturer"] == "Huawei" and row["name"] == "dc1-leaf-07"


def test_snmpwalk_unquoted_multiline_sysdescr_and_of_oids() -> None:
    cisco, cam, huawei, zte = canon(TRIAL / "walk-mib.txt")
    assert cisco["sys_descr"] is not None and cisco["sys_descr"].count("\n") == 3
    assert cisco["sys_descr"].endswith("Compiled Thu 08-Jul-21 10:45 by mcpre")
    assert zte["sys_object_id"] == "1.3.6.1.4.1.3902.3.100.55"  # -Of long names resolved
    assert huawei["sys_object_id"] == "HUAWEI-MIB::quidway.2.23.170"  # kept: needs its MIB
    assert cam["mac"] == "C0:56:E3:AA:BB:CC"


def test_csv_starting_with_a_dotted_number_is_not_a_walk(tmp_path: Path) -> None:
    path = tmp_path / "versions.csv"
    path.write_text("version,manufacturer\n1.2.3 beta,Huawei\n")
    assert detect_format(path) == "csv"


# P11: NetBox


def _netbox_devices() -> list[dict[str, object]]:
    return [
        {
            "id": i,
            "name": f"d{i}",
            "role": {"name": "Core"},
            "device_type": {"manufacturer": {"name": "Cisco"}, "model": "ASR-9010"},
            "site": {"name": "X"},
        }
        for i in range(3)
    ]


def test_netbox_api_page_warns_that_pages_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "page1.json"
    next_url = "https://netbox/api/dcim/devices/?limit=3&offset=3"
    page = {"count": 250, "next": next_url, "previous": None, "results": _netbox_devices()}
    path.write_text(json.dumps(page))
    inv = load_inventory(path)
    assert inv.collect().height == 3
    (note,) = [n for n in inv.report.notes if n.startswith("warning")]
    assert "page 1 of 84" in note and next_url in note and "3 of 250" in note


def test_complete_netbox_answer_has_no_page_warning(tmp_path: Path) -> None:
    path = tmp_path / "all.json"
    path.write_text(json.dumps({"count": 3, "next": None, "results": _netbox_devices()}))
    assert not [n for n in load_inventory(path).report.notes if n.startswith("warning")]


def test_netbox_objects_as_jsonl_are_mapped(tmp_path: Path) -> None:
    path = tmp_path / "nb.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in _netbox_devices()) + "{broken\n")
    assert detect_format(path) == "netbox"
    inv = load_inventory(path)
    rows = inv.canonical().select("manufacturer", "model", "role").rows()
    assert rows[:3] == [("Cisco", "ASR-9010", "Core")] * 3
    assert inv.report.problems["not-a-record"].rows == [4]


def test_netbox_jsonl_without_suffix(tmp_path: Path) -> None:
    path = tmp_path / "nb.txt"
    path.write_text("".join(json.dumps(d) + "\n" for d in _netbox_devices()))
    assert detect_format(path) == "netbox"
    assert canon(path)[0]["manufacturer"] == "Cisco"


def test_parquet_from_netbox_csv_reads_back(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "Name": ["r1"],
            "Manufacturer": ["Huawei"],
            "Type": ["NE40E"],
            "Site": ["X"],
            "ID": ["7"],
            "Asset tag": ["A-1"],
            # The columns identify adds: netvet's own output, not signals.
            **{c: [""] for c in ("vendor_entity", "vendor_confidence", "vendor_evidence")},
            "vendor_conflict": [""],
            "vendor": ["huawei"],
        }
    )
    frame.write_parquet(tmp_path / "nb.parquet")
    inv = load_inventory(tmp_path / "nb.parquet")
    assert inv.fields.get("id") == "ID" and inv.fields.get("model") == "Type"
    assert inv.report.format == "netbox-parquet"


# Smaller problems


def test_empty_unnamed_trailing_columns_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "trail.csv"
    path.write_text("name,manufacturer,,,\nr1,Huawei,,,\nr2,ZTE,,,\n")
    inv = load_inventory(path)
    assert inv.collect().columns == ["name", "manufacturer"]
    assert any("2 empty unnamed trailing column" in n or "3 empty" in n for n in inv.report.notes)
    assert not any("column_" in n for n in inv.report.notes)


def test_unnamed_trailing_column_with_values_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "kept.csv"
    path.write_text("name,manufacturer,,\nr1,Huawei,,note\n")
    assert load_inventory(path).collect().columns == [
        "name",
        "manufacturer",
        "column_3",
        "column_4",
    ]


def test_all_nul_line_is_not_a_device(tmp_path: Path) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"name,manufacturer\nr1,Huawei\n\0\0\0\nr2,ZTE\n")
    inv = load_inventory(path)
    assert inv.collect().get_column("name").to_list() == ["r1", "r2"]
    assert any("NUL bytes only skipped" in n for n in inv.report.notes)
    assert not inv.report.problems  # not also reported as ragged


def test_duplicate_columns_are_reported_consistently(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text(
        "name,manufacturer,model,manufacturer,mac,mac\n"
        "r1,Cisco,C9300,Huawei,00:E0:FC:01:02:03,A0:F8:49:11:22:33\n"
    )
    inv = load_inventory(path)
    assert inv.fields.all("mac") == ("mac", "mac_2")
    assert inv.fields.all("manufacturer") == ("manufacturer",)
    notes = " ".join(inv.report.notes)
    assert "'manufacturer' appears twice" in notes and "--map manufacturer_2=manufacturer" in notes
    assert "'mac' appears twice: both used for mac" in notes


def test_directory_and_device_are_named_as_such(tmp_path: Path) -> None:
    with pytest.raises(UnreadableInventory, match="is a directory"):
        load_inventory(tmp_path)
    code, output = identify(tmp_path, tmp_path)
    assert code == 2 and "is a directory" in output
    if Path("/dev/null").exists():
        with pytest.raises(UnreadableInventory, match="not a regular file"):
            load_inventory(Path("/dev/null"))
    with pytest.raises(UnreadableInventory, match="no such file"):
        load_inventory(tmp_path / "missing.csv")


def test_zip_and_parquet_detected_by_magic_without_suffix(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["name", "manufacturer"])
    wb.save(tmp_path / "book.xlsx")
    (tmp_path / "book.xlsx").rename(tmp_path / "book.dat")
    assert detect_format(tmp_path / "book.dat") == "xlsx"
    pl.DataFrame({"name": ["r"]}).write_parquet(tmp_path / "t.dat")
    assert detect_format(tmp_path / "t.dat") == "parquet"


def test_header_row_through_load_inventory(tmp_path: Path) -> None:
    path = tmp_path / "title.csv"
    path.write_text("Inventory Berlin\nexported 2026-12-03\nname,manufacturer\nr1,ZTE\n")
    inv = load_inventory(path, header_row=3)
    assert inv.canonical().select("name", "manufacturer").rows() == [("r1", "ZTE")]
    assert not inv.report.problems
    book = _title_workbook(tmp_path / "t.xlsx", ["Hostname", "Hersteller"], [["r1", "ZTE"]])
    assert load_inventory(book, header_row=2).collect().height == 1
    with pytest.raises(UnreadableInventory, match="csv and xlsx input only"):
        load_inventory(TRIAL / "walk-Oq.txt", header_row=2)


def test_whole_file_formats_refuse_files_over_the_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.json"
    path.write_text(json.dumps([{"name": f"r{i}", "manufacturer": "ZTE"} for i in range(50)]))
    assert load_inventory(path).collect().height == 50
    monkeypatch.setattr(limits, "MAX_IN_MEMORY", 100)
    with pytest.raises(UnreadableInventory, match="limit for JSON"):
        load_inventory(path)


def test_over_long_jsonl_line_is_a_bad_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_LINE", 100)
    path = tmp_path / "long.jsonl"
    long = json.dumps({"name": "x" * 200})
    path.write_text(f'{{"name": "r1"}}\n{long}\n{{"name": "r3"}}\n')
    inv = load_inventory(path)
    assert inv.collect().get_column("name").to_list() == ["r1", None, "r3"]
    assert inv.report.problems["not-a-record"].rows == [2]
