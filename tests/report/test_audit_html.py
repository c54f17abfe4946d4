"""The HTML audit report: self-contained (nothing fetched), escaped, with both charts, and
what headless Chromium shows when it renders the page (screenshot kept in tests/artifacts/)."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from netvet.policy import load_packs
from netvet.policy.audit_run import AuditResult, audit_inventory
from netvet.policy.model import Domain
from netvet.report import audit_html

SAMPLE = Path(__file__).parents[1] / "policy" / "samples" / "operator-inventory.csv"
ROLES = {"olt": Domain.RAN, "oss": Domain.MANAGEMENT, "cctv": Domain.SURVEILLANCE}
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<script>x</script>"


def uk(day: str, path: Path = SAMPLE) -> AuditResult:
    return audit_inventory(path, load_packs(["uk"]), dt.date.fromisoformat(day), role_map=ROLES)


def hostile_inventory(tmp_path: Path) -> Path:
    """The sample with A001 (a Huawei core router, a violation in 2028) renamed hostilely."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines = [line.replace("lon-core-01", HOSTILE) for line in lines]
    assert any(HOSTILE in line for line in lines)
    path = tmp_path / "hostile.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_page_is_self_contained_and_has_both_charts() -> None:
    page = audit_html.render(uk("2028-01-01"))
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"(src|href)\s*=|url\(|<script|<link|@import", page, re.I)
    assert "default-src 'none'" in page
    assert page.count("<svg") == 2
    assert "id='exposure-chart'" in page and "id='timeline-chart'" in page
    exposure = page.split("id='exposure-chart'")[1].split("</svg>")[0]
    assert exposure.count("<rect") >= 16  # a segment per vendor and domain, plus the legend
    assert ">huawei</text>" in exposure and ">unidentified</text>" in exposure


def test_headline_tables_and_unconfirmed_note() -> None:
    result = uk("2028-01-01")
    page = audit_html.render(result)
    assert f"<b>{result.devices}</b>devices audited" in page
    assert f"<b>{len(result.violations)}</b>violations" in page
    assert f"<b>{len(result.breaches)}</b>caps breached" in page
    assert "<b>2028-01-01</b>as of" in page and "<b>UK</b>policy packs" in page
    assert result.breaches and "<tr class='breach'>" in page
    assert page.count("<tr class='breach'>") == len(result.breaches)
    assert result.unconfirmed and "id='unconfirmed'" in page
    for v in result.violations:
        assert f"<td>{v.rule.id}" in page


def test_timeline_shows_overdue_and_ahead_deadlines() -> None:
    late = audit_html.timeline_points(uk("2028-01-01"))
    assert (dt.date(2023, 12, 31), "UK-DVD-CORE", 2, True) in late
    assert all(overdue for *_, overdue in late)  # nothing left ahead in 2028
    early = uk("2023-06-01")
    points = audit_html.timeline_points(early)
    ahead = [p for p in points if not p[3]]
    assert ahead and sum(p[2] for p in ahead) == sum(d.devices for d in early.deadlines)
    page = audit_html.render(early)
    timeline = page.split("id='timeline-chart'")[1].split("</svg>")[0]
    for _, rule, _, _ in ahead:
        assert rule in timeline
    assert "as of 2023-06-01" in timeline


def test_hostile_device_name_is_escaped(tmp_path: Path) -> None:
    result = uk("2028-01-01", hostile_inventory(tmp_path))
    assert any(v.name == HOSTILE for v in result.violations)
    page = audit_html.render(result)
    assert "<script" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[bytes]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1280,2000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, timeout=120, check=False)


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian chromium not installed (make system-deps)"
)
def test_chromium_renders_the_report(tmp_path: Path) -> None:
    result = uk("2028-01-01", hostile_inventory(tmp_path))
    page = tmp_path / "audit.html"
    page.write_text(audit_html.render(result), encoding="utf-8")
    url = page.as_uri()

    dumped = _chromium(["--dump-dom", url], tmp_path / "profile-dom")
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode("utf-8")
    assert f"<b>{result.devices}</b>devices audited" in dom
    assert f"<b>{len(result.violations)}</b>violations" in dom
    assert f"<b>{len(result.breaches)}</b>caps breached" in dom
    assert ">huawei</text>" in dom  # a vendor label of the exposure chart
    assert "<svg" in dom and "UK-DVD-CORE" in dom
    assert "&lt;script&gt;x&lt;/script&gt;" in dom and "<script" not in dom

    shot = tmp_path / "audit.png"
    done = _chromium([f"--screenshot={shot}", url], tmp_path / "profile-shot")
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "audit-report.png")
