"""The STRICT `unaccounted` field: what a filesystem's slack accounting found, as one value.

A hostile image can hold a million oddities; the field keeps the first MAX_NOTES as they are
and replaces the rest with their count and a digest of the whole list, so that a difference
past the cut still makes the two sides' values differ.
"""

from __future__ import annotations

import hashlib

from netvet.firmware.model import Field, Rule

MAX_NOTES = 16  # a long list says enough by then


def unaccounted(notes: list[str]) -> Field:
    """The field for `notes` ("none" when there are none)."""
    if len(notes) > MAX_NOTES:
        digest = hashlib.sha256("\n".join(notes).encode()).hexdigest()[:16]
        notes = [*notes[:MAX_NOTES], f"and {len(notes) - MAX_NOTES} more (all: sha256 {digest})"]
    return Field("unaccounted", "; ".join(notes) or "none", Rule.STRICT)
