"""The audit of an inventory file against policy packs: what breaks which rule, what must go
by when, how capped shares stand, and who is exposed where.

`audit_inventory(path, packs, as_of)` imports the file (`load_inventory`), identifies vendors
first when it has no `vendor` column (identification as a lazy, batched polars source),
collects only the narrow policy columns of every row (`rows.policy_rows`: how a row's vendor,
domain, generation and install date are read is documented there), groups the rows into
distinct profiles with one polars `group_by` and evaluates each profile once
(`evaluate.audit`). Each group keeps its rows' numbers, so findings go back to devices by
gathering, only where they must: violations are listed per device (only the rows of violating
profiles are visited), deadlines are counted per rule, due date, domain and site by polars.

Operator scope is `operators`, the same for every row (default public-network, the operators
the shipped packs are about). Domain and generation spellings are read through `spellings`; a
value netvet does not know never stops the audit: the dimension is unknown for those rows and
the value is listed with its count and first rows (`AuditResult.bad_values`). A role with no
domain leaves the domain unknown and is listed (`AuditResult.unmapped_roles`). Devices
installed after the audit's date did not exist then and are left out (`installed_later`).
Conditions settled by the user (`assume`) are kept in the result so every report can say what
was assumed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl

from netvet.inventory.importers import load_inventory
from netvet.policy.assume import Assumption, as_mapping, resolve
from netvet.policy.caps import CapStatus
from netvet.policy.evaluate import Finding, Kind, audit, ban_why, rules_of
from netvet.policy.model import Domain, EffectKind, Generation, OperatorScope, Pack, Rule
from netvet.policy.profile import Profile, bucket_range, fold_entity, install_cuts, named_entities
from netvet.policy.rows import (
    DOMAIN_COLUMN,
    GENERATION_COLUMN,
    PROFILE_KEYS,
    check_profiles,
    policy_rows,
)
from netvet.policy.unplaced import Placing, Undetermined, placing

DEFAULT_OPERATORS = frozenset({OperatorScope.PUBLIC_NETWORK})
_ROWS_KEPT = 5  # row numbers kept per unknown value
__all__ = [
    "DEFAULT_OPERATORS",
    "DOMAIN_COLUMN",
    "GENERATION_COLUMN",
    "AuditResult",
    "BadValue",
    "Placing",
    "Undetermined",
    "Deadline",
    "Exposure",
    "Tally",
    "Violation",
    "audit_inventory",
]


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
class BadValue:
    """A domain or generation value netvet does not know: those rows' dimension is unknown."""

    column: str
    value: str
    devices: int
    rows: tuple[int, ...]  # the first few row numbers (1-based)


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
    assumptions: tuple[Assumption, ...] = ()  # conditions the user settled
    unmapped_roles: tuple[tuple[str, int], ...] = ()  # (role, devices) that gave no domain
    installed_later: int = 0  # devices installed after `as_of`, left out of the audit
    bad_values: tuple[BadValue, ...] = ()  # unknown domain/generation values, left unknown
    placing: Placing | None = None  # devices not placed, undetermined findings per device
    import_notes: tuple[str, ...] = ()  # the import report (columns, bad rows, dropped values)
    identification: tuple[str, ...] = ()  # the identification summary, when it ran

    @property
    def undetermined(self) -> tuple[Undetermined, ...]:
        return self.placing.entries if self.placing else ()

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
    """Import `path` and audit it against `packs` as of `as_of` (see the module docstring).
    `assume` settles rule conditions by rule id or pattern (`assume.resolve`; a name reaching
    no conditional rule is an InputError)."""
    packs = tuple(packs)
    rules = rules_of(packs)
    assumptions = resolve(assume or {}, rules)
    inventory = load_inventory(path, input_format, mapping)
    frame, run = inventory.frame, None
    has_vendor = "vendor" in frame.collect_schema()
    if not has_vendor:
        from netvet.inventory.identify import Identifier
        from netvet.inventory.rowrun import Run

        # Identification as a lazy, batched source: the audit collects only the columns it
        # reads, so the inventory's other columns are never all in memory at once.
        run = Run(Identifier(), inventory, as_of)
        frame = run.rows()
    lazy = policy_rows(
        frame,
        inventory.fields,
        install_cuts(rules),
        domain_column=domain_column,
        role_map=role_map,
        default=default_domain,
    )
    try:
        rows = lazy.collect(engine="streaming")
    except pl.exceptions.PolarsError:
        if run is not None and run.error is not None:  # raised inside the source: the cause
            raise run.error from None
        raise
    result = _judge(
        rows, packs, as_of, operators, assumptions, domain_column, has_vendor, str(path)
    )
    report = inventory.report
    if report.rows is None:
        report.rows = rows.height
    notes = report.lines()
    used = {c for cols in inventory.fields.columns.values() for c in cols}
    used |= {"vendor", "vendor_entity", domain_column or DOMAIN_COLUMN, GENERATION_COLUMN}
    unused = [c for c in inventory.frame.collect_schema() if c not in used]
    if unused:
        shown = ", ".join(unused[:8]) + (f" and {len(unused) - 8} more" if len(unused) > 8 else "")
        notes.append(f"columns not used: {shown} (name their field with --map FIELD=COLUMN)")
    identified = run.finish().lines() if run is not None else []
    return replace(
        result,
        import_notes=tuple(notes),
        identification=tuple(line for line in identified if line not in report.lines()),
    )


def _judge(
    rows: pl.DataFrame,
    packs: tuple[Pack, ...],
    as_of: dt.date,
    operators: frozenset[OperatorScope],
    assumptions: tuple[Assumption, ...],
    domain_column: str | None,
    has_vendor: bool,
    source: str,
) -> AuditResult:
    """Evaluate each distinct profile once; carry the findings back to devices and sites."""
    rules = rules_of(packs)
    cuts, entities = install_cuts(rules), named_entities(rules)
    # A device installed after the audit's date did not exist then: left out, and counted.
    # Rows keep their numbers, so gathering by `_row` from all `rows` still finds them.
    later = pl.col("_installed") > as_of
    future = rows.select(later.sum()).item() or 0
    present = rows.filter(later.not_() | pl.col("_installed").is_null()) if future else rows
    # Each group keeps its rows' numbers: findings go back to rows by gathering, never by
    # joining ten million rows on five keys again.
    groups = (
        present.group_by(PROFILE_KEYS)
        .agg(pl.len().alias("_n"), pl.col("_row"))
        .with_row_index("_g")
    )
    check_profiles(groups, has_vendor)
    profiles: list[Profile] = []
    sizes: list[int] = []
    counts: Counter[Profile] = Counter()
    for vendor, entity, domain, generation, bucket, n in groups.select(
        *PROFILE_KEYS, "_n"
    ).iter_rows():
        profile = Profile(
            vendor,
            # without a family the entity is the maker's only name (caps on each vendor)
            fold_entity(entity, entities) if vendor is not None else entity,
            Domain(domain) if domain else None,
            Generation(generation) if generation else None,
            operators,
            None if bucket is None else bucket_range(bucket, cuts),
        )
        profiles.append(profile)
        sizes.append(n)
        counts[profile] += n
    result = audit(counts.items(), rules, as_of, as_mapping(assumptions))
    findings = [result.findings.get(p, ()) for p in profiles]
    keys = groups.select("_g", "_row")
    return AuditResult(
        source=source,
        as_of=as_of,
        policies=tuple(p.jurisdiction for p in packs),
        devices=present.height,
        identified=not has_vendor,
        operators=operators,
        violations=_violations(rows, keys, findings),
        deadlines=_deadlines(rows, keys, profiles, findings),
        caps=result.caps,
        tallies=_tallies(counts, result.findings),
        exposure=_exposure(counts),
        assumptions=assumptions,
        unmapped_roles=_unmapped(present),
        installed_later=future,
        bad_values=_bad_values(present, domain_column or DOMAIN_COLUMN),
        placing=placing(
            present, lambda wanted, n: _of_groups(rows, keys, wanted, n), findings, sizes
        ),
    )


def _of_groups(
    rows: pl.DataFrame, keys: pl.DataFrame, wanted: Iterable[int], limit: int | None = None
) -> pl.DataFrame:
    """The rows of profile groups `wanted`, with their group number `_g`, gathered by row
    number (`keys` holds each group's row numbers); with `limit`, the first rows only."""
    chosen = keys.filter(pl.col("_g").is_in(list(wanted))).explode("_row")
    if limit is not None:
        chosen = chosen.sort("_row").head(limit)
    at = chosen.get_column("_row") - 1
    return rows.drop("_row").select(pl.all().gather(at)).with_columns(chosen.get_columns())


def _violations(
    rows: pl.DataFrame, keys: pl.DataFrame, findings: Sequence[tuple[Finding, ...]]
) -> tuple[Violation, ...]:
    """One entry per device and violated rule; `since` is exact per device (a profile holds a
    range of install dates). Only the rows of violating profiles are visited."""
    bad = {
        g: found
        for g, all_found in enumerate(findings)
        if (found := tuple(f for f in all_found if f.kind is Kind.VIOLATION))
    }
    if not bad:
        return ()
    hits = _of_groups(rows, keys, bad).sort("_row")
    out: list[Violation] = []
    columns = ("_g", "_row", "_id", "_name", "_site", "_vendor", "_domain", "_installed")
    for g, row, device, name, site, vendor, domain, installed in hits.select(columns).iter_rows():
        where = Domain(domain) if domain else None
        for f in bad[g]:
            since, why = f.since or f.effect.day, f.why
            if installed is not None:
                since = max(since, installed)
                if f.effect.kind is EffectKind.BAN_NEW_AFTER:  # the device's day, not its bucket
                    why = ban_why(f.effect, installed.isoformat())
            out.append(
                Violation(
                    row,
                    device,
                    name,
                    site,
                    vendor,
                    where,
                    f.rule,
                    why,
                    since,
                    f.unconfirmed,
                    f.approximate,
                )
            )
    return tuple(sorted(out, key=lambda v: (v.rule.id, v.row)))


def _deadlines(
    rows: pl.DataFrame,
    keys: pl.DataFrame,
    profiles: Sequence[Profile],
    findings: Sequence[tuple[Finding, ...]],
) -> tuple[Deadline, ...]:
    """Devices with a deadline ahead, counted per finding, domain and site. Polars does the
    counting: Python only numbers the distinct (finding, domain) pairs of the profiles."""
    numbered: dict[tuple[Finding, Domain | None], int] = {}
    links: list[tuple[int, int]] = []  # (profile group, numbered finding)
    for g, found in enumerate(findings):
        for f in found:
            if f.kind is Kind.DEADLINE:
                key = (f, profiles[g].domain)
                links.append((g, numbered.setdefault(key, len(numbered))))
    if not links:
        return ()
    link = pl.DataFrame(links, schema={"_g": pl.UInt32, "_f": pl.Int64}, orient="row")
    per_site = _of_groups(rows, keys, {g for g, _ in links}).group_by("_g", "_site").len("_n")
    tally = per_site.join(link, on="_g").group_by("_f", "_site").agg(pl.col("_n").sum())
    pairs = list(numbered)
    out = []
    for fid, site, n in tally.iter_rows():
        f, domain = pairs[fid]
        due = f.due or f.effect.day
        out.append(Deadline(f.rule, due, domain, site, n, f.unconfirmed, f.approximate))
    return tuple(sorted(out, key=lambda d: (d.due, d.rule.id, d.domain or "", d.site or "")))


def _bad_values(rows: pl.DataFrame, domain_column: str) -> tuple[BadValue, ...]:
    """Unknown domain and generation values with their device counts and first rows."""
    out: list[BadValue] = []
    for column, name in (("_bad_domain", domain_column), ("_bad_generation", GENERATION_COLUMN)):
        found = (
            rows.filter(pl.col(column).is_not_null())
            .group_by(column)
            .agg(pl.len().alias("_n"), pl.col("_row").sort().head(_ROWS_KEPT))
        )
        for value, n, numbers in found.iter_rows():
            out.append(BadValue(name, str(value), n, tuple(numbers)))
    return tuple(sorted(out, key=lambda b: (b.column, -b.devices, b.value)))


def _unmapped(rows: pl.DataFrame) -> tuple[tuple[str, int], ...]:
    """Roles that gave no domain, with their device counts, most devices first."""
    roles = rows.filter(pl.col("_unmapped_role").is_not_null()).group_by("_unmapped_role").len()
    return tuple(sorted(roles.iter_rows(), key=lambda r: (-r[1], r[0])))


def _tallies(
    counts: Mapping[Profile, int], findings: Mapping[Profile, tuple[Finding, ...]]
) -> tuple[Tally, ...]:
    # keyed by rule id: hashing a whole Rule per finding is needlessly slow
    tally: Counter[tuple[Kind, str, Kind | None]] = Counter()
    rules: dict[str, Rule] = {}
    skip = (Kind.VIOLATION, Kind.DEADLINE, Kind.CAP)
    for profile, found in findings.items():
        keys = set()  # a device counts once per rule even when two of its effects are open
        for f in found:
            if f.kind not in skip:
                rules.setdefault(f.rule.id, f.rule)
                keys.add((f.kind, f.rule.id, f.would_be))
        for key in keys:
            tally[key] += counts[profile]
    out = [Tally(kind, rules[rid], would_be, n) for (kind, rid, would_be), n in tally.items()]
    return tuple(sorted(out, key=lambda t: (t.kind.value, t.rule.id)))


def _exposure(counts: Mapping[Profile, int]) -> tuple[Exposure, ...]:
    tally: Counter[tuple[str | None, Domain | None]] = Counter()
    for profile, n in counts.items():
        tally[(profile.vendor, profile.domain)] += n
    out = [Exposure(vendor, domain, n) for (vendor, domain), n in tally.items()]
    return tuple(sorted(out, key=lambda e: (e.vendor or "~", e.domain or "~")))
