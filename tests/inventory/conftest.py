"""Shared fixtures: the bundled registries and families (loaded once) and a private cache dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from netvet.inventory.families import Families, load_families
from netvet.inventory.registry import OuiRegistry, PenRegistry, load_oui, load_pen

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture(autouse=True)
def _private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the real user's registry cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="session")
def oui(tmp_path_factory: pytest.TempPathFactory) -> OuiRegistry:
    return load_oui(cache=tmp_path_factory.mktemp("empty-cache"))


@pytest.fixture(scope="session")
def pen(tmp_path_factory: pytest.TempPathFactory) -> PenRegistry:
    return load_pen(cache=tmp_path_factory.mktemp("empty-cache"))


@pytest.fixture(scope="session")
def families() -> Families:
    return load_families()
