"""The audit as CSV, one row per finding: each violation (one device), each deadline ahead
(devices of one domain and site), each undetermined finding (one device; the first
`unplaced.KEPT`) and each exceeded cap (one domain), after one `assumption`
row per rule condition the user settled (so a sheet never hides what it rests on).
Spreadsheet formula injection is defused: a cell starting with = + - @ or a tab/CR gets a
leading apostrophe."""

from __future__ import annotations

import csv
import io

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import percent_text
from netvet.report.safe import utf8_safe

COLUMNS = (
    "kind",
    "rule",
    "jurisdiction",
    "status",
    "unconfirmed",
    "device",
    "name",
    "site",
    "vendor",
    "domain",
    "devices",
    "date",
    "why",
)
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else utf8_safe(str(value))
    return "'" + text if text.startswith(_FORMULA) else text


def render(result: AuditResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for a in result.assumptions:
        r = a.rule
        verdict = "holds" if a.holds else "does not hold (rule left out)"
        given = f"{a.given}={'yes' if a.holds else 'no'}"
        why = f"assumed (--assume {given}): {verdict}: {a.condition}"
        row = ("assumption", r.id, r.jurisdiction, r.status.value, not r.status.firm)
        writer.writerow(_cell(x) for x in (*row, *[None] * 7, why))
    for v in result.violations:
        r = v.rule
        device = v.device or f"row {v.row}"
        writer.writerow(
            _cell(x)
            for x in (
                "violation",
                r.id,
                r.jurisdiction,
                r.status.value,
                v.unconfirmed,
                device,
                v.name,
                v.site,
                v.vendor,
                v.domain,
                1,
                v.since.isoformat(),
                v.why,
            )
        )
    for d in result.deadlines:
        r = d.rule
        writer.writerow(
            _cell(x)
            for x in (
                "deadline",
                r.id,
                r.jurisdiction,
                r.status.value,
                d.unconfirmed,
                None,
                None,
                d.site,
                None,
                d.domain,
                d.devices,
                d.due.isoformat(),
                f"must be removed by {d.due.isoformat()}",
            )
        )
    for u in result.undetermined:
        r = u.rule
        why = f"would be {u.would_be or '?'} if {'; and '.join(u.needs)}"
        if u.hint:
            why += f" (settle with {u.hint})"
        row = ("undetermined", r.id, r.jurisdiction, r.status.value, not r.status.firm)
        cells = (u.device or f"row {u.row}", u.name, u.site, u.vendor, u.domain, 1, None)
        writer.writerow(_cell(x) for x in (*row, *cells, why))
    for c in result.caps:
        if not c.exceeded:
            continue
        r = c.rule
        kind = "cap-breach" if c.breach else "cap-exceeded"
        why = (
            f"share {percent_text(c.share)}% ({c.count}/{c.total}) over the cap of "
            f"{percent_text(c.limit)}%" + ("" if c.in_force else " that applies from then")
        )
        if c.in_force and not c.breach:
            why += f"; {c.state}"
        writer.writerow(
            _cell(x)
            for x in (
                kind,
                r.id,
                r.jurisdiction,
                r.status.value,
                c.unconfirmed,
                None,
                None,
                None,
                c.vendor,
                c.domain,
                c.count,
                c.effect.day.isoformat(),
                why,
            )
        )
    return buffer.getvalue()
