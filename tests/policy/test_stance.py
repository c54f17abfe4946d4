"""The joint-stance matrix and its gaps, on shipped packs."""

from __future__ import annotations

import datetime as dt

import pytest

from netvet.policy.model import Domain, EffectKind, Generation, Pack, Status
from netvet.policy.stance import JointStance, compare_jurisdictions, gaps

D = dt.date
VENDORS = ["huawei", "zte", "ericsson"]


@pytest.fixture(scope="module")
def three(shipped: dict[str, Pack]) -> JointStance:
    return compare_jurisdictions(
        [shipped["uk"], shipped["de"], shipped["ca"]], VENDORS, [Domain.CORE, Domain.RAN]
    )


def headline(stance: JointStance, j: str, v: str, d: Domain) -> tuple[str | None, dt.date | None]:
    cell = stance.cell(j, v, d)
    return (cell.kind.value if cell.kind else None, cell.day)


def test_matrix_shape(three: JointStance) -> None:
    assert three.jurisdictions == ("UK", "DE", "CA")
    assert three.vendors == tuple(VENDORS)
    assert len(three.cells) == 3 * 3 * 2


def test_strongest_restriction_per_cell(three: JointStance) -> None:
    assert headline(three, "UK", "huawei", Domain.CORE) == ("remove_by", D(2023, 12, 31))
    assert headline(three, "UK", "huawei", Domain.RAN) == ("remove_by", D(2027, 12, 31))
    assert three.cell("UK", "huawei", Domain.RAN).generations == frozenset({Generation.G5})
    # Canada: the 5G deadline (2024) comes before the 4G one (2027): the earlier is stricter.
    assert headline(three, "CA", "zte", Domain.RAN) == ("remove_by", D(2024, 6, 28))
    ranked = [(r.id, e.kind.value) for r, e in three.cell("CA", "zte", Domain.RAN).ranked]
    assert ranked == [
        ("CA-2022-REMOVE-5G", "remove_by"),
        ("CA-2022-REMOVE-4G", "remove_by"),
        ("CA-2022-NO-NEW-4G-5G", "ban_new_after"),
    ]
    # Germany's agreement is conditional (critical components) but still the strongest.
    de = three.cell("DE", "huawei", Domain.CORE)
    assert (de.kind, de.day, de.conditional) == (EffectKind.REMOVE_BY, D(2026, 12, 31), True)
    assert headline(three, "UK", "zte", Domain.CORE) == (None, None)
    assert three.cell("UK", "zte", Domain.CORE).strongest() is None


def test_unconditional_outranks_conditional_of_equal_strength(three: JointStance) -> None:
    # UK Huawei RAN: the sensitive-sites removal (2023, conditional) is earlier than the 5G
    # removal (2027) but conditional, so the 5G deadline is the headline.
    ranked = [r.id for r, _ in three.cell("UK", "huawei", Domain.RAN).ranked]
    assert ranked.index("UK-DVD-5G") < ranked.index("UK-DVD-SENSITIVE-SITES")


def test_vendor_neutral_rules_reach_every_vendor(three: JointStance) -> None:
    cell = three.cell("DE", "ericsson", Domain.RAN)
    assert cell.kind is EffectKind.AUTHORISATION and cell.conditional
    assert cell.strongest(neutral=False) is None


def test_gaps_between_three_allies(three: JointStance) -> None:
    found = {
        (g.vendor, g.domain): (
            [c.jurisdiction for c in g.restricting],
            [c.jurisdiction for c in g.silent],
        )
        for g in gaps(three)
    }
    # The UK restricts Huawei only; Germany and Canada restrict ZTE too. Germany's agreement
    # leaves Huawei's and ZTE's RAN equipment alone (only management systems must go).
    assert found == {
        ("huawei", Domain.RAN): (["UK", "CA"], ["DE"]),
        ("zte", Domain.CORE): (["DE", "CA"], ["UK"]),
        ("zte", Domain.RAN): (["CA"], ["UK", "DE"]),
    }
    # Counting Germany's authorisation regime for all vendors makes it "restrict" ZTE's RAN,
    # and Ericsson's.
    neutral = {(g.vendor, g.domain) for g in gaps(three, neutral=True)}
    assert ("ericsson", Domain.RAN) in neutral and ("zte", Domain.RAN) in neutral
    # Only removals: the three allies agree on Huawei's core, on nothing else.
    removals = {(g.vendor, g.domain) for g in gaps(three, EffectKind.REMOVE_BY)}
    assert removals == set(found)
    assert not any(g.vendor == "huawei" and g.domain is Domain.CORE for g in gaps(three))


def test_operator_scope_of_the_matrix(shipped: dict[str, Pack]) -> None:
    operators = compare_jurisdictions([shipped["us"]], ["huawei"], [Domain.CORE])
    cell = operators.cell("US", "huawei", Domain.CORE)
    assert (cell.rule and cell.rule.id, cell.day) == ("US-FCC-EA-LEGACY-HUAWEI-ZTE", D(2026, 7, 1))
    everyone = compare_jurisdictions([shipped["us"]], ["huawei"], [Domain.CORE], operator=None)
    cell = everyone.cell("US", "huawei", Domain.CORE)
    assert (cell.rule and cell.rule.id, cell.kind) == (
        "US-NDAA889-CONTRACTORS",
        EffectKind.REMOVE_BY,
    )


def test_generation_and_status_filters(shipped: dict[str, Pack]) -> None:
    uk = [shipped["uk"]]
    fixed = compare_jurisdictions(uk, ["huawei"], [Domain.RAN], generation=Generation.FIXED)
    assert [r.id for r, _ in fixed.cell("UK", "huawei", Domain.RAN).ranked] == [
        "UK-DVD-SENSITIVE-SITES",
        "UK-DVD-FIBRE-SANCTIONED",
        "UK-DVD-FIBRE-ACCESS-CAP",
        "UK-DN-HUAWEI",
    ]
    every = {
        r.id
        for r, _ in compare_jurisdictions(uk, ["huawei"], [Domain.RAN])
        .cell("UK", "huawei", Domain.RAN)
        .ranked
    }
    final = {
        r.id
        for r, _ in compare_jurisdictions(uk, ["huawei"], [Domain.RAN], exclude=[Status.PROPOSED])
        .cell("UK", "huawei", Domain.RAN)
        .ranked
    }
    assert every - final == {"UK-DVD-DRAFT-5G-ACCESS-CAP"}


def test_unnamed_rules_are_listed_per_jurisdiction(shipped: dict[str, Pack]) -> None:
    stance = compare_jurisdictions([shipped["eu"], shipped["pl"], shipped["uk"]], ["huawei"])
    assert [r.id for r in stance.unnamed["PL"]] == ["PL-KSC-DWR"]
    assert [r.id for r in stance.unnamed["EU"]] == ["EU-5G-TOOLBOX"]
    assert stance.unnamed["UK"] == ()
    assert stance.cell("PL", "huawei", Domain.CORE).kind is None
    assert stance.cell("EU", "huawei", Domain.CORE).kind is EffectKind.DESIGNATION
    assert len(stance.domains) == len(Domain)
