"""The audit as plain text for a terminal or a ticket: a summary line, then violations, cap
standings, deadlines ahead, open questions and the exposure per vendor and domain.

Facts whose status is not confirmed are marked `*`, partial dates `~`; the legend says so.
Every string from the inventory or a policy file goes through `printable`.
"""

from __future__ import annotations

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import percent_text
from netvet.report.safe import printable


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
        f"{result.devices} devices"
        + (" (vendors identified first)" if result.identified else "")
        + f"; operator scope: {', '.join(sorted(o.value for o in result.operators))}",
        f"{len(result.violations)} violations, {len(result.breaches)} caps breached, "
        f"{sum(d.devices for d in result.deadlines)} device deadlines ahead",
    ]
    lines += _violations(result) + _caps(result) + _deadlines(result) + _tallies(result)
    lines += _exposure(result)
    if result.unconfirmed:
        lines += ["", "* rests on a fact whose status is not confirmed; ~ partial date"]
    return "\n".join(lines) + "\n"


def _violations(result: AuditResult) -> list[str]:
    if not result.violations:
        return ["", "Violations: none"]
    out = ["", "Violations (device, site, vendor, domain, rule, since, why):"]
    for v in result.violations:
        out.append(
            f"  {_device(v.row, v.device, v.name)}  {printable(v.site or '-')}  "
            f"{v.vendor or 'unidentified'}  {v.domain or '?'}  "
            f"{printable(v.rule.id)}{_mark(v.unconfirmed, v.approximate)}  "
            f"since {v.since.isoformat()}  {printable(v.why)}"
        )
    return out


def _caps(result: AuditResult) -> list[str]:
    if not result.caps:
        return []
    out = ["", "Caps (rule, domain, vendor, share now vs cap):"]
    for c in result.caps:
        state = "BREACHED" if c.breach else "over the cap" if c.exceeded else "within the cap"
        when = "in force" if c.in_force else f"from {c.effect.day.isoformat()}"
        out.append(
            f"  {printable(c.rule.id)}{_mark(c.unconfirmed)}  {c.domain.value}  "
            f"{c.vendor or 'named vendors'}  {percent_text(c.share)}% ({c.count}/{c.total}) vs "
            f"{percent_text(c.limit)}%  {when}  {state}"
            + (f"  ({c.unknown} devices of unknown scope)" if c.unknown else "")
            + ("  (conditional)" if c.conditional else "")
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
