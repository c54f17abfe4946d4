"""`netvet inventory identify --header-row` and the options it shares with `netvet audit`
(`--input-format`, `--map`) from `netvet.cli.common`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import typer
from typer.testing import CliRunner, Result

from netvet.cli import common, inventory

app = typer.Typer()
app.add_typer(inventory.app, name="inventory")
runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, ["inventory", "identify", *(str(a) for a in args)])


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("netvet: error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


def test_csv_title_line_with_header_row(tmp_path: Path) -> None:
    src = tmp_path / "title.csv"
    src.write_text("Netzinventar Berlin\nHostname,Hersteller\nber-01,ZTE\n")
    result = run(src, "--header-row", "2")
    assert result.exit_code == 0, result.output
    (row,) = rows(result.stdout)
    assert (row["Hostname"], row["vendor"]) == ("ber-01", "zte")


def test_xlsx_title_row_with_header_row(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "manufacturer"])  # looks like a header, but is not the one
    ws.append(["Hostname", "Hersteller"])
    ws.append(["ber-01", "Huawei"])
    wb.save(tmp_path / "book.xlsx")
    result = run(tmp_path / "book.xlsx", "--header-row", "2")
    assert result.exit_code == 0, result.output
    (row,) = rows(result.stdout)
    assert (row["Hostname"], row["vendor"]) == ("ber-01", "huawei")


def test_header_row_is_one_based_and_positive(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("name,manufacturer\nr1,ZTE\n")
    result = run(src, "--header-row", "0")
    assert result.exit_code == 2 and "--header-row" in result.stderr
    assert "Traceback" not in result.output


def test_header_row_beyond_the_file(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("name,manufacturer\nr1,ZTE\n")
    one_error_line(run(src, "--header-row", "9"))


def test_header_row_refused_for_other_formats(tmp_path: Path) -> None:
    src = tmp_path / "t.json"
    src.write_text('[{"name": "r1", "manufacturer": "ZTE"}]')
    assert "csv and xlsx input only" in one_error_line(run(src, "--header-row", "2"))


def test_shared_options_come_from_common() -> None:
    assert inventory.InputFormat is common.InputFormat
    assert not hasattr(inventory, "_parse_map")


def test_malformed_map_message(tmp_path: Path) -> None:
    src = tmp_path / "t.csv"
    src.write_text("name,manufacturer\nr1,ZTE\n")
    assert "expected COLUMN=FIELD" in one_error_line(run(src, "--map", "manufacturer"))


def test_help_lists_header_row() -> None:
    result = runner.invoke(app, ["inventory", "identify", "--help"], env={"COLUMNS": "200"})
    assert "--header-row" in result.output and "title" in result.output
