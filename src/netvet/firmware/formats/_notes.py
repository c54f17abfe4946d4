"""The STRICT `unaccounted` field: what a filesystem's slack accounting found, as one value.

A hostile image can hold a million oddities; the field keeps the first MAX_NOTES as they are
and replaces the rest with their count and a digest of the whole list, so that a difference
past the cut still makes the two sides' values differ. `Notes` collects them that way as they
come (the whole list is never held), `unaccounted` makes the field.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from netvet.firmware.model import Field, Rule

MAX_NOTES = 16  # a long list says enough by then


class Notes:
    """Findings: the first MAX_NOTES as they are, every one counted and in a digest."""

    __slots__ = ("kept", "count", "_digest")

    def __init__(self, notes: Iterable[str] = ()) -> None:
        self.kept: list[str] = []
        self.count = 0
        self._digest = hashlib.sha256()
        self.extend(notes)

    def append(self, note: str) -> None:
        self.count += 1
        # names read from an image may hold undecodable bytes (surrogateescape)
        self._digest.update(note.encode("utf-8", "surrogateescape") + b"\n")
        if len(self.kept) < MAX_NOTES:
            self.kept.append(note)

    def extend(self, notes: Iterable[str]) -> None:
        for note in notes:
            self.append(note)

    def value(self) -> str:
        if not self.count:
            return "none"
        more = self.count - len(self.kept)
        if more <= 0:
            return "; ".join(self.kept)
        digest = self._digest.hexdigest()[:16]
        return "; ".join([*self.kept, f"and {more} more (all: sha256 {digest})"])


def unaccounted(notes: Iterable[str]) -> Field:
    """The field for `notes` ("none" when there are none)."""
    return Field("unaccounted", Notes(notes).value(), Rule.STRICT)
