"""Policy rules as typed, frozen values: what the evaluator and the presenters work with.

`schema` checks the YAML text at the edge; `loader` turns it into these dataclasses. Nothing here
parses text except `PartialDate.parse`, which every date of the language goes through.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


class Status(StrEnum):
    """How well a rule's fact is established (the statuses of shared/reference/policy_facts.yaml,
    plus `reported` and `proposed`). Only `confirmed` is firm: findings from any other status say
    that they rest on an unconfirmed fact."""

    CONFIRMED = "confirmed"  # stated in at least one cited source
    PARTIALLY_CONFIRMED = "partially_confirmed"  # main fact sourced, some detail not
    REPORTED = "reported"  # press or secondary reports, or an expectation, not the instrument
    PROPOSED = "proposed"  # a draft or proposal, not known to be in force
    UNCONFIRMED = "unconfirmed"  # not found in the sources reviewed; verify before relying on it

    @property
    def firm(self) -> bool:
        return self is Status.CONFIRMED

    @property
    def binding(self) -> bool:
        """The rule is (said to be) in force. Only a `proposed` rule is not: its findings are
        what the draft would mean if adopted and never count as violations or breaches. The
        other statuses grade the evidence for a rule in force, so they stay binding."""
        return self is not Status.PROPOSED

    @property
    def rank(self) -> int:
        """0 for the best-established status; used to order otherwise equal rules."""
        return _STATUS_RANK[self]


_STATUS_RANK = {
    Status.CONFIRMED: 0,
    Status.PARTIALLY_CONFIRMED: 1,
    Status.REPORTED: 2,
    Status.PROPOSED: 3,
    Status.UNCONFIRMED: 4,
}


class Domain(StrEnum):
    """Where a device sits in a network (see docs/policies.md for the mapping of the reference
    file's domain names onto these)."""

    CORE = "core"
    RAN = "ran"  # radio and fixed access: base stations, OLTs, access nodes
    TRANSPORT = "transport"  # transmission, backhaul, backbone
    MANAGEMENT = "management"  # OSS/BSS, network management systems, orchestration
    CPE = "cpe"  # customer premises equipment
    ENTERPRISE = "enterprise"  # an organisation's own IT: office switches, firewalls, Wi-Fi
    SURVEILLANCE = "surveillance"  # cameras, recorders, video management


NETWORK_DOMAINS = frozenset({Domain.CORE, Domain.RAN, Domain.TRANSPORT, Domain.MANAGEMENT})


class Generation(StrEnum):
    """The technology generation a device serves; `fixed` for fixed-line networks."""

    G2 = "2g"
    G3 = "3g"
    G4 = "4g"
    G5 = "5g"
    FIXED = "fixed"


class OperatorScope(StrEnum):
    """Who runs the equipment. A device's owner may be several (an operator that is also a
    government supplier)."""

    PUBLIC_NETWORK = "public-network"  # provider of a public electronic communications network
    PUBLIC_SECTOR = "public-sector"  # government bodies and agencies
    GOVERNMENT_SUPPLIER = "government-supplier"  # contractors and grant recipients of government


class EffectKind(StrEnum):
    """What a rule does, strongest first (the order of `strength`)."""

    REMOVE_BY = "remove_by"
    BAN_NEW_AFTER = "ban_new_after"
    CAP = "cap_percent"
    AUTHORISATION = "authorisation_required"
    DESIGNATION = "designation_only"

    @property
    def strength(self) -> int:
        """0 for the strongest restriction; `NO_RESTRICTION` is weaker than all."""
        return list(EffectKind).index(self)

    @property
    def is_deadline(self) -> bool:
        """Deadlines are read at the end of a partial date; start dates at its beginning."""
        return self is EffectKind.REMOVE_BY


NO_RESTRICTION = len(EffectKind)  # the strength of "no rule applies"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date as an instrument states it: YYYY, YYYY-MM or YYYY-MM-DD, with the first and last
    day it may mean ("2027" is 2027-01-01 .. 2027-12-31)."""

    text: str
    first: dt.date
    last: dt.date

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        match = _DATE.fullmatch(text)
        if match is None:
            raise ValueError(f"invalid date {text!r} (expected YYYY, YYYY-MM or YYYY-MM-DD)")
        year, month, day = (int(g) if g else None for g in match.groups())
        assert year is not None  # the pattern requires it
        try:
            if month is None:
                return cls(text, dt.date(year, 1, 1), dt.date(year, 12, 31))
            first = dt.date(year, month, day or 1)
            if day is not None:
                return cls(text, first, first)
            nxt = dt.date(year + month // 12, month % 12 + 1, 1)
            return cls(text, first, nxt - dt.timedelta(days=1))
        except ValueError:
            raise ValueError(f"invalid date {text!r}") from None

    @property
    def exact(self) -> bool:
        return self.first == self.last

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True)
class Effect:
    """One effect of a rule with its date; `percent` only for caps."""

    kind: EffectKind
    date: PartialDate
    percent: Fraction | None = None

    @property
    def day(self) -> dt.date:
        """The day the effect is read at: a deadline ("remove by 2027") at the end of its
        period, everything else (bans, caps, authorisations, designations) at the start."""
        return self.date.last if self.kind.is_deadline else self.date.first


def percent_text(value: Fraction) -> str:
    """35 as "35", 33.5 as "33.5" (shares and caps in messages)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True, slots=True)
class Source:
    url: str | None  # None only in custom policies (an internal document named in `fact`)
    fact: str  # what the source says, paraphrased or quoted


class VendorMode(StrEnum):
    NAMED = "named"  # the families listed (directly or by headquarters country)
    ANY = "any"  # every vendor, also unidentified ones; a cap then applies to each vendor
    UNNAMED = "unnamed"  # targets vendors by criteria the reference does not resolve to names


@dataclass(frozen=True, slots=True)
class VendorScope:
    """Which vendors a rule names."""

    mode: VendorMode
    families: frozenset[str] = frozenset()  # family slugs (after expanding headquarters)
    entities: tuple[str, ...] = ()  # member names the rule is restricted to (empty: whole family)
    entity_keys: frozenset[str] = frozenset()  # the same, as `names.name_key` keys
    headquarters: tuple[str, ...] = ()  # countries the pack selected families by, if it did
    criteria: str | None = None  # for UNNAMED: the instrument's criteria, in words

    def names(self, slug: str) -> bool:
        return self.mode is VendorMode.ANY or slug in self.families


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a rule applies; None in a dimension means any."""

    domains: frozenset[Domain] | None
    generations: frozenset[Generation] | None
    operators: frozenset[OperatorScope] | None


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a rule was written, for messages and reports."""

    file: str
    line: int | None


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    jurisdiction: str
    instrument: str
    references: tuple[str, ...]  # rule ids in shared/reference/policy_facts.yaml it comes from
    sources: tuple[Source, ...]
    status: Status
    vendors: VendorScope
    scope: Scope
    effects: tuple[Effect, ...]
    in_force: PartialDate | None  # the instrument's first day: before it the rule says nothing
    condition: str | None  # a fact netvet cannot check; findings are undetermined while it holds
    note: str | None
    origin: Origin

    def effect(self, kind: EffectKind) -> Effect | None:
        return next((e for e in self.effects if e.kind is kind), None)

    def exists_on(self, day: dt.date) -> bool:
        """Whether the instrument existed on `day` (always, when its start is not given)."""
        return self.in_force is None or day >= self.in_force.first


@dataclass(frozen=True, slots=True)
class Pack:
    """One jurisdiction's rules (or an operator's own, `kind == "custom"`)."""

    jurisdiction: str
    name: str
    kind: str  # "jurisdiction" or "custom"
    as_of: PartialDate  # the facts were checked up to then
    notes: str | None
    rules: tuple[Rule, ...]
    path: str
