"""The audit of an inventory file against policy packs: what breaks which rule, what must go
by when, how capped shares stand, and who is exposed where.

`audit_inventory(path, packs, as_of)` imports the file (`load_inventory`), identifies vendors
first when it has no `vendor` column (`identify_frame`), reduces every row to a policy
`Profile`, groups the rows with one polars `group_by` and evaluates each distinct profile once
(`evaluate.audit`). Violations are then listed per device; deadlines are counted per rule,
due date, domain and site.

What a row is taken to be:
- vendor: the `vendor` column (family slugs, as `netvet inventory identify` writes them); an
  empty value is an unidentified device (None), reached only by `vendors: any` rules. Its
  entity comes from `vendor_entity` when present.
- domain, first that gives one: the `domain_column` (default: a `network_domain` column, if
  any); the row's role (the column mapped to the `role` field) through `role_map`, a role
  spelled like a domain (`core`, `ran`...) meaning that domain; else `default_domain`; else
  unknown. The inventory's `domain` *field* is a DNS domain and is never read as one.
- generation: a `generation` column (2g, 3g, 4g, 5g, fixed), else unknown.
- operator scope: `operators`, the same for every row (default public-network, the operators
  the shipped packs are about).
- install date: the column mapped to the `date` field (YYYY-MM-DD), else unknown.
A domain or generation value netvet does not know is an error, never silently unknown.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from netvet.errors import InputError
from netvet.inventory.families import load_families
from netvet.inventory.importers import FieldMap, load_inventory
from netvet.inventory.importers.base import as_text
from netvet.policy.caps import CapStatus
from netvet.policy.evaluate import Finding, Kind, audit, rules_of
from netvet.policy.model import Domain, Generation, OperatorScope, Pack, Rule
from netvet.policy.profile import Device, Profile, install_cuts, named_entities

DEFAULT_OPERATORS = frozenset({OperatorScope.PUBLIC_NETWORK})
DOMAIN_COLUMN = "network_domain"
GENERATION_COLUMN = "generation"
_KEYS = ("_vendor", "_entity", "_domain", "_generation", "_installed", "_site")


@dataclass(frozen=True, slots=True)
class Violation:
    """One device breaking one rule on the audit's date."""

    row: int  # 1-based row of the inventory
    device: str | None  # the row's id, if the inventory has one
    name: str | None
    site: str | None
    vendor: str | None
    domain: Domain | None
    rule: Rule
    why: str
    since: dt.date
    unconfirmed: bool
    approximate: bool


@dataclass(frozen=True, slots=True)
class Deadline:
    """Devices of one domain and site that must go by `due` under `rule`."""

    rule: Rule
    due: dt.date
    domain: Domain | None
    site: str | None
    devices: int
    unconfirmed: bool
    approximate: bool


@dataclass(frozen=True, slots=True)
class Tally:
    """Devices with an undetermined, authorisation or designation finding under one rule."""

    kind: Kind
    rule: Rule
    would_be: Kind | None
    devices: int


@dataclass(frozen=True, slots=True)
class Exposure:
    vendor: str | None  # None: unidentified
    domain: Domain | None
    devices: int


@dataclass(frozen=True, slots=True)
class AuditResult:
    """Everything an audit found; presenters render it, the CLI turns it into an exit code."""

    source: str
    as_of: dt.date
    policies: tuple[str, ...]  # jurisdiction codes of the packs, in the order given
    devices: int
    identified: bool  # identification ran (the inventory had no vendor column)
    operators: frozenset[OperatorScope]
    violations: tuple[Violation, ...]
    deadlines: tuple[Deadline, ...]
    caps: tuple[CapStatus, ...]
    tallies: tuple[Tally, ...]
    exposure: tuple[Exposure, ...]

    @property
    def breaches(self) -> tuple[CapStatus, ...]:
        return tuple(c for c in self.caps if c.breach)

    @property
    def found(self) -> bool:
        """Something is broken now: a violation or a breached cap."""
        return bool(self.violations or self.breaches)

    @property
    def unconfirmed(self) -> bool:
        """Some violation, deadline or exceeded cap rests on a fact that is not confirmed."""
        return (
            any(v.unconfirmed for v in self.violations)
            or any(d.unconfirmed for d in self.deadlines)
            or any(c.unconfirmed for c in self.caps if c.exceeded)
        )


def audit_inventory(
    path: Path,
    packs: Iterable[Pack],
    as_of: dt.date,
    *,
    domain_column: str | None = None,
    role_map: Mapping[str, Domain] | None = None,
    default_domain: Domain | None = None,
    operators: frozenset[OperatorScope] = DEFAULT_OPERATORS,
    assume: Mapping[str, bool] | None = None,
    input_format: str | None = None,
    mapping: Mapping[str, str] | None = None,
) -> AuditResult:
    """Import `path` and audit it against `packs` as of `as_of` (see the module docstring)."""
    inventory = load_inventory(path, input_format, mapping)
    frame, identified = inventory.collect(), False
    if "vendor" not in frame.columns:
        from netvet.inventory.identify import identify_frame

        frame, _ = identify_frame(frame, as_of, fields=inventory.fields)
        identified = True
    rows = _rows(frame, inventory.fields, domain_column, role_map or {}, default_domain)
    return _judge(rows, tuple(packs), as_of, operators, assume, str(path), identified)


def _rows(
    frame: pl.DataFrame,
    fields: FieldMap,
    domain_column: str | None,
    role_map: Mapping[str, Domain],
    default: Domain | None,
) -> pl.DataFrame:
    """The policy view of every row: the `_KEYS` columns plus `_row`, `_id` and `_name`."""
    schema = frame.schema
    _check_vendors(frame)

    def text(column: str | None, lower: bool = False) -> pl.Expr:
        if column is None or column not in schema:
            return pl.lit(None, pl.String)
        value = as_text(column, schema[column]).str.strip_chars()
        value = value.str.to_lowercase() if lower else value
        return pl.when(value == "").then(None).otherwise(value)

    column = domain_column or (DOMAIN_COLUMN if DOMAIN_COLUMN in schema else None)
    if domain_column is not None and domain_column not in schema:
        raise InputError(f"--domain-column: no column {domain_column!r} in the inventory")
    roles = {k.strip().lower(): v.value for k, v in role_map.items()}
    roles = {**{d.value: d.value for d in Domain}, **roles}
    by_role = text(fields.get("role"), lower=True).replace_strict(roles, default=None)
    domain = pl.coalesce(
        text(column, lower=True), by_role, pl.lit(default and default.value, pl.String)
    )
    out = frame.select(
        text("vendor", lower=True).alias("_vendor"),
        text("vendor_entity").alias("_entity"),
        domain.alias("_domain"),
        text(GENERATION_COLUMN, lower=True).alias("_generation"),
        _date(fields.get("date"), schema).alias("_installed"),
        text(fields.get("site")).alias("_site"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 1).alias("_row"),
        text(fields.get("id")).alias("_id"),
        text(fields.get("name")).alias("_name"),
    )
    _check_values(out, "_domain", Domain, column or "domain")
    _check_values(out, "_generation", Generation, GENERATION_COLUMN)
    return out


def _date(column: str | None, schema: pl.Schema) -> pl.Expr:
    if column is None:
        return pl.lit(None, pl.Date)
    dtype = schema[column]
    if dtype == pl.Date:
        return pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    return as_text(column, dtype).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)


def _check_vendors(frame: pl.DataFrame) -> None:
    """A `vendor` column must hold family slugs: raw maker names would match no rule."""
    if "vendor" not in frame.columns:
        return
    known = {f.slug for f in load_families()}
    values = frame.get_column("vendor").cast(pl.String).str.strip_chars().str.to_lowercase()
    bad = sorted(set(values.drop_nulls().unique().to_list()) - known - {""})
    if bad:
        raise InputError(
            f"column 'vendor' holds values that are not vendor family slugs ({', '.join(bad[:5])}"
            "); name a maker column 'manufacturer', or run `netvet inventory identify` first"
        )


def _check_values(rows: pl.DataFrame, column: str, enum: Any, what: str) -> None:
    known = {e.value for e in enum}
    bad = sorted(set(rows.get_column(column).drop_nulls().unique().to_list()) - known)
    if bad:
        raise InputError(
            f"{what}: unknown value(s) {', '.join(repr(b) for b in bad[:5])}; known: "
            f"{', '.join(sorted(known))}"
            + (" (map roles with --role-map ROLE=DOMAIN)" if enum is Domain else "")
        )


def _judge(
    rows: pl.DataFrame,
    packs: tuple[Pack, ...],
    as_of: dt.date,
    operators: frozenset[OperatorScope],
    assume: Mapping[str, bool] | None,
    source: str,
    identified: bool,
) -> AuditResult:
    rules = rules_of(packs)
    cuts, entities = install_cuts(rules), named_entities(rules)
    groups = rows.group_by(_KEYS).len("_n").with_row_index("_g")
    profiles: list[Profile] = []
    sites: list[str | None] = []
    counts: Counter[Profile] = Counter()
    for vendor, entity, domain, generation, installed, site, n in groups.select(
        *_KEYS, "_n"
    ).iter_rows():
        device = Device(
            vendor,
            entity,
            Domain(domain) if domain else None,
            Generation(generation) if generation else None,
            operators,
            site,
            installed,
        )
        profile = device.profile(cuts, entities)
        profiles.append(profile)
        sites.append(site)
        counts[profile] += n
    result = audit(counts.items(), rules, as_of, assume)
    findings = result.findings
    return AuditResult(
        source=source,
        as_of=as_of,
        policies=tuple(p.jurisdiction for p in packs),
        devices=rows.height,
        identified=identified,
        operators=operators,
        violations=_violations(rows, groups, profiles, findings),
        deadlines=_deadlines(groups, profiles, sites, findings),
        caps=result.caps,
        tallies=_tallies(counts, findings),
        exposure=_exposure(counts),
    )


def _violations(
    rows: pl.DataFrame,
    groups: pl.DataFrame,
    profiles: list[Profile],
    findings: Mapping[Profile, tuple[Finding, ...]],
) -> tuple[Violation, ...]:
    """One entry per device and violated rule; `since` is exact per device (a profile holds a
    range of install dates)."""
    bad = {
        g: found
        for g, p in enumerate(profiles)
        if (found := tuple(f for f in findings.get(p, ()) if f.kind is Kind.VIOLATION))
    }
    if not bad:
        return ()
    keyed = groups.filter(pl.col("_g").is_in(list(bad))).select(*_KEYS, "_g")
    hits = rows.join(keyed, on=list(_KEYS), nulls_equal=True).sort("_row")
    out: list[Violation] = []
    for row in hits.iter_rows(named=True):
        installed: dt.date | None = row["_installed"]
        for f in bad[row["_g"]]:
            since = f.since or f.effect.day
            if installed is not None:
                since = max(since, installed)
            out.append(
                Violation(
                    row["_row"],
                    row["_id"],
                    row["_name"],
                    row["_site"],
                    row["_vendor"],
                    Domain(row["_domain"]) if row["_domain"] else None,
                    f.rule,
                    f.why,
                    since,
                    f.unconfirmed,
                    f.approximate,
                )
            )
    return tuple(sorted(out, key=lambda v: (v.rule.id, v.row)))


def _deadlines(
    groups: pl.DataFrame,
    profiles: list[Profile],
    sites: list[str | None],
    findings: Mapping[Profile, tuple[Finding, ...]],
) -> tuple[Deadline, ...]:
    tally: Counter[tuple[Finding, Domain | None, str | None]] = Counter()
    for profile, site, n in zip(profiles, sites, groups.get_column("_n"), strict=True):
        for f in findings.get(profile, ()):
            if f.kind is Kind.DEADLINE:
                tally[(f, profile.domain, site)] += n
    out = [
        Deadline(f.rule, f.due or f.effect.day, domain, site, n, f.unconfirmed, f.approximate)
        for (f, domain, site), n in tally.items()
    ]
    return tuple(sorted(out, key=lambda d: (d.due, d.rule.id, d.domain or "", d.site or "")))


def _tallies(
    counts: Mapping[Profile, int], findings: Mapping[Profile, tuple[Finding, ...]]
) -> tuple[Tally, ...]:
    tally: Counter[tuple[Kind, Rule, Kind | None]] = Counter()
    skip = (Kind.VIOLATION, Kind.DEADLINE, Kind.CAP)
    for profile, found in findings.items():
        for f in found:
            if f.kind not in skip:
                tally[(f.kind, f.rule, f.would_be)] += counts[profile]
    out = [Tally(kind, rule, would_be, n) for (kind, rule, would_be), n in tally.items()]
    return tuple(sorted(out, key=lambda t: (t.kind.value, t.rule.id)))


def _exposure(counts: Mapping[Profile, int]) -> tuple[Exposure, ...]:
    tally: Counter[tuple[str | None, Domain | None]] = Counter()
    for profile, n in counts.items():
        tally[(profile.vendor, profile.domain)] += n
    out = [Exposure(vendor, domain, n) for (vendor, domain), n in tally.items()]
    return tuple(sorted(out, key=lambda e: (e.vendor or "~", e.domain or "~")))
