"""The audit as plain text for a terminal or a ticket: a summary line, warnings about what the
audit could not see, violations (per rule, then per device up to `LISTED`), cap standings,
deadlines ahead, open questions, undetermined findings per device and the exposure.

Facts whose status is not confirmed are marked `*`, partial dates `~`; the legend says so.
Every string from the inventory or a policy file goes through `printable`.
"""

from __future__ import annotations

from collections import Counter

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import percent_text
from netvet.report.audit_notes import plural, warnings
from netvet.report.safe import printable

LISTED = 200  # per-device lines in text; the json and csv formats list every one


def _mark(unconfirmed: bool, approximate: bool = False) -> str:
    return ("*" if unconfirmed else "") + ("~" if approximate else "")


def _device(row: int, device: str | None, name: str | None) -> str:
    parts = [device or f"row {row}"] + ([name] if name else [])
    return printable(" ".join(parts))


def render(result: AuditResult) -> str:
    """The whole report, ending with a newline."""
    lines = [
        f"netvet audit of {printable(result.source)} as of {result.as_of.isoformat()} "
        f"against {', '.join(printable(p) for p in result.policies) or 'no policy'}",
        plural(result.devices, "device")
        + (" (vendors identified first)" if result.identified else "")
        + f"; operator scope: {', '.join(sorted(o.value for o in result.operators))}",
        f"{plural(len(result.violations), 'violation')}, "
        f"{len(result.breaches)} {'cap' if len(result.breaches) == 1 else 'caps'} breached, "
        f"{plural(sum(d.devices for d in result.deadlines), 'device deadline')} ahead",
    ]
    notes = warnings(result)
    if notes:
        lines += ["", "Warnings (what the audit could not see):"] + [f"  {n}" for n in notes]
    lines += _assumptions(result)
    lines += _violations(result) + _caps(result) + _deadlines(result) + _tallies(result)
    lines += _undetermined(result) + _exposure(result) + _unmapped(result)
    if result.unconfirmed:
        lines += ["", "* rests on a fact whose status is not confirmed; ~ partial date"]
    return "\n".join(lines) + "\n"


def _violations(result: AuditResult) -> list[str]:
    if not result.violations:
        return ["", "Violations: none"]
    per_rule = Counter(v.rule.id for v in result.violations)
    out = ["", "Violations per rule (rule, devices):"]
    out += [f"  {printable(rule)}  {n}" for rule, n in sorted(per_rule.items())]
    out += ["", "Violations (device, site, vendor, domain, rule, since, why):"]
    for v in result.violations[:LISTED]:
        out.append(
            f"  {_device(v.row, v.device, v.name)}  {printable(v.site or '-')}  "
            f"{v.vendor or 'unidentified'}  {v.domain or '?'}  "
            f"{printable(v.rule.id)}{_mark(v.unconfirmed, v.approximate)}  "
            f"since {v.since.isoformat()}  {printable(v.why)}"
        )
    return out + _more(len(result.violations), "violations")


def _more(total: int, what: str) -> list[str]:
    if total <= LISTED:
        return []
    return [f"  ... and {total - LISTED} more {what} (the json and csv formats list them all)"]


def _undetermined(result: AuditResult) -> list[str]:
    entries = result.undetermined
    if not entries:
        return []
    total = result.placing.undetermined if result.placing else len(entries)
    out = ["", "Undetermined (device, rule, would be, what netvet could not decide; settle with):"]
    for u in entries[:LISTED]:
        out.append(
            f"  {_device(u.row, u.device, u.name)}  {printable(u.rule.id)}  "
            f"{u.would_be or '?'}  {printable('; and '.join(u.needs))}"
            + (f"  [{printable(u.hint)}]" if u.hint else "")
        )
    return out + _more(total, "undetermined findings")


def _caps(result: AuditResult) -> list[str]:
    if not result.caps:
        return []
    out = ["", "Caps (rule, domain, vendor, share now vs cap):"]
    for c in result.caps:
        state = c.state
        when = ("since " if c.in_force else "from ") + c.effect.day.isoformat()
        out.append(
            f"  {printable(c.rule.id)}{_mark(c.unconfirmed)}  {c.domain.value}  "
            f"{c.vendor or 'named vendors'}  {percent_text(c.share)}% ({c.count}/{c.total}) vs "
            f"{percent_text(c.limit)}%  {when}  {state}"
            + (f"  ({c.unknown} devices of unknown scope)" if c.unknown else "")
            + ("  (conditional)" if c.conditional and c.rule.status.binding else "")
        )
    return out


def _deadlines(result: AuditResult) -> list[str]:
    if not result.deadlines:
        return ["", "Deadlines ahead: none"]
    out = ["", "Deadlines ahead (due, rule, domain, site, devices):"]
    for d in result.deadlines:
        out.append(
            f"  {d.due.isoformat()}  {printable(d.rule.id)}{_mark(d.unconfirmed, d.approximate)}"
            f"  {d.domain or '?'}  {printable(d.site or '-')}  {d.devices}"
        )
    return out


def _tallies(result: AuditResult) -> list[str]:
    if not result.tallies:
        return []
    out = ["", "Other findings (kind, rule, devices):"]
    for t in result.tallies:
        kind = f"undetermined (would be {t.would_be})" if t.would_be else t.kind.value
        mark = _mark(not t.rule.status.firm)
        out.append(f"  {kind}  {printable(t.rule.id)}{mark}  {t.devices}")
    return out


def _exposure(result: AuditResult) -> list[str]:
    out = ["", "Exposure (vendor, domain, devices):"]
    for e in result.exposure:
        out.append(f"  {e.vendor or 'unidentified'}  {e.domain or 'unknown'}  {e.devices}")
    return out


def _assumptions(result: AuditResult) -> list[str]:
    if not result.assumptions:
        return []
    out = ["", "Assumed (--assume; rule, condition):"]
    for a in result.assumptions:
        verdict = "holds" if a.holds else "does not hold (rule left out)"
        out.append(f"  {printable(a.rule.id)}  {verdict}: {printable(a.condition)}")
    return out


def _unmapped(result: AuditResult) -> list[str]:
    if not result.unmapped_roles:
        return []
    roles = ", ".join(f"{printable(r)} ({n})" for r, n in result.unmapped_roles)
    return ["", f"Roles with no domain (give --role-map ROLE=DOMAIN): {roles}"]
