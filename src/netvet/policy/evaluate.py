"""What a policy rule means for a device on a given day: pure functions over typed values.

A device is reduced to a `Profile` (vendor family, entity, domain, generation, operator scope and
an install-date range). Rule outcomes depend on nothing else, so an inventory of millions of
devices is audited by grouping devices into distinct profiles, evaluating each profile once and
carrying counts (`audit`). Install dates are bucketed at the rules' ban dates (`install_cuts`,
`Device.profile`), so grouping loses nothing the rules look at.

Semantics (docs/policies.md has the full text):
- `ban_new_after: D` — equipment installed on D or later is a violation from D on; unknown
  install date: undetermined.
- A device installed after the audit's date did not exist yet: no rule applies to it.
- `remove_by: D` — present on or before D: a deadline ahead; present after D: a violation since
  the day after D. A partial deadline ("2027") is read at the end of its period.
- `authorisation_required: D`, `designation_only: D` — from D on, the device needs an
  authorisation / its vendor is designated; neither is a violation on its own.
- `cap_percent: N` from D — each device in scope gets a `cap` finding (due D, or since D); the
  share itself is judged over the whole inventory per domain in `caps.py`.
When the device's domain, generation, operator scope or entity is unknown and the rule depends
on it, or the rule has a `condition` netvet cannot check, a finding that would otherwise arise
is reported as `undetermined`, with `would_be` saying what it would be.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from fractions import Fraction

from netvet.policy.caps import CapStatus, evaluate_caps
from netvet.policy.model import Effect, EffectKind, Pack, Rule, VendorMode, percent_text
from netvet.policy.profile import (
    Device,
    InstallRange,
    Profile,
    bucket,
    install_cuts,
    named_entities,
    unknowns,
)
from netvet.policy.stance import Gap, JointStance, Stance, compare_jurisdictions, gaps

__all__ = [
    "Audit",
    "CapStatus",
    "Device",
    "Finding",
    "Gap",
    "InstallRange",
    "JointStance",
    "Kind",
    "Profile",
    "RuleIndex",
    "Stance",
    "audit",
    "ban_why",
    "bucket",
    "compare_jurisdictions",
    "evaluate",
    "evaluate_caps",
    "gaps",
    "install_cuts",
    "named_entities",
    "rules_of",
    "unknowns",
]


class Kind(StrEnum):
    """What a rule means for a device."""

    VIOLATION = "violation"  # the device breaks the rule now
    DEADLINE = "deadline"  # the device must go by a date still ahead
    CAP = "cap"  # the device counts towards a capped share (caps.py judges the share)
    AUTHORISATION = "authorisation"  # the device needs an authorisation (we cannot see it)
    DESIGNATED = "designated"  # the vendor is designated high-risk; no binding effect
    UNDETERMINED = "undetermined"  # would be `would_be` if an unknown fact turns out so


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    rule: Rule
    effect: Effect
    why: str
    since: dt.date | None = None  # violation, authorisation, designation: since when
    due: dt.date | None = None  # deadline: the last day the device may still be there
    would_be: Kind | None = None  # for undetermined findings
    needs: tuple[str, ...] = ()  # undetermined: what would have to hold (`profile.unknowns`)

    @property
    def unconfirmed(self) -> bool:
        """The finding rests on a fact whose status is not `confirmed`."""
        return not self.rule.status.firm

    @property
    def approximate(self) -> bool:
        """The rule's date is partial (a year or a month): the day was chosen by convention."""
        return not self.effect.date.exact


def rules_of(packs: Iterable[Pack]) -> tuple[Rule, ...]:
    return tuple(rule for pack in packs for rule in pack.rules)


def evaluate(
    device: Profile | Device,
    rule: Rule,
    as_of: dt.date,
    assume: Mapping[str, bool] | None = None,
) -> tuple[Finding, ...]:
    """The obligations `rule` puts on a device (or on every device of a profile) on `as_of`;
    `assume` settles rule conditions by rule id (see `profile.unknowns`)."""
    profile = device.profile() if isinstance(device, Device) else device
    if profile.installed is not None and profile.installed.first > as_of:
        return ()  # installed after the audit's date: the device did not exist yet
    needs = unknowns(rule, profile, assume)
    if needs is None or not rule.exists_on(as_of):
        return ()
    out: list[Finding] = []
    for effect in rule.effects:
        finding = _effect(profile, rule, effect, as_of)
        if finding is None:
            continue
        if needs:
            finding = replace(
                finding,
                kind=Kind.UNDETERMINED,
                would_be=finding.would_be or finding.kind,
                why=f"{finding.why}; applies only if {'; and '.join(needs)}",
                needs=finding.needs + needs,
            )
        out.append(finding)
    return tuple(out)


def _effect(profile: Profile, rule: Rule, effect: Effect, as_of: dt.date) -> Finding | None:
    day = effect.day
    when = _date_text(effect)
    if effect.kind is EffectKind.CAP:
        return _cap(rule, effect, when, as_of)
    if as_of < day and effect.kind is not EffectKind.REMOVE_BY:
        return None  # not in force yet; only deadlines and caps announce themselves
    if effect.kind is EffectKind.DESIGNATION:
        return Finding(
            Kind.DESIGNATED, rule, effect, f"vendor designated {when}; no binding effect", day
        )
    if effect.kind is EffectKind.AUTHORISATION:
        return Finding(
            Kind.AUTHORISATION, rule, effect, f"needs an authorisation since {when}", day
        )
    if effect.kind is EffectKind.REMOVE_BY:
        if as_of <= day:
            return Finding(Kind.DEADLINE, rule, effect, f"must be removed by {when}", due=day)
        since = day + dt.timedelta(days=1)
        if profile.installed is not None:
            since = max(since, profile.installed.first)
        return Finding(
            Kind.VIOLATION, rule, effect, f"still present after the removal deadline {when}", since
        )
    return _ban(profile, rule, effect, when)


def _cap(rule: Rule, effect: Effect, when: str, as_of: dt.date) -> Finding:
    share = "each vendor's share" if rule.vendors.mode is VendorMode.ANY else "the share"
    cap = percent_text(effect.percent or Fraction(0))
    if as_of < effect.day:
        why = f"counts towards {share} capped at {cap}% of its domain from {when}"
        return Finding(Kind.CAP, rule, effect, why, due=effect.day)
    why = f"counts towards {share} capped at {cap}% of its domain since {when}"
    return Finding(Kind.CAP, rule, effect, why, since=effect.day)


def _ban(profile: Profile, rule: Rule, effect: Effect, when: str) -> Finding | None:
    installed, day = profile.installed, effect.day
    if installed is not None and installed.last < day:
        return None
    if installed is not None and installed.first >= day:
        # A bucket's range says nothing about one device: name the day only when it is exact
        # (the audit puts each device's own date in, `ban_why`).
        exact = installed.first.isoformat() if installed.first == installed.last else None
        return Finding(Kind.VIOLATION, rule, effect, ban_why(effect, exact), since=installed.first)
    reason = "install date unknown" if installed is None else "install date straddles the ban"
    return Finding(
        Kind.UNDETERMINED,
        rule,
        effect,
        f"banned if installed on or after {when} ({reason})",
        since=day,
        would_be=Kind.VIOLATION,
        needs=(f"it was installed on or after {when} ({reason})",),
    )


def ban_why(effect: Effect, installed: str | None) -> str:
    """Why a device installed on `installed` (None: some day not before the ban) breaks it."""
    when = _date_text(effect)
    if installed is None:
        return f"installed on or after the ban on new equipment {when}"
    return f"installed {installed}, on or after the ban on new equipment {when}"


def _date_text(effect: Effect) -> str:
    if effect.date.exact:
        return effect.day.isoformat()
    return f"{effect.day.isoformat()} ('{effect.date.text}' in the source; day not stated)"


class RuleIndex:
    """Rules by the vendor they name, so a profile meets only the rules that can apply."""

    def __init__(self, rules: Iterable[Rule], assume: Mapping[str, bool] | None = None) -> None:
        self.rules = tuple(rules)
        self.assume = dict(assume or {})
        self._any = tuple(r for r in self.rules if r.vendors.mode is VendorMode.ANY)
        named: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.vendors.mode is VendorMode.NAMED:
                for slug in rule.vendors.families:
                    named.setdefault(slug, []).append(rule)
        self._named = {slug: tuple(rules) for slug, rules in named.items()}

    def candidates(self, vendor: str | None) -> tuple[Rule, ...]:
        named = self._named.get(vendor, ()) if vendor is not None else ()
        return named + self._any

    def evaluate(self, profile: Profile, as_of: dt.date) -> tuple[Finding, ...]:
        return tuple(
            finding
            for rule in self.candidates(profile.vendor)
            for finding in evaluate(profile, rule, as_of, self.assume)
        )


@dataclass(frozen=True, slots=True)
class Audit:
    """Findings per distinct profile (profiles without findings are left out), the device count
    of every profile seen, and the caps over the whole inventory."""

    as_of: dt.date
    findings: Mapping[Profile, tuple[Finding, ...]]
    counts: Mapping[Profile, int]
    caps: tuple[CapStatus, ...]


def audit(
    groups: Iterable[tuple[Profile, int]],
    rules: Iterable[Rule],
    as_of: dt.date,
    assume: Mapping[str, bool] | None = None,
) -> Audit:
    """Evaluate every distinct profile once against `rules`; `groups` are (profile, device
    count) pairs, a profile may come more than once (its counts add up). `assume` settles rule
    conditions by rule id."""
    index = RuleIndex(rules, assume)
    counts: dict[Profile, int] = {}
    for profile, count in groups:
        counts[profile] = counts.get(profile, 0) + count
    findings: dict[Profile, tuple[Finding, ...]] = {}
    for profile in counts:
        found = index.evaluate(profile, as_of)
        if found:
            findings[profile] = found
    caps = evaluate_caps(counts.items(), index.rules, as_of, assume)
    return Audit(as_of, findings, counts, caps)
