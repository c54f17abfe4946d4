"""Vendor-family gaps a user trial found (issue #3): Annke and LTS white labels, and the
FiberHome, Datang Telecom, Uniview, Ruijie (Reyee) and Inspur families, each recognised from a
manufacturer string, a registry MAC block and an enterprise number where the registries hold
one; registry placeholders and transposition typos."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from netvet.inventory.families import Families, Kind
from netvet.inventory.identify import Identifier, identify_frame
from netvet.inventory.registry import OuiRegistry, PenRegistry

TODAY = dt.date(2025, 6, 1)
NEW_FAMILIES = ("fiberhome", "datang-telecom", "uniview", "ruijie", "inspur")


@pytest.fixture(scope="module")
def ident(oui: OuiRegistry, pen: PenRegistry, families: Families) -> Identifier:
    return Identifier(oui, pen, families)


def one(ident: Identifier, **columns: str) -> dict[str, Any]:
    """Identify a single row given as column=value."""
    frame = pl.DataFrame({k: [v] for k, v in columns.items()})
    out, _ = identify_frame(frame, TODAY, identifier=ident)
    return out.row(0, named=True)


@pytest.mark.parametrize(
    ("manufacturer", "slug", "entity", "kind"),
    [
        ("FiberHome", "fiberhome", "Fiberhome Telecommunication Technologies Co., Ltd.", "entity"),
        ("FIBERHOME TELECOMMUNICATION TECHNOLOGIES CO.,LTD", "fiberhome",
         "Fiberhome Telecommunication Technologies Co., Ltd.", "entity"),
        ("FiberHome Technologies Group", "fiberhome",
         "Wuhan Research Institute of Posts and Telecommunications", "entity"),
        ("Datang Telecom Technology Co., Ltd.", "datang-telecom",
         "Datang Telecom Technology Co., Ltd.", "subsidiary"),
        ("DT Mobile", "datang-telecom", "Datang Mobile Communications Equipment Co., Ltd.",
         "subsidiary"),
        ("Uniview", "uniview", "Zhejiang Uniview Technologies Co., Ltd.", "entity"),
        ("UNV", "uniview", "Zhejiang Uniview Technologies Co., Ltd.", "entity"),
        ("Ruijie Networks", "ruijie", "Ruijie Networks Co., Ltd.", "entity"),
        ("Reyee", "ruijie", "Reyee", "brand"),
        ("Inspur", "inspur", "Inspur Group Co., Ltd.", "entity"),
        ("Inspur Electronic Information Industry Co., Ltd.", "inspur",
         "Inspur Electronic Information Industry Co., Ltd.", "subsidiary"),
        ("Annke", "hikvision", "Annke", "white-label"),
    ],
)  # fmt: skip
def test_manufacturer_strings(
    ident: Identifier, manufacturer: str, slug: str, entity: str, kind: str
) -> None:
    row = one(ident, manufacturer=manufacturer)
    assert (row["vendor"], row["vendor_entity"]) == (slug, entity)
    assert row["vendor_confidence"] == 0.9 and row["vendor_conflict"] == ""
    suffix = f"({kind})" if kind in ("brand", "white-label") else ""
    assert row["vendor_evidence"] == f"manufacturer='{manufacturer}'→{slug}{suffix}"


@pytest.mark.parametrize(
    ("mac", "slug", "entity"),
    [
        ("00:2F:D9:00:00:01", "fiberhome", "Fiberhome Telecommunication Technologies Co., Ltd."),
        ("08:74:58:00:00:01", "fiberhome", "Fiberhome Telecommunication Technologies Co., Ltd."),
        ("00:0A:C2:00:00:01", "fiberhome", "Wuhan FiberHome Digital Technology Co., Ltd."),
        ("00:14:D5:00:00:01", "datang-telecom", "Datang Telecom Technology Co., Ltd."),
        ("00:1E:A8:00:00:01", "datang-telecom", "Datang Mobile Communications Equipment Co., Ltd."),
        ("48:EA:63:00:00:01", "uniview", "Zhejiang Uniview Technologies Co., Ltd."),
        ("6C:F1:7E:00:00:01", "uniview", "Zhejiang Uniview Technologies Co., Ltd."),
        ("00:74:9C:00:00:01", "ruijie", "Ruijie Networks Co., Ltd."),
        ("04:31:10:00:00:01", "inspur", "Inspur Group Co., Ltd."),
        ("D8:86:0B:00:00:01", "inspur", "Inspur Group Co., Ltd."),  # an MA-M block
        ("6C:92:BF:00:00:01", "inspur", "Inspur Electronic Information Industry Co., Ltd."),
        ("C8:B4:AB:00:00:01", "inspur", "Inspur Computer Technology Co., Ltd."),
        ("14:2F:FD:00:00:01", "hikvision", "LTS"),  # LT Security's own block: a white label
    ],
)  # fmt: skip
def test_registry_mac_blocks(ident: Identifier, mac: str, slug: str, entity: str) -> None:
    row = one(ident, mac=mac)
    assert (row["vendor"], row["vendor_entity"]) == (slug, entity)
    assert row["vendor_conflict"] == ""


@pytest.mark.parametrize(
    ("number", "slug", "entity"),
    [
        (11408, "fiberhome", "Fiberhome Telecommunication Technologies Co., Ltd."),
        (3807, "fiberhome", "Wuhan Research Institute of Posts and Telecommunications"),
        (48155, "fiberhome", "Wuhan FiberHome International Technologies Co., Ltd."),
        (5105, "datang-telecom", "Datang Telecom Technology Co., Ltd."),
        (5254, "datang-telecom", "Datang Telecom Technology Co., Ltd."),
        (39747, "uniview", "Zhejiang Uniview Technologies Co., Ltd."),
        (54999, "uniview", "Uniview Europe B.V."),
        (4881, "ruijie", "Ruijie Networks Co., Ltd."),
        (48512, "inspur", "Inspur Group Co., Ltd."),
        (37945, "inspur", "Inspur (Beijing) Electronic Information Industry Co., Ltd."),
        (48797, "inspur", "Inspur-Cisco Networking Technology Co., Ltd."),
    ],
)  # fmt: skip
def test_enterprise_numbers(ident: Identifier, number: int, slug: str, entity: str) -> None:
    row = one(ident, sysObjectID=f"1.3.6.1.4.1.{number}.1.2")
    assert (row["vendor"], row["vendor_entity"]) == (slug, entity)


def test_inspur_cisco_is_inspur_s_and_still_a_cisco_false_friend(families: Families) -> None:
    name = "Inspur-Cisco Networking Technology Co., Ltd."
    assert [f.family for f in families.false_friends(name)] == ["cisco"]
    hit = families.by_pen(48797)
    assert hit is not None and hit.slug == "inspur"


def test_annke_on_a_hikvision_mac_keeps_the_brand_without_conflict(ident: Identifier) -> None:
    row = one(ident, manufacturer="Annke", mac="C0:56:E3:11:22:33")
    assert row["vendor"] == "hikvision"
    assert row["vendor_entity"] == "Annke"
    assert row["vendor_conflict"] == ""
    assert "manufacturer='Annke'→hikvision(white-label)" in row["vendor_evidence"]
    assert "oui=C0:56:E3→hikvision" in row["vendor_evidence"]
    _, report = identify_frame(
        pl.DataFrame({"manufacturer": ["Annke", "ANNKE"], "mac": ["C0:56:E3:11:22:33", ""]}),
        TODAY,
        identifier=ident,
    )
    assert report.summary.white_labels == {("Annke", "hikvision"): 2}


def test_lts_on_its_own_oui_is_no_longer_a_conflict(ident: Identifier) -> None:
    row = one(ident, manufacturer="LT Security", mac="14:2F:FD:00:00:01")
    assert (row["vendor"], row["vendor_entity"], row["vendor_conflict"]) == ("hikvision", "LTS", "")


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("AN5516-06", "fiberhome"),
        ("HG6245D", "fiberhome"),
        ("IPC2122LR3-PF40-A", "uniview"),
        ("RG-S2910-24GT4XS-E", "ruijie"),
        ("RG-EG105G", "ruijie"),
        ("NF5280M6", "inspur"),
    ],
)
def test_model_patterns(families: Families, model: str, slug: str) -> None:
    assert [h.slug for h in families.by_model(model)] == [slug]


@pytest.mark.parametrize("model", ["IPC-B140H", "IPC-HDBW2431E", "HG8245H", "S5735-L24P4S-A1"])
def test_new_patterns_leave_older_ones_alone(families: Families, model: str) -> None:
    assert not {h.slug for h in families.by_model(model)} & set(NEW_FAMILIES)


def test_new_families_are_chinese_and_not_on_the_covered_list(families: Families) -> None:
    for slug in NEW_FAMILIES:
        family = families.family(slug)
        assert family.headquarters == "CN" and family.sources
        assert family.covered_list_name is None and family.policy_id is None
        assert not family.chip_vendor


def test_bare_datang_is_not_datang_telecom(families: Families) -> None:
    # China Datang Corporation is an unrelated power company.
    assert families.by_name("Datang") == ()
    assert [h.slug for h in families.by_name("Datang Telecom")] == ["datang-telecom"]


def test_white_labels_are_hikvision_s(families: Families) -> None:
    for brand in ("Annke", "LTS", "LT Security"):
        (hit,) = families.by_name(brand)
        assert (hit.slug, hit.kind) == ("hikvision", Kind.WHITE_LABEL)
    (lts,) = families.by_oui_org("LT SECURITY INC")
    assert (lts.slug, lts.entity) == ("hikvision", "LTS")


# ------------------------------------------- registry placeholders and transpositions


@pytest.mark.parametrize("text", ["Private", "IEEE Registration Authority"])
def test_registry_placeholders_are_no_maker(ident: Identifier, text: str) -> None:
    row = one(ident, manufacturer=text)
    assert row["vendor_entity"] == "" and row["vendor_evidence"].endswith("→-(placeholder)")


def test_transposed_letters_are_one_edit(ident: Identifier) -> None:
    row = one(ident, manufacturer="Huwaei")
    assert (row["vendor"], row["vendor_confidence"]) == ("huawei", 0.6)
