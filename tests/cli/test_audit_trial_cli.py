"""`netvet audit` / `netvet policy validate` on the user trial's repro inputs (issue #4): exit
codes and what the user is told on stderr and in the reports."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from netvet.cli.main import app

runner = CliRunner()

ACME = """\
schema_version: 1
jurisdiction: ACME
name: ACME procurement
kind: custom
as_of: '2025-01-01'
rules:
- id: ACME-RAN-DIVERSITY
  instrument: ACME policy s.4
  sources:
  - fact: At most 30% of the RAN from any single vendor
  status: confirmed
  vendors: any
  domains: [ran]
  generations: any
  operators: any
  effects:
    cap_percent: 30
    cap_from: '2025-01-01'
"""


def run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_a_draft_cap_does_not_set_exit_1(tmp_path: Path) -> None:
    inv = write(
        tmp_path,
        "draftcap.csv",
        "asset_id,manufacturer,network_domain,generation,install_date\n"
        "R1,Huawei,ran,5g,2020-01-15\nR2,Huawei,ran,5g,2020-01-16\nR3,Ericsson,ran,5g,2021-11-30\n",
    )
    result = run("audit", inv, "--policy", "uk", "--as-of", "2025-01-01", "-f", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (draft,) = [c for c in doc["caps"] if c["rule"]["id"] == "UK-DVD-DRAFT-5G-ACCESS-CAP"]
    assert draft["breach"] is False and draft["state"] == "would be breached if adopted"
    adopted = run(
        "audit", inv, "--policy", "uk", "--as-of", "2025-01-01",
        "--assume", "UK-DVD-DRAFT-5G-ACCESS-CAP=yes",
    )  # fmt: skip
    assert adopted.exit_code == 1 and "BREACHED" in adopted.stdout


def test_a_device_installed_after_as_of_is_left_out(tmp_path: Path) -> None:
    inv = write(
        tmp_path,
        "future.csv",
        "asset_id,manufacturer,network_domain,generation,install_date\n"
        "F1,Huawei,ran,5g,2024-05-01\n",
    )
    result = run("audit", inv, "--policy", "uk", "--as-of", "2023-01-01")
    assert result.exit_code == 0, result.output
    assert "1 device installed after the as-of date 2023-01-01 left out" in result.stderr


def test_any_vendor_cap_reports_mavenir(tmp_path: Path) -> None:
    rows = "".join(f"M{i},Mavenir,ran,2024-01-01\n" for i in range(6))
    rows += "E1,Ericsson,ran,2024-01-01\nE2,Ericsson,ran,2024-01-01\nE3,Ericsson,ran,2024-01-01\n"
    rows += "N1,Nokia,ran,2024-01-01\n"
    inv = write(
        tmp_path, "mavenir.csv", "asset_id,manufacturer,network_domain,install_date\n" + rows
    )
    pack = write(tmp_path, "acme.yaml", ACME)
    result = run("audit", inv, "--policy-file", pack, "--as-of", "2025-06-01")
    assert result.exit_code == 1, result.output
    assert "Mavenir  60% (6/10) vs 30%" in result.stdout


def test_an_impossible_unquoted_date_exits_2_with_a_line(tmp_path: Path) -> None:
    for day in ("2025-13-01", "2025-02-30"):
        pack = write(
            tmp_path, "bad.yaml", ACME.replace("cap_from: '2025-01-01'", f"cap_from: {day}")
        )
        checked = run("policy", "validate", pack)
        assert checked.exit_code == 2, checked.output
        assert f"bad.yaml:18: rules[0].effects.cap_from: invalid date '{day}'" in checked.stderr
        assert "Traceback" not in checked.output
        inv = write(tmp_path, "inv.csv", "asset_id,manufacturer\nA1,Huawei\n")
        audited = run("audit", inv, "--policy-file", pack)
        assert audited.exit_code == 2 and "invalid date" in audited.stderr
        assert "bug" not in audited.stderr


def test_unusual_spellings_never_stop_the_audit(tmp_path: Path) -> None:
    inv = write(
        tmp_path,
        "gen.csv",
        "asset_id,manufacturer,network_domain,generation\n"
        "A1,Huawei,ran,LTE\nA2,Huawei,ran,NR\nA3,Huawei,access,4G/5G\nA4,Huawei,ran,GPON\n"
        "A5,Huawei,moon,6G\n",
    )
    result = run("audit", inv, "--policy", "uk", "--as-of", "2025-01-01", "-f", "json")
    assert result.exit_code == 1, result.output  # the fixed-access (GPON) cap: not an error
    doc = json.loads(result.stdout)
    assert {(b["column"], b["value"], tuple(b["rows"])) for b in doc["bad_values"]} == {
        ("generation", "6G", (5,)),
        ("network_domain", "moon", (5,)),
    }
    assert "unknown value '6G' in 1 device (row 5)" in result.stderr


def test_an_audit_that_cannot_place_devices_says_so(tmp_path: Path) -> None:
    inv = write(tmp_path, "fabrikat.csv", "Gerät,Fabrikat,Netzbereich\nber-1,Huawei,core\n")
    result = run("audit", inv, "--policy", "uk", "--as-of", "2025-01-01")
    assert result.exit_code == 0, result.output
    assert "columns not used: Gerät, Fabrikat, Netzbereich" in result.stderr
    assert "1 of 1 device without a network domain" in result.stderr
    assert "1 of 1 device without any vendor signal" in result.stderr
    assert "Warnings (what the audit could not see)" in result.stdout


def test_undetermined_findings_in_every_format(tmp_path: Path) -> None:
    inv = write(
        tmp_path,
        "de.csv",
        "asset_id,manufacturer,network_domain,generation\nC1,Huawei,core,5g\n",
    )
    base = ("audit", inv, "--policy", "de", "--as-of", "2025-01-01")
    text = run(*base)
    assert "Undetermined (device" in text.stdout and "--assume DE-" in text.stdout
    assert "undetermined" in text.stderr
    doc = json.loads(run(*base, "-f", "json").stdout)
    assert doc["undetermined"] and doc["undetermined"][0]["hint"].startswith("--assume")
    assert "\nundetermined," in run(*base, "-f", "csv").stdout
    assert "<h2 id='undetermined'>Undetermined (" in run(*base, "-f", "html").stdout
