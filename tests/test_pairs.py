"""End to end: realistic firmware pairs built with the real tools (tests/fixtures/pairs).

Each case of cases.json is one rebuild of the reference firmware. Benign rebuilds must come out
`equivalent` with every finding benign and the expected classes named; changed pairs must come
out `different` with an unexplained finding at the expected path, located as expected.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from netvet.firmware import compare
from netvet.firmware.result import BENIGN_CLASSES, Comparison, Finding, Location, Status, Verdict

PAIRS = Path(__file__).resolve().parent / "fixtures" / "pairs"
CASES: list[dict[str, Any]] = json.loads((PAIRS / "cases.json").read_text())["cases"]


def by_verdict(verdict: str) -> list[Any]:
    return [pytest.param(c, id=c["name"]) for c in CASES if c["verdict"] == verdict]


def run(case: dict[str, Any]) -> Comparison:
    return compare(PAIRS / case["ref"], PAIRS / case["dep"])


def show(result: Comparison) -> str:
    """The findings, one per line, for assertion messages."""
    lines = [f"verdict {result.verdict.value}"]
    for f in result.findings:
        locs = "; ".join(
            f"{loc.section}|{loc.symbol}|{loc.offset}|{loc.detail}" for loc in f.locations
        )
        lines.append(f"  {f.status.value:11} {f.klass:18} {f.change.value:8} {f.path}: {f.summary}")
        if locs:
            lines.append(f"      at {locs}")
    return "\n".join(lines)


def path_matches(path: str, suffix: str) -> bool:
    return path == suffix or path.endswith("/" + suffix)


def symbol_matches(symbol: str | None, want: str) -> bool:
    """`check_password` matches `check_password` and `check_password+0x1b`."""
    return symbol is not None and (symbol == want or symbol.startswith(want + "+"))


def location_matches(loc: Location, pattern: dict[str, Any]) -> bool:
    if "section" in pattern and loc.section != pattern["section"]:
        return False
    if "symbol" in pattern and not symbol_matches(loc.symbol, pattern["symbol"]):
        return False
    if "offset" in pattern and loc.offset != pattern["offset"]:
        return False
    return "detail_contains" not in pattern or pattern["detail_contains"] in (loc.detail or "")


def finding_matches(f: Finding, want: dict[str, Any]) -> bool:
    if f.status is not Status.UNEXPLAINED or not path_matches(f.path, want["path"]):
        return False
    if "change" in want and f.change.value != want["change"]:
        return False
    if "class" in want and f.klass != want["class"]:
        return False
    patterns = want.get("locations_any")
    if not patterns:
        return True
    return any(location_matches(loc, p) for loc in f.locations for p in patterns)


def test_cases_are_well_formed() -> None:
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    for case in CASES:
        assert (PAIRS / case["ref"]).is_file(), case["ref"]
        assert (PAIRS / case["dep"]).is_file(), case["dep"]
        assert case["verdict"] in ("equivalent", "different")
        if case["verdict"] == "equivalent":
            assert set(case["benign"]) <= set(BENIGN_CLASSES), case["name"]
        else:
            assert case["expect"], case["name"]
    # Every benign class of the design has a rebuild that shows it alone or with its cause.
    shown = {k for c in CASES if c["verdict"] == "equivalent" for k in c["benign"]}
    assert shown == set(BENIGN_CLASSES)


@pytest.mark.parametrize("case", by_verdict("equivalent"))
def test_benign_rebuild_is_equivalent(case: dict[str, Any]) -> None:
    result = run(case)
    assert result.verdict is Verdict.EQUIVALENT, show(result)
    assert result.findings, "bytes differ, so some finding must say why"
    for f in result.findings:
        assert f.status is Status.BENIGN, show(result)
        assert f.klass in BENIGN_CLASSES, show(result)
    named = {f.klass for f in result.findings}
    missing = set(case["benign"]) - named
    assert not missing, f"benign classes not named: {sorted(missing)}\n{show(result)}"


@pytest.mark.parametrize("case", by_verdict("different"))
def test_changed_pair_is_different_and_located(case: dict[str, Any]) -> None:
    result = run(case)
    assert result.verdict is Verdict.DIFFERENT, show(result)
    for want in case["expect"]:
        assert any(finding_matches(f, want) for f in result.findings), (
            f"no unexplained finding matches {want}\n{show(result)}"
        )


def test_reference_against_itself_is_identical() -> None:
    ref = PAIRS / "base" / "update.tar"
    result = compare(ref, ref)
    assert result.verdict is Verdict.IDENTICAL
    assert result.findings == ()
