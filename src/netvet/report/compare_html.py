"""A Comparison as one self-contained HTML page: inline CSS, no script, no external resource.

Every string that came out of an image (paths, summaries, locations, diff lines) is hostile: it
goes through `printable` (control and bidi characters made visible) and `html.escape`. A
Content-Security-Policy that forbids scripts and every remote load backs that up: even a
missed escape could not run code or fetch anything.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from netvet.firmware.result import Comparison, Finding, ImageInfo, Location, Verdict
from netvet.report.classes import describe
from netvet.report.compare_json import benign_by_class
from netvet.report.compare_text import MEANING, verdict_line
from netvet.report.safe import printable

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
.banner{padding:.8em 1em;border-radius:6px;font-size:1.2em;font-weight:bold}
.banner p{font-size:.8em;font-weight:normal;margin:.3em 0 0}
.identical,.equivalent{background:#dff3df;border:2px solid #2e7d32;color:#1b5e20}
.different{background:#fde0e0;border:2px solid #c62828;color:#8e0000}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code,pre,.path{font-family:ui-monospace,monospace;font-size:.92em;word-break:break-all}
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;white-space:pre;word-break:normal}
.del{color:#b71c1c}.add{color:#1b5e20}.about{color:#666}
details{margin:.2em 0}summary{cursor:pointer}
"""


def _t(s: str) -> str:
    """Escape a hostile string for element text and quoted attributes."""
    return escape(printable(s), quote=True)


def _image_row(role: str, info: ImageInfo) -> str:
    return (
        f"<tr><th>{role}</th><td class='path'>{_t(info.path)}</td>"
        f"<td class='num'>{info.size:,}</td><td><code>{_t(info.sha256)}</code></td>"
        f"<td>{_t(info.format)}</td></tr>"
    )


def _images(c: Comparison) -> str:
    return (
        "<h2>Images</h2><table><tr><th></th><th>path</th><th>bytes</th><th>sha256</th>"
        "<th>format</th></tr>"
        + _image_row("reference", c.reference)
        + _image_row("deployed", c.deployed)
        + "</table>"
    )


def _stats(c: Comparison) -> str:
    s = c.stats
    rows = [
        ("entries compared", s.entries_compared),
        ("identical", s.identical),
        ("equivalent", s.equivalent),
        ("different", s.different),
        ("not compared", s.not_compared),
        ("containers opened", s.containers_opened),
        ("bytes read", s.bytes_read),
        ("unexplained findings", len(c.unexplained)),
        ("benign findings", len(c.benign)),
    ]
    cells = "".join(f"<tr><th>{k}</th><td class='num'>{v:,}</td></tr>" for k, v in rows)
    cells += f"<tr><th>seconds</th><td class='num'>{s.seconds:.3f}</td></tr>"
    return f"<h2>Statistics</h2><table style='width:auto'>{cells}</table>"


def _cell(v: str | int | None, num: bool = False) -> str:
    if v is None:
        return "<td>—</td>"
    if isinstance(v, int):
        return f"<td class='num'>{v:#x}</td>" if num else f"<td class='num'>{v}</td>"
    return f"<td>{_t(v)}</td>"


def _locations(locs: tuple[Location, ...]) -> str:
    if not locs:
        return ""
    head = "<tr><th>section</th><th>symbol</th><th>offset</th><th>length</th><th>detail</th></tr>"
    rows = "".join(
        "<tr>"
        + _cell(loc.section)
        + _cell(loc.symbol)
        + _cell(loc.offset, num=loc.section != "lines")
        + _cell(loc.length)
        + _cell(loc.detail)
        + "</tr>"
        for loc in locs
    )
    return f"<table>{head}{rows}</table>"


def _diff(lines: tuple[str, ...]) -> str:
    if not lines:
        return ""
    out = []
    for line in lines:
        cls = (
            " class='del'"
            if line.startswith("-")
            else " class='add'"
            if line.startswith("+")
            else ""
        )
        out.append(f"<span{cls}>{escape(printable(line, keep_tab=True), quote=True)}</span>")
    return "<pre>" + "\n".join(out) + "</pre>"


def _drill(f: Finding) -> str:
    """The <details> with a finding's locations and diff lines; "" when it has neither."""
    if not f.locations and not f.diff:
        return ""
    label = f"{len(f.locations)} location(s), {len(f.diff)} diff line(s)"
    return f"<details><summary>{label}</summary>{_locations(f.locations)}{_diff(f.diff)}</details>"


def _findings_table(findings: list[Finding] | tuple[Finding, ...]) -> str:
    head = "<tr><th>path</th><th>change</th><th>class</th><th>node</th><th>summary</th></tr>"
    rows = []
    for f in findings:
        rows.append(
            f"<tr><td class='path'>{_t(f.path)}</td><td>{f.change.value}</td>"
            f"<td title='{_t(describe(f.klass))}'>{_t(f.klass)}</td><td>{f.node.value}</td>"
            f"<td>{_t(f.summary)}</td></tr>"
        )
        drill = _drill(f)
        if drill:
            rows.append(f"<tr><td colspan='5'>{drill}</td></tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _unexplained(c: Comparison) -> str:
    title = f"<h2>Unexplained differences ({len(c.unexplained)})</h2>"
    if not c.unexplained:
        return title + "<p>None.</p>"
    return title + _findings_table(c.unexplained)


def _benign(c: Comparison) -> str:
    title = f"<h2>Benign differences ({len(c.benign)}), by class</h2>"
    if not c.benign:
        return title + "<p>None.</p>"
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in c.benign:
        groups[f.klass].append(f)
    parts = [title]
    for klass, count in benign_by_class(c).items():
        parts.append(
            f"<details><summary><strong>{_t(klass)}</strong> — {count} "
            f"<span class='about'>{_t(describe(klass))}</span></summary>"
            f"{_findings_table(groups[klass])}</details>"
        )
    return "".join(parts)


def render(c: Comparison) -> str:
    """The whole HTML document as a string."""
    v = c.verdict.value
    banner = f"<div class='banner {v}'>{_t(verdict_line(c))}<p>{_t(MEANING[Verdict(v)])}</p></div>"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>netvet firmware compare: {v}</title><style>{CSS}</style></head><body>"
        f"<h1>netvet firmware compare</h1>{banner}"
        + _images(c)
        + _unexplained(c)
        + _benign(c)
        + _stats(c)
        + "</body></html>\n"
    )
