"""Vendor identification, per signal and per trap: white labels, chip-vendor MACs, net-snmp
agents, divested brands before and after the date, model-only rows, MAC spellings, MA-M/MA-S
blocks, false friends, conflicts and bad rows."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import polars as pl
import pytest

from netvet.inventory.families import Families
from netvet.inventory.identify import Identifier, identify_frame
from netvet.inventory.registry import OuiRegistry, PenRegistry

TODAY = dt.date(2025, 6, 1)


@pytest.fixture(scope="module")
def ident(oui: OuiRegistry, pen: PenRegistry, families: Families) -> Identifier:
    return Identifier(oui, pen, families)


def one(ident: Identifier, as_of: dt.date = TODAY, **columns: str) -> dict[str, Any]:
    """Identify a single row given as column=value."""
    out, _ = identify_frame(
        pl.DataFrame({k: [v] for k, v in columns.items()}), as_of, identifier=ident
    )
    return out.row(0, named=True)


def test_manufacturer_exact_alias_and_registry_spelling(ident: Identifier) -> None:
    for name in ("Huawei", "HUAWEI TECHNOLOGIES CO.,LTD", "huawei technologies co ltd"):
        row = one(ident, manufacturer=name)
        assert (row["vendor"], row["vendor_confidence"]) == ("huawei", 0.9)
    assert one(ident, Vendor="ZTE Corp.")["vendor"] == "zte"


def test_white_label_resolves_to_the_maker_and_keeps_the_brand(ident: Identifier) -> None:
    row = one(ident, manufacturer="LTS", mac="C0:56:E3:11:22:33")
    assert row["vendor"] == "hikvision"
    assert row["vendor_entity"] == "LTS"
    assert row["vendor_conflict"] == ""
    assert "manufacturer='LTS'→hikvision(white-label)" in row["vendor_evidence"]
    assert "oui=C0:56:E3→hikvision" in row["vendor_evidence"]
    _, report = identify_frame(
        pl.DataFrame({"manufacturer": ["LTS", "Amcrest"]}), TODAY, identifier=ident
    )
    assert report.summary.white_labels == {("LTS", "hikvision"): 1, ("Amcrest", "dahua"): 1}


def test_unknown_brand_on_a_makers_oui_is_reported_as_a_conflict(ident: Identifier) -> None:
    row = one(ident, manufacturer="Acme Security", mac="C0:56:E3:11:22:33")
    assert row["vendor"] == "hikvision"
    assert "'Acme Security' by manufacturer" in row["vendor_conflict"]
    assert row["vendor_confidence"] < 0.8


def test_chip_vendor_mac_never_outvotes_the_device(ident: Identifier) -> None:
    row = one(ident, manufacturer="Cisco", mac="00:E0:4C:01:02:03")  # Realtek NIC
    assert row["vendor"] == "cisco" and row["vendor_conflict"] == ""
    assert "realtek(chip)" in row["vendor_evidence"]
    alone = one(ident, mac="00:E0:4C:01:02:03")
    assert alone["vendor"] == "" and alone["vendor_confidence"] == 0.0
    _, report = identify_frame(pl.DataFrame({"mac": ["00:E0:4C:01:02:03"]}), identifier=ident)
    assert report.summary.chip_only == 1


def test_net_snmp_agent_is_not_vendor_evidence(ident: Identifier) -> None:
    for oid in (
        "1.3.6.1.4.1.8072.3.2.10",
        "NET-SNMP-MIB::netSnmpAgentOIDs.linux",
        "SNMPv2-SMI::enterprises.8072.3.2.10",
    ):
        row = one(ident, sysObjectID=oid)
        assert row["vendor"] == "" and row["vendor_entity"] == ""
        assert "→-(net-snmp agent)" in row["vendor_evidence"]
    row = one(ident, sysObjectID="1.3.6.1.4.1.8072.3.2.10", mac="C0:56:E3:11:22:33")
    assert row["vendor"] == "hikvision" and row["vendor_conflict"] == ""


def test_enterprise_numbers(ident: Identifier) -> None:
    assert one(ident, sysObjectID=".1.3.6.1.4.1.2011.2.23.96")["vendor"] == "huawei"
    assert one(ident, sysObjectID="iso.3.6.1.4.1.9.1.1208")["vendor"] == "cisco"
    assert one(ident, sysObjectID="SNMPv2-SMI::enterprises.3902.1015")["vendor"] == "zte"
    # IBM's 2 is not Huawei's 2011, however the text starts.
    row = one(ident, sysObjectID="1.3.6.1.4.1.2.3.4")
    assert row["vendor"] == "" and "IBM" in row["vendor_entity"]
    assert one(ident, sysObjectID="SNMPv2-SMI::zeroDotZero")["vendor_entity"] == ""


@pytest.mark.parametrize(
    ("day", "vendor"),
    [(dt.date(2020, 11, 16), "huawei"), (dt.date(2020, 11, 17), "honor"), (TODAY, "honor")],
)
def test_honor_belongs_to_huawei_until_the_sale(
    ident: Identifier, day: dt.date, vendor: str
) -> None:
    assert one(ident, day, manufacturer="Honor")["vendor"] == vendor


def test_lorex_belongs_to_dahua_only_between_purchase_and_sale(ident: Identifier) -> None:
    frame = pl.DataFrame(
        {
            "manufacturer": ["Lorex", "Lorex", "Lorex"],
            "mac": ["00:1F:54:00:00:01"] * 3,
            "install date": ["2021-05-01", "2022-11-24", ""],
        }
    )
    out, _ = identify_frame(frame, TODAY, identifier=ident)
    assert out.get_column("vendor").to_list() == ["dahua", "", ""]
    after = out.row(1, named=True)
    assert after["vendor_entity"] == "Lorex Technology Inc."
    assert "not dahua on" in after["vendor_evidence"]
    before, _ = identify_frame(frame.slice(2, 1), dt.date(2020, 1, 1), identifier=ident)
    assert before.get_column("vendor").to_list() == ["dahua"]  # no row date: as_of


def test_empty_manufacturer_with_only_a_model_number(ident: Identifier) -> None:
    row = one(ident, manufacturer="", model="DS-2CD2143G0-I")
    assert row["vendor"] == "hikvision" and row["vendor_confidence"] == 0.5
    assert "model pattern" in row["vendor_evidence"]
    assert one(ident, model="ZXA10 C320")["vendor"] == "zte"  # a vendor word in the model
    # H3C's S5130 is not a Huawei S-series number.
    assert one(ident, model="S5130-28S-EI")["vendor"] != "huawei"


@pytest.mark.parametrize(
    "mac",
    [
        "00:E0:FC:0A:0B:0C",
        "00-e0-fc-0a-0b-0c",
        "00e0.fc0a.0b0c",
        "00E0FC0A0B0C",
        "0:e0:fc:a:b:c",
        " 00:E0:FC:0A:0B:0C ",
    ],
)
def test_mac_spellings(ident: Identifier, mac: str) -> None:
    row = one(ident, mac=mac)
    assert row["vendor"] == "huawei"
    assert "oui=00:E0:FC→huawei" in row["vendor_evidence"]


def test_ma_m_and_ma_s_blocks_win_over_their_parent(ident: Identifier) -> None:
    ma_m = one(ident, mac="AC:64:DD:5F:00:01")  # MA-M AC64DD5: Shanghai ZTE
    assert ma_m["vendor"] == "zte" and "oui=AC:64:DD:5/28" in ma_m["vendor_evidence"]
    ma_s = one(ident, mac="70:B3:D5:0A:E1:23")  # MA-S 70B3D50AE: Norsat (Hytera since 2017)
    assert ma_s["vendor"] == "hytera" and "70:B3:D5:0A:E/36" in ma_s["vendor_evidence"]
    neighbour = one(ident, mac="70:B3:D5:0A:F1:23")  # the next MA-S block: someone else
    assert neighbour["vendor"] != "hytera"


def test_carved_prefixes_cover_every_ma_m_and_ma_s_block(
    ident: Identifier, oui: OuiRegistry
) -> None:
    # The lookup keys rely on this property of the data.
    blocks = [a for bits in (28, 36) for a in oui.blocks(bits)]
    prefixes = ident.source.blocks
    assert blocks and all(a.prefix[:6] in prefixes.carved for a in blocks)
    assert prefixes.carved == oui.carved_prefixes()
    assert {a.prefix for a in oui.blocks(28)} == prefixes.m28
    assert {a.prefix for a in oui.blocks(36)} == prefixes.s36


def test_macs_that_name_no_maker(ident: Identifier) -> None:
    local = one(ident, mac="02:42:AC:11:00:02")
    assert local["vendor"] == "" and "locally administered" in local["vendor_evidence"]
    assert "multicast" in one(ident, mac="01:00:5E:00:00:FB")["vendor_evidence"]
    assert "all-zero" in one(ident, mac="00:00:00:00:00:00")["vendor_evidence"]
    # Huawei's OUI with the U/L bit set is no Huawei device; a group bit overrides the U/L bit.
    assert one(ident, mac="02:E0:FC:12:34:56")["vendor"] == ""
    assert "multicast" in one(ident, mac="03:E0:FC:12:34:56")["vendor_evidence"]


def test_randomised_macs_share_one_key(ident: Identifier) -> None:
    """Random locally administered and multicast addresses are one key each, whatever their
    prefix, in polars and in Python (a cell of several MACs is read there): 10M phones with
    private addresses must not be 10M combinations to judge."""
    rng = random.Random(7)
    macs = [f"{rng.getrandbits(48) | 2 << 40:012X}" for _ in range(300)]
    macs += [f"{rng.getrandbits(48) | 1 << 40:012X}" for _ in range(300)]
    frame = pl.DataFrame({"name": [f"r{i}" for i in range(len(macs))], "mac": macs})
    rows, _ = identify_frame(frame, TODAY, identifier=ident)
    assert rows.get_column("vendor").to_list() == [""] * len(macs)
    evidence = rows.get_column("vendor_evidence")
    assert evidence.n_unique() == 2
    assert set(evidence) == {
        "oui=local→-(locally administered address (randomised or assigned by software))",
        "oui=group→-(multicast (group) address)",
    }
    both = one(ident, mac=f"{macs[0]} {macs[1]} {macs[-1]}")  # RAW: parsed by Python
    assert both["vendor_evidence"] == (
        "oui=local,group→-(locally administered address (randomised or assigned by software))"
        "|-(multicast (group) address)"
    )


def test_several_macs_in_a_cell_and_in_several_columns(ident: Identifier) -> None:
    row = one(ident, mac="00:E0:FC:00:00:01, 00:1B:21:00:00:01")
    assert row["vendor"] == "huawei" and "Intel" in row["vendor_conflict"]
    two = one(ident, **{"mac 1": "00:E0:FC:00:00:01", "wifi mac": "00:E0:FC:00:00:02"})
    assert two["vendor"] == "huawei" and two["vendor_conflict"] == ""


def test_false_friends_and_outside_makers(ident: Identifier) -> None:
    row = one(ident, manufacturer="Juniper Systems")
    assert row["vendor"] == "" and row["vendor_entity"] == "Juniper Systems"
    assert "not juniper" in row["vendor_evidence"]
    dell = one(ident, manufacturer="Dell Inc.", mac="00:14:22:00:00:01")
    assert dell["vendor"] == "" and dell["vendor_entity"] == "Dell Inc."
    assert dell["vendor_conflict"] == "" and dell["vendor_confidence"] > 0.9


def test_fuzzy_and_contained_names(ident: Identifier) -> None:
    fuzzy = one(ident, manufacturer="Hikvison")
    assert fuzzy["vendor"] == "hikvision" and fuzzy["vendor_confidence"] == 0.6
    assert one(ident, manufacturer="Huawai")["vendor"] == "huawei"
    contained = one(ident, manufacturer="Huawei Technologies Deutschland GmbH")
    assert contained["vendor"] == "huawei" and "contains" in contained["vendor_evidence"]
    for placeholder in ("Unknown", "N/A", "-", "generic"):
        row = one(ident, manufacturer=placeholder)
        assert row["vendor_evidence"].endswith("→-(placeholder)") and row["vendor"] == ""


def test_sysdescr_vendor_words(ident: Identifier) -> None:
    vrp = "Huawei Versatile Routing Platform Software VRP (R) software, Version 8.180"
    assert one(ident, sysDescr=vrp)["vendor"] == "huawei"
    assert one(ident, sysDescr="Juniper Networks, Inc. ex4300 JUNOS 18.4R2")["vendor"] == "juniper"
    # "LTS" is Hikvision's white label but also every Ubuntu long-term release.
    ubuntu = one(ident, sysDescr="Linux ubuntu 5.15.0 #1 SMP Ubuntu 22.04 LTS x86_64")
    assert ubuntu["vendor"] == "" and ubuntu["vendor_evidence"] == ""


def test_conflicting_device_evidence_is_reported(ident: Identifier) -> None:
    row = one(ident, manufacturer="Cisco", mac="00:E0:FC:00:00:01")
    assert row["vendor"] == "cisco"
    assert row["vendor_conflict"] == "cisco by manufacturer vs huawei by oui"
    assert row["vendor_confidence"] == round(0.9 * (1 - 0.8 / 2), 2)
    agree = one(
        ident, manufacturer="Cisco", mac="00:00:0C:00:00:01", sysObjectID="1.3.6.1.4.1.9.1.1"
    )
    assert agree["vendor_confidence"] == 1.0 and agree["vendor_conflict"] == ""


def test_bad_rows_are_counted_with_row_numbers_and_never_stop_the_run(ident: Identifier) -> None:
    frame = pl.DataFrame(
        {
            "id": ["a", "b", "c", "a", "e", "b"],
            "manufacturer": ["Huawei", "ZTE", "Cisco", "Nokia", "Huawei", "ZTE"],
            "mac": ["00:E0:FC:00:00:01", "zz", "", "", "00:E0:FC:00:00", "zz"],
            "sysObjectID": ["", "1.3.6.bogus", "", "1.3.6.1.4.1.94.1", "", ""],
            "purchase date": ["2021-01-01", "", "03/04/2021", "2021-02-30", " ", "  \t"],
        }
    )
    out, report = identify_frame(frame, TODAY, identifier=ident)
    assert out.height == 6 and out.get_column("id").to_list() == frame.get_column("id").to_list()
    assert out.get_column("vendor").to_list() == [
        "huawei",
        "zte",
        "cisco",
        "nokia",
        "huawei",
        "zte",
    ]
    problems = report.imported.problems
    assert problems["bad-mac"].rows == [2, 5, 6] and problems["bad-mac"].count == 3
    assert problems["bad-oid"].rows == [2]
    assert problems["bad-date"].rows == [3, 4]
    assert problems["duplicate-id"].rows == [4, 6]
    assert "row 4: id already used by row 1" in problems["duplicate-id"].examples
    assert any("'zz'" in e for e in problems["bad-mac"].examples)
    assert report.summary.rows == 6 and report.imported.rows == 6


def test_day_month_order_is_taken_from_the_column(ident: Identifier) -> None:
    frame = pl.DataFrame(
        {"manufacturer": ["Honor"] * 2, "install date": ["25/12/2019", "01/12/2020"]}
    )
    out, report = identify_frame(frame, TODAY, identifier=ident)
    assert out.get_column("vendor").to_list() == ["huawei", "honor"]  # 1 December read D/M
    assert "bad-date" not in report.imported.problems


def test_outputs_replace_an_earlier_identification(ident: Identifier) -> None:
    first, _ = identify_frame(pl.DataFrame({"manufacturer": ["ZTE"]}), TODAY, identifier=ident)
    again, report = identify_frame(first, TODAY, identifier=ident)
    assert again.columns == first.columns
    assert any("replaced" in note for note in report.imported.notes)
    mapped, report = identify_frame(pl.DataFrame({"vendor": ["ZTE"]}), TODAY, identifier=ident)
    assert mapped.get_column("vendor_input").to_list() == ["ZTE"]
    assert mapped.get_column("vendor").to_list() == ["zte"]


def test_summary_counts(ident: Identifier) -> None:
    frame = pl.DataFrame({"manufacturer": ["Huawei", "Huawei", "ZTE", "Dell Inc.", "", "Realtek"]})
    _, report = identify_frame(frame, TODAY, identifier=ident)
    s = report.summary
    assert (s.rows, s.identified, s.outside, s.unknown, s.chip_only) == (6, 3, 1, 2, 1)
    assert s.per_family == {"huawei": 2, "zte": 1}
    assert report.as_of == TODAY and set(report.registries) == {"IEEE OUI", "IANA PEN"}
    assert report.lines()[0].startswith("6 device(s): 3 identified")


def test_sysdescr_read_per_distinct_text_or_per_row_alike(ident: Identifier) -> None:
    texts = ["Huawei Versatile Routing Platform Software", "Linux cam 3.10 (Ubuntu 22.04 LTS)"]
    repeated = pl.DataFrame({"sysDescr": texts * 3})  # few distinct texts: hashed per row
    varied = pl.DataFrame({"sysDescr": [f"{t} host-{i}" for i, t in enumerate(texts * 3)]})
    for frame in (repeated, varied):
        out, _ = identify_frame(frame, TODAY, identifier=ident)
        assert out.get_column("vendor").to_list() == ["huawei", ""] * 3
        assert out.get_column("vendor_evidence").to_list()[0] == "sysdescr~'huawei'→huawei"


def test_blank_ids_are_not_duplicates(ident: Identifier) -> None:
    frame = pl.DataFrame({"id": ["", None, "x", " "], "manufacturer": ["ZTE"] * 4})
    _, report = identify_frame(frame, TODAY, identifier=ident)
    assert "duplicate-id" not in report.imported.problems


def test_evidence_quotes_values_in_single_quotes(ident: Identifier) -> None:
    # Double quotes would be doubled by every CSV writer (a third of the write's cost).
    row = one(ident, manufacturer='Acme\'s "Best"  Cams', mac="C0:56:E3:11:22:33")
    assert "manufacturer='Acme’s \"Best\" Cams'→'Acme’s \"Best\" Cams'" in row["vendor_evidence"]
    assert row["vendor_conflict"] == "hikvision by oui vs 'Acme’s \"Best\" Cams' by manufacturer"
    row = one(ident, manufacturer="Intel Corporate")
    assert row["vendor_evidence"].startswith("manufacturer='Intel Corporate'→'Intel Corporate'(")
    assert '"' not in row["vendor_evidence"]


def test_untrimmed_and_blank_values_read_as_trimmed(ident: Identifier) -> None:
    # Keys are the untrimmed text (trimming every row cost more): each spelling is judged
    # apart, and must read the same.
    frame = pl.DataFrame(
        {"manufacturer": ["Huawei", "  Huawei ", "   ", None], "model": [" ", "", None, "\t"]}
    )
    out, _ = identify_frame(frame, TODAY, identifier=ident)
    rows = out.select("vendor", "vendor_evidence").rows()
    assert rows[0] == rows[1] == ("huawei", "manufacturer='Huawei'→huawei")
    assert rows[2] == rows[3] == ("", "")


def test_summary_order_is_the_same_on_every_run(ident: Identifier) -> None:
    frame = pl.DataFrame({"manufacturer": ["ZTE", "Huawei", "Cisco", "Huawei", "Amcrest", "LTS"]})
    for _ in range(5):
        _, report = identify_frame(
            frame.sample(fraction=1.0, shuffle=True), TODAY, identifier=ident
        )
        assert report.lines()[1:6] == [
            "  huawei: 2",
            "  cisco: 1",
            "  dahua: 1",
            "  hikvision: 1",
            "  zte: 1",
        ]
        assert report.lines()[6:8] == [
            "  white label 'Amcrest' -> dahua: 1",
            "  white label 'LTS' -> hikvision: 1",
        ]
