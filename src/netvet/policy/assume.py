"""Settling the rule conditions an inventory cannot decide (`netvet audit --assume RULE=yes`).

A rule's `condition` ("the device is a critical component", "the site is in a sensitive zone")
is a fact netvet cannot see, so the rule's findings stay *undetermined* until the user says
whether it holds. A rule that is only proposed has one more condition, "the proposal is
adopted" (`profile.open_conditions`), settled the same way. Assumptions name rules by id (any
case) or by a shell-style pattern (`DE-*`).
A name that reaches no rule with a condition in the loaded packs is an error, never ignored:
a typo must not leave the findings silently undetermined, and assuming something of a rule
without a condition would change nothing while looking as if it did.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from netvet.errors import InputError
from netvet.policy.model import Rule
from netvet.policy.profile import open_conditions

_PATTERN = frozenset("*?[")
_LISTED = 8  # rule ids named in an error message before "and N more"


@dataclass(frozen=True, slots=True)
class Assumption:
    """The user settled `rule`'s condition: it holds (`holds`) or it does not."""

    rule: Rule
    holds: bool
    given: str  # how the user named it: the id or a pattern

    @property
    def condition(self) -> str:
        return "; and ".join(open_conditions(self.rule))


def parse_answer(text: str) -> bool:
    """`yes`/`no` (also `true`/`false`, any case) as a bool; ValueError otherwise."""
    answer = text.strip().lower()
    if answer in ("yes", "true"):
        return True
    if answer in ("no", "false"):
        return False
    raise ValueError(f"{text!r} is not yes or no")


def resolve(given: Mapping[str, bool], rules: Sequence[Rule]) -> tuple[Assumption, ...]:
    """The assumptions `given` ({rule id or pattern: holds}) over `rules`, in rule order.
    Raises InputError when a name reaches no rule with a condition, or when two names settle
    one rule differently."""
    settled: dict[str, Assumption] = {}
    for name, holds in given.items():
        for rule in _targets(name, rules):
            before = settled.get(rule.id)
            if before is not None and before.holds != holds:
                raise InputError(
                    f"--assume: {before.given} and {name} settle rule {rule.id} differently"
                )
            if before is None:
                settled[rule.id] = Assumption(rule, holds, name)
    order = {r.id: i for i, r in enumerate(rules)}
    return tuple(sorted(settled.values(), key=lambda a: order[a.rule.id]))


def as_mapping(assumptions: Iterable[Assumption]) -> dict[str, bool]:
    """{rule id: holds}, what `evaluate.audit(..., assume=)` takes."""
    return {a.rule.id: a.holds for a in assumptions}


def _targets(name: str, rules: Sequence[Rule]) -> list[Rule]:
    key = name.strip()
    if not key:
        raise InputError("--assume: empty rule name; expected RULE=yes|no")
    conditional = [r for r in rules if open_conditions(r)]
    if _PATTERN & set(key):
        hits = [r for r in conditional if fnmatchcase(r.id.casefold(), key.casefold())]
        if not hits:
            raise InputError(
                f"--assume {key}: the pattern matches no rule with a condition in the selected "
                f"packs; {_listing(conditional)}"
            )
        return hits
    exact = [r for r in rules if r.id == key] or [
        r for r in rules if r.id.casefold() == key.casefold()
    ]
    if not exact:
        near = difflib.get_close_matches(key.upper(), [r.id.upper() for r in rules], n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise InputError(
            f"--assume {key}: no such rule in the selected packs{hint}; {_listing(conditional)}"
        )
    if len(exact) > 1:
        raise InputError(f"--assume {key}: several rules differ only in case; give the exact id")
    rule = exact[0]
    if not open_conditions(rule):
        raise InputError(
            f"--assume {key}: rule {rule.id} has no condition to assume; {_listing(conditional)}"
        )
    return [rule]


def _listing(conditional: Sequence[Rule]) -> str:
    if not conditional:
        return "the selected packs have no rule with a condition"
    ids = [r.id for r in conditional]
    more = f" and {len(ids) - _LISTED} more" if len(ids) > _LISTED else ""
    return f"rules with a condition: {', '.join(ids[:_LISTED])}{more}"
