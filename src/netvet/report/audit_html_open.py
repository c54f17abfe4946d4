"""The HTML report's parts about what the audit could not see: the warnings (devices left out
or not placed, values not understood) and the undetermined findings per device, so a page that
shows no violation never hides that devices could not be judged."""

from __future__ import annotations

from html import escape

from netvet.policy.audit_run import AuditResult
from netvet.report.audit_notes import warnings
from netvet.report.safe import printable

LISTED = 1000  # undetermined rows shown on the page; the json and csv formats list more


def _t(s: str | None) -> str:
    return escape(printable(s or "—"), quote=True)


def warnings_html(r: AuditResult) -> str:
    notes = warnings(r)
    if not notes:
        return ""
    items = "".join(f"<li>{_t(n)}</li>" for n in notes)
    return (
        "<div class='note' id='warnings'><strong>What the audit could not see</strong>"
        f"<ul>{items}</ul></div>"
    )


def undetermined_html(r: AuditResult) -> str:
    entries = r.undetermined
    if not entries:
        return ""
    total = r.placing.undetermined if r.placing else len(entries)
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{_t(x)}</td>"
            for x in (
                u.device or f"row {u.row}",
                u.name,
                u.site,
                u.vendor or "unidentified",
                u.domain or "unknown",
                u.rule.id,
                u.would_be,
                "; and ".join(u.needs),
                u.hint,
            )
        )
        + "</tr>"
        for u in entries[:LISTED]
    )
    head = ("device", "name", "site", "vendor", "domain", "rule", "would be", "unknown", "settle")
    ths = "".join(f"<th>{h}</th>" for h in head)
    more = (
        f"<p class='about'>The first {LISTED} of {total} are shown; the json and csv formats "
        "list more.</p>"
        if total > LISTED
        else ""
    )
    return (
        f"<h2 id='undetermined'>Undetermined ({total})</h2><table><tr>{ths}</tr>{rows}</table>"
        + more
    )
