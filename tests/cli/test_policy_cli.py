"""`netvet policy compare|list|validate` end to end: the matrix, gaps, formats, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner, Result

from netvet.cli.main import app

runner = CliRunner()

CUSTOM = """\
schema_version: 1
jurisdiction: ACME
name: ACME <script>alert(1)</script> procurement
kind: custom
as_of: '2026-03-01'
rules:
- id: ACME-NO-HRV-2027
  instrument: Policy v3 <b>section</b> 2.1 & "quotes"
  sources:
  - fact: Board decision of 2026-02-12
  status: reported
  vendors: [huawei, zte]
  domains: any
  generations: any
  operators: any
  effects:
    ban_new_after: '2027-01-01'
"""

BAD = """\
schema_version: 1
jurisdiction: ACME
name: ACME
kind: custom
as_of: '2026-03-01'
rules:
- id: ACME-X
  instrument: Policy
  sources:
  - fact: Board decision
  status: confirmed
  vendors: [huawai]
  domains: any
  generations: any
  operators: any
  effects:
    remove_bye: '2027'
"""


def policy(*args: str | Path) -> Result:
    return runner.invoke(app, ["policy", *map(str, args)])


def test_compare_text_shows_matrix_with_uk_core_and_de_rules() -> None:
    result = policy("compare", "uk", "de", "fr", "--as-of", "2026-06-01")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Joint stance as of 2026-06-01" in out
    core = next(line for line in out.splitlines() if line.startswith("huawei") and "core" in line)
    assert "remove by 2023-12-31" in core  # UK: Huawei out of the core by end of 2023
    assert "remove by 2026-12-31 (5g)?" in core  # DE: out of the 5G core, conditional
    assert "UK-DVD-CORE" in out and "DE-2024-CORE" in out and "DE-2024-MANAGEMENT" in out
    assert "FR-HUAWEI-AUTHORISATIONS-END  reported" in out  # unconfirmed facts say so
    assert "remove by 2028 (5g)*" in out
    assert "Gaps" not in out
    assert "\x1b" not in out


def test_compare_gaps_lists_where_allies_differ() -> None:
    result = policy("compare", "uk", "de", "fr", "--gaps")
    assert result.exit_code == 0, result.output
    text = result.stdout.split("Gaps: where one ally restricts", 1)[1]
    assert re.search(r"huawei / core\n\s+restricts\s+UK: remove by 2023-12-31", text)
    assert re.search(r"does not\s+FR: nothing", text)


def test_as_of_leaves_out_rules_not_yet_in_force() -> None:
    result = policy("compare", "uk", "--as-of", "2020-01-01")
    assert result.exit_code == 0, result.output
    assert "UK-DVD-CORE" not in result.stdout


def test_html_is_self_contained_and_escaped(tmp_path: Path) -> None:
    custom = tmp_path / "acme.yaml"
    custom.write_text(CUSTOM, encoding="utf-8")
    out = tmp_path / "stance.html"
    result = policy(
        "compare", "uk", "de", "--policy-file", custom, "--gaps", "--format", "html", "-o", out
    )
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*https?:""", page, re.IGNORECASE)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;section&lt;/b&gt; 2.1 &amp; &quot;quotes&quot;" in page
    assert "class='remove_by" in page  # colour-coded cells
    assert "Gaps: where one ally restricts" in page
    assert "ACME-NO-HRV-2027" in page


def test_json_structure() -> None:
    result = policy("compare", "uk", "de", "--gaps", "--format", "json", "--as-of", "2026-06-01")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["as_of"] == "2026-06-01"
    assert [j["code"] for j in doc["jurisdictions"]] == ["UK", "DE"]
    assert doc["domains"][0] == "core" and "huawei" in doc["vendors"]
    cell = next(
        c
        for c in doc["cells"]
        if (c["jurisdiction"], c["vendor"], c["domain"]) == ("UK", "huawei", "core")
    )
    head = cell["headline"]
    assert (head["rule"], head["effect"], head["day"]) == ("UK-DVD-CORE", "remove_by", "2023-12-31")
    assert head["in_effect"] is True and head["unconfirmed"] is False
    assert isinstance(doc["gaps"], list) and doc["gaps"]
    assert {"vendor", "domain", "restricting", "silent"} <= set(doc["gaps"][0])


def test_unknown_code_is_one_line_exit_2() -> None:
    result = policy("compare", "uk", "zz")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("netvet: error: zz: no such policy pack; shipped:")
    assert "uk" in lines[0] and "de" in lines[0]


def test_vendor_option_narrows_and_checks_slugs() -> None:
    result = policy("compare", "uk", "de", "--vendor", "zte", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["vendors"] == ["zte"]
    result = policy("compare", "uk", "--vendor", "huawai")
    assert result.exit_code == 2
    assert result.stderr.startswith("netvet: error: --vendor: unknown vendor family huawai;")


def test_bad_as_of_exit_2() -> None:
    result = policy("compare", "uk", "--as-of", "2026-13-01")
    assert result.exit_code == 2
    assert "--as-of" in result.stderr


def test_invalid_custom_policy_in_compare_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = policy("compare", "uk", "--policy-file", bad)
    assert result.exit_code == 2
    assert f"{bad}:17: rules[0].effects.remove_bye: unknown field" in result.stderr


def test_validate_bad_file_exit_2_with_file_line_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = policy("validate", bad)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"netvet: error: {bad}:") for line in lines)
    assert any(":17: rules[0].effects.remove_bye: unknown field" in line for line in lines)


def test_validate_good_file_exit_0(tmp_path: Path) -> None:
    good = tmp_path / "acme.yaml"
    good.write_text(CUSTOM, encoding="utf-8")
    result = policy("validate", good)
    assert result.exit_code == 0, result.output
    assert "valid (1 rules, jurisdiction ACME)" in result.stdout


def test_list_shows_shipped_packs() -> None:
    result = policy("list")
    assert result.exit_code == 0, result.output
    rows = result.stdout.strip().splitlines()[1:]
    assert len(rows) >= 13
    uk = next(r for r in rows if r.startswith("uk "))
    assert "United Kingdom" in uk and "2026-11" in uk
