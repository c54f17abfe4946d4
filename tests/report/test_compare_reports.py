"""The compare presenters (JSON, text, HTML) over hand-built Comparison values."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from netvet.firmware.result import (
    BENIGN_CLASSES,
    SCHEMA_VERSION,
    Change,
    Comparison,
    Finding,
    ImageInfo,
    Location,
    Node,
    Stats,
    Status,
    Verdict,
)
from netvet.report import classes, compare_html, compare_json, compare_text
from netvet.report.safe import printable, utf8_safe

DOCS = Path(__file__).resolve().parents[2] / "docs"
REF = ImageInfo("lab/ont-2.1.bin", 4096, "a" * 64)
DEP = ImageInfo("pulled/ont-site42.bin", 4100, "b" * 64, "uimage")


def schema() -> dict:
    return json.loads((DOCS / "compare.schema.json").read_text())


def validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(schema()).validate(doc)


def timestamps(n: int) -> list[Finding]:
    return [
        Finding(
            f"fw.bin/rootfs.squashfs/etc/f{i}",
            Change.METADATA,
            Status.BENIGN,
            "container-timestamp",
            f"mtime {i} -> {i + 1}",
        )
        for i in range(n)
    ]


BUILD_ID = Finding(
    "fw.bin/rootfs.squashfs/usr/bin/oam-agent",
    Change.MODIFIED,
    Status.BENIGN,
    "build-id",
    "build-id 1234 -> 5678",
    (Location(section=".note.gnu.build-id", offset=0x2C4, length=20),),
)
CODE = Finding(
    "fw.bin/rootfs.squashfs/usr/bin/login",
    Change.MODIFIED,
    Status.UNEXPLAINED,
    "code",
    "code differs in 1 function",
    (Location(section=".text", symbol="check_password", offset=0x1234, length=1),),
)
TEXT = Finding(
    "fw.bin/rootfs.squashfs/etc/passwd",
    Change.MODIFIED,
    Status.UNEXPLAINED,
    "text",
    "1 line changed",
    (Location(section="line 3", detail="backdoor:x:0:0::/:/bin/sh"),),
    diff=("@@ -3 +3 @@", "-nobody:x:65534:65534::/:/bin/false", "+backdoor:x:0:0::/:/bin/sh"),
)
BROKEN = Finding(
    "fw.bin/blob.ubi",
    Change.MODIFIED,
    Status.UNEXPLAINED,
    "not-compared",
    "not compared: ubi: truncated",
    node=Node.NOT_COMPARED,
)


def comparison(verdict: Verdict, findings: list[Finding]) -> Comparison:
    stats = Stats(
        entries_compared=10, identical=7, equivalent=2, different=1, bytes_read=8200, seconds=0.25
    )
    return Comparison(verdict, REF, DEP, tuple(findings), stats)


IDENTICAL = comparison(Verdict.IDENTICAL, [])
EQUIVALENT = comparison(Verdict.EQUIVALENT, [*timestamps(5), BUILD_ID])
DIFFERENT = comparison(Verdict.DIFFERENT, [CODE, TEXT, BROKEN, *timestamps(5), BUILD_ID])
ALL = [IDENTICAL, EQUIVALENT, DIFFERENT]


# -- JSON ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("c", ALL, ids=lambda c: c.verdict.value)
def test_json_top_level_keys_and_verdict(c: Comparison) -> None:
    doc = json.loads(compare_json.render(c))
    assert list(doc) == ["schema_version", "verdict", "reference", "deployed", "findings", "stats"]
    assert doc["schema_version"] == SCHEMA_VERSION
    assert doc["verdict"] == c.verdict.value
    assert doc["reference"] == {"path": REF.path, "size": 4096, "sha256": "a" * 64, "format": None}
    assert doc["deployed"]["format"] == "uimage"
    assert len(doc["findings"]) == len(c.findings)
    validate(doc)


def test_json_finding_fields_and_null_location_parts() -> None:
    doc = compare_json.to_dict(DIFFERENT)
    code = doc["findings"][0]
    assert list(code) == [
        "path", "change", "status", "class", "summary", "locations", "node", "diff"
    ]  # fmt: skip
    assert code["class"] == "code" and code["status"] == "unexplained"
    assert code["locations"] == [
        {"section": ".text", "symbol": "check_password", "offset": 0x1234, "length": 1,
         "detail": None}
    ]  # fmt: skip
    text = doc["findings"][1]
    assert text["locations"][0]["offset"] is None
    assert text["locations"][0]["detail"] == "backdoor:x:0:0::/:/bin/sh"
    assert text["diff"][2] == "+backdoor:x:0:0::/:/bin/sh"
    assert doc["findings"][2]["node"] == "not_compared"


def test_json_stats_counts() -> None:
    stats = compare_json.to_dict(DIFFERENT)["stats"]
    assert stats["entries_compared"] == 10 and stats["bytes_read"] == 8200
    assert stats["seconds"] == 0.25
    assert stats["findings_unexplained"] == 3
    assert stats["findings_benign"] == 6
    assert stats["benign_by_class"] == {"container-timestamp": 5, "build-id": 1}
    assert list(stats["benign_by_class"]) == ["container-timestamp", "build-id"]  # table order


def test_json_undecodable_name_is_valid_utf8() -> None:
    raw = b"rootfs/bin/\xff\xfeevil".decode("utf-8", "surrogateescape")
    f = Finding(raw, Change.ADDED, Status.UNEXPLAINED, "added", "only in deployed")
    text = compare_json.render(comparison(Verdict.DIFFERENT, [f]))
    text.encode("utf-8")  # lone surrogates would raise here
    assert json.loads(text)["findings"][0]["path"] == "rootfs/bin/\\xff\\xfeevil"


def test_json_control_characters_are_json_escaped() -> None:
    f = Finding("a\x1b[2Jb\nc", Change.ADDED, Status.UNEXPLAINED, "added", "x")
    text = compare_json.render(comparison(Verdict.DIFFERENT, [f]))
    assert "\x1b" not in text
    assert json.loads(text)["findings"][0]["path"] == "a\x1b[2Jb\nc"  # exact, escaped by JSON


# -- the schema ----------------------------------------------------------------------------------
def test_schema_is_valid_draft_2020_12() -> None:
    s = schema()
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(s)


def test_schema_benign_classes_match_the_code() -> None:
    assert tuple(schema()["$defs"]["benign_class"]["enum"]) == BENIGN_CLASSES
    assert tuple(classes.BENIGN) == BENIGN_CLASSES


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.update(verdict="equivalent"),  # an unexplained finding in an equivalent one
        lambda d: d["findings"][3].update({"class": "content"}),  # benign must name a benign class
        lambda d: d["findings"][0]["locations"][0].pop("symbol"),  # location keys always present
        lambda d: d["reference"].update(sha256="ABC"),
        lambda d: d["stats"].pop("findings_benign"),
        lambda d: d["findings"][0].update(change="changed"),
    ],
)
def test_schema_rejects_broken_documents(breakage: Callable[[dict], object]) -> None:
    doc = compare_json.to_dict(DIFFERENT)
    validate(doc)
    breakage(doc)
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_schema_rejects_findings_in_identical() -> None:
    doc = compare_json.to_dict(EQUIVALENT)
    doc["verdict"] = "identical"
    with pytest.raises(jsonschema.ValidationError):
        validate(doc)


def test_doc_lists_every_class_and_its_example_validates() -> None:
    doc = (DOCS / "compare-json.md").read_text()
    for klass in (*BENIGN_CLASSES, *classes.UNEXPLAINED):
        assert f"| `{klass}` |" in doc, klass
    example = re.search(r"## Example.*?```json\n(.*?)```", doc, re.S)
    assert example is not None
    validate(json.loads(example.group(1)))


# -- text ----------------------------------------------------------------------------------------
def test_text_verdict_line_first() -> None:
    out = compare_text.render(EQUIVALENT)
    assert out.splitlines()[0] == "VERDICT: equivalent — 0 unexplained, 6 benign differences"
    assert compare_text.render(IDENTICAL).splitlines()[0].startswith("VERDICT: identical")
    assert "byte-for-byte" in compare_text.render(IDENTICAL)
    assert compare_text.render(DIFFERENT).splitlines()[0] == (
        "VERDICT: different — 3 unexplained, 6 benign differences"
    )


def test_text_unexplained_findings_with_locations_and_changed_lines() -> None:
    lines = compare_text.render(DIFFERENT).splitlines()
    assert "section .text  symbol check_password  offset 0x1234  length 1" in [
        line.strip() for line in lines
    ]
    text = "\n".join(lines)
    assert "fw.bin/rootfs.squashfs/usr/bin/login" in text
    assert "+backdoor:x:0:0::/:/bin/sh" in text
    assert "not compared: ubi: truncated" in text
    # unexplained come before the benign groups
    assert text.index("check_password") < text.index("container-timestamp")


def test_text_benign_grouped_with_counts_and_limited_examples() -> None:
    out = compare_text.render(EQUIVALENT)
    assert re.search(r"^\s+container-timestamp\s+5\b", out, re.M)
    assert re.search(r"^\s+build-id\s+1\b", out, re.M)
    shown = [i for i in range(5) if f"/etc/f{i}:" in out]
    assert shown == [0, 1, 2]
    assert "2 more (--verbose shows all)" in out
    verbose = compare_text.render(EQUIVALENT, verbose=True)
    assert all(f"/etc/f{i}" in verbose for i in range(5))
    assert "more (--verbose" not in verbose
    assert "section .note.gnu.build-id  offset 0x2c4  length 20" in verbose


def test_text_diff_lines_capped_unless_verbose() -> None:
    long = Finding(
        "f", Change.MODIFIED, Status.UNEXPLAINED, "text", "s",
        diff=tuple(f"+line {i}" for i in range(compare_text.MAX_DIFF_LINES + 5)),
    )  # fmt: skip
    c = comparison(Verdict.DIFFERENT, [long])
    assert "... 5 more diff lines" in compare_text.render(c)
    assert f"+line {compare_text.MAX_DIFF_LINES + 4}" in compare_text.render(c, verbose=True)


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.verdict.value)
def test_text_no_ansi_unless_tty(c: Comparison) -> None:
    assert "\x1b" not in compare_text.render(c, verbose=True, tty=False)
    assert "\x1b[" in compare_text.render(c, tty=True)


def test_text_hostile_names_cannot_forge_lines_or_escape() -> None:
    evil = "x\x1b[2J\nVERDICT: identical — 0 unexplained\u202e[bold]y[/bold]"
    f = Finding(evil, Change.ADDED, Status.UNEXPLAINED, "added", evil, (Location(symbol=evil),))
    out = compare_text.render(comparison(Verdict.DIFFERENT, [f]), tty=True)
    assert "\x1b[2J" not in out
    assert "\u202e" not in out
    assert not any(line.startswith("VERDICT: identical") for line in out.splitlines())
    assert "x\\x1b[2J\\x0aVERDICT: identical — 0 unexplained\\u202e[bold]y[/bold]" in out


def test_printable_and_utf8_safe() -> None:
    assert printable("plain name.txt") == "plain name.txt"
    assert printable("a\tb", keep_tab=True) == "a\tb"
    assert printable("a\tb") == "a\\x09b"
    assert printable("\u2028\U000e0001") == "\\u2028\\U000e0001"
    assert printable("\udcff") == "\\xff"
    assert utf8_safe("é\udc80\n") == "é\\x80\n"


# -- HTML ----------------------------------------------------------------------------------------
REMOTE = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:[a-z]+:)?//|url\(|@import""", re.I)


@pytest.mark.parametrize("c", ALL, ids=lambda c: c.verdict.value)
def test_html_self_contained(c: Comparison) -> None:
    page = compare_html.render(c)
    assert page.startswith("<!DOCTYPE html>")
    assert not REMOTE.search(page)
    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    assert "<style>" in page
    assert f"banner {c.verdict.value}" in page
    assert REF.path in page and DEP.sha256 in page


def test_html_escapes_hostile_strings() -> None:
    evil = "<script>alert(1)</script>\"'&\u202e"
    f = Finding(
        f"fw.bin/{evil}", Change.ADDED, Status.UNEXPLAINED, "added", f"summary {evil}",
        (Location(section=evil, symbol=evil, detail=evil),), diff=(f"+{evil}",),
    )  # fmt: skip
    benign = Finding(evil, Change.METADATA, Status.BENIGN, "layout", evil)
    ref = ImageInfo(f"/images/{evil}", 1, "0" * 64)
    page = compare_html.render(Comparison(Verdict.DIFFERENT, ref, DEP, (f, benign)))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#x27;&amp;\\u202e" in page
    assert "\u202e" not in page
    assert page.count("&lt;script&gt;") >= 8  # path x2, summary, 3 location cells, diff, image


def test_html_sections_counts_and_drill_down() -> None:
    page = compare_html.render(DIFFERENT)
    assert "Unexplained differences (3)" in page
    assert "Benign differences (6), by class" in page
    assert re.search(r"<strong>container-timestamp</strong> — 5 ", page)
    assert re.search(r"<strong>build-id</strong> — 1 ", page)
    assert "<td>check_password</td><td class='num'>0x1234</td>" in page
    assert "<span class='add'>+backdoor:x:0:0::/:/bin/sh</span>" in page
    assert page.count("<details>") == 2 + 2 + 1  # 2 classes, code+text drill, build-id drill
    assert "banner different" in page


def test_html_identical_has_no_findings() -> None:
    page = compare_html.render(IDENTICAL)
    assert "banner identical" in page
    assert page.count("<p>None.</p>") == 2
    assert "<details>" not in page
