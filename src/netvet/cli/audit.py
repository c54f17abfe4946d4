"""`netvet audit INVENTORY --policy uk,de`: which devices break which rule, what must go by
when, how capped shares stand.

Thin by design: parse options -> policy.audit_run.audit_inventory -> a report.audit_*
presenter -> write -> exit code. What a rule means belongs in netvet.policy, not here. The
command is a plain function; `cli/main.py` registers it with `app.command("audit")(audit)`.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netvet.cli.common import (
    EXIT_ERROR,
    EXIT_FOUND,
    EXIT_OK,
    MAP_HELP,
    InputFormat,
    fail,
    parse_map,
    run_guarded,
    write_atomic,
    write_stdout,
)
from netvet.errors import InputError
from netvet.policy.errors import PolicyError
from netvet.policy.model import Domain, OperatorScope
from netvet.report.safe import printable

if TYPE_CHECKING:
    from netvet.policy.audit_run import AuditResult


_ROLES_SHOWN = 5  # unmapped roles named on stderr; the report lists them all


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    CSV = "csv"
    HTML = "html"


AUDIT_HELP = """Audit INVENTORY against policy packs: violations (device, rule, why, since
when), caps (share now vs cap per domain), deadlines ahead (devices per domain, site and rule
with the due date), other findings and the exposure per vendor and domain.

INVENTORY is any file `netvet inventory identify` reads (--input-format and --map work the same
way); vendors are identified first unless it has a `vendor` column of family slugs (identify's
output). --policy all audits against every shipped pack.

A row's network domain comes from --domain-column (default: a `network_domain` column), else
its role (the column mapped to `role`, e.g. NetBox's Role) through --role-map: ROLE=DOMAIN
pairs or a file (YAML `olt: ran` or CSV `role,domain`); a role spelled like a domain maps to
it; else --default-domain; else it is unknown (such roles are listed in the report). Domains:
core, ran, transport, management, cpe, enterprise, surveillance. (The `domain` field of --map
is a DNS domain, not a network domain.) A `generation` column (2g, 3g, 4g, 5g, fixed) and the
column mapped to `date` (install date, YYYY-MM-DD) are read when present.

Some rules have a condition netvet cannot see (DE: "the device is a critical component"); their
findings stay undetermined until --assume RULE=yes (the condition holds for this inventory) or
RULE=no (it does not: the rule is left out). RULE is a rule id or a pattern such as 'DE-*'; it
must reach a rule with a condition in the selected packs. Every report lists the assumptions.

Findings resting on a fact that is not confirmed are marked * (text) or flagged (json, csv).

Exit codes: 0 clean, 1 violations or caps breached, 2 error.

Example: netvet audit devices.csv --policy uk,de --role-map olt=ran --as-of 2028-01-01
--assume DE-2024-CORE=yes"""


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: {text!r} is not a date YYYY-MM-DD")


def _domain(text: str, option: str) -> Domain:
    try:
        return Domain(text.strip().lower())
    except ValueError:
        fail(f"{option}: {text!r} is not a domain ({', '.join(d.value for d in Domain)})")


def _role_map(values: list[str]) -> dict[str, Domain]:
    from netvet.policy.roles import role_map

    try:
        return role_map(values)
    except InputError as exc:
        fail(str(exc))


def _assumptions(pairs: list[str]) -> dict[str, bool]:
    """`--assume RULE=yes|no` as {rule or pattern: holds}; the names are checked against the
    loaded packs later (policy.assume.resolve)."""
    from netvet.policy.assume import parse_answer

    out: dict[str, bool] = {}
    for pair in pairs:
        name, sep, answer = pair.rpartition("=")
        if not sep or not name.strip():
            fail(f"--assume {pair!r}: expected RULE=yes or RULE=no, e.g. DE-2024-CORE=yes")
        try:
            holds = parse_answer(answer)
        except ValueError:
            fail(f"--assume {pair!r}: {answer!r} is not yes or no")
        key = name.strip()
        if out.get(key, holds) != holds:
            fail(f"--assume {key}: given both yes and no")
        out[key] = holds
    return out


def _codes(policy: list[str]) -> list[str]:
    codes = [c.strip() for text in policy for c in text.split(",") if c.strip()]
    if any(c.lower() == "all" for c in codes):
        from netvet.policy.loader import available_packs

        return list(available_packs())
    return codes


def _scopes(values: list[str]) -> frozenset[OperatorScope]:
    out: set[OperatorScope] = set()
    for value in (v.strip().lower() for text in values for v in text.split(",")):
        try:
            out.add(OperatorScope(value))
        except ValueError:
            known = ", ".join(o.value for o in OperatorScope)
            fail(f"--scope: {value!r} is not an operator scope ({known})")
    return frozenset(out)


def _render(result: AuditResult, fmt: Format) -> str:
    if fmt is Format.JSON:
        from netvet.report import audit_json

        return audit_json.render(result)
    if fmt is Format.CSV:
        from netvet.report import audit_csv

        return audit_csv.render(result)
    if fmt is Format.HTML:
        from netvet.report import audit_html

        return audit_html.render(result)
    from netvet.report import audit_text

    return audit_text.render(result)


def audit(
    inventory: Annotated[
        Path, typer.Argument(metavar="INVENTORY", help="The inventory file to audit.")
    ],
    policy: Annotated[
        list[str] | None,
        typer.Option("--policy", "-p", metavar="CODES", help="Shipped packs, e.g. uk,de, or all."),
    ] = None,
    policy_file: Annotated[
        list[Path] | None,
        typer.Option("--policy-file", metavar="PATH", help="A custom policy file (repeatable)."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="DATE", help="Judge as of YYYY-MM-DD.")
    ] = None,
    domain_column: Annotated[
        str | None,
        typer.Option("--domain-column", metavar="COL", help="The column holding the domain."),
    ] = None,
    role_map: Annotated[
        list[str] | None,
        typer.Option(
            "--role-map",
            metavar="ROLE=DOMAIN|FILE",
            help="Map a role to a domain, or read a YAML/CSV role file (repeatable).",
        ),
    ] = None,
    default_domain: Annotated[
        str | None,
        typer.Option("--default-domain", metavar="DOMAIN", help="Domain of rows with none."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            metavar="SCOPE",
            help="Operator scope of the inventory's owner: public-network (default), "
            "public-sector, government-supplier (repeatable or comma-separated).",
        ),
    ] = None,
    assume: Annotated[
        list[str] | None,
        typer.Option(
            "--assume",
            metavar="RULE=yes|no",
            help="Settle a rule's condition netvet cannot see (rule id or pattern; repeatable).",
        ),
    ] = None,
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="Input format; auto detects it.")
    ] = InputFormat.AUTO,
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", metavar="COLUMN=FIELD", help=MAP_HELP),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Report format: text, json, csv or html.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE."),
    ] = None,
) -> None:
    day = _as_of(as_of)
    codes = _codes(policy or [])
    if not codes and not policy_file:
        fail("give at least one --policy CODE or --policy-file PATH (netvet policy list)")
    roles = _role_map(role_map or [])
    default = None if default_domain is None else _domain(default_domain, "--default-domain")
    operators = _scopes(scope) if scope else None
    settled = _assumptions(assume or [])
    columns = parse_map(mapping or [])

    def work() -> int:
        from netvet.policy.audit_run import DEFAULT_OPERATORS, audit_inventory
        from netvet.policy.loader import load_packs

        try:
            packs = load_packs(codes, extra_paths=policy_file or ())
        except PolicyError as exc:
            for problem in exc.problems:
                sys.stderr.write(f"netvet: error: {printable(str(problem))}\n")
            raise typer.Exit(EXIT_ERROR) from None
        result = audit_inventory(
            inventory,
            packs,
            day,
            domain_column=domain_column,
            role_map=roles,
            default_domain=default,
            operators=operators or DEFAULT_OPERATORS,
            assume=settled,
            input_format=input_format.chosen(),
            mapping=columns,
        )
        from netvet.report.audit_notes import warnings

        # the identification's head line only: its per-family lines are in the json report
        for line in (*result.import_notes, *result.identification[:1]):
            sys.stderr.write(f"netvet: import: {printable(line)}\n")
        for line in warnings(result):
            sys.stderr.write(f"netvet: warning: {line}\n")
        for role, n in result.unmapped_roles[:_ROLES_SHOWN]:
            sys.stderr.write(
                f"netvet: note: role {printable(role)!r} ({n} device{'' if n == 1 else 's'}) "
                "maps to no domain; give --role-map ROLE=DOMAIN\n"
            )
        text = _render(result, fmt)
        if output is None:
            write_stdout(text, None if fmt is Format.TEXT else "utf-8")
        else:
            write_atomic(output, text)
            sys.stderr.write(f"netvet: audit report in {printable(str(output))}\n")
        return EXIT_FOUND if result.found else EXIT_OK

    raise typer.Exit(run_guarded(work))


audit.__doc__ = AUDIT_HELP
