"""All of a row's clues combined into one verdict.

1. Notes (evidence set aside) take no part. Chip-maker clues are set apart: they never outvote
   and never contradict the device's own evidence, and alone they give no vendor (a Realtek
   MAC says who made the network chip, not the camera).
2. Clues are grouped by target (family, or organization outside the families; organizations
   whose names share their first word of four letters or more are one maker: "Ubiquiti" and
   "Ubiquiti Inc"). Per target, each signal counts once with its strongest clue, and the
   signals combine as independent witnesses: score = 1 - prod(1 - weight).
3. The highest score wins; ties go to a vendor family over an outside organization, then to the
   target backed by the signal of highest precedence (manufacturer, pen, oui, sysdescr, model).
4. Every other target scoring at least `CONFLICT_FLOOR` is a conflict, reported, and lowers the
   confidence: confidence = score(winner) * (1 - score(strongest other) / 2).
5. The entity is that of the winner's highest-precedence clue, so a white-label brand found in
   the manufacturer column is kept ("LTS") while the vendor is its maker (hikvision).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from netvet.inventory.evidence import ORG, SIGNALS, UNKNOWN, Clue, ClueSet, Verdict, quoted

CONFLICT_FLOOR = 0.3


def combine(sets: Sequence[ClueSet]) -> Verdict:
    """The verdict for one row's resolved clue sets (one set per signal)."""
    evidence = [c for clues in sets for c in clues if c.target]
    device = [c for c in evidence if not c.chip]
    if not device:
        return Verdict("", "", 0.0, "", chip_only=True) if evidence else UNKNOWN
    same = _org_aliases([c.target for c in device])
    groups: dict[str, dict[str, Clue]] = {}
    for clue in device:
        per_signal = groups.setdefault(same.get(clue.target, clue.target), {})
        best = per_signal.get(clue.signal)
        if best is None or clue.weight > best.weight:
            per_signal[clue.signal] = clue
    scores = {t: 1 - math.prod(1 - c.weight for c in g.values()) for t, g in groups.items()}
    order = sorted(groups, key=lambda t: _rank(t, scores[t], groups[t]), reverse=True)
    winner, others = order[0], [t for t in order[1:] if scores[t] >= CONFLICT_FLOOR]
    strongest = max((scores[t] for t in others), default=0.0)
    confidence = round(scores[winner] * (1 - strongest / 2), 2)
    lead = min(groups[winner].values(), key=lambda c: SIGNALS.index(c.signal))
    white = next((c.entity for c in groups[winner].values() if c.kind == "white-label"), "")
    conflict = ""
    if others:
        sides = [_side(t, groups[t]) for t in (winner, *others)]
        conflict = sides[0] + " vs " + "; ".join(sides[1:])
    vendor = "" if winner.startswith(ORG) else winner
    return Verdict(vendor, lead.entity, confidence, conflict, white)


def _rank(target: str, score: float, group: dict[str, Clue]) -> tuple[float, bool, int]:
    precedence = min(SIGNALS.index(s) for s in group)
    return round(score, 9), not target.startswith(ORG), -precedence


def _side(target: str, group: dict[str, Clue]) -> str:
    """`cisco by manufacturer, pen` or `'Intel Corporate' by oui`."""
    signals = ", ".join(s for s in SIGNALS if s in group)
    lead = group[next(s for s in SIGNALS if s in group)]
    name = quoted(lead.entity, None) if target.startswith(ORG) else target
    return f"{name} by {signals}"


def _org_aliases(targets: list[str]) -> dict[str, str]:
    """Organization targets mapped to the first one sharing their first word (4+ letters)."""
    first_seen: dict[str, str] = {}
    out: dict[str, str] = {}
    for target in dict.fromkeys(t for t in targets if t.startswith(ORG)):
        word = target[len(ORG) :].split(" ")[0]
        if len(word) < 4:
            continue
        out[target] = first_seen.setdefault(word, target)
    return out
