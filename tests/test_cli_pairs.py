"""The real `netvet` process on the realistic pairs: exit codes, JSON contract, HTML output.

Runs `python -m netvet.cli.main` (and the installed console script when present) the way a
script would, with no CliRunner shortcuts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PAIRS = Path(__file__).resolve().parent / "fixtures" / "pairs"
REF = PAIRS / "base" / "update.tar"
BENIGN = PAIRS / "everything" / "dep.tar"
IMPLANTED = PAIRS / "implanted" / "dep.tar"
CONSOLE_SCRIPT = Path(sys.executable).parent / "netvet"


def netvet(*args: str | Path, script: bool = False) -> subprocess.CompletedProcess[str]:
    cmd = [str(CONSOLE_SCRIPT)] if script else [sys.executable, "-m", "netvet.cli.main"]
    return subprocess.run(
        [*cmd, *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "NETVET_DEBUG": ""},
        check=False,
    )


def compare_json(dep: Path, script: bool = False) -> tuple[int, dict[str, object]]:
    proc = netvet(
        "firmware", "compare", REF, dep, "--format", "json", "--no-progress", script=script
    )
    assert proc.returncode in (0, 1), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_equivalent_rebuild_exits_0_with_benign_findings() -> None:
    code, doc = compare_json(BENIGN)
    assert code == 0
    assert doc["verdict"] == "equivalent"
    findings = doc["findings"]
    assert isinstance(findings, list) and findings
    assert all(f["status"] == "benign" for f in findings)
    assert {"build-id", "build-time", "signature"} <= {f["class"] for f in findings}


def test_implanted_image_exits_1_and_locates_the_implants() -> None:
    code, doc = compare_json(IMPLANTED)
    assert code == 1
    assert doc["verdict"] == "different"
    findings = doc["findings"]
    assert isinstance(findings, list)
    unexplained = {f["path"]: f for f in findings if f["status"] == "unexplained"}
    agent = unexplained["update.tar/rootfs.squashfs/bin/oam-agent"]
    assert any((loc["symbol"] or "").startswith("check_password") for loc in agent["locations"])
    assert unexplained["update.tar/rootfs.squashfs/usr/lib/.hidden/backdoor"]["change"] == "added"
    assert "update.tar/rootfs.squashfs/etc/init.d/rcS" in unexplained


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="console script not installed")
def test_console_script_gives_the_same_exit_codes() -> None:
    assert compare_json(BENIGN, script=True)[0] == 0
    assert compare_json(IMPLANTED, script=True)[0] == 1


def test_text_and_html_reports(tmp_path: Path) -> None:
    text = netvet("firmware", "compare", REF, IMPLANTED, "--no-progress")
    assert text.returncode == 1, text.stderr
    assert "different" in text.stdout.lower()
    assert "check_password" in text.stdout
    out = tmp_path / "report.html"
    html = netvet(
        "firmware", "compare", REF, BENIGN, "--format", "html", "-o", out, "--no-progress"
    )
    assert html.returncode == 0, html.stderr
    page = out.read_text()
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "equivalent" in page
