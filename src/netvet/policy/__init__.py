"""Is it allowed here? The policy language, the shipped jurisdiction packs and their meaning.

- `loader.load_packs(["uk", "de"], extra_paths=[...])`: validated packs (model.Pack)
- `evaluate.evaluate(profile, rule, as_of)`, `evaluate.audit(groups, rules, as_of)`: findings
- `caps.evaluate_caps`: shares of a domain against caps
- `stance.compare_jurisdictions`, `stance.gaps`: the joint-stance matrix across allies
docs/policies.md describes the language and its semantics.
"""

from netvet.policy.errors import PolicyError, Problem
from netvet.policy.loader import available_packs, load_pack, load_packs, parse_pack

__all__ = ["PolicyError", "Problem", "available_packs", "load_pack", "load_packs", "parse_pack"]
