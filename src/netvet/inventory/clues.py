"""What each signal's distinct keys say: `ClueSource.clues(signal, key)` turns one key of
`signals` into a clue set (plus a malformed-value message), and `resolve` keeps the clues that
apply on a given day.

Weights (see docs/identify.md): manufacturer exact 0.9, registry spelling of a company outside
the families 0.8, vendor word inside 0.75, fuzzy 0.6, unrecognised string 0.5; IANA enterprise
number 0.85 (0.75 for a registered company outside the families); MAC OUI 0.8; sysDescr vendor
word 0.7; model: vendor word 0.7, model-number pattern 0.5. Chip-maker members keep their
weight but are set apart by `combine`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import replace
from functools import cached_property

from netvet.inventory.errors import BadValue
from netvet.inventory.evidence import Clue, ClueSet, oui_text, quoted
from netvet.inventory.families import Families, in_period
from netvet.inventory.matchers import NameMatcher, TokenIndex, hit_clues, org_clue
from netvet.inventory.names import name_key
from netvet.inventory.registry import OuiRegistry, PenRegistry, not_evidence_reason, parse_mac
from netvet.inventory.registry.mac import GROUP_BIT, LOCAL_BIT
from netvet.inventory.registry.pen import GENERIC_AGENTS, PenMatch
from netvet.inventory.signals import (
    GROUP,
    JOIN,
    LIST_SEPARATORS,
    LOCAL,
    RAW,
    ZERO,
    BlockPrefixes,
    oui_key,
)

W_PEN, W_PEN_ORG, W_OUI, W_DESCR, W_MODEL_WORD, W_MODEL_PATTERN = 0.85, 0.75, 0.8, 0.7, 0.7, 0.5
_SHORT_NAMES = {8072: "net-snmp agent", 2021: "UCD-SNMP agent"}
# Addresses whose first octet alone says they name no maker (their key keeps no prefix): the
# registry's reason for any address with that bit.
_NO_MAKER = {
    key: not_evidence_reason(bit) or "" for key, bit in ((LOCAL, LOCAL_BIT), (GROUP, GROUP_BIT))
}


# Six blank-separated hex pairs ("00 E0 FC 12 34 56") are one address, not six list items.
_BLANK_MAC = re.compile(r"(?<![0-9A-Fa-f])((?:[0-9A-Fa-f]{2} ){5}[0-9A-Fa-f]{2})(?![0-9A-Fa-f])")


def _colon_macs(text: str) -> str:
    """`text` with blank-separated addresses written with colons, so that splitting a list of
    MACs on blanks keeps each address whole."""
    return _BLANK_MAC.sub(lambda m: m[1].replace(" ", ":"), text)


def note(signal: str, why: str) -> Clue:
    """Evidence looked at and set aside."""
    return Clue(signal, "", "", "note", 0.0, why)


class ClueSource:
    """The registries and families, asked once per distinct key."""

    def __init__(self, oui: OuiRegistry, pen: PenRegistry, families: Families) -> None:
        self.oui = oui
        self.pen = pen
        self.families = families
        self.tokens = TokenIndex(families)
        self.names = NameMatcher(families, self.tokens, self.other_org)
        self._by_pen: dict[int, ClueSet] = {}  # sysObjectIDs differ far more than their PENs

    @cached_property
    def blocks(self) -> BlockPrefixes:
        """The prefixes that decide how many digits of a MAC its lookup key keeps."""
        return BlockPrefixes(
            self.oui.carved_prefixes(),
            frozenset(a.prefix for a in self.oui.blocks(28)),
            frozenset(a.prefix for a in self.oui.blocks(36)),
        )

    @cached_property
    def _orgs_by_word(self) -> dict[str, list[str]]:
        """IEEE and IANA organization names by their first word (a cheap first cut: name keys
        are only computed for the few names sharing a query's first word)."""
        names = sorted(self.oui.organizations()) + sorted(
            e.organization for e in self.pen.entries()
        )
        out: dict[str, list[str]] = {}
        for name in names:
            for word in _first_words(name):
                out.setdefault(word, []).append(name)
        return out

    def other_org(self, key: str) -> str | None:
        """The registry spelling of an IEEE/IANA organization with name key `key` that no
        family member holds (the IEEE spelling first, each registry in sorted order)."""
        first = key.split(" ")[0] if key else ""
        for name in self._orgs_by_word.get(first, ()):
            if name_key(name) != key:
                continue
            if not self.families.by_oui_org(name) and not self.families.by_name(name):
                return name
        return None

    def clues(self, signal: str, key: str) -> tuple[ClueSet, str, str | None]:
        """(clues, evidence text left of the arrow, malformed-value message or None)."""
        if signal == "manufacturer":
            return self.names.match(key), f"manufacturer={quoted(key)}", None
        if signal == "oui":
            return self._oui(key)
        if signal == "pen":
            return self._pen(key)
        if signal == "sysdescr":
            hits = self.tokens.lookup(key)
            return hit_clues(hits, "sysdescr", W_DESCR), f"sysdescr~{quoted(key)}", None
        return self._model(key), f"model={quoted(key)}", None

    def _oui(self, key: str) -> tuple[ClueSet, str, str | None]:
        keys: list[str] = []
        problems: list[str] = []
        for part in key.split(JOIN):
            if not part.startswith(RAW):
                keys.append(part)
                continue
            for text in re.split(LIST_SEPARATORS, _colon_macs(part[len(RAW) :].strip())):
                try:
                    keys.append(oui_key(parse_mac(text), self.blocks))
                except BadValue as exc:
                    problems.append(str(exc))
        clues: list[Clue] = []
        shown: list[str] = []
        for k in dict.fromkeys(keys):
            clue, text = self._one_oui(k)
            clues += clue
            shown.append(text)
        if problems:
            clues.append(note("oui", "malformed MAC"))
        text = "oui=" + ",".join(shown) if shown else "mac"
        return tuple(clues), text, "; ".join(problems) or None

    def _one_oui(self, key: str) -> tuple[ClueSet, str]:
        if key == ZERO:
            return (note("oui", "all-zero placeholder address"),), "00:00:00"
        if key in _NO_MAKER:
            return (note("oui", _NO_MAKER[key]),), key.lower()
        # 00:00:00:00:00:00 is ZERO; a prefix of zeros is Xerox's OUI, looked up as such.
        found = self.oui.lookup_prefix(key)
        if found is None:
            return (note("oui", "prefix not assigned in the IEEE snapshot"),), oui_text(key[:6])
        a = found.assignment
        shown = oui_text(a.prefix) if a else oui_text(key[:6])
        if found.not_evidence:
            return (note("oui", found.not_evidence),), shown
        org = found.organization or ""
        hits = self.families.by_oui_org(org)
        if hits:
            return hit_clues(hits, "oui", W_OUI), shown
        return (org_clue("oui", org, W_OUI),), shown

    def _pen(self, key: str) -> tuple[ClueSet, str, str | None]:
        text = key.removeprefix("OID:").strip()
        shown = f"sysobjectid={quoted(text)}"
        if text.rsplit("::", 1)[-1] == "zeroDotZero" or text.lstrip(".") == "0.0":
            return (note("pen", "zeroDotZero: the agent has no sysObjectID"),), shown, None
        try:
            found = self.pen.from_sysobjectid(text)
        except BadValue as exc:
            return (note("pen", "malformed sysObjectID"),), shown, str(exc)
        if found is None:
            return (note("pen", "OID outside 1.3.6.1.4.1"),), shown, None
        shown = f"pen={found.number}"
        clues = self._by_pen.get(found.number)
        if clues is None:
            clues = self._by_pen[found.number] = self._pen_clues(found)
        return clues, shown, None

    def _pen_clues(self, found: PenMatch) -> ClueSet:
        """What an enterprise number says (the same for every OID under it)."""
        number = found.number
        if found.not_evidence:
            if number in GENERIC_AGENTS:
                why = _SHORT_NAMES.get(number, "generic agent")  # '→-' says it is no evidence
            else:
                why = found.not_evidence
            return (note("pen", why),)
        hit = self.families.by_pen(number)
        if hit is not None:
            return hit_clues((hit,), "pen", W_PEN)
        return (org_clue("pen", found.organization or "", W_PEN_ORG),)

    def _model(self, key: str) -> ClueSet:
        found = self.tokens.find(key)
        if found and found[1]:
            return hit_clues(found[1], "model", W_MODEL_WORD, f"contains {found[0]!r}")
        return hit_clues(self.families.by_model(key), "model", W_MODEL_PATTERN, "model pattern")


def resolve(clues: ClueSet, day: dt.date) -> ClueSet:
    """The clues that hold on `day`: members outside their period are dropped (with a note when
    that leaves the signal nothing), undecided ones (a partial date) kept at half weight."""
    kept: list[Clue] = []
    gone: list[Clue] = []
    for clue in clues:
        state = in_period(clue.valid_from, clue.valid_to, day)
        if state is True:
            kept.append(clue)
        elif state is None:
            how = ", ".join(x for x in (clue.how, f"undecided on {day}") if x)
            kept.append(replace(clue, weight=clue.weight / 2, how=how))
        else:
            gone.append(clue)
    if gone and not any(c.target for c in kept):
        # Lorex after 2022-11-24: still Lorex, no longer Dahua.
        for clue in gone:
            how = f"not {clue.target} on {day}"
            kept.append(org_clue(clue.signal, clue.entity, clue.weight, how))
    return tuple(kept)


_WORD = re.compile(r"[^\W_]+")
_LEADING = {"the", "ao", "ooo", "zao", "oao", "pt"}  # skipped by names.name_key too


def _first_words(name: str) -> list[str]:
    """Candidates for the first word of `name_key(name)`: the first word, and the next one when
    the first is a leading legal form."""
    words = _WORD.findall(unicodedata.normalize("NFKC", name).casefold().replace("&", " and "))
    if not words:
        return []
    return words[:2] if words[0] in _LEADING else words[:1]
