"""CSV to CSV with the input lines copied as read: the same rows as the general writer, and the
general writer whenever a line is not its record."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import netvet.inventory.identify as identify_module
from netvet.inventory.families import Families
from netvet.inventory.identify import OUTPUT, Identifier, identify_inventory
from netvet.inventory.importers import csv as csv_importer
from netvet.inventory.importers import load_inventory
from netvet.inventory.registry import OuiRegistry, PenRegistry
from netvet.inventory.summary import IdentifyReport

TODAY = dt.date(2025, 6, 1)
HEADER = "id,manufacturer,mac,notes"
ROWS = [
    '1,Huawei,00:E0:FC:00:00:01,"rack 3, row 2"',
    '2,"ZTE ""Corp""",zz,',
    "3,,,",
    '4,LTS,C0:56:E3:11:22:33,""',
    "5,Cisco,00:E0:FC:00:00:02,plain",
]


@pytest.fixture(scope="module")
def ident(oui: OuiRegistry, pen: PenRegistry, families: Families) -> Identifier:
    return Identifier(oui, pen, families)


def both(ident: Identifier, path: Path, tmp_path: Path) -> tuple[str, str, IdentifyReport]:
    """(output with lines copied, output of the general writer, report of the first)."""
    fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
    report = identify_inventory(load_inventory(path), fast, "csv", TODAY, ident)
    general = load_inventory(path)
    general.lines = None
    identify_inventory(general, slow, "csv", TODAY, ident)
    return fast.read_text(encoding="utf-8"), slow.read_text(encoding="utf-8"), report


def same_rows(a: str, b: str) -> bool:
    def read(text: str) -> pl.DataFrame:
        frame = pl.read_csv(text.encode(), infer_schema=False)
        return frame.with_columns(pl.all().fill_null(""))

    return read(a).equals(read(b))


def widths(text: str) -> set[int]:
    return {len(r) for r in csv.reader(text.splitlines())}


def write(tmp_path: Path, lines: list[str], end: str = "\n", encoding: str = "utf-8") -> Path:
    path = tmp_path / "in.csv"
    path.write_bytes(end.join(lines).encode(encoding) + end.encode())
    return path


@pytest.fixture(params=[2, 1000], ids=["small-batches", "one-batch"])
def batch(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(identify_module, "BATCH", request.param)
    return int(request.param)


def test_lines_are_copied_as_read(ident: Identifier, tmp_path: Path, batch: int) -> None:
    fast, slow, report = both(ident, write(tmp_path, [HEADER, *ROWS, ""]), tmp_path)
    assert same_rows(fast, slow)
    lines = fast.splitlines()
    assert lines[0] == f"{HEADER},{','.join(OUTPUT)}"
    assert lines[4].startswith('4,LTS,C0:56:E3:11:22:33,"",hikvision,LTS,')  # `""` as it was
    assert lines[6] == ',,,,"","",0.0,"",""'  # the blank line: a record of empty values
    assert widths(fast) == {9}
    assert report.imported.problems["bad-mac"].rows == [2]
    assert report.summary.rows == 6


def test_crlf_bom_sep_line_and_latin1(ident: Identifier, tmp_path: Path, batch: int) -> None:
    for lines, end, encoding in (
        (["\ufeff" + HEADER, *ROWS], "\r\n", "utf-8"),
        (["sep=,", HEADER, *ROWS], "\n", "utf-8"),
        ([HEADER, *ROWS, "6,Hikvision Périphériques,,"], "\n", "latin-1"),
    ):
        path = write(tmp_path, lines, end, encoding)
        assert load_inventory(path).lines is not None
        fast, slow, _ = both(ident, path, tmp_path)
        assert same_rows(fast, slow) and "\r" not in fast
        assert '"ZTE ""Corp""",zz,,' in fast


def test_short_records_are_padded(
    ident: Identifier, tmp_path: Path, batch: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files over the ragged check's limit are not checked before: the copy finds short lines.
    monkeypatch.setattr(csv_importer, "RAGGED_CHECK_LIMIT", 0)
    path = write(tmp_path, [HEADER, "1,Huawei", '2,"a,b"', *ROWS, "3", " "])
    fast, slow, _ = both(ident, path, tmp_path)
    assert same_rows(fast, slow) and widths(fast) == {9}
    assert "1,Huawei,,,huawei," in fast  # copied, then padded


@pytest.mark.parametrize(
    "bad",
    [
        '9,Huawei,00:E0:FC:00:00:09,"two\nlines"',  # a value holding a line break
        "9,Huawei,00:E0:FC:00:00:09,x,extra",  # more fields than the header
    ],
    ids=["line-break", "long-record"],
)
@pytest.mark.parametrize("where", [0, 3, 5])
def test_a_line_that_is_not_its_record_falls_back_to_the_general_writer(
    ident: Identifier,
    tmp_path: Path,
    batch: int,
    monkeypatch: pytest.MonkeyPatch,
    bad: str,
    where: int,
) -> None:
    monkeypatch.setattr(csv_importer, "RAGGED_CHECK_LIMIT", 0)
    rows = list(ROWS)
    rows.insert(where, bad)
    fast, slow, report = both(ident, write(tmp_path, [HEADER, *rows]), tmp_path)
    assert fast == slow  # written by the general writer, from the start
    assert report.imported.problems["bad-mac"].count == 1  # the first attempt left nothing
    assert report.summary.rows == 6


def test_when_lines_are_not_copied(ident: Identifier, tmp_path: Path) -> None:
    semicolons = write(tmp_path, [HEADER.replace(",", ";"), "1;Huawei;;"])
    assert load_inventory(semicolons).lines is None
    path = write(tmp_path, [HEADER, *ROWS])
    out = tmp_path / "out.csv"
    identify_inventory(load_inventory(path), out, "csv", TODAY, ident)
    again, slow, report = both(ident, out, tmp_path)  # its own output: columns replaced
    assert again == slow
    assert any("replaced" in n for n in report.imported.notes)


def test_header_only(ident: Identifier, tmp_path: Path) -> None:
    fast, slow, report = both(ident, write(tmp_path, [HEADER]), tmp_path)
    assert fast.splitlines() == slow.splitlines() and len(fast.splitlines()) == 1
    assert report.summary.rows == 0


def test_header_names_quoted_and_repeated(ident: Identifier, tmp_path: Path) -> None:
    path = write(tmp_path, ['id,"make, model",manufacturer,id', "1,x,Huawei,9", '2,"y,z",ZTE,8'])
    fast, slow, _ = both(ident, path, tmp_path)
    assert fast.splitlines()[0] == slow.splitlines()[0]  # the names as read, escaped alike
    assert same_rows(fast, slow) and '2,"y,z",ZTE,8,zte,' in fast


def test_lines_above_the_header(ident: Identifier, tmp_path: Path) -> None:
    path = write(tmp_path, ["Inventory export", "", HEADER, *ROWS])
    fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
    identify_inventory(load_inventory(path, header_row=3), fast, "csv", TODAY, ident)
    general = load_inventory(path, header_row=3)
    general.lines = None
    identify_inventory(general, slow, "csv", TODAY, ident)
    a, b = fast.read_text(encoding="utf-8"), slow.read_text(encoding="utf-8")
    assert same_rows(a, b) and a.splitlines()[1].startswith("1,Huawei,")
