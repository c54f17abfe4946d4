"""Caps: the share of a domain's equipment that named vendors may hold.

A cap is judged over the whole inventory, per domain: the devices of the domain inside the
rule's scope (generation, operator) are the whole; those of the named vendors are the part. A
rule naming several families caps their combined share; a rule with `vendors: any` caps each
single vendor's share ("at most 30% of RAN from any one vendor"); a vendor is a family, or
for a maker outside the families, the entity identification named.

The boundary is allowed: a share exactly at the cap complies (35.0% against a cap of 35%), one
device more breaches it. Shares are compared as exact fractions, never as rounded floats.
Devices whose domain is unknown belong to no domain and are not counted. `unknown` counts the
devices that might change the share: those whose generation or operator scope is unknown (kept
out of the whole and the part) and, for a rule limited to some entities of a family, that
family's devices whose entity is unknown (in the whole, not in the part).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from netvet.inventory.names import name_key
from netvet.policy.model import Domain, Effect, EffectKind, Rule, VendorMode
from netvet.policy.profile import Profile, condition_needs, scope_needs, vendor_needs


@dataclass(frozen=True, slots=True)
class CapStatus:
    """A cap rule's standing in one domain (for one vendor when the rule caps each vendor)."""

    rule: Rule
    effect: Effect
    domain: Domain
    vendor: str | None  # the vendor for `vendors: any`; None: the rule's named vendors together
    count: int  # devices of the capped vendor(s) in the domain, inside the rule's scope
    total: int  # all devices of the domain inside the rule's scope
    unknown: int  # devices that could not be placed (scope or entity unknown), see above
    in_force: bool  # the cap applies on the audit's date (else it lies ahead)
    conditional: bool  # the rule has a condition nobody settled (see profile.unknowns)

    @property
    def limit(self) -> Fraction:
        return self.effect.percent if self.effect.percent is not None else Fraction(100)

    @property
    def share(self) -> Fraction:
        """The capped vendors' share of the domain, in percent."""
        return Fraction(100 * self.count, self.total) if self.total else Fraction(0)

    @property
    def exceeded(self) -> bool:
        return self.share > self.limit

    @property
    def breach(self) -> bool:
        """Over the cap while it is in force and unconditionally: a violation."""
        return self.in_force and self.exceeded and not self.conditional

    @property
    def unconfirmed(self) -> bool:
        return not self.rule.status.firm

    @property
    def state(self) -> str:
        """The standing in words; a proposed rule over its cap "would be breached if adopted"."""
        if self.breach:
            return "BREACHED"
        if not self.exceeded:
            return "within the cap"
        if not self.in_force:
            return "over the cap (not in force yet)"
        if not self.rule.status.binding:
            return "would be breached if adopted"
        return "would be breached if its condition holds"


def evaluate_caps(
    groups: Iterable[tuple[Profile, int]],
    rules: Iterable[Rule],
    as_of: dt.date,
    assume: Mapping[str, bool] | None = None,
) -> tuple[CapStatus, ...]:
    """Every cap of `rules` against the inventory given as (profile, device count) pairs;
    `assume` settles rule conditions by rule id (False leaves the cap out)."""
    by_domain: dict[Domain, list[tuple[Profile, int]]] = {}
    for profile, count in groups:
        if profile.domain is not None and count > 0:
            by_domain.setdefault(profile.domain, []).append((profile, count))
    out: list[CapStatus] = []
    for rule in rules:
        effect = rule.effect(EffectKind.CAP)
        condition = condition_needs(rule, assume)
        if effect is None or rule.vendors.mode is VendorMode.UNNAMED or condition is None:
            continue
        if not rule.exists_on(as_of):
            continue
        head = _Head(rule, effect, as_of >= effect.day, bool(condition))
        for domain in sorted(rule.scope.domains or Domain, key=list(Domain).index):
            out.extend(_domain(head, domain, by_domain.get(domain, [])))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class _Head:
    rule: Rule
    effect: Effect
    in_force: bool
    conditional: bool


def _domain(head: _Head, domain: Domain, groups: list[tuple[Profile, int]]) -> list[CapStatus]:
    rule = head.rule
    total = unknown = capped = 0
    per_vendor: Counter[str] = Counter()
    shown: dict[str, str] = {}  # an entity's name key -> the spelling first seen
    for profile, count in groups:
        scope = scope_needs(rule.scope, profile)
        if scope is None:
            continue
        if scope:
            unknown += count
            continue
        total += count
        if rule.vendors.mode is VendorMode.ANY:
            maker = _maker(profile, shown)
            if maker is not None:
                per_vendor[maker] += count
            continue
        named = vendor_needs(rule.vendors, profile)
        if named is None:
            continue
        if named:  # the family matches but the entity the rule is limited to is unknown
            unknown += count
        else:
            capped += count
    if total == 0:
        return []
    if rule.vendors.mode is VendorMode.ANY:
        return [
            _status(head, domain, vendor, n, total, unknown)
            for vendor, n in sorted(per_vendor.items(), key=lambda item: (-item[1], item[0]))
        ]
    return [_status(head, domain, None, capped, total, unknown)]


def _maker(profile: Profile, shown: dict[str, str]) -> str | None:
    """Who made the device, for a cap on each vendor: its family, else the entity identified
    without a family (a maker outside the families, Mavenir), else nobody known."""
    if profile.vendor is not None:
        return profile.vendor
    if not profile.entity:
        return None
    return shown.setdefault(name_key(profile.entity), profile.entity)


def _status(
    head: _Head, domain: Domain, vendor: str | None, count: int, total: int, unknown: int
) -> CapStatus:
    return CapStatus(
        head.rule,
        head.effect,
        domain,
        vendor,
        count,
        total,
        unknown,
        head.in_force,
        head.conditional,
    )
