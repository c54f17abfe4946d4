"""Parsers of the publishers' registry formats, on small real excerpts (see samples/README.md)."""

from __future__ import annotations

import pytest

from netvet.inventory.errors import DataError
from netvet.inventory.registry import formats
from tests.inventory.conftest import SAMPLES


def _text(name: str) -> str:
    return (SAMPLES / name).read_bytes().decode("utf-8")


def test_ieee_ma_l_csv() -> None:
    rows = formats.ieee_csv(_text("ieee_oui.csv"), "src")
    by_prefix = {a.prefix: a for a in rows}
    assert len(rows) == 5 and {a.bits for a in rows} == {24}
    assert by_prefix["001882"].organization == "HUAWEI TECHNOLOGIES CO.,LTD"  # quoted, comma
    assert by_prefix["00E04C"].organization == "REALTEK SEMICONDUCTOR CORP."
    # IEEE's CSV holds some HTML entities; the stored name has them undone.
    assert by_prefix["0026BD"].organization == "JTEC Card & Communication Co., Ltd"
    assert all(a.registry == "MA-L" and a.source == "src" for a in rows)


def test_ieee_ma_m_ma_s_and_iab_csv() -> None:
    mam = formats.ieee_csv(_text("ieee_mam.csv"), "s")
    oui36 = formats.ieee_csv(_text("ieee_oui36.csv"), "s")
    iab = formats.ieee_csv(_text("ieee_iab.csv"), "s")
    assert [(a.prefix, a.bits, a.registry) for a in mam] == [
        ("208593B", 28, "MA-M"),
        ("741AE09", 28, "MA-M"),
    ]
    assert mam[1].organization == "Private"
    assert [(a.prefix, a.bits) for a in oui36] == [("70B3D5F2F", 36), ("70B3D50AE", 36)]
    assert [(a.prefix, a.registry, a.organization) for a in iab] == [
        ("0050C27D5", "IAB", "DEUTA-WERKE GmbH")
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html>Service unavailable</html>\n", "not an IEEE registry CSV"),
        ("Registry,Assignment,Organization Name,Organization Address\nMA-L,00188,X,Y\n", "bad"),
        ("Registry,Assignment,Organization Name,Organization Address\nMA-X,001882,X,Y\n", "unexp"),
        ("Registry,Assignment,Organization Name,Organization Address\nMA-L,00188Z,X,Y\n", "bad"),
        ("Registry,Assignment,Organization Name,Organization Address\nMA-L,001882,,Y\n", "bad"),
    ],
)
def test_ieee_csv_rejects_what_is_not_ieee(text: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        formats.ieee_csv(text, "s")


def test_iana_enterprise_numbers() -> None:
    date, entries = formats.iana_pen(_text("iana_enterprise_numbers.txt"))
    assert date == "2025-08-22"
    names = {e.number: e.organization for e in entries}
    assert names[0] == "Reserved"
    assert names[2] == "IBM (https://w3.ibm.com/standards )"
    assert names[9] == "ciscoSystems"
    assert names[78] == "LogMatrix Inc (formerly 'OpenService Inc.')"
    assert names[96] == "CERN"  # contact lines ("Frédéric Hemmer") are not organizations
    assert names[64096] == "Bitronic"
    assert len(entries) == 8


def test_iana_truncated_download_is_refused() -> None:
    text = _text("iana_enterprise_numbers.txt").replace("End of Document", "")
    with pytest.raises(DataError, match="truncated"):
        formats.iana_pen(text)


def test_iana_error_page_is_refused() -> None:
    with pytest.raises(DataError, match="last updated"):
        formats.iana_pen("<html>Not Found</html>")


def test_wireshark_enterprises_restores_formerly() -> None:
    date, entries = formats.enterprises_tsv(_text("wireshark_enterprises.tsv"))
    names = {e.number: e.organization for e in entries}
    assert date == "2024-08-23"
    assert names[637] == "Nokia (formerly 'Alcatel-Lucent')"
    assert names[7483] == "Nokia (Formerly 'Alcatel-Lucent')"  # IANA's own capital F, untouched
    assert names[6486] == "Alcatel-Lucent Enterprise (previous was 'Alcatel')"
    assert names[8072] == "net-snmp"


def test_wireshark_manuf_keeps_universal_blocks_only() -> None:
    rows = {a.prefix: a for a in formats.wireshark_manuf(_text("wireshark_manuf"), "w")}
    assert "020701" not in rows  # locally administered bit: not a maker's OUI
    assert "7AFD44" not in rows  # an IEEE CID, also in the local space
    assert (rows["208593B"].bits, rows["208593B"].registry) == (28, "MA-M")
    assert rows["0050C27D5"].registry == "IAB"
    assert rows["70B3D5F2F"].registry == "MA-S"
    assert rows["E00630"].organization == "Huawei Technologies Co.,Ltd"  # Wireshark's spelling
    assert rows["EC5BCDE"].organization == "Autel Robotics USA LLC"


def test_respell_maps_wireshark_names_back_to_ieee_spelling() -> None:
    ieee = ["HUAWEI TECHNOLOGIES CO.,LTD"] * 3 + ["Huawei Technologies Co.,Ltd", "TELEPLATFORMS"]
    wireshark = ["Huawei Technologies Co.,Ltd", "Teleplatforms", "Brand New Maker Ltd"]
    spelling = formats.respell(wireshark, ieee)
    assert spelling["Huawei Technologies Co.,Ltd"] == "HUAWEI TECHNOLOGIES CO.,LTD"  # most used
    assert spelling["Teleplatforms"] == "TELEPLATFORMS"
    assert "Brand New Maker Ltd" not in spelling


def test_wireshark_key_folds_blanks_and_case() -> None:
    assert formats.wireshark_key("Jiangsu Datang  Electronic Products Co., Ltd") == (
        formats.wireshark_key("JIANGSU DATANG ELECTRONIC PRODUCTS CO., LTD")
    )
    assert formats.wireshark_key("A\u00a0B .Ltd") == "a b.ltd"
