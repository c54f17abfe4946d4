"""Shared fixtures: the vendor families, the shipped packs, and small packs written inline."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from netvet.inventory.families import Families, load_families
from netvet.policy import available_packs, load_packs, parse_pack
from netvet.policy.model import Pack, Rule

MakeRules = Callable[..., tuple[Rule, ...]]
BASE_RULE: dict[str, Any] = {
    "instrument": "Test instrument",
    "sources": [{"url": "https://example.org/law", "fact": "what the law says"}],
    "status": "confirmed",
    "vendors": ["huawei"],
    "domains": "any",
    "generations": "any",
    "operators": "any",
}


def pack_yaml(*rules: dict[str, Any], **header: Any) -> str:
    """A pack's YAML with `rules` (each completed from BASE_RULE, ids r0, r1...)."""
    body = [copy.deepcopy({"id": f"r{i}", **BASE_RULE, **rule}) for i, rule in enumerate(rules)]
    head = {"schema_version": 1, "jurisdiction": "XX", "name": "Test", "as_of": "2026-11"}
    head.update(header)
    return yaml.safe_dump({**head, "rules": body}, sort_keys=False, allow_unicode=True)


@pytest.fixture(scope="session")
def families() -> Families:
    return load_families()


@pytest.fixture(scope="session")
def shipped() -> dict[str, Pack]:
    """Every shipped pack by code."""
    packs = load_packs(available_packs())
    return {code: pack for code, pack in zip(available_packs(), packs, strict=True)}


@pytest.fixture(scope="session")
def make_rules(families: Families) -> MakeRules:
    """Rules from inline specs: make_rules({"effects": {"remove_by": "2027"}}, ...)."""

    def make(*rules: dict[str, Any], **header: Any) -> tuple[Rule, ...]:
        return parse_pack(pack_yaml(*rules, **header), "test.yaml", families).rules

    return make
