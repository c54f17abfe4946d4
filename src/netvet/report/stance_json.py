"""The joint stance as a JSON document for scripts.

Key order is fixed by construction. Every cell lists all effects reaching it, strongest first
(the first is the headline); each says whether it rests on an unconfirmed fact and whether it
is conditional, so a script never has to know the ranking rules. Strings go through
`utf8_safe` so the document is always valid UTF-8.
"""

from __future__ import annotations

import json
from typing import Any

from netvet.policy.model import Effect, Rule, VendorMode
from netvet.policy.stance import Gap, Stance
from netvet.report.safe import utf8_safe
from netvet.report.stance_labels import StanceReport, in_effect, is_conditional

SCHEMA_VERSION = 1


def _effect(rule: Rule, effect: Effect, report: StanceReport) -> dict[str, Any]:
    return {
        "rule": utf8_safe(rule.id),
        "effect": effect.kind.value,
        "date": utf8_safe(effect.date.text),
        "day": effect.day.isoformat(),
        "approximate": not effect.date.exact,
        "percent": None if effect.percent is None else float(effect.percent),
        "in_effect": in_effect(effect, report.as_of),
        "status": rule.status.value,
        "unconfirmed": not rule.status.firm,
        "conditional": is_conditional(rule),
        "condition": None if rule.condition is None else utf8_safe(rule.condition),
        "generations": None
        if rule.scope.generations is None
        else sorted(g.value for g in rule.scope.generations),
        "vendor_neutral": rule.vendors.mode is VendorMode.ANY,
    }


def _cell(cell: Stance, report: StanceReport) -> dict[str, Any]:
    effects = [_effect(r, e, report) for r, e in cell.ranked]
    return {
        "jurisdiction": utf8_safe(cell.jurisdiction),
        "vendor": cell.vendor,
        "domain": cell.domain.value,
        "headline": effects[0] if effects else None,
        "effects": effects,
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": utf8_safe(rule.id),
        "jurisdiction": utf8_safe(rule.jurisdiction),
        "instrument": utf8_safe(rule.instrument),
        "status": rule.status.value,
        "criteria": None if rule.vendors.criteria is None else utf8_safe(rule.vendors.criteria),
        "sources": [None if s.url is None else utf8_safe(s.url) for s in rule.sources],
    }


def _gap(gap: Gap, report: StanceReport) -> dict[str, Any]:
    def side(cell: Stance) -> dict[str, Any]:
        found = cell.strongest(neutral=False)
        return {
            "jurisdiction": utf8_safe(cell.jurisdiction),
            "headline": None if found is None else _effect(*found, report),
        }

    return {
        "vendor": gap.vendor,
        "domain": gap.domain.value,
        "restricting": [side(c) for c in gap.restricting],
        "silent": [side(c) for c in gap.silent],
    }


def to_dict(report: StanceReport) -> dict[str, Any]:
    """The document as Python values."""
    stance = report.stance
    rules = {r.id: r for p in report.packs for r in p.rules}
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": report.as_of.isoformat(),
        "jurisdictions": [
            {
                "code": utf8_safe(j),
                "name": utf8_safe(report.names(j)),
                "facts_as_of": [p.as_of.text for p in report.packs if p.jurisdiction == j],
            }
            for j in stance.jurisdictions
        ],
        "vendors": list(stance.vendors),
        "domains": [d.value for d in stance.domains],
        "cells": [_cell(c, report) for c in stance.cells.values()],
        "unnamed": {utf8_safe(j): [_rule(r) for r in found] for j, found in stance.unnamed.items()},
        "rules": [_rule(r) for r in rules.values()],
        "gaps": None if report.gaps is None else [_gap(g, report) for g in report.gaps],
    }


def render(report: StanceReport) -> str:
    """The JSON document as text, indented, ending in a newline."""
    return json.dumps(to_dict(report), indent=2, ensure_ascii=False) + "\n"
