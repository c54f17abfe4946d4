"""What an audit could not decide, per device, and what the user can give to decide it.

An audit that cannot place devices must not look clean: a device without a domain meets no
domain-scoped rule, and a rule condition nobody settled leaves findings undetermined. This
module lists the undetermined findings per device (bounded: `KEPT` entries; the tallies count
them all), each with the open condition and a hint naming the option or column that settles it,
and counts the devices with no domain or no vendor signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from netvet.policy.evaluate import Finding, Kind
from netvet.policy.model import Domain, Rule
from netvet.policy.profile import ADOPTED

KEPT = 10_000  # undetermined (device, rule) entries kept in a result


@dataclass(frozen=True, slots=True)
class Undetermined:
    """One device whose finding under `rule` depends on something netvet could not see."""

    row: int
    device: str | None
    name: str | None
    site: str | None
    vendor: str | None
    domain: Domain | None
    rule: Rule
    would_be: Kind | None
    needs: tuple[str, ...]  # what would have to hold
    hint: str  # how to settle it


@dataclass(frozen=True, slots=True)
class Placing:
    """How well the devices could be placed: counts over the devices audited."""

    no_domain: int  # devices with no network domain (domain-scoped rules cannot reach them)
    no_vendor: int  # devices with no vendor family and no maker named
    undetermined: int  # (device, rule) pairs undetermined, all of them (`entries` is bounded)
    entries: tuple[Undetermined, ...]


def hint(rule: Rule, needs: Sequence[str]) -> str:
    """The option or column that would settle `needs`."""
    out: list[str] = []
    for need in needs:
        if need == ADOPTED or need == rule.condition:
            out.append(f"--assume {rule.id}=yes|no")
        elif need.startswith("its domain"):
            out.append("--role-map ROLE=DOMAIN, --domain-column or --default-domain")
        elif need.startswith("its generation"):
            out.append("a 'generation' column")
        elif need.startswith("it is run by"):
            out.append("--operators")
        elif need.startswith("it was installed"):
            out.append("install dates")
        elif need.startswith("the device is from"):
            out.append("a 'vendor_entity' column (run `netvet inventory identify`)")
    return "; ".join(dict.fromkeys(out))


def placing(
    present: pl.DataFrame,
    gather: Callable[[Sequence[int], int], pl.DataFrame],
    findings: Sequence[tuple[Finding, ...]],
    sizes: Sequence[int],
) -> Placing:
    """Count unplaced devices of `present` and list undetermined findings per device.
    `gather(groups, limit)` returns the first `limit` rows (by row number) of those profile
    groups with their group number `_g`; `sizes` are the groups' device counts."""
    counts = present.select(
        pl.col("_domain").is_null().sum().alias("d"),
        (pl.col("_vendor").is_null() & pl.col("_entity").is_null()).sum().alias("v"),
    ).row(0)
    open_ = {
        g: found
        for g, all_found in enumerate(findings)
        if (found := tuple(f for f in all_found if f.kind is Kind.UNDETERMINED))
    }
    if not open_:
        return Placing(counts[0] or 0, counts[1] or 0, 0, ())
    hits = gather(sorted(open_), KEPT)
    total = sum(len(found) * sizes[g] for g, found in open_.items())
    out: list[Undetermined] = []
    columns = ("_g", "_row", "_id", "_name", "_site", "_vendor", "_domain")
    for g, row, device, name, site, vendor, domain in hits.select(columns).iter_rows():
        if len(out) >= KEPT:
            break
        for f in open_[g]:
            where = Domain(domain) if domain else None
            entry = Undetermined(
                row, device, name, site, vendor, where, f.rule, f.would_be, f.needs,
                hint(f.rule, f.needs),
            )  # fmt: skip
            out.append(entry)
    return Placing(counts[0] or 0, counts[1] or 0, total, tuple(out[:KEPT]))
