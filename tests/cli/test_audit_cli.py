"""`netvet audit` end to end on the sample inventory: exit codes, formats, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from netvet.cli import audit

SAMPLE = Path(__file__).parents[1] / "policy" / "samples" / "operator-inventory.csv"
ROLES = ["--role-map", "olt=ran", "--role-map", "oss=management", "--role-map", "cctv=surveillance"]

app = typer.Typer()
app.command("audit")(audit.audit)
app.command("noop")(lambda: None)  # two commands: `audit` stays a named sub-command
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["audit", *args])


def test_violations_exit_1_with_text_report() -> None:
    result = run(str(SAMPLE), "--policy", "uk", "--as-of", "2028-01-01", *ROLES)
    assert result.exit_code == 1, result.output
    assert "UK-DVD-CORE" in result.stdout and "A001" in result.stdout


def test_clean_audit_exits_0() -> None:
    result = run(str(SAMPLE), "--policy", "uk", "--as-of", "2022-01-01", *ROLES)
    assert result.exit_code == 0, result.output
    assert "Violations: none" in result.stdout


def test_deadline_ahead_in_json(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    result = run(
        str(SAMPLE), "-p", "uk", "--as-of", "2023-01-01", *ROLES, "-f", "json", "-o", str(out)
    )
    assert result.exit_code == 0  # A006 (installed 2023-05-02) did not exist yet: left out
    doc = json.loads(out.read_text())
    core = [d for d in doc["deadlines"] if d["rule"]["id"] == "UK-DVD-CORE"]
    assert core == [
        {
            "due": "2023-12-31",
            "rule": core[0]["rule"],
            "domain": "core",
            "site": "London",
            "devices": 2,
            "unconfirmed": False,
            "approximate": False,
        }
    ]


def test_csv_has_one_row_per_finding() -> None:
    result = run(str(SAMPLE), "--policy", "uk", "--as-of", "2028-01-01", *ROLES, "-f", "csv")
    assert result.exit_code == 1
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    core = [r for r in rows if r["rule"] == "UK-DVD-CORE"]
    assert {r["device"] for r in core} == {"A001", "A002"}
    assert any(r["kind"] == "cap-breach" for r in rows)


def test_two_packs_conditional_rules_stay_undetermined() -> None:
    # every German rule has a condition netvet cannot see: undetermined, never a violation
    result = run(str(SAMPLE), "--policy", "uk,de", "--as-of", "2028-01-01", *ROLES, "-f", "json")
    doc = json.loads(result.stdout)
    assert doc["policies"] == ["UK", "DE"]
    assert not any(v["rule"]["jurisdiction"] == "DE" for v in doc["violations"])
    de_core = [f for f in doc["other_findings"] if f["rule"]["id"] == "DE-2024-CORE"]
    assert de_core == [
        {"kind": "undetermined", "would_be": "violation", "rule": de_core[0]["rule"], "devices": 1}
    ]


def test_custom_policy_cap(tmp_path: Path) -> None:
    policy = tmp_path / "acme.yaml"
    policy.write_text(
        "schema_version: 1\njurisdiction: ACME\nname: ACME\nkind: custom\nas_of: '2026'\n"
        "rules:\n- id: ACME-RAN-30\n  instrument: procurement policy\n  sources:\n"
        "  - fact: at most 30% of RAN from one vendor\n  status: confirmed\n  vendors: any\n"
        "  domains: [ran]\n  generations: any\n  operators: any\n"
        "  effects:\n    cap_percent: 30\n    cap_from: '2027-07-01'\n"
    )
    args = [str(SAMPLE), "--policy-file", str(policy), *ROLES, "-f", "json"]
    result = run(*args, "--as-of", "2028-01-01")
    assert result.exit_code == 1
    caps = {c["vendor"]: c for c in json.loads(result.stdout)["caps"]}
    assert caps["huawei"]["breach"] and caps["huawei"]["share_percent"] == 40.0  # 6 of 15
    assert not caps["nokia"]["exceeded"]  # 4 of 15
    assert run(*args, "--as-of", "2027-01-01").exit_code == 0  # cap lies ahead


def test_missing_inventory_exits_2(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.csv"), "--policy", "uk")
    assert result.exit_code == 2
    assert "no such file" in result.stderr


def test_bad_options_exit_2() -> None:
    assert run(str(SAMPLE)).exit_code == 2  # no policy
    assert run(str(SAMPLE), "--policy", "xx").exit_code == 2
    assert run(str(SAMPLE), "--policy", "uk", "--role-map", "olt=radio").exit_code == 2
    assert run(str(SAMPLE), "--policy", "uk", "--as-of", "2028-13-01").exit_code == 2
    bad_scope = run(str(SAMPLE), "--policy", "uk", "--scope", "military")
    assert bad_scope.exit_code == 2 and "operator scope" in bad_scope.stderr
