"""`netvet policy ...`: the shipped policy packs, custom policy files and the joint stance.

Thin by design: parse options -> policy.loader / policy.stance -> a report.stance_* presenter ->
write -> exit code. What a rule means belongs in netvet.policy, not here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from netvet.cli.common import EXIT_ERROR, EXIT_OK, fail, run_guarded, write_atomic, write_stdout
from netvet.policy.errors import PolicyError
from netvet.policy.model import Domain, Pack
from netvet.report.safe import printable
from netvet.report.stance_labels import StanceReport

app = typer.Typer(
    help="Is it allowed here? The shipped policy packs, custom policies and the joint stance.",
    no_args_is_help=True,
)


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def _report_problems(exc: PolicyError) -> None:
    """One `netvet: error:` line per problem (file:line: field: message) on stderr."""
    for problem in exc.problems:
        one_line = printable(" ".join(str(problem).split()))
        sys.stderr.write(f"netvet: error: {one_line}\n")


def _policy_fail(exc: PolicyError) -> NoReturn:
    _report_problems(exc)
    raise typer.Exit(EXIT_ERROR)


def _as_of(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: {text!r} is not a date YYYY-MM-DD")


def _in_force(packs: tuple[Pack, ...], as_of: dt.date) -> tuple[Pack, ...]:
    """The packs without rules whose instrument did not exist yet on `as_of`."""
    return tuple(
        dataclasses.replace(p, rules=tuple(r for r in p.rules if r.exists_on(as_of))) for p in packs
    )


def _vendors(packs: tuple[Pack, ...], wanted: list[str] | None) -> tuple[str, ...]:
    """The vendors asked for, or every family a loaded rule names by name."""
    if wanted:
        from netvet.inventory.families import load_families

        known = {f.slug for f in load_families()}
        slugs = tuple(dict.fromkeys(v.strip().lower() for v in wanted))
        unknown = [s for s in slugs if s not in known]
        if unknown:
            fail(
                f"--vendor: unknown vendor family {', '.join(unknown)}; known: "
                f"{', '.join(sorted(known))}"
            )
        return slugs
    return tuple(sorted({f for p in packs for r in p.rules for f in r.vendors.families}))


def _render(report: StanceReport, fmt: Format, tty: bool) -> str:
    if fmt is Format.JSON:
        from netvet.report import stance_json

        return stance_json.render(report)
    if fmt is Format.HTML:
        from netvet.report import stance_html

        return stance_html.render(report)
    from netvet.report import stance_text

    return stance_text.render(report, tty=tty)


def _emit(text: str, fmt: Format, output: Path | None, what: str) -> None:
    if output is None:
        write_stdout(text, None if fmt is Format.TEXT else "utf-8")
    else:
        write_atomic(output, text)
        sys.stderr.write(f"netvet: {what} in {output}\n")


COMPARE_HELP = """Compare the stance of several jurisdictions (shipped pack CODEs, e.g. uk de fr)
on high-risk vendors: for each vendor and network domain, each jurisdiction's strongest
restriction (remove by > no new from > cap > authorisation > designation) with its date. Facts
whose status is not confirmed are marked *, conditional rules ?.

--gaps also lists where one ally restricts a vendor in a domain and another does not.
--as-of leaves out rules whose instrument did not exist yet on that day (default: today).

Exit codes: 0 report written, 2 error (unknown pack code, invalid policy file, bad option).

Example: netvet policy compare uk de fr --gaps --format html -o stance.html"""


@app.command("compare", help=COMPARE_HELP)
def compare_command(
    codes: Annotated[
        list[str],
        typer.Argument(metavar="CODE...", help="Shipped pack codes (netvet policy list)."),
    ],
    policy_file: Annotated[
        list[Path] | None,
        typer.Option("--policy-file", metavar="PATH", help="A custom policy file (repeatable)."),
    ] = None,
    show_gaps: Annotated[
        bool, typer.Option("--gaps", help="List where one ally restricts and another does not.")
    ] = False,
    as_of: Annotated[
        str | None, typer.Option("--as-of", metavar="DATE", help="Judge as of YYYY-MM-DD.")
    ] = None,
    vendor: Annotated[
        list[str] | None,
        typer.Option(
            "--vendor",
            metavar="SLUG",
            help="Only this vendor family (repeatable); default: every family a rule names.",
        ),
    ] = None,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Report format: text, json or html.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write the report to FILE."),
    ] = None,
) -> None:
    day = _as_of(as_of)

    def work() -> int:
        from netvet.policy.stance import compare_jurisdictions, gaps

        try:
            from netvet.policy.loader import load_packs

            packs = _in_force(load_packs(codes, extra_paths=policy_file or ()), day)
        except PolicyError as exc:
            _policy_fail(exc)
        stance = compare_jurisdictions(packs, _vendors(packs, vendor), tuple(Domain))
        report = StanceReport(stance, gaps(stance) if show_gaps else None, day, packs)
        tty = output is None and fmt is Format.TEXT and sys.stdout.isatty()
        _emit(_render(report, fmt, tty), fmt, output, "joint stance")
        return EXIT_OK

    raise typer.Exit(run_guarded(work))


@app.command("list")
def list_command() -> None:
    """List the shipped policy packs: code, rule count, facts checked as of, name."""

    def work() -> int:
        from netvet.policy.loader import available_packs, load_packs

        codes = available_packs()
        packs = load_packs(codes)  # in the order asked for
        lines = [f"{'code':<5} {'rules':>5}  {'as of':<10}  name"]
        lines += [
            f"{code:<5} {len(p.rules):>5}  {p.as_of.text:<10}  {printable(p.name)}"
            for code, p in zip(codes, packs, strict=True)
        ]
        write_stdout("\n".join(lines) + "\n")
        return EXIT_OK

    raise typer.Exit(run_guarded(work))


@app.command("validate")
def validate_command(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", help="Policy files to check.")],
) -> None:
    """Validate custom policy files: exit 0 when all are valid, 2 with file:line: field: message
    for every problem otherwise."""
    bad = False
    for path in files:
        try:
            from netvet.policy.loader import load_pack

            pack = load_pack(path)
        except PolicyError as exc:
            bad = True
            _report_problems(exc)
            continue
        sys.stdout.write(
            f"{printable(str(path))}: valid ({len(pack.rules)} rules, "
            f"jurisdiction {printable(pack.jurisdiction)})\n"
        )
    raise typer.Exit(EXIT_ERROR if bad else EXIT_OK)
