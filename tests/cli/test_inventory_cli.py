"""`netvet inventory identify|discover` and `netvet registry update|show` end to end.

The sub-apps are mounted on a local Typer app here, as `netvet.cli.main` mounts them. No test
leaves 127.0.0.1: the offline update and the silent agent use ports nobody listens on.
"""

from __future__ import annotations

import csv
import io
import json
import socket
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner, Result

from netvet.cli import inventory, registry
from netvet.inventory.registry import store, update
from tests.inventory.snmpd_fixture import (
    COMMUNITY,
    SYS_NAME,
    free_udp_port,
    requires_snmpd,
    running_snmpd,
)

SAMPLES = Path(__file__).parent.parent / "inventory" / "samples"
NETBOX = SAMPLES / "netbox-devices.csv"
WALK = SAMPLES / "walk-huawei.txt"
ADDED = ["vendor", "vendor_entity", "vendor_confidence", "vendor_evidence", "vendor_conflict"]

app = typer.Typer()
app.add_typer(inventory.app, name="inventory")
app.add_typer(registry.app, name="registry")
runner = CliRunner()


def run(*args: str | Path) -> Result:
    return runner.invoke(app, [str(a) for a in args])


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def one_error_line(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("netvet: error: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    return result.stderr


# ----------------------------------------------------------------------------- identify


def test_identify_netbox_export_to_stdout() -> None:
    result = run("inventory", "identify", NETBOX)
    assert result.exit_code == 0, result.stderr
    table = rows(result.stdout)
    assert list(table[0])[-5:] == ADDED
    by_name = {r["Name"]: r for r in table}
    assert by_name["core-sw-01"]["vendor"] == "huawei"
    assert by_name["edge-rtr-01"]["vendor"] == "cisco"
    lts = by_name["cam-lobby-01"]
    assert (lts["vendor"], lts["vendor_entity"]) == ("hikvision", "LTS")
    assert "(white-label)" in lts["vendor_evidence"]
    # The summary is on stderr, not mixed into the rows.
    assert "5 device(s): 5 identified" in result.stderr
    assert "  huawei: 1" in result.stderr
    assert "white label 'LTS' -> hikvision: 1" in result.stderr
    assert "device(s)" not in result.stdout


def test_identify_snmpwalk_file(tmp_path: Path) -> None:
    out = tmp_path / "walk.json"
    result = run("inventory", "identify", WALK, "--output", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    (row,) = json.loads(out.read_text())
    assert row["vendor"] == "huawei"
    assert "pen=2011→huawei" in row["vendor_evidence"]
    assert f"rows written to {out}" in result.stderr


def test_identify_parquet_output(tmp_path: Path) -> None:
    out = tmp_path / "identified.parquet"
    result = run("inventory", "identify", NETBOX, "-o", out, "-f", "parquet")
    assert result.exit_code == 0, result.stderr
    frame = pl.read_parquet(out)
    assert frame.columns[-5:] == ADDED and frame.height == 5
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary left behind


def test_identify_parquet_needs_an_output_file() -> None:
    assert "--output" in one_error_line(run("inventory", "identify", NETBOX, "-f", "parquet"))


def test_map_names_the_manufacturer_column(tmp_path: Path) -> None:
    src = tmp_path / "plain.csv"
    src.write_text("Host,Fabrikat,Kind\nsw1,Huawei,switch\nsw2,ZTE,router\n")
    plain = run("inventory", "identify", src)
    assert plain.exit_code == 0, plain.stderr
    assert [r["vendor"] for r in rows(plain.stdout)] == ["", ""]  # "Fabrikat" is not known
    mapped = run("inventory", "identify", src, "--map", "Fabrikat=manufacturer")
    assert mapped.exit_code == 0, mapped.stderr
    assert [r["vendor"] for r in rows(mapped.stdout)] == ["huawei", "zte"]
    assert "manufacturer<-Fabrikat" in mapped.stderr


def test_bad_rows_are_reported_with_row_numbers_and_kept(tmp_path: Path) -> None:
    src = tmp_path / "macs.csv"
    src.write_text("name,manufacturer,mac\na,Huawei,zz\nb,Cisco,00:e0:fc:01:02:03\n")
    result = run("inventory", "identify", src)
    assert result.exit_code == 0, result.stderr
    assert [r["name"] for r in rows(result.stdout)] == ["a", "b"]
    assert "1 row(s) with malformed MAC address: 1" in result.stderr


def test_as_of_judges_a_divested_brand(tmp_path: Path) -> None:
    src = tmp_path / "honor.csv"
    src.write_text("name,manufacturer\nphone,Honor\n")
    before = run("inventory", "identify", src, "--as-of", "2020-01-01")
    after = run("inventory", "identify", src, "--as-of", "2021-01-01")
    assert rows(before.stdout)[0]["vendor"] == "huawei"
    assert rows(after.stdout)[0]["vendor"] == "honor"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--map", "Nope=manufacturer"], "'Nope'"),
        (["--map", "Manufacturer=maker"], "unknown field"),
        (["--map", "no-equals-sign"], "COLUMN=FIELD"),
        (["--as-of", "yesterday"], "--as-of"),
    ],
)
def test_bad_options_are_one_error_line(args: list[str], needle: str) -> None:
    assert needle in one_error_line(run("inventory", "identify", NETBOX, *args))


def test_unreadable_inputs_are_one_error_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.csv"
    assert f"{missing}: no such file" in one_error_line(run("inventory", "identify", missing))
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert "empty file" in one_error_line(run("inventory", "identify", empty))
    out = tmp_path / "no-such-dir" / "out.csv"
    assert f"cannot write {out}" in one_error_line(run("inventory", "identify", NETBOX, "-o", out))


# ----------------------------------------------------------------------------- discover


def test_discover_silent_agent_exits_1_and_says_why() -> None:
    port = free_udp_port()
    secret = "s3cret-community"
    result = run(
        "inventory", "discover", "--snmp", f"127.0.0.1:{port}", "--community", secret,
        "--timeout", "0.2", "--retries", "0",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    assert f"no answer from 127.0.0.1:{port} after 1 try (timeout 0.2s)" in result.stderr
    assert "0 of 1 target(s) answered" in result.stderr
    assert secret not in result.stdout + result.stderr
    assert result.stdout.splitlines()[0].endswith(",".join(ADDED))  # header, no rows
    assert len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--snmp", "bad host", "--community", "c"], "bad SNMP target"),
        (["--snmp", "127.0.0.1"], "--community"),
        (["--snmp", "127.0.0.1", "--community", "c", "--v3-user", "u"], "not both"),
        (["--snmp", "127.0.0.1", "--v3-user", "u", "--auth-key", "short"], "at least 8"),
        (["--snmp", "127.0.0.1", "--v3-user", "u", "--auth-protocol", "XX"], "XX"),
        (["--snmp", "127.0.0.1", "--community", "c", "--timeout", "0"], "timeout"),
    ],
)
def test_discover_usage_errors(args: list[str], needle: str) -> None:
    assert needle in one_error_line(run("inventory", "discover", *args))


def test_discover_never_prints_v3_keys() -> None:
    key = "hunter2-is-long"
    result = run(
        "inventory", "discover", "--snmp", "127.0.0.1", "--v3-user", "u",
        "--auth-key", key, "--security-level", "noAuthNoPriv",
    )  # fmt: skip
    assert key not in result.stderr and "auth key given" in one_error_line(result)


@requires_snmpd
def test_discover_a_real_agent(tmp_path: Path) -> None:
    with running_snmpd(tmp_path) as agent:
        out = tmp_path / "found.csv"
        result = run(
            "inventory", "discover", "--snmp", agent.target, "--community", COMMUNITY, "-o", out
        )
        raw = run(
            "inventory", "discover", "--snmp", agent.target, "--community", COMMUNITY,
            "--no-identify", "--format", "json",
        )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (row,) = rows(out.read_text())
    assert (row["name"], row["ip"], row["vendor"]) == (SYS_NAME, "127.0.0.1", "huawei")
    assert "pen=2011→huawei" in row["vendor_evidence"]
    assert "1 of 1 target(s) answered" in result.stderr
    assert raw.exit_code == 0, raw.stderr
    (device,) = json.loads(raw.stdout)
    assert device["sys_object_id"] == "1.3.6.1.4.1.2011.2.23.1" and "vendor" not in device


# ----------------------------------------------------------------------------- registry


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_registry_update_offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setattr(update, "IEEE_URLS", {"MA-L": f"{base}/oui.csv"})
    monkeypatch.setattr(update, "PEN_URL", f"{base}/enterprise-numbers.txt")
    result = run("registry", "update", "--timeout", "5")
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and all(ln.startswith("netvet: error: cannot reach") for ln in lines)
    assert "offline? the bundled snapshot from 2024-08-25 stays in use" in lines[0]
    assert "offline? the bundled snapshot from 2024-08-23 stays in use" in lines[1]
    assert not (tmp_path / "xdg-cache").exists()
    only_pen = run("registry", "update", "--no-oui", "--timeout", "5")
    assert only_pen.exit_code == 2 and only_pen.stderr.count("\n") == 1
    assert "enterprise-numbers" in only_pen.stderr


def test_registry_update_nothing_selected() -> None:
    assert "nothing to update" in one_error_line(run("registry", "update", "--no-oui", "--no-pen"))


def test_registry_show(tmp_path: Path) -> None:
    result = run("registry", "show")
    assert result.exit_code == 0, result.stderr
    assert "bundled  2024-08-25" in result.stdout and "bundled  2024-08-23" in result.stdout
    assert result.stdout.count("(in use)") == 2
    assert f"(none in {tmp_path / 'xdg-cache'}" in result.stdout


def test_registry_show_marks_a_newer_cache_in_use(tmp_path: Path) -> None:
    cache = tmp_path / "xdg-cache" / "netvet" / "registries"
    source = store.Source(
        "iana-pen", "IANA PEN", "http://127.0.0.1/pen", "2100-01-01", "2100-01-01", 3
    )
    store.write_info(cache, store.SnapshotInfo("pen", "2100-01-01", 3, (source,), str(cache)))
    result = run("registry", "show")
    assert result.exit_code == 0, result.stderr
    pen = result.stdout.split("IANA enterprise numbers:")[1]
    assert "bundled  2024-08-23  62240 entries\n" in pen
    assert f"cached   2100-01-01  3 entries in {cache}  (in use)" in pen
