"""The joint stance as one self-contained HTML page: inline CSS, no script, no external resource.

A colour-coded matrix (a row per vendor and domain, a column per jurisdiction, the colour the
kind of restriction), the rules behind the headlines with their status and sources, the
criteria-only mechanisms and, when asked for, the gaps. Rule ids, instruments, conditions and
URLs of custom packs are user-written: everything goes through `printable` and `html.escape`,
and source URLs are shown as text, never as links (a page that must open offline needs none).
A Content-Security-Policy forbidding scripts and remote loads backs that up.
"""

from __future__ import annotations

from html import escape

from netvet.policy.stance import Stance
from netvet.report.safe import printable
from netvet.report.stance_labels import (
    CONDITIONAL_MARK,
    UNCONFIRMED_MARK,
    StanceReport,
    cell_text,
    filled_rows,
    gap_side_text,
    headline_rules,
    in_effect,
)

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:1em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}.about{color:#666}code,.url{font-family:ui-monospace,monospace}
.url{font-size:.9em;word-break:break-all}
td.remove_by{background:#f4b6b6}td.ban_new_after{background:#f9d3b4}
td.cap_percent{background:#e6c9f2}td.authorisation_required{background:#fbeeb0}
td.designation_only{background:#cfe3f7}td.none{color:#999}
td.past{font-weight:bold}.unconfirmed{border-style:dashed;border-color:#a66}
.restricts{color:#8e0000}.silent{color:#1b5e20}
"""

LEGEND = (
    ("remove_by", "must be removed by"),
    ("ban_new_after", "no new equipment from"),
    ("cap_percent", "share capped"),
    ("authorisation_required", "needs authorisation"),
    ("designation_only", "designated high-risk"),
    ("none", "nothing"),
)


def _t(s: str) -> str:
    """Escape a user-written string for element text and quoted attributes."""
    return escape(printable(s), quote=True)


def _cell(cell: Stance, report: StanceReport) -> str:
    if cell.rule is None or cell.effect is None:
        return "<td class='none'>—</td>"
    classes = [cell.effect.kind.value]
    if in_effect(cell.effect, report.as_of):
        classes.append("past")
    if not cell.rule.status.firm:
        classes.append("unconfirmed")
    title = f"{cell.rule.id} ({cell.rule.status.value})"
    return (
        f"<td class='{' '.join(classes)}' title='{_t(title)}'>{_t(cell_text(cell))}"
        f"<br><code class='about'>{_t(cell.rule.id)}</code></td>"
    )


def _matrix(report: StanceReport) -> str:
    stance = report.stance
    rows = filled_rows(stance)
    if not rows:
        return "<p>No jurisdiction restricts these vendors in these domains.</p>"
    head = "<tr><th>vendor</th><th>domain</th>" + "".join(
        f"<th title='{_t(report.names(j))}'>{_t(j)}</th>" for j in stance.jurisdictions
    )
    body = []
    for vendor, domain in rows:
        cells = "".join(_cell(stance.cell(j, vendor, domain), report) for j in stance.jurisdictions)
        body.append(f"<tr><th>{_t(vendor)}</th><td>{domain.value}</td>{cells}</tr>")
    legend = "".join(
        f"<table style='display:inline-table;margin:0 .3em'><tr><td class='{kind}'>{about}"
        "</td></tr></table>"
        for kind, about in LEGEND
    )
    note = (
        f"<p class='about'>{UNCONFIRMED_MARK} rests on an unconfirmed fact (dashed border); "
        f"{CONDITIONAL_MARK} conditional (a condition netvet cannot check, or only some "
        "entities); bold: the date has come by the as-of date; (5g): the generations the rule "
        "covers.</p>"
    )
    return f"<table>{head}</tr>{''.join(body)}</table><div class='legend'>{legend}</div>{note}"


def _rules(report: StanceReport) -> str:
    rules = headline_rules(report)
    if not rules:
        return ""
    rows = []
    for rule in rules:
        extra = []
        if rule.condition is not None:
            extra.append(f"only if: {_t(rule.condition)}")
        if rule.vendors.entities:
            extra.append("only for: " + _t(", ".join(rule.vendors.entities)))
        sources = "<br>".join(
            f"<span class='url'>{_t(s.url)}</span>" if s.url else _t(s.fact) for s in rule.sources
        )
        rows.append(
            f"<tr><td><code>{_t(rule.id)}</code></td><td>{_t(rule.jurisdiction)}</td>"
            f"<td>{rule.status.value}</td><td>{_t(rule.instrument)}"
            f"<div class='about'>{'<br>'.join(extra)}</div></td><td>{sources}</td></tr>"
        )
    head = (
        "<tr><th>rule</th><th>jurisdiction</th><th>status</th><th>instrument</th>"
        "<th>sources</th></tr>"
    )
    return f"<h2>Rules behind the headlines</h2><table>{head}{''.join(rows)}</table>"


def _unnamed(report: StanceReport) -> str:
    found = [(j, r) for j, rules in report.stance.unnamed.items() for r in rules]
    if not found:
        return ""
    rows = "".join(
        f"<tr><td>{_t(j)}</td><td><code>{_t(r.id)}</code></td><td>{r.status.value}</td>"
        f"<td>{_t(r.vendors.criteria or '')}</td></tr>"
        for j, r in found
    )
    return (
        "<h2>Mechanisms that name no vendor (criteria only)</h2><table><tr><th>jurisdiction</th>"
        f"<th>rule</th><th>status</th><th>criteria</th></tr>{rows}</table>"
    )


def _gaps(report: StanceReport) -> str:
    if report.gaps is None:
        return ""
    title = f"<h2>Gaps: where one ally restricts and another does not ({len(report.gaps)})</h2>"
    if not report.gaps:
        return title + "<p>None: every jurisdiction compared restricts the same pairs.</p>"
    rows = []
    for gap in report.gaps:
        restricting = "<br>".join(
            f"<b>{_t(c.jurisdiction)}</b>: {_t(gap_side_text(c))}" for c in gap.restricting
        )
        silent = "<br>".join(
            f"<b>{_t(c.jurisdiction)}</b>: {_t(gap_side_text(c))}" for c in gap.silent
        )
        rows.append(
            f"<tr><th>{_t(gap.vendor)}</th><td>{gap.domain.value}</td>"
            f"<td class='restricts'>{restricting}</td><td class='silent'>{silent}</td></tr>"
        )
    head = "<tr><th>vendor</th><th>domain</th><th>restricts</th><th>does not</th></tr>"
    return f"{title}<table>{head}{''.join(rows)}</table>"


def render(report: StanceReport) -> str:
    """The whole HTML document as a string."""
    codes = ", ".join(
        f"<b>{_t(j)}</b> ({_t(report.names(j))})" for j in report.stance.jurisdictions
    )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>netvet joint stance as of {report.as_of.isoformat()}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>Joint stance as of {report.as_of.isoformat()}</h1><p>{codes}</p>"
        "<p class='about'>Each cell: the strongest restriction of the vendor in the domain, "
        "with its date and the rule it comes from.</p>"
        + _matrix(report)
        + _gaps(report)
        + _rules(report)
        + _unnamed(report)
        + "</body></html>\n"
    )
