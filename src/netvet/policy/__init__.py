"""Is it allowed here? The policy language, the shipped jurisdiction packs and their meaning.

- `loader.load_packs(["uk", "de"], extra_paths=[...])`: validated packs (model.Pack)
- `evaluate.evaluate(profile, rule, as_of)`, `evaluate.audit(groups, rules, as_of)`: findings
- `caps.evaluate_caps`: shares of a domain against caps
- `stance.compare_jurisdictions`, `stance.gaps`: the joint-stance matrix across allies
docs/policies.md describes the language and its semantics.
"""

from __future__ import annotations

from typing import Any

from netvet.policy.errors import PolicyError, Problem

__all__ = ["PolicyError", "Problem", "available_packs", "load_pack", "load_packs", "parse_pack"]

_LOADER = {"available_packs", "load_pack", "load_packs", "parse_pack"}


def __getattr__(name: str) -> Any:
    # The loader brings pydantic and the vendor families: import it on first use, so that
    # commands which never read a policy (every `netvet` start-up) do not pay for it.
    if name in _LOADER:
        from netvet.policy import loader

        return getattr(loader, name)
    raise AttributeError(f"module 'netvet.policy' has no attribute {name!r}")
