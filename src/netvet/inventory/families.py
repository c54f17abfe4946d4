"""Vendor families: which corporate group stands behind a name, an OUI holder or a PEN.

The data lives in `netvet/data/vendor_families.yaml` (see its header for the fields). This module
validates it (`family_schema`), freezes it into dataclasses and indexes it:

- `by_name`: manufacturer strings, compared by `names.name_key` against member names and aliases;
- `by_oui_org`: IEEE organization names, exact first, then by key (a refreshed registry may
  spell a name differently);
- `by_pen`: IANA enterprise numbers;
- `by_model`: model-number patterns (weak evidence);
- `false_friend`: registry names that look like a family but belong to someone else.

Every lookup returns `Hit`s: the family, the member, its kind and its ownership period. A name
can hit several families when ownership changed (Honor: Huawei's brand until 2020-11-17, its own
company since); `Hit.active_on(day)` tells which applied on a given day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from netvet.inventory.errors import DataError
from netvet.inventory.family_schema import FamiliesFile, Kind, MemberModel
from netvet.inventory.names import name_key


@dataclass(frozen=True, slots=True)
class Pen:
    number: int
    name: str  # the organization exactly as the IANA registry has it


@dataclass(frozen=True, slots=True)
class Member:
    """A legal entity, subsidiary, brand, white label or chip unit of a family."""

    name: str
    kind: Kind
    aliases: tuple[str, ...]
    oui_names: tuple[str, ...]
    pens: tuple[Pen, ...]
    model_patterns: tuple[str, ...]
    valid_from: str | None  # YYYY[-MM[-DD]]: in the family from then on
    valid_to: str | None  # YYYY[-MM[-DD]]: left the family then (divestiture)
    status: str  # "confirmed" or "reported"
    source: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class FalseFriend:
    """A registry name that looks like the family's but belongs to another company."""

    name: str
    registry: str  # "oui" or "pen"
    why: str
    family: str  # slug of the family it could be mistaken for


@dataclass(frozen=True, slots=True)
class Family:
    slug: str
    name: str
    headquarters: str
    policy_id: str | None
    covered_list_name: str | None
    covered_since: str | None
    chip_vendor: bool
    sources: tuple[str, ...]
    notes: str | None
    members: tuple[Member, ...]
    false_friends: tuple[FalseFriend, ...]


@dataclass(frozen=True, slots=True)
class Hit:
    """One answer of the index: a member of a family, found through `via`."""

    family: Family
    member: Member
    via: str  # "name", "oui", "pen" or "model"

    @property
    def slug(self) -> str:
        return self.family.slug

    @property
    def entity(self) -> str:
        return self.member.name

    @property
    def kind(self) -> Kind:
        return self.member.kind

    @property
    def valid_from(self) -> str | None:
        return self.member.valid_from

    @property
    def valid_to(self) -> str | None:
        return self.member.valid_to

    @property
    def is_chip(self) -> bool:
        """Chip evidence: never outvotes what the device says about itself."""
        return self.member.kind is Kind.CHIP or self.family.chip_vendor

    def active_on(self, day: dt.date) -> bool | None:
        """Whether the member belonged to the family on `day`; None when a partial date leaves
        it open (Lorex joined Dahua "in 2018": 2018-06-01 is undecided)."""
        return in_period(self.member.valid_from, self.member.valid_to, day)


def date_bounds(text: str) -> tuple[dt.date, dt.date]:
    """First and last day a YYYY, YYYY-MM or YYYY-MM-DD date may mean."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def in_period(valid_from: str | None, valid_to: str | None, day: dt.date) -> bool | None:
    """Membership on `day` for the period [valid_from, valid_to): the divestiture day itself is
    already outside. None when `day` falls inside a partial date's range."""
    answer: bool | None = True
    if valid_from is not None:
        first, last = date_bounds(valid_from)
        if day < first:
            return False
        if day < last:
            answer = None
    if valid_to is not None:
        first, last = date_bounds(valid_to)
        if day > last or (day == last == first):
            return False
        if day >= first:
            answer = None
    return answer


class Families:
    """All families with their lookup indexes."""

    def __init__(self, families: tuple[Family, ...]) -> None:
        self.families = families
        self._slugs = {f.slug: f for f in families}
        self._names: dict[str, list[Hit]] = {}
        self._oui: dict[str, list[Hit]] = {}
        self._oui_keys: dict[str, list[Hit]] = {}
        self._pens: dict[int, Hit] = {}
        self._models: list[tuple[re.Pattern[str], Hit]] = []
        self._friends: dict[str, list[FalseFriend]] = {}
        for family in families:
            self._index(family)
        self._any_model = _any_of([p for p, _ in self._models])
        # Frozen for lookups: hot paths return these tuples without copying.
        self._name_hits = {k: tuple(v) for k, v in self._names.items()}
        self._oui_hits = {k: tuple(v) for k, v in self._oui.items()}

    def _index(self, family: Family) -> None:
        for member in family.members:
            for name in (member.name, *member.aliases):
                _add(self._names, name_key(name), Hit(family, member, "name"))
            for org in member.oui_names:
                _add(self._oui, org, Hit(family, member, "oui"))
                _add(self._oui_keys, name_key(org), Hit(family, member, "oui"))
            for pen in member.pens:
                self._pens[pen.number] = Hit(family, member, "pen")
            for pattern in member.model_patterns:
                self._models.append(
                    (re.compile(pattern, re.IGNORECASE), Hit(family, member, "model"))
                )
        main = next((m for m in family.members if m.kind is Kind.ENTITY), family.members[0])
        for name in (family.name, family.slug):
            if not any(h.family is family for h in self._names.get(name_key(name), ())):
                _add(self._names, name_key(name), Hit(family, main, "name"))
        for friend in family.false_friends:
            self._friends.setdefault(friend.name, []).append(friend)
            self._friends.setdefault(name_key(friend.name), []).append(friend)

    def __iter__(self) -> Iterator[Family]:
        return iter(self.families)

    def __len__(self) -> int:
        return len(self.families)

    def family(self, slug: str) -> Family:
        """The family with this slug (KeyError if none)."""
        return self._slugs[slug]

    def by_name(self, text: str) -> tuple[Hit, ...]:
        """Members whose name or alias has the same key as `text` (a manufacturer string)."""
        return self._name_hits.get(name_key(text), ())

    def by_oui_org(self, organization: str) -> tuple[Hit, ...]:
        """Members registered in the IEEE registry under `organization`."""
        exact = self._oui_hits.get(organization)
        if exact is not None:
            return exact
        # Another spelling of a member's name (a refreshed registry may change case), unless it
        # is a known false friend of that family.
        warned = {f.family for f in self.false_friends(organization)}
        return tuple(
            h for h in self._oui_keys.get(name_key(organization), ()) if h.slug not in warned
        )

    def by_pen(self, number: int) -> Hit | None:
        """The member holding IANA enterprise number `number`."""
        return self._pens.get(number)

    def by_model(self, model: str) -> tuple[Hit, ...]:
        """Members whose model-number patterns match `model` (weak evidence)."""
        text = model.strip()
        if self._any_model is not None and not self._any_model.search(text):
            return ()  # most models: one search instead of one per pattern
        return tuple(hit for pattern, hit in self._models if pattern.search(text))

    def false_friends(self, name: str) -> tuple[FalseFriend, ...]:
        """Warnings for a registry name known to look like families it is not part of."""
        return tuple(self._friends.get(name) or self._friends.get(name_key(name)) or ())


_BACKREF = re.compile(r"\\\d|\(\?P=")


def _any_of(patterns: list[re.Pattern[str]]) -> re.Pattern[str] | None:
    """One pattern that matches where any of `patterns` does, or None when joining them could
    change what one matches (a numbered back-reference would point at another group)."""
    if not patterns or any(_BACKREF.search(p.pattern) for p in patterns):
        return None
    try:
        return re.compile("|".join(f"(?:{p.pattern})" for p in patterns), re.IGNORECASE)
    except re.error:  # e.g. two patterns naming a group alike
        return None


def _add(index: dict[str, list[Hit]], key: str, hit: Hit) -> None:
    hits = index.setdefault(key, [])
    if not any(h.family is hit.family and h.member is hit.member for h in hits):
        hits.append(hit)


# libyaml's parser when PyYAML was built with it: the same safe constructors, read 10x faster
# (the bundled families: 0.3 s -> 0.03 s at the start of every identification)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def bundled_path() -> Path:
    return Path(str(resources.files("netvet") / "data" / "vendor_families.yaml"))


def load_families(path: Path | None = None) -> Families:
    """Load and validate the vendor families (the bundled file unless `path` is given);
    `DataError` names the file and the field of every problem."""
    path = path or bundled_path()
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read vendor families ({exc})") from exc
    except yaml.YAMLError as exc:
        raise DataError(f"{path}: not valid YAML: {exc}") from exc
    try:
        parsed = FamiliesFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_where(raw, e['loc'])}: {e['msg']}" for e in exc.errors())
        raise DataError(f"{path}: {problems}") from exc
    return Families(tuple(_family(f) for f in parsed.families))


def _where(raw: Any, loc: tuple[int | str, ...]) -> str:
    """A pydantic error location as a readable path, naming families and members on the way:
    `families[3] (hikvision).members[1] (Hangzhou Ezviz Software Co., Ltd.).valid_to`."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            label = node.get("slug") or node.get("name") if isinstance(node, dict) else None
            out += f" ({label})" if label else ""
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _family(f: Any) -> Family:
    members = tuple(_member(m) for m in f.members)
    friends = tuple(FalseFriend(x.name, x.registry, x.why, f.slug) for x in f.false_friends)
    covered = f.covered_list
    return Family(
        f.slug,
        f.name,
        f.headquarters,
        f.policy_id,
        covered.name if covered else None,
        covered.since if covered else None,
        f.chip_vendor,
        tuple(f.sources),
        f.notes,
        members,
        friends,
    )


def _member(m: MemberModel) -> Member:
    return Member(
        m.name,
        m.kind,
        tuple(m.aliases),
        tuple(m.oui_names),
        tuple(Pen(p.number, p.name) for p in m.pens),
        tuple(m.model_patterns),
        m.valid_from,
        m.valid_to,
        m.status,
        m.source,
        m.note,
    )
