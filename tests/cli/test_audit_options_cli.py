"""`netvet audit` options beyond the basics: --assume (shown in every format), --map and
--input-format (as `netvet inventory identify` reads them), role files, --policy all."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from netvet.cli import audit
from netvet.cli.common import InputFormat
from netvet.inventory.importers import READERS

SAMPLES = Path(__file__).parents[1] / "policy" / "samples"
SAMPLE = SAMPLES / "operator-inventory.csv"
ROLES = ["--role-map", "olt=ran", "--role-map", "oss=management", "--role-map", "cctv=surveillance"]
BASE = [str(SAMPLE), "--policy", "uk,de", "--as-of", "2028-01-01", *ROLES]

app = typer.Typer()
app.command("audit")(audit.audit)
app.command("noop")(lambda: None)
runner = CliRunner()


def run(*args: str) -> Result:
    return runner.invoke(app, ["audit", *args])


def test_assume_yes_makes_the_german_core_rule_a_violation() -> None:
    before = json.loads(run(*BASE, "-f", "json").stdout)
    assert not [v for v in before["violations"] if v["rule"]["id"] == "DE-2024-CORE"]
    result = run(*BASE, "-f", "json", "--assume", "DE-2024-CORE=yes")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    core = [v["device"] for v in doc["violations"] if v["rule"]["id"] == "DE-2024-CORE"]
    assert core == ["A002"]
    assert doc["assumptions"] == [
        {
            "rule": "DE-2024-CORE",
            "given": "DE-2024-CORE",
            "condition": "the device is a critical component",
            "holds": True,
        }
    ]


def test_assumptions_show_in_text_csv_and_html() -> None:
    args = [*BASE, "--assume", "de-*=no", "--assume", "UK-DVD-SENSITIVE-SITES=yes"]
    text = run(*args).stdout
    assert "Assumed (--assume; rule, condition):" in text
    assert "DE-2024-CORE  does not hold (rule left out): the device is a critical" in text
    assert "UK-DVD-SENSITIVE-SITES  holds: the equipment is at a site" in text
    rows = list(csv.DictReader(io.StringIO(run(*args, "-f", "csv").stdout)))
    assumed = {r["rule"]: r["why"] for r in rows if r["kind"] == "assumption"}
    assert list(assumed)[0] == "UK-DVD-SENSITIVE-SITES" and len(assumed) == 5  # rule order
    assert assumed["DE-2024-CORE"].startswith("assumed (--assume de-*=no): does not hold")
    page = run(*args, "-f", "html").stdout
    block = re.search(r"<div class='note' id='assumptions'>(.*?)</div>", page, re.S)
    assert block and "DE-2024-MANAGEMENT" in block.group(1)
    assert "does not hold (rule left out)" in block.group(1)


def test_without_assumptions_nothing_is_said() -> None:
    assert "Assumed" not in run(*BASE).stdout
    assert "id='assumptions'" not in run(*BASE, "-f", "html").stdout
    rows = list(csv.DictReader(io.StringIO(run(*BASE, "-f", "csv").stdout)))
    assert not [r for r in rows if r["kind"] == "assumption"]


@pytest.mark.parametrize(
    ("assume", "message"),
    [
        ("DE-2024-COR=yes", "no such rule in the selected packs (did you mean DE-2024-CORE?)"),
        ("UK-DVD-CORE=yes", "rule UK-DVD-CORE has no condition to assume"),
        ("FR-*=yes", "matches no rule with a condition"),
        ("DE-2024-CORE=maybe", "'maybe' is not yes or no"),
        ("DE-2024-CORE", "expected RULE=yes or RULE=no"),
        ("=yes", "expected RULE=yes or RULE=no"),
    ],
)
def test_bad_assumptions_exit_2_with_a_clear_message(assume: str, message: str) -> None:
    result = run(*BASE, "--assume", assume)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_contradictory_assumptions_exit_2() -> None:
    result = run(*BASE, "--assume", "DE-2024-CORE=yes", "--assume", "DE-2024-CORE=no")
    assert result.exit_code == 2 and "both yes and no" in result.stderr
    result = run(*BASE, "--assume", "DE-*=yes", "--assume", "DE-2024-CORE=no")
    assert result.exit_code == 2 and "settle rule DE-2024-CORE differently" in result.stderr


def test_help_documents_the_new_options() -> None:
    text = " ".join(run("--help").stdout.split())
    for needle in ("--assume", "RULE=yes", "--map", "--input-format", "ROLE=DOMAIN|FILE"):
        assert needle in text, needle


def test_map_and_input_format_as_identify_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "export.dat"  # an extension that says nothing
    path.write_text(
        "Kennung;Hersteller;Funktion;Inbetriebnahme\n"
        "K1;Huawei;Kernnetz;2020-01-01\n"
        "K2;Nokia;Kernnetz;2020-01-01\n"
    )
    args = [
        str(path),
        "-p",
        "uk",
        "--as-of",
        "2028-01-01",
        "--input-format",
        "csv",
        "--map",
        "Kennung=id",
        "--map",
        "Hersteller=manufacturer",
        "--map",
        "Funktion=role",
        "--map",
        "Inbetriebnahme=date",
        "--role-map",
        "kernnetz=core",
        "-f",
        "json",
    ]
    result = run(*args)
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    core = [v for v in doc["violations"] if v["rule"]["id"] == "UK-DVD-CORE"]
    assert [(v["device"], v["vendor"], v["domain"]) for v in core] == [("K1", "huawei", "core")]


def test_bad_map_and_input_format_exit_2(tmp_path: Path) -> None:
    bad = run(str(SAMPLE), "-p", "uk", "--map", "manufacturer")
    assert bad.exit_code == 2 and "expected COLUMN=FIELD" in bad.stderr
    unknown = run(str(SAMPLE), "-p", "uk", "--map", "model=colour")
    assert unknown.exit_code == 2 and "colour" in unknown.stderr
    wrong = run(str(SAMPLE), "-p", "uk", "--input-format", "xlsx")
    assert wrong.exit_code == 2 and "Traceback" not in wrong.output
    assert run(str(SAMPLE), "-p", "uk", "--input-format", "word").exit_code == 2


def test_input_formats_are_the_importers() -> None:
    assert {f.value for f in InputFormat} - {"auto"} == set(READERS)


def test_netbox_export_with_a_role_file() -> None:
    args = [str(SAMPLES / "netbox-devices.csv"), "-p", "uk", "--as-of", "2028-01-01"]
    result = run(*args, "--role-map", str(SAMPLES / "netbox-roles.yaml"), "-f", "json")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert [(v["device"], v["domain"]) for v in doc["violations"]] == [("101", "core")]
    assert doc["unmapped_roles"] == [{"role": "PDU", "devices": 1}]
    assert "role 'PDU' (1 device) maps to no domain" in result.stderr
    without = json.loads(run(*args, "-f", "json").stdout)
    assert not without["violations"]  # no mapping: every domain unknown


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("Core Router: backbone\n", "roles.yaml:1: 'backbone' is not a domain"),
        ("a: &x core\nb: *x\n", "alias"),
    ],
)
def test_bad_role_file_exits_2(tmp_path: Path, content: str, message: str) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_text(content)
    result = run(str(SAMPLES / "netbox-devices.csv"), "-p", "uk", "--role-map", str(roles))
    assert result.exit_code == 2 and message in result.stderr


def test_role_map_neither_pair_nor_file_exits_2() -> None:
    result = run(str(SAMPLE), "-p", "uk", "--role-map", "roles.yaml")
    assert result.exit_code == 2 and "not ROLE=DOMAIN" in result.stderr


def test_policy_all_audits_every_shipped_pack() -> None:
    doc = json.loads(run(str(SAMPLE), "--policy", "all", *ROLES, "-f", "json").stdout)
    assert len(doc["policies"]) == 21 and "US" in doc["policies"]


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff\xfe garbage \x00",
        b"olt: ran\n" + b"x" * (2 << 20),
        b"[" * 10_000,
        b"\x1b[31mOLT\x1b[0m: backbone\n",
    ],
)
def test_hostile_role_files_exit_2_cleanly(tmp_path: Path, content: bytes) -> None:
    roles = tmp_path / "roles.yaml"
    roles.write_bytes(content)
    result = run(str(SAMPLE), "-p", "uk", "--role-map", str(roles))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "\x1b" not in result.stderr


def test_hostile_role_names_are_printed_safely(tmp_path: Path) -> None:
    inventory = tmp_path / "inv.csv"
    inventory.write_text("id,manufacturer,role\nX1,Huawei,\x1b[2Jcore\u202e\n")
    result = run(str(inventory), "-p", "uk")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr
    assert "maps to no domain" in result.stderr
