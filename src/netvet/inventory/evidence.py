"""The values identification reasons with: clues (what one signal says) and verdicts (what all
of a row's signals say together), and how they are written in the output.

A clue points at a *target*: a vendor family slug, or `org:<name key>` for a maker that no
vendor family covers (an IEEE/IANA organization, or a manufacturer string nobody recognises).
Clues without a target are notes: evidence that was looked at and set aside (a locally
administered MAC, the net-snmp agent's enterprise number, a false friend).
"""

from __future__ import annotations

from dataclasses import dataclass

# Signals in order of precedence: on equal scores the earlier one wins, and it names the entity.
SIGNALS = ("manufacturer", "pen", "oui", "sysdescr", "model")
ORG = "org:"


@dataclass(frozen=True, slots=True)
class Clue:
    """What one signal value says about the maker."""

    signal: str  # one of SIGNALS
    target: str  # family slug, "org:<key>", or "" for a note
    entity: str  # member name, registry organization or the manufacturer text itself
    kind: str  # entity/subsidiary/brand/white-label/chip (family members), org, note
    weight: float  # strength as evidence, in [0, 1]
    how: str = ""  # how it matched or why it is no evidence: "fuzzy", "net-snmp agent"...
    valid_from: str | None = None  # the member's period in its family
    valid_to: str | None = None
    chip: bool = False  # chip-maker evidence: never outvotes the device's own

    @property
    def is_family(self) -> bool:
        return bool(self.target) and not self.target.startswith(ORG)

    def label(self) -> str:
        """The clue after the arrow: `hikvision(white-label)`, `'Juniper Systems'(no family)`,
        `-(locally administered address)`."""
        if not self.target:
            return f"-({self.how})" if self.how else "-"
        name = self.target if self.is_family else quoted(self.entity, None)
        quals = [q for q in (self._kind_label(), self._period(), self.how) if q]
        return name + (f"({', '.join(quals)})" if quals else "")

    def _kind_label(self) -> str:
        if not self.target.startswith(ORG):
            return "" if self.kind in ("entity", "subsidiary") else self.kind
        return "" if self.how else "no vendor family"

    def _period(self) -> str:
        if self.valid_from and self.valid_to:
            return f"{self.valid_from}..{self.valid_to}"
        if self.valid_to:
            return f"until {self.valid_to}"
        return f"from {self.valid_from}" if self.valid_from else ""


ClueSet = tuple[Clue, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer for one combination of resolved clue sets."""

    vendor: str  # family slug, "" when unknown
    entity: str  # member, brand or organization behind the answer
    confidence: float
    conflict: str  # "" or what disagreed
    white_label: str = ""  # the white-label brand the maker was found behind
    chip_only: bool = False  # the only evidence came from chip makers


UNKNOWN = Verdict("", "", 0.0, "")


def arrow(clues: ClueSet) -> str:
    """The right-hand side of an evidence fragment: `→target(...)`, several joined by `|`."""
    if not clues:
        return "→-"
    return "→" + "|".join(dict.fromkeys(c.label() for c in clues))


def quoted(text: str, limit: int | None = 48) -> str:
    """A value as shown in evidence and conflicts: in single quotes (a `'` inside becomes `’`),
    shortened, on one line. Not double quotes: a CSV writer doubles each of those, and on ten
    million rows that escaping cost a third of writing the output."""
    one_line = " ".join(text.split())
    if limit is not None and len(one_line) > limit:
        one_line = one_line[: limit - 1] + "…"
    return "'" + one_line.replace("'", "’") + "'"


def oui_text(key: str) -> str:
    """An OUI lookup key as shown in evidence: `C0:56:E3`, `70:B3:D5:1F:3/36`."""
    pairs = ":".join(key[i : i + 2] for i in range(0, len(key), 2))
    return pairs if len(key) == 6 else f"{pairs}/{len(key) * 4}"
