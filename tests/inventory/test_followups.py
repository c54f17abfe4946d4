"""Follow-ups to the user trial (issue #3): registry placeholders are no maker, a transposed
pair of letters is one edit, blank-separated MACs are read in any column (vectorised keys and
the Python path for cells polars leaves raw), `-Of` sysObjectIDs from any source, and
`header_row` through `identify_file`."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from netvet.inventory.families import Families
from netvet.inventory.identify import Identifier, identify_file, identify_frame
from netvet.inventory.importers import UnreadableInventory
from netvet.inventory.matchers import PLACEHOLDERS, NameMatcher, TokenIndex
from netvet.inventory.names import name_key
from netvet.inventory.registry import OuiRegistry, PenRegistry
from netvet.inventory.registry.pen import enterprise_number, parse_oid
from netvet.inventory.signals import RAW, Periods, mac_digits, mac_key

TODAY = dt.date(2025, 6, 1)
HUAWEI_OUI = "oui=00:E0:FC→huawei"


@pytest.fixture(scope="module")
def ident(oui: OuiRegistry, pen: PenRegistry, families: Families) -> Identifier:
    return Identifier(oui, pen, families)


def one(ident: Identifier, **columns: str) -> dict[str, Any]:
    frame = pl.DataFrame({k: [v] for k, v in columns.items()})
    out, _ = identify_frame(frame, TODAY, identifier=ident)
    return out.row(0, named=True)


# ----------------------------------------------------------------- manufacturer strings


@pytest.mark.parametrize("text", ["PRIVATE", " private ", "IEEE REGISTRATION AUTHORITY"])
def test_registry_placeholders_in_any_case(ident: Identifier, text: str) -> None:
    row = one(ident, manufacturer=text)
    assert (row["vendor"], row["vendor_entity"]) == ("", "")
    assert row["vendor_evidence"].endswith("→-(placeholder)")


def test_placeholders_are_not_vendor_words(families: Families) -> None:
    assert {"private", "ieee registration authority"} <= PLACEHOLDERS
    assert TokenIndex(families).find("Private network, IEEE Registration Authority") is None


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Huwaei", "huawei"),
        ("Hauwei", "huawei"),
        ("Fortniet", "fortinet"),
        ("Hikivsion", "hikvision"),
    ],
)
def test_a_transposition_is_one_edit(ident: Identifier, text: str, slug: str) -> None:
    row = one(ident, manufacturer=text)
    assert (row["vendor"], row["vendor_confidence"]) == (slug, 0.6)
    assert "fuzzy" in row["vendor_evidence"]


def test_short_names_are_never_fuzzy(ident: Identifier, families: Families) -> None:
    """Transposing two letters of a name under five letters ("TZE", "HC3") matches nothing:
    the fuzzy step skips short strings, whatever the distance."""
    matcher = NameMatcher(families, TokenIndex(families), lambda _key: None)
    short = {
        name_key(t)
        for f in families
        for m in f.members
        for t in (m.name, *m.aliases)
        if 3 <= len(name_key(t)) <= 4 and name_key(t).isalnum()
    }
    assert short  # the test means something
    for key in sorted(short):
        swapped = key[1] + key[0] + key[2:]
        if swapped == key or families.by_name(swapped) or matcher.tokens.find(swapped):
            continue
        clues = matcher.match(swapped)
        assert all("fuzzy" not in c.how for c in clues), (key, swapped, clues)


# ----------------------------------------------------------------- blank-separated MACs


def test_mac_key_reads_blank_separated_octets(ident: Identifier) -> None:
    texts = ["00 E0 FC 12 34 56", " 00 e0 fc 12 34 56 ", "00 E0 FC 12 34", "00  E0 FC 12 34 56"]
    text = pl.col("m").str.strip_chars()
    key = mac_key(text, mac_digits(text), ident.source.blocks)
    got = pl.Series(texts).to_frame("m").select(key).to_series()
    assert got.to_list() == ["00E0FC", "00E0FC", RAW + texts[2], RAW + texts[3]]


@pytest.mark.parametrize("mac", ["00 E0 FC 12 34 56", "00 e0 fc 12 34 56", "  00 E0 FC 12 34 56"])
def test_blank_separated_mac_is_read(ident: Identifier, mac: str) -> None:
    row = one(ident, name="r1", mac=mac)
    assert row["vendor"] == "huawei" and HUAWEI_OUI in row["vendor_evidence"]


@pytest.mark.parametrize(
    "cell",
    [
        "00 E0 FC 12 34 56, 00 E0 FC 12 34 57",
        "00 E0 FC 12 34 56 00 E0 FC 12 34 57",
        "00 E0 FC 12 34 56; 00:E0:FC:12:34:58",
    ],
)
def test_lists_of_blank_separated_macs(ident: Identifier, cell: str) -> None:
    frame = pl.DataFrame({"name": ["r1"], "mac": [cell]})
    out, report = identify_frame(frame, TODAY, identifier=ident)
    row = out.row(0, named=True)
    assert row["vendor"] == "huawei" and HUAWEI_OUI in row["vendor_evidence"]
    assert "malformed" not in "\n".join(report.lines())


@pytest.mark.parametrize("cell", ["00 E0 FC 12 34", "000 E0 FC 12 34 56", "00 E0 FC 12 34 5"])
def test_near_misses_stay_malformed(ident: Identifier, cell: str) -> None:
    frame = pl.DataFrame({"name": ["r1"], "mac": [cell]})
    out, report = identify_frame(frame, TODAY, identifier=ident)
    row = out.row(0, named=True)
    assert row["vendor"] == "" and HUAWEI_OUI not in row["vendor_evidence"]
    assert "malformed" in "\n".join(report.lines())


def test_a_seventh_pair_is_reported_not_swallowed(ident: Identifier) -> None:
    """Six pairs are read as the address; the pair left over is a malformed list item."""
    frame = pl.DataFrame({"name": ["r1"], "mac": ["00 E0 FC 12 34 56 78"]})
    out, report = identify_frame(frame, TODAY, identifier=ident)
    assert out.row(0, named=True)["vendor"] == "huawei"
    assert "'78'" in "\n".join(report.lines())


def test_blank_separated_mac_in_a_streamed_csv(ident: Identifier, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        "name,mac\nr1,00 E0 FC 12 34 56\nr2,00 E0 FC 12 34 56 00 E0 FC 00 00 01\nr3,zz\n"
    )
    out = tmp_path / "out.csv"
    identify_file(src, out, "csv", as_of=TODAY, identifier=ident)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["vendor"] for r in rows] == ["huawei", "huawei", ""]


# ----------------------------------------------------------------- sysObjectID


@pytest.mark.parametrize(
    "text",
    [
        ".iso.org.dod.internet.private.enterprises.3902.1.1",
        "iso.org.dod.internet.private.enterprises.3902.1.1",
        ".1.3.6.1.4.1.3902.1.1",
        "OID: .iso.org.dod.internet.private.enterprises.3902.1.1",
    ],
)
def test_long_symbolic_oid_with_leading_dot(text: str) -> None:
    assert parse_oid(text) == (1, 3, 6, 1, 4, 1, 3902, 1, 1)
    assert enterprise_number(text) == 3902


@pytest.mark.parametrize("text", ["..1.3.6.1", "..iso.org.dod.internet.private.enterprises.9", "."])
def test_only_one_leading_dot(text: str) -> None:
    with pytest.raises(ValueError, match="not an OID"):
        parse_oid(text)


def test_of_oid_from_a_csv_column(ident: Identifier) -> None:
    row = one(ident, name="r1", sys_object_id=".iso.org.dod.internet.private.enterprises.3902.1")
    assert row["vendor"] == "zte" and "pen=3902" in row["vendor_evidence"]


# ----------------------------------------------------------------- header row


def test_identify_file_header_row(ident: Identifier, tmp_path: Path) -> None:
    src = tmp_path / "title.csv"
    src.write_text("Inventory Berlin\nname,manufacturer\nr1,ZTE\n")
    out = tmp_path / "out.csv"
    report = identify_file(src, out, "csv", as_of=TODAY, identifier=ident, header_row=2)
    with out.open(newline="", encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    assert (row["name"], row["vendor"]) == ("r1", "zte")
    assert report.lines()
    with pytest.raises(UnreadableInventory):
        identify_file(
            tmp_path / "x.json", out, "csv", identifier=ident, header_row=2, input_format="json"
        )


def test_period_of_each_day_vectorised_as_in_python(families: Families) -> None:
    periods = Periods(families)
    days = pl.date_range(dt.date(2000, 1, 1), dt.date(2030, 12, 31), eager=True)
    days = days.append(pl.Series([None], dtype=pl.Date))
    got = pl.LazyFrame({"d": days}).select(periods.expr(pl.col("d")))
    expected = [None if d is None else periods.index(d) for d in days.to_list()]
    assert got.collect(engine="streaming").to_series().to_list() == expected
    assert len(set(expected)) == len(periods.breaks) + 2  # every period, and null
