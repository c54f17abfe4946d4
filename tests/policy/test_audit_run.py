"""The audit of an inventory file: violations per device, deadlines per domain and site, caps,
exposure, identification only when needed, and how a row's domain is derived."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.policy import load_packs
from netvet.policy.audit_run import AuditResult, audit_inventory
from netvet.policy.evaluate import Kind
from netvet.policy.model import Domain, OperatorScope
from netvet.report import audit_csv, audit_json, audit_text

SAMPLE = Path(__file__).parent / "samples" / "operator-inventory.csv"
ROLES = {"olt": Domain.RAN, "oss": Domain.MANAGEMENT, "cctv": Domain.SURVEILLANCE}


def uk(day: str, path: Path = SAMPLE, **kw: object) -> AuditResult:
    kw.setdefault("role_map", ROLES)
    return audit_inventory(path, load_packs(["uk"]), dt.date.fromisoformat(day), **kw)  # type: ignore[arg-type]


def test_huawei_core_is_a_violation_after_the_core_deadline() -> None:
    result = uk("2028-01-01")
    core = [v for v in result.violations if v.rule.id == "UK-DVD-CORE"]
    assert [(v.device, v.vendor, v.domain, v.since) for v in core] == [
        ("A001", "huawei", Domain.CORE, dt.date(2024, 1, 1)),
        ("A002", "huawei", Domain.CORE, dt.date(2024, 1, 1)),
    ]
    assert result.identified and result.found and result.devices == 30
    # installed after the 5G ban: violation since its own install day
    ban = [v for v in result.violations if v.device == "A006" and "ban" in v.why]
    assert [v.since for v in ban] == [dt.date(2023, 5, 2)]
    assert not any(v.vendor in ("nokia", "ericsson") for v in result.violations)


def test_the_same_device_before_the_deadline_is_a_deadline_ahead() -> None:
    result = uk("2023-01-01")
    assert not any(v.rule.id == "UK-DVD-CORE" for v in result.violations)
    core = [d for d in result.deadlines if d.rule.id == "UK-DVD-CORE"]
    assert [(d.due, d.domain, d.site, d.devices) for d in core] == [
        (dt.date(2023, 12, 31), Domain.CORE, "London", 2)
    ]
    ran5g = {(d.site, d.devices) for d in result.deadlines if d.domain is Domain.RAN}
    assert ran5g == {("London", 1), ("Bristol", 1)}  # A006 (2023-05-02) did not exist yet
    assert result.installed_later == 1


def test_before_the_direction_existed_nothing_is_due() -> None:
    # UK rules are in force from 2022-10-13: an audit as of 2022-01-01 shows no deadline
    result = uk("2022-01-01")
    assert not result.violations and not result.deadlines and not result.found


def test_fibre_access_cap_is_breached() -> None:
    cap = next(c for c in uk("2028-01-01").caps if c.rule.id == "UK-DVD-FIBRE-ACCESS-CAP")
    assert (cap.domain, cap.count, cap.total, cap.breach) == (Domain.RAN, 3, 6, True)
    before = next(c for c in uk("2023-01-01").caps if c.rule.id == "UK-DVD-FIBRE-ACCESS-CAP")
    assert before.exceeded and not before.breach and not before.in_force


def test_exposure_and_unidentified_rows() -> None:
    exposure = {(e.vendor, e.domain): e.devices for e in uk("2028-01-01").exposure}
    assert exposure[("huawei", Domain.RAN)] == 6
    assert exposure[("hikvision", Domain.SURVEILLANCE)] == 3  # LTS white label
    assert exposure[(None, None)] == 1  # unknown maker, unmapped role "lab"


def test_unconfirmed_flag_follows_the_rules_status() -> None:
    result = uk("2028-01-01")
    assert result.unconfirmed  # the proposed 5G access cap is exceeded
    confirmed = [v for v in result.violations if v.rule.id == "UK-DVD-CORE"]
    assert confirmed and not any(v.unconfirmed for v in confirmed)


def test_inventory_with_vendor_column_skips_identification(tmp_path: Path) -> None:
    path = tmp_path / "identified.csv"
    path.write_text(
        "id,vendor,vendor_entity,network_domain,install_date\n"
        "X1,huawei,,core,2020-01-01\n"
        "X2,,,core,2020-01-01\n"
        "X3,nokia,,core,2020-01-01\n"
    )
    result = uk("2028-01-01", path, role_map={})
    assert not result.identified
    assert [v.device for v in result.violations] == ["X1"]
    assert {(e.vendor, e.devices) for e in result.exposure} == {
        ("huawei", 1),
        (None, 1),
        ("nokia", 1),
    }


def test_vendor_column_with_raw_names_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "raw.csv"
    path.write_text("id,vendor,network_domain\nX1,Huawei Technologies,core\n")
    with pytest.raises(InputError, match="vendor family slugs"):
        uk("2028-01-01", path)


def test_domain_sources_and_unknown_values(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_text("id,vendor,zone,role\nX1,huawei,CORE,olt\nX2,huawei,,oss\nX3,huawei,,\n")
    result = uk("2028-01-01", path, domain_column="zone", default_domain=Domain.TRANSPORT)
    domains = {(e.domain, e.devices) for e in result.exposure}
    assert domains == {(Domain.CORE, 1), (Domain.MANAGEMENT, 1), (Domain.TRANSPORT, 1)}
    with pytest.raises(InputError, match="no column"):
        uk("2028-01-01", path, domain_column="nope")
    path.write_text("id,vendor,network_domain\nX1,huawei,backbone\nX2,huawei,moon\n")
    result = uk("2028-01-01", path)  # a synonym is read, an unknown value never stops the run
    assert {(e.domain, e.devices) for e in result.exposure} == {(Domain.TRANSPORT, 1), (None, 1)}
    assert [(b.column, b.value, b.devices, b.rows) for b in result.bad_values] == [
        ("network_domain", "moon", 1, (2,))
    ]


def test_operator_scope_outside_the_rules_reaches_nothing() -> None:
    result = uk("2028-01-01", operators=frozenset({OperatorScope.PUBLIC_SECTOR}))
    assert not result.violations and not result.caps and not result.found


def test_undetermined_findings_are_tallied() -> None:
    tallies = {(t.kind, t.rule.id): t for t in uk("2028-01-01").tallies}
    sites = tallies[(Kind.UNDETERMINED, "UK-DVD-SENSITIVE-SITES")]
    assert sites.would_be is Kind.VIOLATION and sites.devices == 10


def test_presenters() -> None:
    result = uk("2028-01-01")
    text = audit_text.render(result)
    assert "UK-DVD-CORE" in text and "BREACHED" in text and "A001" in text
    doc = audit_json.document(result)
    assert doc["found"] and doc["violations"][0]["rule"]["id"] == result.violations[0].rule.id
    rows = audit_csv.render(result).splitlines()
    assert rows[0].startswith("kind,rule,jurisdiction")
    assert sum(r.startswith("violation,") for r in rows) == len(result.violations)
    assert any(r.startswith("cap-breach,UK-DVD-FIBRE-ACCESS-CAP") for r in rows)
