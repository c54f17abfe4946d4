"""Validation at the edge: every problem names file, line and field; hostile YAML is refused."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.inventory.families import Families
from netvet.policy import PolicyError, load_pack, load_packs, parse_pack
from netvet.policy.model import Domain, EffectKind, PartialDate, VendorMode

from .conftest import MakeRules, pack_yaml

GOOD = """\
schema_version: 1
jurisdiction: ACME
name: ACME procurement
kind: custom
as_of: '2026-03-01'
rules:
- id: ACME-1
  instrument: Procurement policy v3
  sources:
  - fact: Board decision
  status: confirmed
  vendors: [huawei, zte]
  domains: any
  generations: any
  operators: any
  effects:
    ban_new_after: '2027-01-01'
- id: ACME-2
  instrument: Procurement policy v3
  sources:
  - fact: Board decision
  status: confirmed
  vendors: any
  domains: [ran]
  generations: any
  operators: any
  effects:
    cap_percent: 30
    cap_from: '2027-13-01'
"""


def problems(text: str, families: Families) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        parse_pack(text, "acme.yaml", families)
    assert isinstance(caught.value, InputError)
    return [str(p) for p in caught.value.problems]


def test_error_names_file_line_and_field(families: Families) -> None:
    assert problems(GOOD, families) == [
        "acme.yaml:29: rules[1].effects.cap_from: invalid date '2027-13-01'"
    ]


def test_all_problems_are_reported_at_once(families: Families) -> None:
    text = (
        GOOD.replace("[huawei, zte]", "[huawei, huawai]")
        .replace("domains: [ran]", "domans: [ran]")
        .replace("'2027-13-01'", "'2027-12-01'")
    )
    # Schema problems come first; vendor names are checked once the shape is right.
    assert problems(text, families) == [
        "acme.yaml:18: rules[1].domains: Field required",
        "acme.yaml:24: rules[1].domans: unknown field",
    ]
    text = text.replace("domans", "domains")
    assert problems(text, families) == [
        "acme.yaml:12: rules[0].vendors[1]: unknown vendor family 'huawai'"
    ]


@pytest.mark.parametrize(
    ("rule", "path", "message"),
    [
        ({"effects": {"remove_by": "2027-02-30"}}, "rules[0].effects.remove_by", "invalid date"),
        ({"effects": {"remove_by": "end of 2027"}}, "rules[0].effects.remove_by", "YYYY"),
        ({"effects": {}}, "rules[0].effects", "no effect"),
        ({"effects": {"cap_percent": 35}}, "rules[0].effects", "go together"),
        (
            {"effects": {"cap_percent": 135, "cap_from": "2027"}},
            "rules[0].effects.cap_percent",
            "less than or equal to 100",
        ),
        (
            {"effects": {"designation_only": "2020", "remove_by": "2027"}},
            "rules[0].effects",
            "cannot be combined",
        ),
        ({"status": "rumoured"}, "rules[0].status", "'confirmed'"),
        ({"domains": ["core", "radio"]}, "rules[0].domains[1]", "'ran'"),
        ({"generations": []}, "rules[0].generations", "empty list"),
        ({"vendors": "huawei"}, "rules[0].vendors", "list of family slugs"),
        ({"vendors": ["Huawei"]}, "rules[0].vendors", "not a family slug"),
        ({"vendors": "unnamed"}, "rules[0]", "criteria"),
        ({"criteria": "high risk"}, "rules[0]", "criteria"),
        ({"vendors": "any", "entities": ["ZTE Corporation"]}, "rules[0]", "entities"),
        ({"headquarters": ["CN"]}, "rules[0]", "exactly one"),
        ({"vendors": None, "headquarters": ["China"]}, "rules[0].headquarters", "two-letter"),
        ({"sources": []}, "rules[0].sources", "at least 1"),
        ({"sources": [{"url": "https://x.org"}]}, "rules[0].sources[0].fact", "required"),
        ({"jurisdiction": "YY"}, "rules[0].jurisdiction", "differs"),
        ({"entities": ["Honor Device Co., Ltd."]}, "rules[0].entities[0]", "not a member"),
        ({"vendors": ["pacnet"], "entities": ["ZTE Corporation"]}, "rules[0].entities[0]", ""),
    ],
)
def test_bad_rules(families: Families, rule: dict[str, object], path: str, message: str) -> None:
    found = problems(pack_yaml({"effects": {"remove_by": "2027"}, **rule}), families)
    assert any(f": {path}: " in p and message in p for p in found), found


def test_headquarters_must_select_someone(families: Families) -> None:
    text = pack_yaml({"vendors": None, "headquarters": ["ZZ"], "effects": {"remove_by": "2027"}})
    (found,) = problems(text, families)
    assert found.endswith(": rules[0].headquarters: no vendor family has its headquarters there")


def test_duplicate_rule_ids(families: Families) -> None:
    text = pack_yaml({"effects": {"remove_by": "2027"}}, {"effects": {"remove_by": "2028"}})
    text = text.replace("id: r1", "id: r0")
    assert any("duplicate rule id 'r0'" in p for p in problems(text, families))


def test_header_problems(families: Families) -> None:
    text = pack_yaml({"effects": {"remove_by": "2027"}}, schema_version=2, as_of="soon")
    found = problems(text, families)
    assert any(": schema_version: " in p for p in found)
    assert any(": as_of: invalid date 'soon'" in p for p in found)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "acme.yaml:1: the file is empty"),
        ("rules: [\n", "not valid YAML"),
        ("a: &x [1]\nb: *x\n", "acme.yaml:2: anchors and aliases are not supported"),
        ("a: 1\na: 2\n", "acme.yaml:2: duplicate key 'a'"),
        ("? [1, 2]\n: 3\n", "keys must be text"),
        ("a: !!python/object:os.system x\n", "not valid YAML"),
        ("[" * 40 + "]" * 40, "nested too deeply"),
        ("[" * 100000, "acme.yaml"),  # PyYAML's recursion runs out first: still a PolicyError
        ("- 1\n- 2\n", "acme.yaml:1: Input should be a valid dictionary"),
    ],
)
def test_hostile_or_broken_yaml(families: Families, text: str, message: str) -> None:
    found = problems(text, families)
    assert any(message in p for p in found), found


def test_billion_laughs_is_cheap(families: Families) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 30)]
    assert "aliases are not supported" in problems("\n".join(lines), families)[0]


def test_files(tmp_path: Path, families: Families) -> None:
    good = tmp_path / "acme.yaml"
    good.write_text(GOOD.replace("'2027-13-01'", "'2027-07-01'"), encoding="utf-8")
    pack = load_pack(good, families)
    assert pack.kind == "custom" and pack.path == str(good)
    assert pack.rules[1].vendors.mode is VendorMode.ANY
    assert pack.rules[1].effects[0].percent == Fraction(30)
    assert pack.rules[0].sources[0].url is None
    assert pack.rules[0].origin.line == 7

    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_pack(binary, families)
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"#" * (2 * 1024 * 1024 + 1))
    with pytest.raises(PolicyError, match="larger than"):
        load_pack(huge, families)
    with pytest.raises(PolicyError, match="cannot read"):
        load_pack(tmp_path / "missing.yaml", families)


def test_load_packs_names_are_never_paths(families: Families) -> None:
    for name in ("../../etc/passwd", "uk.yaml", "zz", "/etc/hosts"):
        with pytest.raises(PolicyError, match="no such policy pack"):
            load_packs([name], families=families)
    packs = load_packs(["UK", "uk", " de "], families=families)
    assert [p.jurisdiction for p in packs] == ["UK", "DE"]


def test_custom_pack_alongside_shipped(tmp_path: Path, families: Families) -> None:
    custom = tmp_path / "acme.yaml"
    custom.write_text(GOOD.replace("'2027-13-01'", "'2027-07-01'"), encoding="utf-8")
    packs = load_packs(["uk"], extra_paths=[custom], families=families)
    assert [p.jurisdiction for p in packs] == ["UK", "ACME"]
    clash = tmp_path / "clash.yaml"
    clash.write_text(GOOD.replace("ACME-1", "UK-DVD-CORE").replace("'2027-13-01'", "'2027'"))
    with pytest.raises(PolicyError, match="UK-DVD-CORE' is also used in"):
        load_packs(["uk"], extra_paths=[clash], families=families)


def test_dates_keep_their_precision(make_rules: MakeRules) -> None:
    # Unquoted YAML dates and years are read as text of their own precision.
    (rule,) = make_rules({"effects": {"remove_by": 2027, "ban_new_after": dt.date(2020, 6, 1)}})
    remove = rule.effect(EffectKind.REMOVE_BY)
    ban = rule.effect(EffectKind.BAN_NEW_AFTER)
    assert remove is not None and ban is not None
    assert (remove.date.text, remove.day) == ("2027", dt.date(2027, 12, 31))
    assert (ban.date.text, ban.day) == ("2020-06-01", dt.date(2020, 6, 1))


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2027", dt.date(2027, 1, 1), dt.date(2027, 12, 31)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2023-12", dt.date(2023, 12, 1), dt.date(2023, 12, 31)),
        ("2025-01-01", dt.date(2025, 1, 1), dt.date(2025, 1, 1)),
    ],
)
def test_partial_dates(text: str, first: dt.date, last: dt.date) -> None:
    date = PartialDate.parse(text)
    assert (date.first, date.last, date.exact) == (first, last, first == last)


@pytest.mark.parametrize("text", ["2027-13", "2027-00-10", "27", "2027-1-1", "2027-06-31", ""])
def test_invalid_partial_dates(text: str) -> None:
    with pytest.raises(ValueError, match="invalid date"):
        PartialDate.parse(text)


def test_scope_any_is_none(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"domains": ["core", "ran"], "effects": {"remove_by": "2027"}})
    assert rule.scope.domains == frozenset({Domain.CORE, Domain.RAN})
    assert rule.scope.generations is None and rule.scope.operators is None


def test_the_documented_custom_policy(tmp_path: Path, families: Families) -> None:
    """The example of docs/policies.md loads alone and says what it claims."""
    docs = (Path(__file__).resolve().parents[2] / "docs" / "policies.md").read_text("utf-8")
    section = docs.split("## Custom policies")[1]
    example = section.split("```yaml\n")[1].split("```")[0]
    path = tmp_path / "acme.yaml"
    path.write_text(example, encoding="utf-8")
    (pack,) = load_packs([], extra_paths=[path], families=families)
    assert (pack.kind, [r.id for r in pack.rules]) == (
        "custom",
        ["ACME-NO-HRV-2027", "ACME-RAN-DIVERSITY"],
    )
    cap = pack.rules[1]
    assert cap.vendors.mode is VendorMode.ANY and cap.scope.domains == frozenset({Domain.RAN})
    assert cap.effects[0].percent == 30 and cap.effects[0].day == dt.date(2027, 7, 1)


def test_deep_flow_nesting_is_refused_before_parsing() -> None:
    from netvet.policy.marked import MarkedError, load_marked

    with pytest.raises(MarkedError, match="nested too deeply"):
        load_marked("x: '\n" + "[" * 200_000)
    value, _ = load_marked("a: '[[[[' # [[[[\nb: [[1]]\n")
    assert value == {"a": "[[[[", "b": [[1]]}
