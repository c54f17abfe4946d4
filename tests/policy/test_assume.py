"""Settling rule conditions: names checked against the loaded packs, patterns, conflicts, and
what an assumption does to an audit's findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.policy import load_packs
from netvet.policy.assume import as_mapping, parse_answer, resolve
from netvet.policy.audit_run import AuditResult, audit_inventory
from netvet.policy.evaluate import Kind
from netvet.policy.model import Domain, Pack, Rule

SAMPLE = Path(__file__).parent / "samples" / "operator-inventory.csv"
ROLES = {"olt": Domain.RAN, "oss": Domain.MANAGEMENT, "cctv": Domain.SURVEILLANCE}


@pytest.fixture(scope="module")
def uk_de() -> tuple[Pack, ...]:
    return load_packs(["uk", "de"])


def rules(packs: tuple[Pack, ...]) -> tuple[Rule, ...]:
    return tuple(r for p in packs for r in p.rules)


def test_exact_id_any_case(uk_de: tuple[Pack, ...]) -> None:
    (a,) = resolve({"de-2024-core": True}, rules(uk_de))
    assert (a.rule.id, a.holds, a.given) == ("DE-2024-CORE", True, "de-2024-core")
    assert a.condition == "the device is a critical component"
    assert as_mapping([a]) == {"DE-2024-CORE": True}


def test_pattern_reaches_every_conditional_rule_it_matches(uk_de: tuple[Pack, ...]) -> None:
    found = resolve({"DE-*": False}, rules(uk_de))
    assert [a.rule.id for a in found] == [
        "DE-BSIG-9B-NOTIFICATION",
        "DE-BNETZA-CERTIFICATION",
        "DE-2024-CORE",
        "DE-2024-MANAGEMENT",
    ]
    assert not any(a.holds for a in found)


def test_an_exact_name_and_a_pattern_may_agree(uk_de: tuple[Pack, ...]) -> None:
    found = resolve({"DE-*": True, "DE-2024-CORE": True}, rules(uk_de))
    assert len(found) == 4


def test_an_exact_name_and_a_pattern_may_not_disagree(uk_de: tuple[Pack, ...]) -> None:
    with pytest.raises(InputError, match="differently"):
        resolve({"DE-*": True, "DE-2024-CORE": False}, rules(uk_de))


def test_unknown_rule_is_an_error_with_a_hint(uk_de: tuple[Pack, ...]) -> None:
    with pytest.raises(InputError, match=r"no such rule.*did you mean DE-2024-CORE\?"):
        resolve({"DE-2024-COR": True}, rules(uk_de))


def test_rule_of_a_pack_not_selected_is_unknown() -> None:
    with pytest.raises(InputError, match="no such rule"):
        resolve({"DE-2024-CORE": True}, rules(load_packs(["uk"])))


def test_rule_without_condition_is_an_error(uk_de: tuple[Pack, ...]) -> None:
    with pytest.raises(InputError, match="UK-DVD-CORE has no condition"):
        resolve({"UK-DVD-CORE": True}, rules(uk_de))


def test_pattern_matching_no_conditional_rule_is_an_error(uk_de: tuple[Pack, ...]) -> None:
    with pytest.raises(InputError, match="matches no rule with a condition"):
        resolve({"UK-DVD-CORE*": True}, rules(uk_de))
    with pytest.raises(InputError, match="no rule with a condition"):
        resolve({"X*": True}, rules(load_packs(["pl"])))  # PL: none with a condition


def test_empty_name_is_an_error(uk_de: tuple[Pack, ...]) -> None:
    with pytest.raises(InputError, match="empty rule name"):
        resolve({" ": True}, rules(uk_de))


@pytest.mark.parametrize(("text", "holds"), [("yes", True), ("No", False), ("TRUE", True)])
def test_answers(text: str, holds: bool) -> None:
    assert parse_answer(text) is holds


def test_other_answers_are_refused() -> None:
    with pytest.raises(ValueError, match="not yes or no"):
        parse_answer("maybe")


def audit(day: str, assume: dict[str, bool] | None = None) -> AuditResult:
    return audit_inventory(
        SAMPLE,
        load_packs(["uk", "de"]),
        dt.date.fromisoformat(day),
        role_map=ROLES,
        assume=assume,
    )


def test_assumed_condition_turns_undetermined_into_violations() -> None:
    open_ = audit("2028-01-01")
    assert not [v for v in open_.violations if v.rule.id == "DE-2024-CORE"]
    held = audit("2028-01-01", {"DE-2024-CORE": True})
    core = [v for v in held.violations if v.rule.id == "DE-2024-CORE"]
    assert [(v.device, v.since) for v in core] == [("A002", dt.date(2027, 1, 1))]  # 5G only
    assert [(a.rule.id, a.holds) for a in held.assumptions] == [("DE-2024-CORE", True)]


def test_assumed_false_leaves_the_rule_out() -> None:
    result = audit("2028-01-01", {"UK-DVD-SENSITIVE-SITES": False})
    ids = {t.rule.id for t in result.tallies}
    assert "UK-DVD-SENSITIVE-SITES" not in ids
    still = {(t.kind, t.rule.id) for t in result.tallies}
    assert (Kind.UNDETERMINED, "DE-2024-CORE") in still


def test_audit_refuses_an_unknown_assumption() -> None:
    with pytest.raises(InputError, match="no such rule"):
        audit("2028-01-01", {"NOPE": True})
