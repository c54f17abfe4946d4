"""Regenerate the binary inventory samples: inventory.xlsx (openpyxl) and inventory.parquet
(polars). Run from anywhere: `python tests/inventory/samples/make_inventory_samples.py`.

The text samples next to them (netbox-devices.*, bom.cdx.json, walk-*.txt, inventory-*.csv)
are written by hand; inventory-latin1.csv is encoded in Windows-1252 and inventory-semicolon.csv
in UTF-8 with a byte-order mark and CRLF line ends, on purpose.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
from openpyxl import Workbook

HERE = Path(__file__).parent


def make_xlsx(path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "Devices"
    sheet.append(["Asset Tag", "Hostname", "Vendor", "Model", "MAC Address", "Install Date"])
    core = [1001, "core-01", "Huawei", "CE6850-48S6Q-HI", "00:E0:FC:0A:0B:0C", dt.date(2019, 3, 1)]
    sheet.append(core)
    cam = [1002, "cam-01", "LTS", "CMIP7442-28", "C0:56:E3:11:22:33", dt.datetime(2021, 6, 1, 9)]
    sheet.append(cam)
    sheet.append([])  # an empty row in the middle: skipped and noted
    sheet.append([1003, "phone-01", "Honor", "HRY-LX1", "", dt.date(2020, 1, 15)])
    sheet.append([1004, "phone-02", "Honor", "HRY-LX1", None, dt.date(2021, 1, 15), "stray"])
    notes = book.create_sheet("Notes")
    notes.append(["not read"])
    book.save(path)


def make_parquet(path: Path) -> None:
    frame = pl.DataFrame(
        {
            "id": [1, 2, 3],
            "manufacturer": ["Lorex", "Lorex", None],
            "model": ["N861", "N861", "DS-7608NI-K2"],
            "macs": [["00:1F:54:00:00:01"], ["00:1F:54:00:00:02", "02:00:00:00:00:01"], []],
            "purchase_date": [dt.date(2021, 5, 1), dt.date(2023, 5, 1), None],
            "ports": [8, 8, 8],
        },
        schema_overrides={"ports": pl.Int16},
    )
    frame.write_parquet(path)


if __name__ == "__main__":
    make_xlsx(HERE / "inventory.xlsx")
    make_parquet(HERE / "inventory.parquet")
