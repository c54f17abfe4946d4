"""The audit as one JSON document for scripts; key order is fixed by construction. Every
finding says whether it rests on an unconfirmed fact or a partial date. `undetermined` lists
the first `unplaced.KEPT` (device, rule) pairs netvet could not decide (`undetermined_total`
counts them all); `import`, `identification` and `warnings` say what the audit could not see.
Strings go through `utf8_safe` so the document is always valid UTF-8."""

from __future__ import annotations

import json
from typing import Any

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import Rule
from netvet.report.audit_notes import warnings
from netvet.report.safe import utf8_safe

SCHEMA_VERSION = 1


def _s(value: str | None) -> str | None:
    # ASCII cannot hold a lone surrogate: skip the per-character scan for most strings.
    if value is None or value.isascii():
        return value
    return utf8_safe(value)


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": utf8_safe(rule.id),
        "jurisdiction": utf8_safe(rule.jurisdiction),
        "instrument": utf8_safe(rule.instrument),
        "status": rule.status.value,
        "sources": [_s(s.url) for s in rule.sources],
    }


def document(result: AuditResult) -> dict[str, Any]:
    """The report as plain data (what `render` writes)."""
    rules: dict[str, dict[str, Any]] = {}  # one dict per rule, shared by its many findings

    def rule(r: Rule) -> dict[str, Any]:
        if r.id not in rules:
            rules[r.id] = _rule(r)
        return rules[r.id]

    placed = result.placing
    return {
        "schema_version": SCHEMA_VERSION,
        "source": utf8_safe(result.source),
        "as_of": result.as_of.isoformat(),
        "policies": [utf8_safe(p) for p in result.policies],
        "operators": sorted(o.value for o in result.operators),
        "devices": result.devices,
        "identified": result.identified,
        "found": result.found,
        "unconfirmed": result.unconfirmed,
        "assumptions": [
            {
                "rule": utf8_safe(a.rule.id),
                "given": utf8_safe(a.given),
                "condition": utf8_safe(a.condition),
                "holds": a.holds,
            }
            for a in result.assumptions
        ],
        "unmapped_roles": [{"role": utf8_safe(r), "devices": n} for r, n in result.unmapped_roles],
        "import": [utf8_safe(line) for line in result.import_notes],
        "identification": [utf8_safe(line) for line in result.identification],
        "warnings": [utf8_safe(line) for line in warnings(result)],
        "installed_later": result.installed_later,
        "bad_values": [
            {
                "column": utf8_safe(b.column),
                "value": utf8_safe(b.value),
                "devices": b.devices,
                "rows": list(b.rows),
            }
            for b in result.bad_values
        ],  # fmt: skip
        "unplaced": {
            "no_domain": placed.no_domain if placed else 0,
            "no_vendor": placed.no_vendor if placed else 0,
        },
        "undetermined_total": placed.undetermined if placed else 0,
        "undetermined": [
            {
                "row": u.row,
                "device": _s(u.device),
                "name": _s(u.name),
                "site": _s(u.site),
                "vendor": _s(u.vendor),
                "domain": u.domain,
                "rule": rule(u.rule),
                "would_be": u.would_be,
                "needs": [_s(n) for n in u.needs],
                "hint": _s(u.hint),
            }
            for u in result.undetermined
        ],
        "violations": [
            {
                "row": v.row,
                "device": _s(v.device),
                "name": _s(v.name),
                "site": _s(v.site),
                "vendor": v.vendor,
                "domain": v.domain,
                "rule": rule(v.rule),
                "why": _s(v.why),
                "since": v.since.isoformat(),
                "unconfirmed": v.unconfirmed,
                "approximate": v.approximate,
            }
            for v in result.violations
        ],
        "deadlines": [
            {
                "due": d.due.isoformat(),
                "rule": rule(d.rule),
                "domain": d.domain,
                "site": _s(d.site),
                "devices": d.devices,
                "unconfirmed": d.unconfirmed,
                "approximate": d.approximate,
            }
            for d in result.deadlines
        ],
        "caps": [
            {
                "rule": rule(c.rule),
                "domain": c.domain.value,
                "vendor": c.vendor,
                "count": c.count,
                "total": c.total,
                "unknown": c.unknown,
                "share_percent": float(c.share),
                "cap_percent": float(c.limit),
                "from": c.effect.day.isoformat(),
                "in_force": c.in_force,
                "conditional": c.conditional,
                "exceeded": c.exceeded,
                "breach": c.breach,
                "binding": c.rule.status.binding,
                "state": c.state,
                "unconfirmed": c.unconfirmed,
            }
            for c in result.caps
        ],
        "other_findings": [
            {
                "kind": t.kind.value,
                "would_be": t.would_be,
                "rule": rule(t.rule),
                "devices": t.devices,
            }
            for t in result.tallies
        ],
        "exposure": [
            {"vendor": e.vendor, "domain": e.domain, "devices": e.devices} for e in result.exposure
        ],
    }


def render(result: AuditResult) -> str:
    """The document with one finding per line: readable, greppable, and written by json's C
    encoder (an indented dump of a million violations runs its pure-Python encoder)."""
    lines = ["{"]
    doc = document(result)
    for i, (key, value) in enumerate(doc.items()):
        comma = "," if i < len(doc) - 1 else ""
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value:
            items = ",\n    ".join(json.dumps(v, ensure_ascii=False) for v in value)
            lines.append(f"{head}[\n    {items}\n  ]{comma}")
        else:
            lines.append(f"{head}{json.dumps(value, ensure_ascii=False)}{comma}")
    return "\n".join(lines) + "\n}\n"
