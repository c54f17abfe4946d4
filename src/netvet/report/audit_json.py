"""The audit as one JSON document for scripts; key order is fixed by construction. Every
finding says whether it rests on an unconfirmed fact or a partial date. Strings go through
`utf8_safe` so the document is always valid UTF-8."""

from __future__ import annotations

import json
from typing import Any

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import Rule
from netvet.report.safe import utf8_safe

SCHEMA_VERSION = 1


def _s(value: str | None) -> str | None:
    return None if value is None else utf8_safe(value)


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
        "violations": [
            {
                "row": v.row,
                "device": _s(v.device),
                "name": _s(v.name),
                "site": _s(v.site),
                "vendor": v.vendor,
                "domain": v.domain,
                "rule": _rule(v.rule),
                "why": utf8_safe(v.why),
                "since": v.since.isoformat(),
                "unconfirmed": v.unconfirmed,
                "approximate": v.approximate,
            }
            for v in result.violations
        ],
        "deadlines": [
            {
                "due": d.due.isoformat(),
                "rule": _rule(d.rule),
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
                "rule": _rule(c.rule),
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
                "unconfirmed": c.unconfirmed,
            }
            for c in result.caps
        ],
        "other_findings": [
            {
                "kind": t.kind.value,
                "would_be": t.would_be,
                "rule": _rule(t.rule),
                "devices": t.devices,
            }
            for t in result.tallies
        ],
        "exposure": [
            {"vendor": e.vendor, "domain": e.domain, "devices": e.devices} for e in result.exposure
        ],
    }


def render(result: AuditResult) -> str:
    return json.dumps(document(result), indent=2, ensure_ascii=False) + "\n"
