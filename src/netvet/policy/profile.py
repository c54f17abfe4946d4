"""A device as the policy rules see it, and whether a rule's scope reaches it.

A `Profile` holds only what rules look at, so devices with equal profiles meet equal
obligations: an inventory is audited per distinct profile with a device count. Install dates
enter a profile as a range; `install_cuts` and `bucket` make that range as coarse as the rules
allow (every day in a bucket meets the same bans), which keeps the number of profiles small.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from netvet.inventory.names import name_key
from netvet.policy.model import (
    Domain,
    EffectKind,
    Generation,
    OperatorScope,
    Rule,
    Scope,
    VendorMode,
    VendorScope,
)


@dataclass(frozen=True, slots=True, order=True)
class InstallRange:
    """Devices installed between `first` and `last` (inclusive); one day for an exact date."""

    first: dt.date
    last: dt.date


@dataclass(frozen=True, slots=True)
class Profile:
    """Everything about a device that a rule looks at; None means unknown."""

    vendor: str | None  # family slug from identification
    entity: str | None = None  # the family member identified (legal entity, brand...)
    domain: Domain | None = None
    generation: Generation | None = None
    operators: frozenset[OperatorScope] | None = None  # empty: none of the scopes
    installed: InstallRange | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """One inventory device as the policy layer sees it."""

    vendor: str | None
    entity: str | None = None
    domain: Domain | None = None
    generation: Generation | None = None
    operators: frozenset[OperatorScope] | None = None
    site: str | None = None
    installed: dt.date | None = None

    def profile(
        self, cuts: Sequence[dt.date] | None = None, entities: frozenset[str] | None = None
    ) -> Profile:
        """The device's profile. With `cuts` (from `install_cuts`) the install date becomes its
        bucket; with `entities` (from `named_entities`) an entity no rule names becomes ""
        (known, and named by no rule). Both keep outcomes and shrink the number of profiles."""
        installed = None
        if self.installed is not None:
            installed = (
                InstallRange(self.installed, self.installed)
                if cuts is None
                else bucket(self.installed, cuts)
            )
        entity = self.entity if entities is None else fold_entity(self.entity, entities)
        return Profile(self.vendor, entity, self.domain, self.generation, self.operators, installed)


def fold_entity(entity: str | None, entities: frozenset[str]) -> str | None:
    """`entity`, or "" (known, and named by no rule) when no rule is limited to it."""
    if entity is not None and name_key(entity) not in entities:
        return ""
    return entity


def install_cuts(rules: Iterable[Rule]) -> tuple[dt.date, ...]:
    """The days on which an install date starts to matter (ban dates), sorted."""
    return tuple(
        sorted({e.day for r in rules for e in r.effects if e.kind is EffectKind.BAN_NEW_AFTER})
    )


def named_entities(rules: Iterable[Rule]) -> frozenset[str]:
    """The entities (as `names.name_key` keys) that some rule is limited to."""
    return frozenset(key for r in rules for key in r.vendors.entity_keys)


def bucket(day: dt.date, cuts: Sequence[dt.date]) -> InstallRange:
    """The range between two cuts that holds `day`: every day in it meets the same bans."""
    return bucket_range(bisect_right(cuts, day), cuts)


def bucket_range(i: int, cuts: Sequence[dt.date]) -> InstallRange:
    """The `i`-th range between the cuts: before the first cut is 0, after the last len(cuts)."""
    first = cuts[i - 1] if i else dt.date.min
    last = cuts[i] - dt.timedelta(days=1) if i < len(cuts) else dt.date.max
    return InstallRange(first, last)


def unknowns(
    rule: Rule, profile: Profile, assume: Mapping[str, bool] | None = None
) -> tuple[str, ...] | None:
    """None when the rule cannot apply to the profile; otherwise what would have to hold for it
    to apply, as phrases (empty: it applies). `assume` settles rules' conditions by rule id:
    True (the condition holds for this inventory) or False (it does not)."""
    vendor = vendor_needs(rule.vendors, profile)
    scope = scope_needs(rule.scope, profile)
    condition = condition_needs(rule, assume)
    if vendor is None or scope is None or condition is None:
        return None
    return vendor + scope + condition


ADOPTED = "the proposal is adopted"


def open_conditions(rule: Rule) -> tuple[str, ...]:
    """What must hold for the rule to bind, beyond the device: its `condition`, and for a
    rule that is only proposed (`Status.binding`), that it is adopted."""
    out = () if rule.condition is None else (rule.condition,)
    return out if rule.status.binding else (*out, ADOPTED)


def condition_needs(rule: Rule, assume: Mapping[str, bool] | None) -> tuple[str, ...] | None:
    """The rule's open conditions as needs, unless the caller settled them (False: rule is
    out). A proposed rule's findings therefore stay undetermined ("would be ... if adopted")
    and its caps are never breached, unless the user assumes it adopted."""
    needs = open_conditions(rule)
    if not needs:
        return ()
    settled = assume.get(rule.id) if assume else None
    if settled is None:
        return needs
    return () if settled else None


def vendor_needs(vendors: VendorScope, profile: Profile) -> tuple[str, ...] | None:
    """Whether the rule names the device's vendor: None no, () yes, else what must hold."""
    if vendors.mode is VendorMode.ANY:
        return ()
    if vendors.mode is VendorMode.UNNAMED:
        return None
    if profile.vendor is None or profile.vendor not in vendors.families:
        return None  # an unidentified device is not assumed to be anyone's
    if not vendors.entity_keys:
        return ()
    if profile.entity is None:
        return (f"the device is from {' or '.join(vendors.entities)}",)
    return () if name_key(profile.entity) in vendors.entity_keys else None


def scope_needs(scope: Scope, profile: Profile) -> tuple[str, ...] | None:
    """Whether the device is in the rule's domain, generation and operator scope: None no,
    () yes, else the unknown dimensions that would have to match."""
    needs: list[str] = []
    for wanted, have, what in (
        (scope.domains, profile.domain, "domain"),
        (scope.generations, profile.generation, "generation"),
    ):
        if wanted is None:
            continue
        if have is None:
            needs.append(f"its {what} is {_one_of(wanted)}")
        elif have not in wanted:
            return None
    if scope.operators is not None:
        if profile.operators is None:
            needs.append(f"it is run by a {_one_of(scope.operators)} operator")
        elif not scope.operators & profile.operators:
            return None
    return tuple(needs)


def _one_of(values: Iterable[StrEnum]) -> str:
    return " or ".join(sorted(v.value for v in values))
