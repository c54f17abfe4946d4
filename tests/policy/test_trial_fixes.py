"""Fixes from the user trial (issue #4): drafts never breach, devices installed after the audit's
date are left out, caps on each vendor count makers outside the families, impossible unquoted
dates in a policy are ordinary problems, unusual spellings never stop an audit, and what the
audit could not place is reported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netvet.policy import load_packs, parse_pack
from netvet.policy.audit_run import AuditResult, audit_inventory
from netvet.policy.caps import evaluate_caps
from netvet.policy.errors import PolicyError
from netvet.policy.evaluate import Kind, evaluate
from netvet.policy.model import Domain, Generation, OperatorScope, Pack, Status
from netvet.policy.profile import ADOPTED, Device, Profile
from netvet.report import audit_csv, audit_json, audit_text

from .conftest import MakeRules, pack_yaml

D = dt.date
PUBLIC = frozenset({OperatorScope.PUBLIC_NETWORK})


def audit_csv_text(tmp_path: Path, text: str, packs: list[Pack] | None, day: str) -> AuditResult:
    path = tmp_path / "inv.csv"
    path.write_text(text)
    return audit_inventory(path, packs or load_packs(["uk"]), D.fromisoformat(day))


# P4: a proposed rule is not binding


def test_only_proposed_is_not_binding() -> None:
    assert [s for s in Status if not s.binding] == [Status.PROPOSED]


def test_a_draft_cap_over_its_limit_would_be_breached_if_adopted(make_rules: MakeRules) -> None:
    cap = {"cap_percent": 35, "cap_from": "2023-07-31"}
    (rule,) = make_rules({"status": "proposed", "domains": ["ran"], "effects": cap})
    groups = [(Profile("huawei", None, Domain.RAN, Generation.G5, PUBLIC), 2),
              (Profile("ericsson", None, Domain.RAN, Generation.G5, PUBLIC), 1)]  # fmt: skip
    (status,) = evaluate_caps(groups, [rule], D(2025, 1, 1))
    assert status.exceeded and not status.breach
    assert status.state == "would be breached if adopted"
    (adopted,) = evaluate_caps(groups, [rule], D(2025, 1, 1), {rule.id: True})
    assert adopted.breach and adopted.state == "BREACHED"


def test_a_draft_ban_is_undetermined_until_adopted(make_rules: MakeRules) -> None:
    (rule,) = make_rules({"status": "proposed", "effects": {"ban_new_after": "2022-01-01"}})
    device = Device("huawei", installed=D(2023, 1, 1))
    (found,) = evaluate(device, rule, D(2024, 1, 1))
    assert found.kind is Kind.UNDETERMINED and found.would_be is Kind.VIOLATION
    assert ADOPTED in found.needs
    (adopted,) = evaluate(device, rule, D(2024, 1, 1), {rule.id: True})
    assert adopted.kind is Kind.VIOLATION


def test_the_uk_draft_cap_sets_no_breach(tmp_path: Path) -> None:
    result = audit_csv_text(
        tmp_path,
        "asset_id,manufacturer,network_domain,generation,install_date\n"
        "R1,Huawei,ran,5g,2020-01-15\nR2,Huawei,ran,5g,2020-01-16\nR3,Ericsson,ran,5g,2021-11-30\n",
        None,
        "2025-01-01",
    )
    (draft,) = [c for c in result.caps if c.rule.id == "UK-DVD-DRAFT-5G-ACCESS-CAP"]
    assert draft.exceeded and not draft.breach and not result.found
    assert "would be breached if adopted" in audit_text.render(result)


# P10: installed after the as-of date


def test_a_device_installed_after_the_audit_date_is_left_out(tmp_path: Path) -> None:
    result = audit_csv_text(
        tmp_path,
        "asset_id,manufacturer,network_domain,generation,install_date\n"
        "F1,Huawei,ran,5g,2024-05-01\nF2,Huawei,ran,5g,2022-01-01\n",
        None,
        "2023-01-01",
    )
    assert result.installed_later == 1 and result.devices == 1
    assert not result.violations and not result.found
    assert "1 device installed after the as-of date" in audit_text.render(result)


def test_evaluate_ignores_a_device_installed_later(make_rules: MakeRules) -> None:
    ban, removal = make_rules(
        {"effects": {"ban_new_after": "2020-01-01"}}, {"effects": {"remove_by": "2021-01-01"}}
    )
    later = Device("huawei", installed=D(2024, 5, 1))
    assert evaluate(later, ban, D(2023, 1, 1)) == ()
    assert evaluate(later, removal, D(2023, 1, 1)) == ()
    assert evaluate(later, removal, D(2025, 1, 1))[0].kind is Kind.VIOLATION


def test_a_violation_shows_the_device_date_not_its_bucket(tmp_path: Path) -> None:
    result = audit_csv_text(
        tmp_path,
        "asset_id,manufacturer,network_domain,generation,install_date\n"
        "A1,Huawei,ran,5g,2023-05-02\n",
        None,
        "2024-01-01",
    )
    (ban,) = [v for v in result.violations if "ban" in v.why]
    assert ban.why.startswith("installed 2023-05-02, on or after the ban")


# P3: caps on each vendor count makers outside the families

ACME = {
    "vendors": "any",
    "domains": ["ran"],
    "effects": {"cap_percent": 30, "cap_from": "2025-01-01"},
}


def test_any_vendor_cap_counts_makers_outside_the_families(tmp_path: Path, families) -> None:  # type: ignore[no-untyped-def]
    pack = parse_pack(pack_yaml(ACME, kind="custom"), "acme.yaml", families)
    rows = "".join(f"M{i},Mavenir,ran\n" for i in range(6)) + "E1,Ericsson,ran\nN1,Nokia,ran\n"
    result = audit_csv_text(
        tmp_path, "asset_id,manufacturer,network_domain\n" + rows, [pack], "2025-06-01"
    )
    shares = {(c.vendor, c.count, c.total, c.breach) for c in result.caps}
    assert ("Mavenir", 6, 8, True) in shares
    assert result.found


def test_entities_of_one_maker_are_counted_together(make_rules: MakeRules) -> None:
    (rule,) = make_rules(ACME)
    groups = [(Profile(None, "Mavenir", Domain.RAN, None, PUBLIC), 3),
              (Profile(None, "MAVENIR", Domain.RAN, None, PUBLIC), 3),
              (Profile(None, None, Domain.RAN, None, PUBLIC), 4)]  # fmt: skip
    (cap,) = evaluate_caps(groups, [rule], D(2025, 6, 1))
    assert (cap.vendor, cap.count, cap.total) == ("Mavenir", 6, 10)


# P7: impossible unquoted dates


@pytest.mark.parametrize("day", ["2025-13-01", "2025-02-30"])
def test_an_impossible_unquoted_date_is_a_problem_with_a_line(day: str, families) -> None:  # type: ignore[no-untyped-def]
    text = pack_yaml(ACME).replace("cap_from: '2025-01-01'", f"cap_from: {day}")
    assert f"cap_from: {day}" in text
    with pytest.raises(PolicyError) as caught:
        parse_pack(text, "bad.yaml", families)
    assert f"rules[0].effects.cap_from: invalid date '{day}'" in str(caught.value)
    assert str(caught.value).startswith("bad.yaml:")


# P14: spellings


def test_synonyms_are_read_and_unknown_values_are_bad_rows(tmp_path: Path) -> None:
    result = audit_csv_text(
        tmp_path,
        "asset_id,manufacturer,network_domain,generation\n"
        "A1,Huawei,ran,LTE\nA2,Huawei,ran,NR\nA3,Huawei,access,GPON\nA4,Huawei,RAN,4G/5G\n"
        "A5,Huawei,moon,6G\nA6,Huawei,moon,\n",
        None,
        "2025-01-01",
    )
    assert result.devices == 6
    assert {(e.domain, e.devices) for e in result.exposure} == {(Domain.RAN, 4), (None, 2)}
    assert [(b.column, b.value, b.devices, b.rows) for b in result.bad_values] == [
        ("generation", "6G", 1, (5,)),
        ("network_domain", "moon", 2, (5, 6)),
    ]
    ran5g = [d for d in result.deadlines if d.rule.id == "UK-DVD-5G"]
    assert sum(d.devices for d in ran5g) == 2  # NR and 4G/5G are 5G


# P2: what could not be placed


def test_unplaced_devices_and_undetermined_findings_are_reported(tmp_path: Path) -> None:
    result = audit_inventory(
        _write(tmp_path, "name,manufacturer,generation\nc1,Huawei,5g\nx1,,5g\n"),
        load_packs(["de"]),
        D(2025, 1, 1),
    )
    placed = result.placing
    assert placed is not None and placed.no_domain == 2 and placed.no_vendor == 1
    assert placed.undetermined >= 1 and result.undetermined
    entry = result.undetermined[0]
    assert entry.needs and "--assume" in entry.hint
    assert any("columns" in line for line in result.import_notes)
    assert result.identification
    doc = audit_json.document(result)
    assert doc["undetermined"] and doc["unplaced"] == {"no_domain": 2, "no_vendor": 1}
    assert any("without a network domain" in w for w in doc["warnings"])
    assert "undetermined," in audit_csv.render(result)
    text = audit_text.render(result)
    assert "Undetermined (device" in text and "Warnings" in text and "2 devices" in text


def test_text_lists_a_summary_per_rule_and_caps_the_device_list(tmp_path: Path) -> None:
    rows = "".join(f"C{i},Huawei,core,4g\n" for i in range(250))
    result = audit_csv_text(
        tmp_path, "asset_id,manufacturer,network_domain,generation\n" + rows, None, "2028-01-01"
    )
    text = audit_text.render(result)
    assert "Violations per rule (rule, devices):\n  UK-DVD-CORE  250" in text
    assert "... and 50 more violations" in text
    assert len(audit_json.document(result)["violations"]) == 250


def test_one_device_is_singular(tmp_path: Path) -> None:
    result = audit_csv_text(tmp_path, "asset_id,manufacturer\nA1,Nokia\n", None, "2025-01-01")
    assert "\n1 device (" in audit_text.render(result)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "inv.csv"
    path.write_text(text)
    return path
