"""What an audit could not see, as short lines: the warnings the CLI writes to stderr and the
text report repeats, so an audit that could not place its devices never looks clean.
"""

from __future__ import annotations

from collections import Counter

from netvet.policy.audit_run import AuditResult
from netvet.policy.evaluate import Kind
from netvet.report.safe import printable


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def warnings(result: AuditResult) -> list[str]:
    """Devices left out or not placed, and values not understood; empty when all was seen."""
    out: list[str] = []
    if result.installed_later:
        out.append(
            f"{plural(result.installed_later, 'device')} installed after the as-of date "
            f"{result.as_of.isoformat()} left out of the audit (they did not exist yet)"
        )
    for b in result.bad_values:
        rows = ", ".join(str(r) for r in b.rows) + (", ..." if b.devices > len(b.rows) else "")
        out.append(
            f"column {printable(b.column)!r}: unknown value {printable(b.value)!r} in "
            f"{plural(b.devices, 'device')} (row {rows}); left unknown for those devices"
        )
    placed, total = result.placing, result.devices
    if placed is not None and total:
        if placed.no_domain:
            out.append(
                f"{placed.no_domain} of {plural(total, 'device')} without a network domain: rules "
                "limited to domains cannot reach them (give a network_domain column, "
                "--role-map ROLE=DOMAIN or --default-domain)"
            )
        if placed.no_vendor:
            out.append(
                f"{placed.no_vendor} of {plural(total, 'device')} without any vendor signal: no "
                "rule naming vendors can reach them (map a maker column with --map)"
            )
        if placed.undetermined:
            per_rule: Counter[str] = Counter()
            for t in result.tallies:
                if t.kind is Kind.UNDETERMINED:
                    per_rule[t.rule.id] += t.devices
            rules = ", ".join(f"{printable(r)} {n}" for r, n in per_rule.most_common(5))
            out.append(
                f"{plural(placed.undetermined, 'finding')} undetermined (rule, devices: "
                f"{rules}); see the report's Undetermined section"
            )
    return out
