"""The joint stance: how strongly each jurisdiction restricts each vendor in each domain.

`compare_jurisdictions` builds the matrix jurisdiction x vendor x domain. A cell holds every rule
effect that reaches the vendor in the domain, strongest first; its headline is the first. The
order is the restriction's strength (remove_by < ban_new_after < cap < authorisation_required <
designation_only < none), then unconditional before conditional (a rule with a `condition` or
limited to some entities of a family), then the better-established status, then the earlier
date. `gaps` lists where one ally restricts a vendor in a domain and another does not.

Rules for other operator scopes are left out: by default the matrix compares what applies to
public-network operators (pass `operator=None` for every rule). Rules whose vendors are
unnamed (criteria only, no designation yet) reach no vendor; they are listed per jurisdiction in
`JointStance.unnamed` so that a mechanism without designations is still visible. Rules with
`vendors: any` reach every vendor in the matrix; `gaps` leaves them out by default because they
single out no one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from netvet.policy.model import (
    NO_RESTRICTION,
    Domain,
    Effect,
    EffectKind,
    Generation,
    OperatorScope,
    Pack,
    Rule,
    Status,
    VendorMode,
)


@dataclass(frozen=True, slots=True)
class Stance:
    """One cell of the matrix."""

    jurisdiction: str
    vendor: str
    domain: Domain
    ranked: tuple[tuple[Rule, Effect], ...]  # every effect reaching the cell, strongest first

    @property
    def rule(self) -> Rule | None:
        return self.ranked[0][0] if self.ranked else None

    @property
    def effect(self) -> Effect | None:
        return self.ranked[0][1] if self.ranked else None

    @property
    def kind(self) -> EffectKind | None:
        return self.ranked[0][1].kind if self.ranked else None

    @property
    def strength(self) -> int:
        return self.ranked[0][1].kind.strength if self.ranked else NO_RESTRICTION

    @property
    def day(self) -> dt.date | None:
        return self.ranked[0][1].day if self.ranked else None

    @property
    def conditional(self) -> bool:
        return bool(self.ranked) and _conditional(self.ranked[0][0])

    @property
    def generations(self) -> frozenset[Generation] | None:
        """The generations the headline rule covers (None: all)."""
        return self.ranked[0][0].scope.generations if self.ranked else None

    def strongest(self, neutral: bool = True) -> tuple[Rule, Effect] | None:
        """The headline; with `neutral=False` the strongest effect of a rule that singles out
        vendors (leaving out `vendors: any` rules, which treat every vendor alike)."""
        for rule, effect in self.ranked:
            if neutral or rule.vendors.mode is not VendorMode.ANY:
                return rule, effect
        return None


@dataclass(frozen=True, slots=True)
class JointStance:
    jurisdictions: tuple[str, ...]
    vendors: tuple[str, ...]
    domains: tuple[Domain, ...]
    cells: Mapping[tuple[str, str, Domain], Stance]
    unnamed: Mapping[str, tuple[Rule, ...]]  # per jurisdiction: rules naming no vendor

    def cell(self, jurisdiction: str, vendor: str, domain: Domain) -> Stance:
        return self.cells[(jurisdiction, vendor, domain)]


@dataclass(frozen=True, slots=True)
class Gap:
    """A vendor and domain where some jurisdictions restrict and others do not."""

    vendor: str
    domain: Domain
    restricting: tuple[Stance, ...]
    silent: tuple[Stance, ...]


def compare_jurisdictions(
    packs: Iterable[Pack],
    vendors: Sequence[str],
    domains: Sequence[Domain] | None = None,
    *,
    operator: OperatorScope | None = OperatorScope.PUBLIC_NETWORK,
    generation: Generation | None = None,
    exclude: Iterable[Status] = (),
) -> JointStance:
    """The matrix over `vendors` (family slugs) and `domains` (all when None). Packs of one
    jurisdiction are merged. Only rules that reach `operator` and `generation` (None: any)
    count; rules with a status in `exclude` (e.g. proposed) are left out."""
    excluded = frozenset(exclude)
    by_jurisdiction: dict[str, list[Rule]] = {}
    for pack in packs:
        rules = by_jurisdiction.setdefault(pack.jurisdiction, [])
        rules.extend(
            r for r in pack.rules if r.status not in excluded and _reaches(r, operator, generation)
        )
    domain_list = tuple(domains) if domains is not None else tuple(Domain)
    cells: dict[tuple[str, str, Domain], Stance] = {}
    for jurisdiction, rules in by_jurisdiction.items():
        for vendor in vendors:
            for domain in domain_list:
                found = [
                    (rule, effect)
                    for rule in rules
                    if rule.vendors.names(vendor) and _in_domain(rule, domain)
                    for effect in rule.effects
                ]
                found.sort(key=_rank)
                cells[(jurisdiction, vendor, domain)] = Stance(
                    jurisdiction, vendor, domain, tuple(found)
                )
    unnamed = {
        j: tuple(r for r in rules if r.vendors.mode is VendorMode.UNNAMED)
        for j, rules in by_jurisdiction.items()
    }
    return JointStance(
        tuple(by_jurisdiction),
        tuple(vendors),
        domain_list,
        MappingProxyType(cells),
        MappingProxyType(unnamed),
    )


def gaps(
    stance: JointStance,
    threshold: EffectKind = EffectKind.DESIGNATION,
    *,
    neutral: bool = False,
) -> tuple[Gap, ...]:
    """Vendor x domain pairs where at least one jurisdiction restricts the vendor at least as
    strongly as `threshold` and at least one other does not. The default counts any rule,
    designation included; pass e.g. `EffectKind.BAN_NEW_AFTER` to compare binding bans only.
    Vendor-neutral rules (`vendors: any`, such as an authorisation regime for all equipment) do
    not single out a vendor and are left out unless `neutral` is true."""
    out: list[Gap] = []
    for vendor in stance.vendors:
        for domain in stance.domains:
            cells = [stance.cell(j, vendor, domain) for j in stance.jurisdictions]
            restricting = tuple(c for c in cells if _strength(c, neutral) <= threshold.strength)
            silent = tuple(c for c in cells if _strength(c, neutral) > threshold.strength)
            if restricting and silent:
                out.append(Gap(vendor, domain, restricting, silent))
    return tuple(out)


def _strength(cell: Stance, neutral: bool) -> int:
    found = cell.strongest(neutral)
    return found[1].kind.strength if found else NO_RESTRICTION


def _reaches(rule: Rule, operator: OperatorScope | None, generation: Generation | None) -> bool:
    scope = rule.scope
    if operator is not None and scope.operators is not None and operator not in scope.operators:
        return False
    return generation is None or scope.generations is None or generation in scope.generations


def _in_domain(rule: Rule, domain: Domain) -> bool:
    return rule.scope.domains is None or domain in rule.scope.domains


def _conditional(rule: Rule) -> bool:
    return rule.condition is not None or bool(rule.vendors.entities)


def _rank(item: tuple[Rule, Effect]) -> tuple[int, bool, int, dt.date, str]:
    rule, effect = item
    return (effect.kind.strength, _conditional(rule), rule.status.rank, effect.day, rule.id)
