"""Rule semantics: effective dates, deadlines, scope, attribution, as-of dates, overlaps."""

from __future__ import annotations

import datetime as dt

import pytest

from netvet.inventory.names import name_key
from netvet.policy.evaluate import (
    Device,
    Finding,
    InstallRange,
    Kind,
    Profile,
    RuleIndex,
    audit,
    bucket,
    evaluate,
    install_cuts,
    named_entities,
    rules_of,
)
from netvet.policy.model import Domain, Generation, OperatorScope, Pack, Rule

from .conftest import MakeRules

D = dt.date
PUBLIC = frozenset({OperatorScope.PUBLIC_NETWORK})


def huawei(**fields: object) -> Profile:
    base: dict[str, object] = {
        "vendor": "huawei",
        "entity": "Huawei Technologies Co., Ltd.",
        "domain": Domain.CORE,
        "generation": Generation.G5,
        "operators": PUBLIC,
    }
    base.update(fields)
    return Profile(**base)  # type: ignore[arg-type]


def on(day: dt.date) -> InstallRange:
    return InstallRange(day, day)


def kinds(findings: tuple[Finding, ...]) -> list[tuple[str, Kind]]:
    return [(f.rule.id, f.kind) for f in findings]


def test_ban_before_on_and_after_its_date(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"effects": {"ban_new_after": "2022-10-13"}})
    as_of = D(2024, 1, 1)
    assert evaluate(huawei(installed=on(D(2022, 10, 12))), rule, as_of) == ()
    (found,) = evaluate(huawei(installed=on(D(2022, 10, 13))), rule, as_of)
    assert (found.kind, found.since) == (Kind.VIOLATION, D(2022, 10, 13))
    assert "installed 2022-10-13, on or after the ban on new equipment 2022-10-13" in found.why
    (found,) = evaluate(huawei(installed=on(D(2023, 5, 2))), rule, as_of)
    assert (found.kind, found.since) == (Kind.VIOLATION, D(2023, 5, 2))
    device = Device("huawei", None, Domain.CORE, Generation.G5, PUBLIC, "LDN-1", D(2023, 5, 2))
    assert evaluate(device, rule, as_of) == (found,)
    # Not yet in force on the audit's date: nothing to report, even for a planned install.
    assert evaluate(huawei(installed=on(D(2022, 11, 1))), rule, D(2022, 10, 12)) == ()


def test_ban_with_unknown_install_date_is_undetermined(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"effects": {"ban_new_after": "2022-10-13"}})
    (found,) = evaluate(huawei(), rule, D(2024, 1, 1))
    assert (found.kind, found.would_be) == (Kind.UNDETERMINED, Kind.VIOLATION)
    assert "install date unknown" in found.why
    straddling = InstallRange(D(2022, 1, 1), D(2023, 1, 1))
    (found,) = evaluate(huawei(installed=straddling), rule, D(2024, 1, 1))
    assert found.kind is Kind.UNDETERMINED and "straddles" in found.why


def test_remove_by_deadline_then_violation(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"effects": {"remove_by": "2027-12-31"}})
    device = huawei(installed=on(D(2019, 3, 1)))
    (found,) = evaluate(device, rule, D(2026, 1, 1))
    assert (found.kind, found.due, found.since) == (Kind.DEADLINE, D(2027, 12, 31), None)
    (found,) = evaluate(device, rule, D(2027, 12, 31))  # the deadline's own day is still allowed
    assert found.kind is Kind.DEADLINE
    (found,) = evaluate(device, rule, D(2028, 1, 1))
    assert (found.kind, found.since) == (Kind.VIOLATION, D(2028, 1, 1))
    # Installed after the deadline: a violation since installation.
    (found,) = evaluate(huawei(installed=on(D(2028, 3, 1))), rule, D(2028, 6, 1))
    assert (found.kind, found.since) == (Kind.VIOLATION, D(2028, 3, 1))


def test_partial_dates_in_effects(make_rules: MakeRules) -> None:
    remove, start = make_rules(
        {"effects": {"remove_by": "2028"}},
        {"vendors": "any", "effects": {"authorisation_required": "2021-09"}},
    )
    (found,) = evaluate(huawei(), remove, D(2028, 12, 31))
    assert (found.kind, found.due, found.approximate) == (Kind.DEADLINE, D(2028, 12, 31), True)
    assert "'2028' in the source; day not stated" in found.why
    assert evaluate(huawei(), remove, D(2029, 1, 1))[0].kind is Kind.VIOLATION
    assert evaluate(huawei(), start, D(2021, 8, 31)) == ()
    (found,) = evaluate(huawei(), start, D(2021, 9, 1))
    assert (found.kind, found.since, found.approximate) == (
        Kind.AUTHORISATION,
        D(2021, 9, 1),
        True,
    )


def test_authorisation_and_designation(make_rules: MakeRules) -> None:
    auth, designation = make_rules(
        {"vendors": "any", "effects": {"authorisation_required": "2019-08-01"}},
        {"effects": {"designation_only": "2023-06-15"}},
    )
    assert evaluate(huawei(), designation, D(2023, 6, 14)) == ()
    (found,) = evaluate(huawei(), designation, D(2023, 6, 15))
    assert (found.kind, found.since) == (Kind.DESIGNATED, D(2023, 6, 15))
    ericsson = Profile("ericsson", None, Domain.RAN, Generation.G5, PUBLIC)
    (found,) = evaluate(ericsson, auth, D(2020, 1, 1))
    assert found.kind is Kind.AUTHORISATION
    # `vendors: any` also reaches a device nobody identified.
    assert evaluate(Profile(None, domain=Domain.RAN), auth, D(2020, 1, 1))[0].kind is (
        Kind.AUTHORISATION
    )


def test_scope_by_domain(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"domains": ["core"], "effects": {"remove_by": "2023-12-31"}})
    as_of = D(2024, 6, 1)
    assert evaluate(huawei(domain=Domain.RAN), rule, as_of) == ()
    assert evaluate(huawei(domain=Domain.CORE), rule, as_of)[0].kind is Kind.VIOLATION
    (found,) = evaluate(huawei(domain=None), rule, as_of)
    assert (found.kind, found.would_be) == (Kind.UNDETERMINED, Kind.VIOLATION)
    assert "applies only if its domain is core" in found.why


def test_scope_by_generation(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"generations": ["5g"], "effects": {"remove_by": "2027-12-31"}})
    as_of = D(2028, 1, 2)
    assert evaluate(huawei(generation=Generation.G4), rule, as_of) == ()
    assert evaluate(huawei(generation=Generation.FIXED), rule, as_of) == ()
    assert evaluate(huawei(generation=Generation.G5), rule, as_of)[0].kind is Kind.VIOLATION
    (found,) = evaluate(huawei(generation=None), rule, as_of)
    assert found.kind is Kind.UNDETERMINED and "its generation is 5g" in found.why


def test_scope_by_operator(make_rules: MakeRules) -> None:
    (rule,) = make_rules(
        {"operators": ["government-supplier"], "effects": {"remove_by": "2020-08-13"}}
    )
    as_of = D(2021, 1, 1)
    assert evaluate(huawei(operators=PUBLIC), rule, as_of) == ()
    assert evaluate(huawei(operators=frozenset()), rule, as_of) == ()
    both = frozenset({OperatorScope.PUBLIC_NETWORK, OperatorScope.GOVERNMENT_SUPPLIER})
    assert evaluate(huawei(operators=both), rule, as_of)[0].kind is Kind.VIOLATION
    (found,) = evaluate(huawei(operators=None), rule, as_of)
    assert "run by a government-supplier operator" in found.why


def test_white_label_counts_for_its_maker(make_rules: MakeRules) -> None:
    family, entity_only = make_rules(
        {"vendors": ["dahua"], "effects": {"ban_new_after": "2023-02-06"}},
        {
            "vendors": ["dahua"],
            "entities": ["Zhejiang Dahua Technology Co., Ltd."],
            "effects": {"ban_new_after": "2023-02-06"},
        },
    )
    amcrest = Profile("dahua", "Amcrest", Domain.SURVEILLANCE, None, PUBLIC, on(D(2024, 1, 1)))
    assert evaluate(amcrest, family, D(2025, 1, 1))[0].kind is Kind.VIOLATION
    assert evaluate(amcrest, entity_only, D(2025, 1, 1)) == ()
    spelled = Profile("dahua", "ZHEJIANG DAHUA TECHNOLOGY CO LTD", installed=on(D(2024, 1, 1)))
    assert evaluate(spelled, entity_only, D(2025, 1, 1))[0].kind is Kind.VIOLATION
    unknown = Profile("dahua", None, installed=on(D(2024, 1, 1)))
    (found,) = evaluate(unknown, entity_only, D(2025, 1, 1))
    assert found.kind is Kind.UNDETERMINED and "Zhejiang Dahua" in found.why


def test_divested_brand_is_not_huawei(shipped: dict[str, Pack]) -> None:
    index = RuleIndex(shipped["uk"].rules)
    sold = Profile("honor", "Honor Device Co., Ltd.", Domain.RAN, Generation.G5, PUBLIC)
    assert index.evaluate(sold, D(2028, 1, 1)) == ()
    # Made while Honor was a Huawei brand: identification says huawei, and the rules follow.
    before = Profile("huawei", "Honor", Domain.RAN, Generation.G5, PUBLIC)
    assert ("UK-DVD-5G", Kind.VIOLATION) in kinds(index.evaluate(before, D(2028, 1, 1)))
    # Unidentified devices meet no rule naming vendors.
    assert (
        index.evaluate(Profile(None, None, Domain.RAN, Generation.G5, PUBLIC), D(2028, 1, 1)) == ()
    )


def test_as_of_dates_on_the_uk_pack(shipped: dict[str, Pack]) -> None:
    index = RuleIndex(shipped["uk"].rules)
    core = huawei(installed=on(D(2019, 5, 1)))
    assert kinds(index.evaluate(core, D(2022, 10, 1))) == []
    assert kinds(index.evaluate(core, D(2022, 10, 13))) == [
        ("UK-DN-HUAWEI", Kind.DESIGNATED),
        ("UK-DVD-5G", Kind.DEADLINE),
        ("UK-DVD-SENSITIVE-SITES", Kind.UNDETERMINED),
        ("UK-DVD-CORE", Kind.DEADLINE),
    ]
    later = dict(kinds(index.evaluate(core, D(2024, 1, 1))))
    assert later["UK-DVD-CORE"] is Kind.VIOLATION and later["UK-DVD-5G"] is Kind.DEADLINE
    overdue = {f.rule.id: f for f in index.evaluate(core, D(2028, 1, 1))}
    assert overdue["UK-DVD-5G"].kind is Kind.VIOLATION
    assert overdue["UK-DVD-5G"].since == D(2028, 1, 1)
    assert overdue["UK-DVD-CORE"].since == D(2024, 1, 1)


def test_unconfirmed_facts_are_flagged(shipped: dict[str, Pack]) -> None:
    index = RuleIndex(shipped["ro"].rules, assume={"RO-5G-UNAUTHORISED-CORE": True})
    found = {f.rule.id: f for f in index.evaluate(huawei(), D(2026, 7, 1))}
    core = found["RO-5G-UNAUTHORISED-CORE"]
    assert (core.kind, core.since, core.unconfirmed, core.approximate) == (
        Kind.VIOLATION,
        D(2026, 7, 1),
        True,
        True,
    )
    assert found["RO-5G-AUTHORISATION"].unconfirmed is False


def test_overlapping_rules_from_two_jurisdictions(shipped: dict[str, Pack]) -> None:
    rules = rules_of([shipped["uk"], shipped["de"]])
    device = huawei(installed=on(D(2020, 2, 1)))
    found = {f.rule.id: f for f in RuleIndex(rules).evaluate(device, D(2027, 1, 1))}
    assert found["UK-DVD-CORE"].kind is Kind.VIOLATION
    assert found["UK-DVD-5G"].kind is Kind.DEADLINE
    # The German agreement concerns critical components: undetermined until the caller says so.
    assert (found["DE-2024-CORE"].kind, found["DE-2024-CORE"].would_be) == (
        Kind.UNDETERMINED,
        Kind.VIOLATION,
    )
    assert found["DE-BSIG-9B-NOTIFICATION"].would_be is Kind.AUTHORISATION
    settled = RuleIndex(rules, assume={"DE-2024-CORE": True, "UK-DVD-SENSITIVE-SITES": False})
    found = {f.rule.id: f for f in settled.evaluate(device, D(2027, 1, 1))}
    assert found["DE-2024-CORE"].kind is Kind.VIOLATION
    assert found["DE-2024-CORE"].since == D(2027, 1, 1)
    assert "UK-DVD-SENSITIVE-SITES" not in found


def test_unnamed_rules_reach_no_device(shipped: dict[str, Pack]) -> None:
    (rule,) = [r for r in shipped["pl"].rules if r.id == "PL-KSC-DWR"]
    assert evaluate(huawei(), rule, D(2027, 1, 1)) == ()
    assert evaluate(Profile(None), rule, D(2027, 1, 1)) == ()


def test_headquarters_selection(shipped: dict[str, Pack]) -> None:
    (rule,) = [r for r in shipped["lt"].rules if r.id == "LT-PROCUREMENT-2022"]
    assert {"huawei", "zte", "kaspersky", "h3c"} <= rule.vendors.families
    assert not {"nokia", "ericsson", "cisco"} & rule.vendors.families
    sector = frozenset({OperatorScope.PUBLIC_SECTOR})
    h3c = Profile("h3c", None, Domain.ENTERPRISE, None, sector, on(D(2023, 1, 1)))
    (found,) = evaluate(h3c, rule, D(2024, 1, 1), {"LT-PROCUREMENT-2022": True})
    assert found.kind is Kind.VIOLATION


def test_device_profile_and_buckets(make_rules: MakeRules) -> None:
    rules = make_rules(
        {"effects": {"ban_new_after": "2022-10-13"}},
        {"effects": {"ban_new_after": "2020"}},
        {"effects": {"remove_by": "2027"}},
    )
    cuts = install_cuts(rules)
    assert cuts == (D(2020, 1, 1), D(2022, 10, 13))
    assert bucket(D(2019, 5, 5), cuts) == InstallRange(dt.date.min, D(2019, 12, 31))
    assert bucket(D(2020, 1, 1), cuts) == InstallRange(D(2020, 1, 1), D(2022, 10, 12))
    assert bucket(D(2030, 1, 1), cuts) == InstallRange(D(2022, 10, 13), dt.date.max)
    index = RuleIndex(rules)
    for day in (D(2019, 12, 31), D(2020, 1, 1), D(2022, 10, 12), D(2022, 10, 13), D(2025, 3, 3)):
        device = Device("huawei", None, Domain.CORE, Generation.G5, PUBLIC, "site-1", day)
        exact = index.evaluate(device.profile(), D(2026, 1, 1))
        coarse = index.evaluate(device.profile(cuts), D(2026, 1, 1))
        assert kinds(exact) == kinds(coarse), day
    assert Device("huawei").profile(cuts).installed is None


def test_audit_evaluates_each_profile_once(shipped: dict[str, Pack]) -> None:
    rules = rules_of([shipped["uk"], shipped["ca"]])
    cuts = install_cuts(rules)
    devices = [
        Device("huawei", None, Domain.CORE, Generation.G5, PUBLIC, f"site-{i}", D(2019, 1, i + 1))
        for i in range(20)
    ] + [Device("ericsson", None, Domain.RAN, Generation.G5, PUBLIC, "site-x", D(2023, 1, 1))]
    groups = [(d.profile(cuts), 1) for d in devices]
    result = audit(groups, rules, D(2025, 1, 1))
    assert sum(result.counts.values()) == 21
    assert len(result.counts) == 2  # twenty Huawei devices share one profile
    (profile,) = result.findings
    assert profile.vendor == "huawei" and result.counts[profile] == 20
    assert {f.rule.id for f in result.findings[profile]} >= {"UK-DVD-CORE", "CA-2022-REMOVE-5G"}


@pytest.mark.parametrize("code", ["us", "uk", "de", "ca", "se", "ee", "it", "au"])
def test_every_named_rule_can_fire(shipped: dict[str, Pack], code: str) -> None:
    """Each pack rule that names vendors produces a finding for a device in its scope: no
    rule is dead weight because of a scope nobody can match."""
    for rule in shipped[code].rules:
        profile = _in_scope(rule)
        if profile is None:
            continue
        assume = {rule.id: True}
        found = evaluate(profile, rule, D(2030, 1, 1), assume)
        cap_only = all(e.kind.value == "cap_percent" for e in rule.effects)
        assert found, rule.id
        assert cap_only or any(f.kind is not Kind.UNDETERMINED for f in found), rule.id


def _in_scope(rule: Rule) -> Profile | None:
    if rule.vendors.mode.value == "unnamed":
        return None
    vendor = min(rule.vendors.families) if rule.vendors.families else "ericsson"
    entity = rule.vendors.entities[0] if rule.vendors.entities else None
    scope = rule.scope
    return Profile(
        vendor,
        entity,
        min(scope.domains) if scope.domains else Domain.CORE,
        min(scope.generations) if scope.generations else Generation.G5,
        frozenset({min(scope.operators)}) if scope.operators else PUBLIC,
        on(D(2029, 6, 1)),
    )


def test_rules_say_nothing_before_their_instrument(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"in_force": "2022-10-13", "effects": {"remove_by": "2027-12-31"}})
    assert evaluate(huawei(), rule, D(2022, 10, 12)) == ()
    (found,) = evaluate(huawei(), rule, D(2022, 10, 13))
    assert (found.kind, found.due) == (Kind.DEADLINE, D(2027, 12, 31))


def test_unknown_install_date_and_unknown_scope_add_up(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"generations": ["5g"], "effects": {"ban_new_after": "2021-01-20"}})
    (found,) = evaluate(huawei(generation=None), rule, D(2022, 1, 1))
    assert (found.kind, found.would_be) == (Kind.UNDETERMINED, Kind.VIOLATION)
    assert "install date unknown" in found.why and "its generation is 5g" in found.why


def test_entities_no_rule_names_collapse(shipped: dict[str, Pack]) -> None:
    rules = shipped["us"].rules
    named = named_entities(rules)
    assert name_key("China Telecom (Americas) Corp") in named
    index = RuleIndex(rules, assume={"US-COVERED-CHINA-TELECOM": True})
    devices = [
        Device("china-telecom", "China Telecom (Americas) Corp", Domain.CORE),
        Device("china-telecom", "China Telecom Corporation Limited", Domain.CORE),
        Device("china-telecom", "China Telecom Fufu Information Technology Co., Ltd.", Domain.CORE),
        Device("huawei", "Huawei Device Co., Ltd.", Domain.CORE),
    ]
    for device in devices:
        coarse = device.profile(entities=named)
        assert kinds(index.evaluate(device.profile(), D(2025, 1, 1))) == kinds(
            index.evaluate(coarse, D(2025, 1, 1))
        )
    assert devices[0].profile(entities=named).entity == "China Telecom (Americas) Corp"
    assert devices[1].profile(entities=named) == devices[2].profile(entities=named)
    assert kinds(index.evaluate(devices[0].profile(), D(2025, 1, 1))) == [
        ("US-COVERED-CHINA-TELECOM", Kind.DESIGNATED)
    ]
