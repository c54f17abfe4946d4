"""Text matching: manufacturer strings to vendor-family members, and vendor words found inside
free text (sysDescr, model strings).

A manufacturer string is tried, in order (first answer wins):
1. placeholder ("", "unknown", "n/a", "generic"...): no evidence;
2. exact name key of a member, alias or registry spelling (`names.name_key`: case, punctuation
   and legal suffixes folded);
3. a known false friend or another IEEE/IANA organization with that exact key: a real company
   that is *not* in a family ("Juniper Systems" is not Juniper Networks), so nothing below may
   turn it into one;
4. a vendor word inside it ("Huawei Technologies Deutschland GmbH" contains "huawei");
5. fuzzy: one edit (a transposition counts as one) for 5-8 letters, two from 9 ("Hikvison",
   "Huwaei"), the best candidate unique;
6. otherwise the string itself names an unknown maker.

Vendor words (`TokenIndex`) are the families' names and aliases of four letters or more
(three-letter ones only from an allow-list: "zte", "h3c", "dji"), minus words too common to
mean a vendor ("LTS" is in "Ubuntu 22.04 LTS"), plus operating-system names that only one
vendor ships (JUNOS, VRP, Comware, NX-OS, TiMOS...).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from netvet.inventory.evidence import ORG, Clue, ClueSet
from netvet.inventory.families import Families, Hit
from netvet.inventory.names import name_key

PLACEHOLDERS = frozenset(
    {"", "unknown", "n a", "na", "none", "null", "generic", "other", "oem", "tbd", "various",
     "unbranded", "no name", "noname", "not available", "undefined", "default", "0", "x",
     # IEEE registry placeholders, not makers
     "private", "ieee registration authority"}
)  # fmt: skip
_SHORT_OK = frozenset({"zte", "h3c", "dji"})
_STOP = frozenset(
    {"ltd", "lts", "mist", "china", "mobile", "telecom", "networks", "systems", "technology",
     "technologies", "digital", "global", "device", "devices", "solutions", "communications",
     "electronics", "software", "group", "holding", "international", "corporation"}
)  # fmt: skip
# Operating systems and product lines only one family ships, as they appear in sysDescr.
OS_TOKENS = {
    "cisco ios": "cisco",
    "ios xe": "cisco",
    "ios-xe": "cisco",
    "ios xr": "cisco",
    "nx-os": "cisco",
    "junos": "juniper",
    "vrp": "huawei",
    "versatile routing platform": "huawei",
    "comware": "h3c",  # also in HPE FlexNetwork switches, which H3C builds
    "fortios": "fortinet",
    "fortigate": "fortinet",
    "timos": "nokia",
    "zxr10": "zte",
    "zxa10": "zte",
}
WEIGHT = {"exact": 0.9, "org": 0.8, "contains": 0.75, "fuzzy": 0.6, "unknown": 0.5}


def hit_clues(hits: tuple[Hit, ...], signal: str, weight: float, how: str = "") -> ClueSet:
    """Clues for index hits (chip members weigh little: see `combine`)."""
    return tuple(
        Clue(
            signal,
            h.slug,
            h.entity,
            str(h.kind),
            weight,
            how,
            h.valid_from,
            h.valid_to,
            h.is_chip,
        )
        for h in hits
    )


def org_clue(signal: str, name: str, weight: float, how: str = "") -> Clue:
    """A maker outside the vendor families, keyed by its name key."""
    return Clue(signal, ORG + (name_key(name) or name.strip().casefold()), name, "org", weight, how)


class TokenIndex:
    """Vendor words and the members they name; one regular expression finds the first."""

    def __init__(self, families: Families) -> None:
        self.hits: dict[str, tuple[Hit, ...]] = {}
        for family in families:
            texts = [family.name, family.slug]
            texts += [t for m in family.members for t in (m.name, *m.aliases)]
            for text in texts:
                key = name_key(text)
                if _usable(key):
                    self.hits.setdefault(key, families.by_name(key))
        for token, slug in OS_TOKENS.items():
            self.hits[token] = tuple(h for h in families.by_name(slug) if h.slug == slug)
        self.hits = {k: v for k, v in self.hits.items() if v}
        words = sorted(self.hits, key=len, reverse=True)
        alternatives = "|".join(r"\s+".join(map(re.escape, w.split())) for w in words)
        self.pattern = rf"(?i)\b({alternatives})\b"
        self._regex = re.compile(self.pattern)

    def find(self, text: str) -> tuple[str, tuple[Hit, ...]] | None:
        """The first vendor word in `text` and its members."""
        found = self._regex.search(text)
        if not found:
            return None
        token = normalize_token(found.group(1))
        return token, self.hits.get(token, ())

    def lookup(self, token: str) -> tuple[Hit, ...]:
        return self.hits.get(normalize_token(token), ())


def normalize_token(text: str) -> str:
    return " ".join(text.casefold().split())


def _usable(key: str) -> bool:
    if not key or key in _STOP or key in PLACEHOLDERS:
        return False
    return len(key) >= 4 or key in _SHORT_OK


class NameMatcher:
    """Manufacturer strings to clues (see the module docstring for the order)."""

    def __init__(
        self,
        families: Families,
        tokens: TokenIndex,
        other_org: Callable[[str], str | None],
    ) -> None:
        self.families = families
        self.tokens = tokens
        self._other_org = other_org  # name key -> registry spelling of a company outside
        keys = {name_key(t) for f in families for m in f.members for t in (m.name, *m.aliases)}
        keys |= {name_key(f.name) for f in families}
        self._choices = sorted(k for k in keys if len(k) >= 4)

    def match(self, text: str) -> ClueSet:
        key = name_key(text)
        if key in PLACEHOLDERS or not key:
            return (Clue("manufacturer", "", "", "note", 0.0, "placeholder"),)
        fam = self.families
        hits = fam.by_name(text) or fam.by_oui_org(text)
        if hits:
            return hit_clues(hits, "manufacturer", WEIGHT["exact"])
        friends = fam.false_friends(text)
        if friends:
            how = f"not {friends[0].family}: {friends[0].why}"
            return (org_clue("manufacturer", text, WEIGHT["org"], how),)
        if self._other_org(key):
            return (org_clue("manufacturer", text.strip(), WEIGHT["org"], "registered"),)
        found = self.tokens.find(text)
        if found and found[1]:
            how = f"contains {found[0]!r}"
            return hit_clues(found[1], "manufacturer", WEIGHT["contains"], how)
        near = self._fuzzy(key)
        if near:
            how = f"fuzzy: {near!r}"
            return hit_clues(fam.by_name(near), "manufacturer", WEIGHT["fuzzy"], how)
        return (org_clue("manufacturer", text.strip(), WEIGHT["unknown"], "unrecognised name"),)

    def _fuzzy(self, key: str) -> str | None:
        """The one family name within the allowed edit distance of `key` (or its first word)."""
        for candidate in dict.fromkeys((key, key.split()[0] if key else "")):
            if len(candidate) < 5:
                continue
            limit = 1 if len(candidate) <= 8 else 2
            found = process.extract(
                candidate, self._choices, scorer=OSA.distance, score_cutoff=limit, limit=4
            )
            if not found:
                continue
            best = min(score for _, score, _ in found)
            names = {choice for choice, score, _ in found if score == best}
            slugs = {h.slug for n in names for h in self.families.by_name(n)}
            if len(slugs) == 1:
                return sorted(names)[0]
        return None
