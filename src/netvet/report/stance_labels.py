"""What the joint-stance presenters share: the report value and the words for a cell.

`StanceReport` bundles what `netvet policy compare` shows (the matrix, the gaps if asked for, the
as-of date and the packs it came from); the text, HTML and JSON presenters take it and nothing
else. Labels are plain strings; each presenter escapes them for its own format, because rule
ids, instruments and conditions of custom packs are user-written text.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from netvet.policy.model import (
    Domain,
    Effect,
    EffectKind,
    Generation,
    Pack,
    Rule,
    percent_text,
)
from netvet.policy.stance import Gap, JointStance, Stance

UNCONFIRMED_MARK = "*"  # the headline rests on a fact whose status is not `confirmed`
CONDITIONAL_MARK = "?"  # the headline holds only under a condition or for some entities

VERB = {
    EffectKind.REMOVE_BY: "remove by",
    EffectKind.BAN_NEW_AFTER: "no new from",
    EffectKind.CAP: "cap",
    EffectKind.AUTHORISATION: "authorisation from",
    EffectKind.DESIGNATION: "designated",
}


@dataclass(frozen=True, slots=True)
class StanceReport:
    """Everything `netvet policy compare` shows."""

    stance: JointStance
    gaps: tuple[Gap, ...] | None  # None: not asked for (--gaps)
    as_of: dt.date
    packs: tuple[Pack, ...]

    def names(self, jurisdiction: str) -> str:
        """The names of the packs of `jurisdiction` ("Germany"; custom packs joined by "; ")."""
        found = [p.name for p in self.packs if p.jurisdiction == jurisdiction]
        return "; ".join(dict.fromkeys(found)) or jurisdiction


def effect_text(effect: Effect) -> str:
    """`remove by 2027-12-31`, `cap 35% from 2021-07-28`, `designated 2020-07-14`; dates as the
    instrument states them ("remove by 2028": the day is not stated)."""
    if effect.kind is EffectKind.CAP:
        percent = percent_text(effect.percent) if effect.percent is not None else "?"
        return f"cap {percent}% from {effect.date}"
    return f"{VERB[effect.kind]} {effect.date}"


def generations_text(generations: frozenset[Generation] | None) -> str:
    """ "5g" or "4g, 5g"; "" when the rule covers every generation."""
    if generations is None:
        return ""
    order = list(Generation)
    return ", ".join(g.value for g in sorted(generations, key=order.index))


def is_conditional(rule: Rule) -> bool:
    return rule.condition is not None or bool(rule.vendors.entities)


def marks(rule: Rule) -> str:
    """The markers after a headline: `*` unconfirmed fact, `?` conditional."""
    return (UNCONFIRMED_MARK if not rule.status.firm else "") + (
        CONDITIONAL_MARK if is_conditional(rule) else ""
    )


def headline_text(rule: Rule, effect: Effect) -> str:
    """`remove by 2027-12-31 (5g)*` without the rule id."""
    gens = generations_text(rule.scope.generations)
    return effect_text(effect) + (f" ({gens})" if gens else "") + marks(rule)


def cell_text(cell: Stance) -> str:
    """A matrix cell in words; "-" when nothing reaches it."""
    if cell.rule is None or cell.effect is None:
        return "-"
    return headline_text(cell.rule, cell.effect)


def gap_side_text(cell: Stance) -> str:
    """A jurisdiction's side of a gap: its vendor-specific headline, or what it has instead."""
    found = cell.strongest(neutral=False)
    if found is not None:
        return f"{headline_text(*found)} [{found[0].id}]"
    if cell.rule is not None and cell.effect is not None:
        return f"only vendor-neutral: {headline_text(cell.rule, cell.effect)} [{cell.rule.id}]"
    return "nothing"


def in_effect(effect: Effect, as_of: dt.date) -> bool:
    """Whether the effect's day has come on `as_of` (a deadline passed, a ban started)."""
    return effect.day <= as_of


def headline_rules(report: StanceReport) -> tuple[Rule, ...]:
    """Every rule that heads a cell, in matrix order, once each."""
    seen: dict[str, Rule] = {}
    for cell in report.stance.cells.values():
        if cell.rule is not None:
            seen.setdefault(cell.rule.id, cell.rule)
    return tuple(seen.values())


def filled_rows(stance: JointStance) -> tuple[tuple[str, Domain], ...]:
    """(vendor, domain) rows where at least one jurisdiction has a rule: empty rows say nothing."""
    return tuple(
        (vendor, domain)
        for vendor in stance.vendors
        for domain in stance.domains
        if any(stance.cell(j, vendor, domain).ranked for j in stance.jurisdictions)
    )
