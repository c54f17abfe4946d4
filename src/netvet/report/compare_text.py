"""A Comparison as a terminal report: the verdict first, then what a reviewer must look at.

Order: verdict line, what it means, the two images, every unexplained finding with its
locations (and the changed lines), benign findings grouped by class with a few examples each,
then the statistics. Colour only when the caller says the output is a terminal; the text goes
through rich `Text` objects (never markup strings), so brackets in a name stay brackets.
"""

from __future__ import annotations

from collections import defaultdict

from rich.text import Text

from netvet.firmware.result import Comparison, Finding, ImageInfo, Location, Verdict
from netvet.report.classes import describe
from netvet.report.compare_json import benign_by_class
from netvet.report.console import text_console
from netvet.report.safe import printable

MAX_EXAMPLES = 3  # benign findings shown per class unless verbose
MAX_DIFF_LINES = 20  # diff lines shown per unexplained finding unless verbose

MEANING = {
    Verdict.IDENTICAL: "The two images are byte-for-byte the same.",
    Verdict.EQUIVALENT: "Every difference is benign build noise; everything else is equal.",
    Verdict.DIFFERENT: "At least one difference is unexplained: review the findings below.",
}
VERDICT_STYLE = {
    Verdict.IDENTICAL: "bold green",
    Verdict.EQUIVALENT: "bold green",
    Verdict.DIFFERENT: "bold red",
}


def verdict_line(c: Comparison) -> str:
    """`VERDICT: equivalent — 0 unexplained, 37 benign differences` (one line, no colour)."""
    return (
        f"VERDICT: {c.verdict.value} — {len(c.unexplained)} unexplained, "
        f"{len(c.benign)} benign differences"
    )


def format_location(loc: Location) -> str:
    """`section .text  symbol check_password  offset 0x1234  length 1`; unknown parts left out."""
    parts = []
    if loc.section is not None:
        parts.append(f"section {printable(loc.section)}")
    if loc.symbol is not None:
        parts.append(f"symbol {printable(loc.symbol)}")
    lines = loc.section == "lines"  # text findings locate by line number and line count
    if loc.offset is not None:
        parts.append(f"line {loc.offset}" if lines else f"offset {loc.offset:#x}")
    if loc.length is not None:
        parts.append(f"{loc.length} line(s)" if lines else f"length {loc.length}")
    if loc.detail is not None:
        parts.append(f"detail {printable(loc.detail)}")
    return "  ".join(parts) or "(location unknown)"


def _image(role: str, info: ImageInfo) -> Text:
    fmt = f"  {printable(info.format)}" if info.format else ""
    return Text.assemble(
        (f"  {role:<10}", "bold"),
        printable(info.path),
        f"  {info.size} bytes  sha256 {info.sha256}{fmt}",
    )


def _diff_lines(f: Finding, limit: int | None, indent: str) -> list[Text]:
    shown = f.diff if limit is None else f.diff[:limit]
    out = []
    for line in shown:
        style = "red" if line.startswith("-") else "green" if line.startswith("+") else ""
        out.append(Text(indent + printable(line, keep_tab=True), style=style))
    if len(shown) < len(f.diff):
        more = len(f.diff) - len(shown)
        out.append(Text(f"{indent}... {more} more diff lines (--verbose shows all)", "dim"))
    return out


def _finding(f: Finding, path_style: str, diff_limit: int | None, indent: str) -> list[Text]:
    lines = [
        Text.assemble((indent + printable(f.path), path_style)),
        Text(f"{indent}    {f.klass} ({f.change.value}): {printable(f.summary)}"),
    ]
    lines += [Text(f"{indent}    {format_location(loc)}") for loc in f.locations]
    if diff_limit != 0:
        lines += _diff_lines(f, diff_limit, indent + "    | ")
    return lines


def _unexplained(c: Comparison, verbose: bool) -> list[Text]:
    if not c.unexplained:
        return []
    out = [Text(""), Text(f"Unexplained differences ({len(c.unexplained)})", "bold red")]
    for f in c.unexplained:
        out += _finding(f, "bold yellow", None if verbose else MAX_DIFF_LINES, "  ")
    return out


def _benign(c: Comparison, verbose: bool, max_examples: int) -> list[Text]:
    if not c.benign:
        return []
    groups: dict[str, list[Finding]] = defaultdict(list)
    for f in c.benign:
        groups[f.klass].append(f)
    out = [Text(""), Text(f"Benign differences ({len(c.benign)}), by class", "bold")]
    for klass, count in benign_by_class(c).items():
        about = describe(klass)
        out.append(Text.assemble(("  " + klass, "bold cyan"), f"  {count}", (f"  {about}", "dim")))
        shown = groups[klass] if verbose else groups[klass][:max_examples]
        for f in shown:
            if verbose:
                out += _finding(f, "", None, "    ")
            else:
                out.append(Text(f"    {printable(f.path)}: {printable(f.summary)}", "dim"))
        if len(shown) < count:
            out.append(Text(f"    ... {count - len(shown)} more (--verbose shows all)", "dim"))
    return out


def _stats(c: Comparison) -> list[Text]:
    s = c.stats
    return [
        Text(""),
        Text(
            f"Entries compared: {s.entries_compared} ({s.identical} identical, "
            f"{s.equivalent} equivalent, {s.different} different, "
            f"{s.not_compared} not compared); {s.containers_opened} containers opened, "
            f"{s.bytes_read} bytes read in {s.seconds:.1f} s",
            "dim",
        ),
    ]


def lines(c: Comparison, verbose: bool = False, max_examples: int = MAX_EXAMPLES) -> list[Text]:
    """The report as rich Text lines (for callers that print to their own console)."""
    out = [
        Text(verdict_line(c), VERDICT_STYLE[c.verdict]),
        Text(MEANING[c.verdict]),
        _image("reference", c.reference),
        _image("deployed", c.deployed),
    ]
    out += _unexplained(c, verbose)
    out += _benign(c, verbose, max_examples)
    out += _stats(c)
    return out


def render(
    c: Comparison,
    verbose: bool = False,
    tty: bool = False,
    max_examples: int = MAX_EXAMPLES,
) -> str:
    """The report as a string; ANSI colour only when `tty` (never in files or pipes)."""
    console, buf = text_console(tty, 200)
    console.print(Text("\n").join(lines(c, verbose, max_examples)), soft_wrap=True)
    return buf.getvalue()
