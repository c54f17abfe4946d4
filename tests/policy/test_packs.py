"""Every shipped pack against the reference it was built from (shared/reference/policy_facts.yaml)
and against the domain mapping documented in docs/policies.md."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from netvet.inventory.families import Families
from netvet.inventory.names import name_key
from netvet.policy.model import Domain, Generation, Pack, Rule, Status, VendorMode

REPO = Path(__file__).resolve().parents[2]
REFERENCE_PLACES = (
    Path("/work/shared/reference/policy_facts.yaml"),
    REPO.parent / "shared" / "reference" / "policy_facts.yaml",
)
DOCS = REPO / "docs" / "policies.md"
REQUIRED = {"us", "uk", "eu", "de", "fr", "se", "ca", "pl", "ee", "ro", "pt", "it", "au"}
NOT_SHIPPED = {"LV", "FI", "SI"}  # docs/policies.md says why
# Dates computed from the reference rather than copied: (rule, date) -> how.
DERIVED_YEARS = {
    # Romania: 5 and 7 years after entry into force; the reference gives the promulgation.
    ("RO-5G-UNAUTHORISED-CORE", "2026-06"): ("2021-06-11", 5),
    ("RO-5G-UNAUTHORISED-NON-CORE", "2028-06"): ("2021-06-11", 7),
}
DERIVED_TEXT = {
    # The legacy import ban took effect 'early July 2026' (10 days after FR publication).
    ("US-FCC-EA-LEGACY-HUAWEI-ZTE", "2026-07"): "early July 2026",
    ("US-FCC-EA-LEGACY-HYTERA-HIKVISION-DAHUA", "2026-07"): "early July 2026",
}
# A rule reaching beyond its reference rule's listed domains, named in docs/policies.md.
BEYOND_MAPPING = {"AU-2012-NBN-HUAWEI"}
# Covered List entries with no rule: (entity text start) -> why.
COVERED_NOT_ENCODED = {
    "Foreign-produced robotic devices": "unconfirmed, no source, no vendor",
}
COUNTRIES = {"CN": "china", "RU": "russia", "BY": "belarus"}


@cache
def reference() -> dict[str, Any]:
    for place in REFERENCE_PLACES:
        if place.is_file():
            data = yaml.safe_load(place.read_text(encoding="utf-8"))
            assert isinstance(data, dict)
            return data
    pytest.skip(
        "reference data absent: neither /work/shared/reference/policy_facts.yaml nor "
        f"{REFERENCE_PLACES[1]} exists"
    )


def ref_rules() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in reference()["rules"]}


def all_rules(shipped: dict[str, Pack]) -> list[tuple[str, Rule]]:
    return [(code, rule) for code, pack in shipped.items() for rule in pack.rules]


def referenced(rule: Rule) -> list[dict[str, Any]]:
    rules = ref_rules()
    return [rules[r] for r in rule.references]


def text_of(refs: list[dict[str, Any]]) -> str:
    return "\n".join(yaml.safe_dump(r, allow_unicode=True, width=10**6) for r in refs)


def dates_of(refs: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Every stated date of the reference rules -> the Covered List entries carrying it."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ref in refs:
        for item in ref.get("dates", []):
            out.setdefault(str(item["date"]), [])
        for entry in ref.get("entries", []):
            out.setdefault(str(entry["date_added"]), []).append(entry)
    return out


def rule_dates(rule: Rule) -> list[str]:
    dates = [e.date.text for e in rule.effects]
    return dates + ([rule.in_force.text] if rule.in_force else [])


def test_required_packs_are_shipped(shipped: dict[str, Pack]) -> None:
    assert set(shipped) >= REQUIRED


def test_pack_headers(shipped: dict[str, Pack]) -> None:
    for code, pack in shipped.items():
        assert pack.jurisdiction == code.upper()
        assert pack.kind == "jurisdiction" and pack.name and pack.notes
        assert pack.as_of.text == "2026-11"  # the reference was compiled 2026-11
        assert pack.rules


def test_every_rule_has_a_source(shipped: dict[str, Pack]) -> None:
    for _, rule in all_rules(shipped):
        assert rule.sources, rule.id
        for source in rule.sources:
            assert source.url and source.url.startswith(("https://", "http://")), rule.id
            assert source.fact.strip(), rule.id


def test_every_vendor_named_exists(shipped: dict[str, Pack], families: Families) -> None:
    slugs = {f.slug: f for f in families}
    for _, rule in all_rules(shipped):
        assert rule.vendors.families <= set(slugs), rule.id
        members = {name_key(m.name) for s in rule.vendors.families for m in slugs[s].members}
        assert {name_key(e) for e in rule.vendors.entities} <= members, rule.id
        if rule.vendors.mode is VendorMode.NAMED:
            assert rule.vendors.families, rule.id


def test_every_reference_jurisdiction_is_shipped_or_explained(shipped: dict[str, Pack]) -> None:
    jurisdictions = {r["jurisdiction"] for r in reference()["rules"]}
    assert jurisdictions - {c.upper() for c in shipped} == NOT_SHIPPED
    docs = DOCS.read_text(encoding="utf-8")
    for code in NOT_SHIPPED:
        assert f"**{code}**" in docs


def test_references_exist_in_the_jurisdiction(shipped: dict[str, Pack]) -> None:
    rules = ref_rules()
    for _, rule in all_rules(shipped):
        assert rule.references, rule.id
        for ref in rule.references:
            assert ref in rules, (rule.id, ref)
            assert rules[ref]["jurisdiction"] == rule.jurisdiction, (rule.id, ref)


def test_dates_match_the_reference(shipped: dict[str, Pack]) -> None:
    for _, rule in all_rules(shipped):
        refs = referenced(rule)
        stated, text = dates_of(refs), text_of(refs)
        for date in rule_dates(rule):
            if date in stated:
                continue
            if (rule.id, date) in DERIVED_YEARS:
                base, years = DERIVED_YEARS[(rule.id, date)]
                assert base in stated, rule.id
                assert date == f"{int(base[:4]) + years}{base[4:7]}", rule.id
                continue
            if (rule.id, date) in DERIVED_TEXT:
                assert DERIVED_TEXT[(rule.id, date)] in text, rule.id
                continue
            # A date the reference states in its text (an event, a note, a source's fact).
            assert _mentions(text, date), (rule.id, date)


def test_status_is_never_stronger_than_the_reference(shipped: dict[str, Pack]) -> None:
    """A rule claims at most its reference rule's status, at most its Covered List entry's,
    and at most what the reference's words say about the very date it uses ("treat as
    partially confirmed", "draft", "not confirmed")."""
    for _, rule in all_rules(shipped):
        refs = referenced(rule)
        floor = min(Status(r["status"]).rank for r in refs)
        stated = dates_of(refs)
        events = {str(d["date"]): d["event"] for r in refs for d in r.get("dates", [])}
        for date in rule_dates(rule):
            entries = stated.get(date) or []
            if entries:  # a Covered List entry's own status
                floor = max(floor, min(Status(e["status"]).rank for e in entries))
            if date in events:
                floor = max(floor, _hint(events[date], prose=False))
            elif (rule.id, date) not in DERIVED_YEARS:
                lines = [ln for ln in text_of(refs).splitlines() if _mentions(ln, date)]
                floor = max([floor, *(_hint(ln, prose=True) for ln in lines)])
        assert rule.status.rank >= floor, (rule.id, rule.status)


def _mentions(line: str, date: str) -> bool:
    return re.search(rf"(?<![\d-]){re.escape(date)}(?![\d])", line) is not None


def _hint(text: str, prose: bool) -> int:
    """The status a sentence gives the date it mentions (rank; 0 when it says nothing)."""
    lower = text.lower()
    if "partially confirmed" in lower:
        return Status.PARTIALLY_CONFIRMED.rank
    if re.search(r"\b(draft|proposed)\b", lower):  # not "Spark's proposal": a filing
        return Status.PROPOSED.rank
    if prose and ("unconfirmed" in lower or "not confirmed" in lower):
        return Status.UNCONFIRMED.rank
    return 0


def test_vendors_are_named_by_the_reference(shipped: dict[str, Pack], families: Families) -> None:
    names = {f.slug: f.name for f in families}
    for _, rule in all_rules(shipped):
        text = text_of(referenced(rule)).lower()
        if rule.vendors.headquarters:
            for code in rule.vendors.headquarters:
                assert COUNTRIES[code] in text, (rule.id, code)
            continue
        for slug in rule.vendors.families:
            spelled = {slug.replace("-", " "), names[slug].lower()}
            assert any(s in text for s in spelled), (rule.id, slug)
        for entity in rule.vendors.entities:
            assert entity.lower() in text, (rule.id, entity)


def test_the_covered_list_is_complete(shipped: dict[str, Pack]) -> None:
    covered = ref_rules()["US-FCC-COVERED-LIST"]
    rules = [r for r in shipped["us"].rules if "US-FCC-COVERED-LIST" in r.references]
    for entry in covered["entries"]:
        if any(entry["entity"].startswith(k) for k in COVERED_NOT_ENCODED):
            continue
        dated = [r for r in rules if any(e.date.text == entry["date_added"] for e in r.effects)]
        assert dated, entry["entity"]


@cache
def domain_map() -> dict[str, tuple[frozenset[Domain], frozenset[Generation]]]:
    """The table of docs/policies.md between its domain-map markers."""
    docs = DOCS.read_text(encoding="utf-8")
    table = docs.split("<!-- domain-map:start -->")[1].split("<!-- domain-map:end -->")[0]
    out = {}
    for line in table.strip().splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        name, domains, generations = cells[0].strip("`"), cells[1], cells[2]
        out[name] = (_values(domains, Domain), _values(generations, Generation))
    return out


def _values(cell: str, enum: Any) -> frozenset[Any]:
    if cell == "any":
        return frozenset(enum)
    if cell == "—":
        return frozenset()
    return frozenset(enum(v.strip()) for v in cell.split(","))


def test_the_domain_map_covers_the_reference() -> None:
    names = {d for r in reference()["rules"] for d in r.get("domains", [])}
    assert names == set(domain_map())


def test_scope_stays_within_the_mapped_domains(shipped: dict[str, Pack]) -> None:
    mapping = domain_map()
    for _, rule in all_rules(shipped):
        if rule.id in BEYOND_MAPPING:
            continue
        names = [d for ref in referenced(rule) for d in ref.get("domains", [])]
        domains = frozenset().union(*(mapping[n][0] for n in names))
        generations = frozenset().union(*(mapping[n][1] for n in names))
        assert (rule.scope.domains or frozenset(Domain)) <= domains, rule.id
        assert (rule.scope.generations or frozenset(Generation)) <= generations, rule.id


def test_the_documented_exception_is_documented() -> None:
    docs = DOCS.read_text(encoding="utf-8")
    assert all(f"`{rule_id}`" in docs for rule_id in BEYOND_MAPPING)
