"""The joint stance as a terminal report.

Order: the jurisdictions compared, the matrix (a row per vendor and domain that any jurisdiction
restricts, a column per jurisdiction, each cell the strongest restriction with its date), the
legend, the rules behind the headlines with their status, the criteria-only mechanisms, then the
gaps when asked for. Colour only when the caller says the output is a terminal; every string goes
through rich `Text` (never markup) and `printable`, because custom packs are user-written.
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from netvet.policy.model import EffectKind
from netvet.policy.stance import Stance
from netvet.report.console import text_console
from netvet.report.safe import printable
from netvet.report.stance_labels import (
    CONDITIONAL_MARK,
    UNCONFIRMED_MARK,
    StanceReport,
    cell_text,
    filled_rows,
    gap_side_text,
    headline_rules,
)

STYLE = {
    EffectKind.REMOVE_BY: "bold red",
    EffectKind.BAN_NEW_AFTER: "red",
    EffectKind.CAP: "magenta",
    EffectKind.AUTHORISATION: "yellow",
    EffectKind.DESIGNATION: "cyan",
}
CELL_WIDTH = 34  # "authorisation from 2021-09 (4g, 5g)*?" fits on one line


def _cell(cell: Stance) -> Text:
    if cell.kind is None:
        return Text("-", "dim")
    return Text(printable(cell_text(cell)), STYLE[cell.kind])


def _matrix(report: StanceReport) -> list[Table | Text]:
    stance = report.stance
    rows = filled_rows(stance)
    if not rows:
        return [Text("No jurisdiction restricts these vendors in these domains.")]
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("vendor")
    table.add_column("domain")
    for j in stance.jurisdictions:
        table.add_column(printable(j), min_width=12, max_width=CELL_WIDTH, overflow="fold")
    previous = None
    for vendor, domain in rows:
        cells = [_cell(stance.cell(j, vendor, domain)) for j in stance.jurisdictions]
        table.add_row(vendor if vendor != previous else "", domain.value, *cells)
        previous = vendor
    left_out = len(stance.vendors) * len(stance.domains) - len(rows)
    out: list[Table | Text] = [table]
    if left_out:
        out.append(Text(f"({left_out} vendor/domain pairs no jurisdiction restricts left out)"))
    return out


def _legend() -> Text:
    return Text(
        f"{UNCONFIRMED_MARK} rests on an unconfirmed fact (status not confirmed); "
        f"{CONDITIONAL_MARK} conditional (a condition netvet cannot check, or only some "
        "entities of the family); (5g) the generations the rule covers; a date given as a "
        "year or month is as the instrument states it.",
        "dim",
    )


def _rules(report: StanceReport) -> list[Text]:
    rules = headline_rules(report)
    if not rules:
        return []
    out = [Text(""), Text("Rules behind the headlines", "bold")]
    for rule in rules:
        status = Text(rule.status.value, "" if rule.status.firm else "yellow")
        out.append(Text.assemble("  ", (printable(rule.id), "bold"), "  ", status))
        out.append(Text(f"    {printable(rule.instrument)}"))
        if rule.condition is not None:
            out.append(Text(f"    only if: {printable(rule.condition)}", "dim"))
        if rule.vendors.entities:
            names = ", ".join(printable(e) for e in rule.vendors.entities)
            out.append(Text(f"    only for: {names}", "dim"))
    return out


def _unnamed(report: StanceReport) -> list[Text]:
    found = [(j, r) for j, rules in report.stance.unnamed.items() for r in rules]
    if not found:
        return []
    out = [Text(""), Text("Mechanisms that name no vendor (criteria only)", "bold")]
    for j, rule in found:
        out.append(Text(f"  {printable(j)}  {printable(rule.id)}  {rule.status.value}"))
        if rule.vendors.criteria:
            out.append(Text(f"    {printable(rule.vendors.criteria)}", "dim"))
    return out


def _gaps(report: StanceReport) -> list[Text]:
    if report.gaps is None:
        return []
    out = [
        Text(""),
        Text(f"Gaps: where one ally restricts and another does not ({len(report.gaps)})", "bold"),
    ]
    if not report.gaps:
        out.append(Text("  None: every jurisdiction compared restricts the same pairs."))
    for gap in report.gaps:
        out.append(Text(f"  {gap.vendor} / {gap.domain.value}", "bold"))
        for cell in gap.restricting:
            out.append(
                Text(
                    f"    restricts  {printable(cell.jurisdiction)}: "
                    f"{printable(gap_side_text(cell))}",
                    "red",
                )
            )
        for cell in gap.silent:
            out.append(
                Text(
                    f"    does not   {printable(cell.jurisdiction)}: "
                    f"{printable(gap_side_text(cell))}",
                    "green",
                )
            )
    return out


def _header(report: StanceReport) -> list[Text]:
    stance = report.stance
    codes = ", ".join(
        f"{printable(j)} ({printable(report.names(j))})" for j in stance.jurisdictions
    )
    return [
        Text(f"Joint stance as of {report.as_of.isoformat()}: {codes}", "bold"),
        Text(
            "Each cell: the strongest restriction of the vendor in the domain, with its date.",
            "dim",
        ),
        Text(""),
    ]


def render(report: StanceReport, tty: bool = False) -> str:
    """The report as a string; ANSI colour only when `tty` (never in files or pipes)."""
    width = 30 + (CELL_WIDTH + 3) * max(1, len(report.stance.jurisdictions))
    console, buf = text_console(tty, max(100, width))
    for text in _header(report):
        console.print(text, soft_wrap=True)
    for part in _matrix(report):
        console.print(part, soft_wrap=isinstance(part, Text))
    console.print(_legend(), soft_wrap=True)
    for text in _rules(report) + _unnamed(report) + _gaps(report):
        console.print(text, soft_wrap=True)
    return buf.getvalue()
