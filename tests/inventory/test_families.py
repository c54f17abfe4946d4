"""The shipped vendor families: real against the registries, complete, and well indexed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from netvet.inventory.errors import DataError
from netvet.inventory.families import Families, Kind, _any_of, in_period, load_families
from netvet.inventory.names import name_key
from netvet.inventory.registry import OuiRegistry, PenRegistry

# Every FCC Covered List company of shared/reference/policy_facts.yaml (vendors: ids).
COVERED = {
    "huawei", "zte", "hikvision", "dahua", "hytera", "china_mobile", "china_telecom",
    "china_unicom", "pacnet_comnet", "kaspersky", "dji", "autel",
}  # fmt: skip
# The major non-restricted vendors the issue names, so their equipment is identified too.
UNRESTRICTED = {
    "cisco", "juniper", "nokia", "ericsson", "samsung", "arista", "ciena", "fortinet", "h3c",
    "honor", "axis", "motorola-solutions",
}  # fmt: skip
CHIP_MAKERS = {"realtek", "broadcom", "qualcomm", "mediatek", "espressif"}


def test_every_oui_name_exists_in_the_bundled_registry(
    families: Families, oui: OuiRegistry
) -> None:
    known = oui.organizations()
    listed = [(f.slug, n) for f in families for m in f.members for n in m.oui_names]
    assert len(listed) > 80
    assert [x for x in listed if x[1] not in known] == []


def test_every_pen_is_the_registry_s(families: Families, pen: PenRegistry) -> None:
    pens = [(f, m, p) for f in families for m in f.members for p in m.pens]
    assert len(pens) > 50
    for family, member, p in pens:
        entry = pen.lookup(p.number)
        assert entry is not None, (family.slug, p)
        assert entry.organization == p.name, (family.slug, p, entry)
        # The registry name must also look like the member: guards against a typo'd number
        # whose organization happens to be copied along.
        words = {
            w for n in (member.name, *member.aliases, family.name) for w in name_key(n).split()
        }
        assert words & set(name_key(p.name).split()), (family.slug, p)


def test_famous_numbers(families: Families) -> None:
    expected = {2011: "huawei", 3902: "zte", 9: "cisco", 2636: "juniper", 39165: "hikvision"}
    for number, slug in expected.items():
        hit = families.by_pen(number)
        assert hit is not None and hit.slug == slug
    assert families.by_pen(8072) is None  # net-snmp belongs to no vendor family


def test_false_friends_are_real_registry_names(
    families: Families, oui: OuiRegistry, pen: PenRegistry
) -> None:
    orgs = oui.organizations()
    pen_names = {entry.organization for entry in pen.entries()}
    for family in families:
        for friend in family.false_friends:
            assert friend.name in (orgs if friend.registry == "oui" else pen_names), friend


def test_coverage(families: Families) -> None:
    assert {f.policy_id for f in families if f.covered_list_name} == COVERED
    slugs = {f.slug for f in families}
    assert slugs >= UNRESTRICTED and slugs >= CHIP_MAKERS
    for family in families:
        if family.covered_list_name:
            assert family.sources and family.covered_since
        assert family.chip_vendor == (family.slug in CHIP_MAKERS)


def test_every_member_is_sourced_or_in_a_registry(families: Families) -> None:
    for family in families:
        for m in family.members:
            has_registry = bool(m.oui_names or m.pens)
            assert has_registry or m.source or family.sources or m.status == "reported", m.name
            if m.status == "reported":
                assert m.note, f"{m.name}: say what the report is"


def test_names_aliases_and_brands(families: Families) -> None:
    def first(text: str) -> tuple[str, str, Kind]:
        hits = families.by_name(text)
        assert len(hits) == 1, (text, hits)
        return hits[0].slug, hits[0].entity, hits[0].kind

    assert first("HUAWEI TECHNOLOGIES CO., LTD.") == (
        "huawei", "Huawei Technologies Co., Ltd.", Kind.ENTITY
    )  # fmt: skip
    assert first("huawei")[0] == "huawei"
    assert first("ZTE Corp.")[0] == "zte"
    assert first("Hikvision")[0] == "hikvision"
    assert first("EZVIZ") == ("hikvision", "Hangzhou Ezviz Software Co., Ltd.", Kind.SUBSIDIARY)
    assert first("HiLook") == ("hikvision", "HiLook", Kind.BRAND)
    assert first("LTS") == ("hikvision", "LTS", Kind.WHITE_LABEL)
    assert first("Amcrest") == ("dahua", "Amcrest", Kind.WHITE_LABEL)
    assert first("HiSilicon")[2] is Kind.CHIP
    assert first("Motorola Solutions")[0] == "motorola-solutions"
    assert families.by_name("Juniper Systems") == ()  # a different company
    assert families.by_name("Acme Widgets") == ()


def test_oui_organizations_resolve_to_families(families: Families, oui: OuiRegistry) -> None:
    def family_of(mac: str) -> str:
        match = oui.lookup(mac)
        assert match is not None and match.organization is not None
        hits = families.by_oui_org(match.organization)
        assert len(hits) == 1, hits
        return hits[0].slug

    assert family_of("E0:06:30:00:00:01") == "huawei"  # MA-L, supplement row
    assert family_of("00:D0:D0:00:00:01") == "zte"  # ZHONGXING TELECOM LTD.
    assert family_of("9C:8E:CD:00:00:01") == "dahua"  # Amcrest, a white label
    assert family_of("70:B3:D5:0A:E0:01") == "hytera"  # Norsat, an MA-S block
    assert family_of("EC:5B:CD:E0:00:01") == "autel"  # Autel Robotics USA, an MA-M block


def test_registry_spelling_variants_and_false_friends(families: Families) -> None:
    # A refreshed IEEE registry spells this Dahua name in capitals.
    hits = families.by_oui_org("ZHEJIANG DAHUA TECHNOLOGYCO.,LTD")
    assert [h.slug for h in hits] == ["dahua"]
    # Alcatel-Lucent Enterprise left the Alcatel-Lucent group before Nokia bought it.
    assert families.by_oui_org("Alcatel-Lucent Enterprise") == ()
    assert [f.family for f in families.false_friends("Alcatel-Lucent Enterprise")] == ["nokia"]
    # H3C is Huawei's false friend but a family of its own.
    assert [h.slug for h in families.by_oui_org("New H3C Technologies Co., Ltd")] == ["h3c"]
    assert [f.family for f in families.false_friends("New H3C Technologies Co., Ltd")] == ["huawei"]


def test_chip_makers_never_pose_as_device_makers(families: Families) -> None:
    for org in ("Hisilicon Technologies Co., Ltd", "Espressif Inc.", "REALTEK SEMICONDUCTOR CORP."):
        (hit,) = families.by_oui_org(org)
        assert hit.is_chip, org
    (huawei,) = families.by_oui_org("HUAWEI TECHNOLOGIES CO.,LTD")
    assert not huawei.is_chip
    broadcom = families.by_pen(4413)
    assert broadcom is not None and broadcom.is_chip


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        ("S5735-L24P4S-A1", ("huawei", "Huawei Technologies Co., Ltd.")),
        ("CE6881-48S6CQ", ("huawei", "Huawei Technologies Co., Ltd.")),
        ("S5130S-28S-EI", ("h3c", "New H3C Technologies Co., Ltd.")),  # not Huawei's S-series
        ("DS-2CD2143G0-I", ("hikvision", "Hangzhou Hikvision Digital Technology Co., Ltd.")),
        ("IPC-B140H", ("hikvision", "HiLook")),
        ("DH-IPC-HFW2431S-S-S2", ("dahua", "Zhejiang Dahua Technology Co., Ltd.")),
        ("IPC-HDBW2431E", ("dahua", "Zhejiang Dahua Technology Co., Ltd.")),
        ("ZXR10 5960", ("zte", "ZTE Corporation")),
        ("zxhn f660", ("zte", "ZTE Corporation")),
        ("DCS-7050SX3-48YC8", ("arista", "Arista Networks, Inc.")),
    ],
)
def test_model_patterns(families: Families, model: str, expected: tuple[str, str]) -> None:
    assert [(h.slug, h.entity) for h in families.by_model(model)] == [expected]


def test_model_without_pattern(families: Families) -> None:
    assert families.by_model("ProLiant DL380 Gen10") == ()


def test_model_prefilter_finds_what_each_pattern_finds(families: Families) -> None:
    """`by_model` skips the per-pattern loop when one joined pattern finds nothing: it must
    answer as the loop does, for models that match and for ones that do not."""
    models = [
        *[
            "S5720-28X",
            "CE6850",
            "NE40E",
            "HG8245H",
            "ZXA10",
            "ds-2cd2143g0-i",
            "IPC-HFW2431S",
            "WS-C2960X",
            "EX4300",
            "DCS-7050SX",
            "FG-100F",
            "RG-S5750",
            "NF5280M6",
            "MSR3600",
        ],
        "  AXIS P1375 ",
        "ProLiant DL380 Gen10",
        "PowerEdge R740",
        "MX480",
        "",
    ]
    hits = 0
    for model in models:
        loop = tuple(h for p, h in families._models if p.search(model.strip()))
        assert families.by_model(model) == loop, model
        hits += bool(loop)
    assert 10 <= hits < len(models)  # the check saw both answers


def test_model_prefilter_is_not_built_where_joining_changes_meaning() -> None:
    assert _any_of([re.compile(r"(a)\1"), re.compile("b")]) is None
    assert _any_of([re.compile("(?P<x>a)"), re.compile("(?P<x>b)")]) is None
    joined = _any_of([re.compile("^ab"), re.compile("cd$")])
    assert joined is not None and joined.search("xCD") and not joined.search("xab")


def test_honor_divestiture(families: Families) -> None:
    hits = {h.slug: h for h in families.by_name("Honor")}
    assert set(hits) == {"huawei", "honor"}
    assert hits["huawei"].kind is Kind.BRAND and hits["huawei"].valid_to == "2020-11-17"
    assert hits["huawei"].active_on(dt.date(2020, 11, 16)) is True
    assert hits["huawei"].active_on(dt.date(2020, 11, 17)) is False
    assert hits["honor"].active_on(dt.date(2020, 11, 16)) is False
    assert hits["honor"].active_on(dt.date(2020, 11, 17)) is True


def test_lorex_divestiture_and_partial_acquisition_date(families: Families) -> None:
    (lorex,) = families.by_oui_org("Lorex Technology Inc.")
    assert (lorex.slug, lorex.valid_from, lorex.valid_to) == ("dahua", "2018", "2022-11-24")
    assert lorex.active_on(dt.date(2017, 12, 31)) is False
    assert lorex.active_on(dt.date(2018, 6, 1)) is None  # acquired some time in 2018
    assert lorex.active_on(dt.date(2020, 1, 1)) is True
    assert lorex.active_on(dt.date(2022, 11, 23)) is True
    assert lorex.active_on(dt.date(2022, 11, 24)) is False


def test_xfusion_and_sepura(families: Families) -> None:
    (xfusion,) = families.by_oui_org("xFusion Digital Technologies Co.,Ltd.")
    assert (xfusion.slug, xfusion.valid_from) == ("xfusion", "2021-11-05")
    by_huawei = [h for h in families.by_name("xFusion") if h.slug == "huawei"]
    assert by_huawei and by_huawei[0].valid_to == "2021-11-05"
    (sepura,) = families.by_oui_org("Sepura Plc")
    assert sepura.slug == "hytera"
    assert sepura.active_on(dt.date(2017, 5, 23)) is False
    assert sepura.active_on(dt.date(2019, 1, 1)) is True
    assert sepura.active_on(dt.date(2023, 1, 1)) is False


@pytest.mark.parametrize(
    ("start", "end", "day", "expected"),
    [
        (None, None, dt.date(1990, 1, 1), True),
        ("2024-01", None, dt.date(2023, 12, 31), False),
        ("2024-01", None, dt.date(2024, 1, 15), None),
        ("2024-01", None, dt.date(2024, 2, 1), True),
        (None, "2024-01", dt.date(2023, 12, 31), True),
        (None, "2024-01", dt.date(2024, 1, 31), None),
        (None, "2024-01", dt.date(2024, 2, 1), False),
        (None, "2024-12", dt.date(2024, 12, 31), None),
        (None, "2024-12", dt.date(2025, 1, 1), False),
    ],
)
def test_in_period(start: str | None, end: str | None, day: dt.date, expected: bool | None) -> None:
    assert in_period(start, end, day) is expected


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("HUAWEI TECHNOLOGIES CO.,LTD", "huawei technologies"),
        ("Huawei Technologies Co., Ltd.", "huawei technologies"),
        ("AO Kaspersky Lab", "kaspersky lab"),
        ("Nokia Bell N.V.", "nokia bell"),
        ("Teltronic S.A.U.", "teltronic"),
        ("Prama Hikvision India Private Limited", "prama hikvision india"),
        ("Sichuan\u00a0AI-Link\u00a0Technology\u00a0Co.,\u00a0Ltd.", "sichuan ai link technology"),
        ("AT&T", "at and t"),  # a final single letter is part of the name
        ("Juniper Networks", "juniper networks"),  # descriptive words stay...
        ("Juniper Systems", "juniper systems"),  # ...so these two stay apart
        ("AB", "ab"),  # nothing but a legal form: kept
    ],
)
def test_name_key(name: str, key: str) -> None:
    assert name_key(name) == key


# ------------------------------------------------------------ schema errors point at the field

GOOD_MEMBER = "    - {name: Acme Ltd, kind: entity, status: confirmed}\n"


def _load(tmp_path: Path, text: str) -> Families:
    path = tmp_path / "families.yaml"
    path.write_text(text)
    return load_families(path)


def _doc(member: str = GOOD_MEMBER, family_extra: str = "", second: str = "") -> str:
    return (
        "schema_version: 1\nfamilies:\n"
        "- slug: acme\n  name: Acme\n  headquarters: US\n"
        f"{family_extra}  members:\n{member}{second}"
    )


def test_minimal_file_loads(tmp_path: Path) -> None:
    families = _load(tmp_path, _doc())
    assert [f.slug for f in families] == ["acme"]
    assert families.by_name("ACME LTD.")[0].entity == "Acme Ltd"
    assert families.by_name("acme")[0].entity == "Acme Ltd"  # family name and slug lead there too


@pytest.mark.parametrize(
    ("member", "where", "what"),
    [
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed, valid_too: '2020'}\n",
            "families[0] (acme).members[0] (Acme Ltd).valid_too",
            "Extra inputs",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed, valid_to: '2020-13-01'}\n",
            "families[0] (acme).members[0] (Acme Ltd).valid_to",
            "month must be in 1..12",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed, valid_to: 20-1-1}\n",
            "families[0] (acme).members[0] (Acme Ltd).valid_to",
            "YYYY",
        ),
        (
            "    - {name: Acme Ltd, kind: reseller, status: confirmed}\n",
            "families[0] (acme).members[0] (Acme Ltd).kind",
            "'white-label'",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed, model_patterns: ['^(AB']}\n",
            "families[0] (acme).members[0] (Acme Ltd).model_patterns",
            "bad regular expression",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: maybe}\n",
            "families[0] (acme).members[0] (Acme Ltd).status",
            "pattern",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed,"
            " valid_from: '2021', valid_to: '2020'}\n",
            "families[0] (acme).members[0] (Acme Ltd)",
            "after valid_to",
        ),
        (
            "    - {name: Acme Ltd, kind: entity, status: confirmed,"
            " pens: [{number: -1, name: x}]}\n",
            "families[0] (acme).members[0] (Acme Ltd).pens[0] (x).number",
            "greater than or equal",
        ),
    ],
)
def test_schema_errors_name_the_field(tmp_path: Path, member: str, where: str, what: str) -> None:
    with pytest.raises(DataError) as info:
        _load(tmp_path, _doc(member))
    message = str(info.value)
    assert str(tmp_path / "families.yaml") in message
    assert f"{where}:" in message and what in message


def test_unquoted_yaml_dates_are_accepted(tmp_path: Path) -> None:
    member = "    - {name: Acme Ltd, kind: entity, status: confirmed, valid_to: 2020-11-17}\n"
    (hit,) = _load(tmp_path, _doc(member)).by_name("Acme")
    assert hit.valid_to == "2020-11-17"


def test_a_registry_name_belongs_to_one_member(tmp_path: Path) -> None:
    dup = "    - {name: Acme Ltd, kind: entity, status: confirmed, oui_names: [ACME]}\n"
    dup2 = "    - {name: Acme Labs, kind: subsidiary, status: confirmed, oui_names: [ACME]}\n"
    with pytest.raises(DataError, match="'ACME' is claimed by both acme/Acme Ltd and acme/Acme"):
        _load(tmp_path, _doc(dup, second=dup2))


def test_a_false_friend_cannot_be_a_member(tmp_path: Path) -> None:
    member = "    - {name: Acme Ltd, kind: entity, status: confirmed, oui_names: [ACME]}\n"
    friend = "  false_friends: [{name: ACME, registry: oui, why: test}]\n"
    with pytest.raises(DataError, match="false friend 'ACME' is also a member"):
        _load(tmp_path, _doc(member, family_extra=friend))


def test_bad_slug_and_missing_members(tmp_path: Path) -> None:
    text = "schema_version: 1\nfamilies:\n- {slug: Acme Corp, name: A, headquarters: US}\n"
    with pytest.raises(DataError) as info:
        _load(tmp_path, text)
    assert "families[0] (Acme Corp).slug:" in str(info.value)
    assert "families[0] (Acme Corp).members: Field required" in str(info.value)


def test_yaml_syntax_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not valid YAML"):
        _load(tmp_path, "families: [\n")


def test_unknown_schema_version(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="schema_version"):
        _load(tmp_path, _doc().replace("schema_version: 1", "schema_version: 2"))
