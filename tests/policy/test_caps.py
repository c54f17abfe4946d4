"""Caps: shares per domain over the whole inventory, the boundary, combined and per-vendor caps."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

from netvet.policy.caps import evaluate_caps
from netvet.policy.evaluate import Kind, Profile, evaluate
from netvet.policy.model import Domain, Generation, OperatorScope, Pack, Rule

from .conftest import MakeRules

D = dt.date
PUBLIC = frozenset({OperatorScope.PUBLIC_NETWORK})


def access(vendor: str | None, generation: Generation | None = Generation.FIXED) -> Profile:
    return Profile(vendor, None, Domain.RAN, generation, PUBLIC)


def uk_cap(shipped: dict[str, Pack]) -> list[Rule]:
    return [r for r in shipped["uk"].rules if r.id == "UK-DVD-FIBRE-ACCESS-CAP"]


def test_exactly_at_the_cap_complies(shipped: dict[str, Pack]) -> None:
    rules = uk_cap(shipped)
    (at,) = evaluate_caps([(access("huawei"), 35), (access("nokia"), 65)], rules, D(2024, 1, 1))
    assert (at.count, at.total, at.share, at.limit) == (35, 100, Fraction(35), Fraction(35))
    assert (at.exceeded, at.breach, at.in_force) == (False, False, True)
    # 7 of 20 is 35.0% too: exact fractions, no float rounding.
    (seven,) = evaluate_caps([(access("huawei"), 7), (access("nokia"), 13)], rules, D(2024, 1, 1))
    assert seven.share == 35 and not seven.exceeded
    (over,) = evaluate_caps([(access("huawei"), 36), (access("nokia"), 64)], rules, D(2024, 1, 1))
    assert over.exceeded and over.breach
    # One device more than 35% of 1000 (350) breaches; 350 does not.
    (edge,) = evaluate_caps([(access("huawei"), 351), (access("nokia"), 649)], rules, D(2024, 1, 1))
    assert edge.breach and float(edge.share) == 35.1


def test_cap_before_its_date_is_not_a_breach(shipped: dict[str, Pack]) -> None:
    groups = [(access("huawei"), 60), (access("nokia"), 40)]
    (ahead,) = evaluate_caps(groups, uk_cap(shipped), D(2023, 10, 30))
    assert (ahead.exceeded, ahead.in_force, ahead.breach) == (True, False, False)
    (due,) = evaluate_caps(groups, uk_cap(shipped), D(2023, 10, 31))
    assert due.breach
    # Before the direction existed there is no cap at all.
    assert evaluate_caps(groups, uk_cap(shipped), D(2022, 1, 1)) == ()


def test_the_whole_is_the_rule_s_scope_in_the_domain(shipped: dict[str, Pack]) -> None:
    groups = [
        (access("huawei"), 30),
        (access("nokia"), 70),
        (access("huawei", Generation.G5), 500),  # 5G RAN: not full-fibre access
        (Profile("huawei", None, Domain.CORE, Generation.FIXED, PUBLIC), 400),  # other domain
        (Profile("huawei", None, None, Generation.FIXED, PUBLIC), 50),  # domain unknown
        (access("huawei", None), 9),  # generation unknown
        (Profile("huawei", None, Domain.RAN, Generation.FIXED, None), 4),  # operator unknown
        (Profile("huawei", None, Domain.RAN, Generation.FIXED, frozenset()), 8),  # not public
    ]
    (cap,) = evaluate_caps(groups, uk_cap(shipped), D(2024, 1, 1))
    assert (cap.domain, cap.count, cap.total, cap.unknown) == (Domain.RAN, 30, 100, 13)
    assert cap.share == 30


def test_unidentified_devices_count_in_the_whole(shipped: dict[str, Pack]) -> None:
    groups = [(access("huawei"), 35), (access(None), 65)]
    (cap,) = evaluate_caps(groups, uk_cap(shipped), D(2024, 1, 1))
    assert (cap.count, cap.total) == (35, 100)


def test_named_vendors_are_capped_together(shipped: dict[str, Pack]) -> None:
    rules = [r for r in shipped["be"].rules if r.id == "BE-HRV-RAN-CAP"]
    five = Generation.G5
    groups = [(access("huawei", five), 20), (access("zte", five), 16), (access("nokia", five), 64)]
    (cap,) = evaluate_caps(groups, rules, D(2024, 1, 1))
    assert (cap.vendor, cap.count, cap.share, cap.breach) == (None, 36, 36, True)
    assert cap.unconfirmed  # reported, not confirmed


def test_any_vendor_cap_applies_to_each_vendor(make_rules: MakeRules) -> None:
    rules = make_rules(
        {
            "vendors": "any",
            "domains": ["ran"],
            "effects": {"cap_percent": 30, "cap_from": "2027-07-01"},
        }
    )
    groups = [
        (access("ericsson", Generation.G5), 40),
        (access("nokia", Generation.G5), 30),
        (access("samsung", Generation.G4), 20),
        (access(None, Generation.G4), 10),
        (Profile("ericsson", None, Domain.CORE), 99),
    ]
    caps = evaluate_caps(groups, rules, D(2027, 7, 1))
    assert [(c.vendor, c.count, c.total, c.breach) for c in caps] == [
        ("ericsson", 40, 100, True),
        ("nokia", 30, 100, False),
        ("samsung", 20, 100, False),
    ]
    ahead = evaluate_caps(groups, rules, D(2027, 6, 30))
    assert [c.breach for c in ahead] == [False, False, False] and ahead[0].exceeded


def test_entity_limited_cap_counts_unknown_entities(make_rules: MakeRules) -> None:
    rules = make_rules(
        {
            "vendors": ["dahua"],
            "entities": ["Zhejiang Dahua Technology Co., Ltd."],
            "domains": ["surveillance"],
            "effects": {"cap_percent": 10, "cap_from": "2025"},
        }
    )

    def camera(entity: str | None, vendor: str = "dahua") -> Profile:
        return Profile(vendor, entity, Domain.SURVEILLANCE)

    groups = [
        (camera("Zhejiang Dahua Technology Co., Ltd."), 5),
        (camera("Amcrest"), 20),
        (camera(None), 7),
        (camera(None, "axis"), 68),
    ]
    (cap,) = evaluate_caps(groups, rules, D(2025, 1, 1))
    assert (cap.count, cap.total, cap.unknown, cap.exceeded) == (5, 100, 7, False)


def test_conditional_caps_are_not_breaches_until_settled(make_rules: MakeRules) -> None:
    rules = make_rules(
        {
            "domains": ["ran"],
            "condition": "the network is the incumbent's",
            "effects": {"cap_percent": 35, "cap_from": "2020"},
        }
    )
    groups = [(access("huawei"), 50), (access("nokia"), 50)]
    (cap,) = evaluate_caps(groups, rules, D(2024, 1, 1))
    assert (cap.exceeded, cap.conditional, cap.breach) == (True, True, False)
    (cap,) = evaluate_caps(groups, rules, D(2024, 1, 1), {"r0": True})
    assert cap.breach
    assert evaluate_caps(groups, rules, D(2024, 1, 1), {"r0": False}) == ()


def test_each_device_in_a_cap_s_scope_gets_a_cap_finding(shipped: dict[str, Pack]) -> None:
    (rule,) = uk_cap(shipped)
    (found,) = evaluate(access("huawei"), rule, D(2023, 1, 1))
    assert (found.kind, found.due) == (Kind.CAP, D(2023, 10, 31))
    assert "capped at 35% of its domain from 2023-10-31" in found.why
    (found,) = evaluate(access("huawei"), rule, D(2024, 1, 1))
    assert (found.kind, found.since) == (Kind.CAP, D(2023, 10, 31))
    assert evaluate(access("nokia"), rule, D(2024, 1, 1)) == ()
