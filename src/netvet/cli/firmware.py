"""`netvet firmware ...`: is the equipment's software what was reviewed?

Thin by design: parse options -> Limits -> firmware.compare.compare() -> a report.* presenter ->
write -> exit code. Anything that decides a verdict belongs in netvet.firmware, not here.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from netvet.cli.common import (
    EXIT_FOUND,
    EXIT_OK,
    fail,
    format_size,
    parse_size,
    run_guarded,
    write_atomic,
    write_stdout,
)
from netvet.firmware.limits import Limits
from netvet.firmware.result import Comparison, Verdict
from netvet.report.classes import BENIGN

DEFAULTS = Limits()


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"


def _benign_help() -> str:
    width = max(len(k) for k in BENIGN)
    return "\n".join(f"  {k:<{width}}  {about}" for k, about in BENIGN.items())


def _unwrap(text: str) -> str:
    """Join hard-wrapped prose lines (the help renderer wraps to the terminal itself); lines that
    start with a space are table rows or examples and keep their breaks."""
    return re.sub(r"(?<=\S)\n(?=\S)", " ", text)


COMPARE_HELP = _unwrap(
    f"""Say whether DEPLOYED (an image pulled from equipment) is what was reviewed in
REFERENCE (the lab-reviewed build).

Both images are read as streams through nested compression, archives, filesystems and flash
layouts; nothing is extracted to disk. Entries are matched by path, every difference is either
explained as benign build noise or flagged unexplained, and each is located (file, ELF section,
function, offset).

Verdict:
  identical   the two files are byte-for-byte the same
  equivalent  every difference is benign (classes below), all else equal
  different   at least one difference is unexplained, or could not be
              compared (corrupt, unsupported, over a limit)

Exit codes: 0 identical or equivalent, 1 different, 2 error (unreadable input, bad option).

Benign classes:
{_benign_help()}

Never benign: added/removed files, mode bits (setuid), owner, symlink targets, device numbers,
xattrs/capabilities, code or constants, data hidden in slack space.

Limits (options below) bound the work a hostile image can cause, per image; an entry that hits
one is reported "not compared", which makes the verdict different, never "same".

Reports: --format text (default, for people), json (for scripts; the contract is
docs/compare-json.md) or html (one self-contained page with drill-down). Example:

  netvet firmware compare lab.bin pulled.bin --format html -o report.html
"""
)

app = typer.Typer(
    help="Is the equipment's software what was reviewed? Compare firmware images.",
    no_args_is_help=True,
)


def _size_option(value: str) -> str:
    parse_size(value)  # raises BadParameter: a usage error, exit 2
    return value


def _render(result: Comparison, fmt: Format, verbose: bool, tty: bool) -> str:
    if fmt is Format.JSON:
        from netvet.report import compare_json

        return compare_json.render(result)
    if fmt is Format.HTML:
        from netvet.report import compare_html

        return compare_html.render(result)
    from netvet.report import compare_text

    return compare_text.render(result, verbose=verbose, tty=tty)


def _progress(wanted: bool) -> AbstractContextManager[Callable[[int], None] | None]:
    """The live byte counter on a terminal; without one, rich (~0.1 s CPU to import) is not
    loaded at all: a scripted or benchmarked run shows no progress anyway."""
    if not wanted or not sys.stderr.isatty():
        return contextlib.nullcontext(None)
    from netvet.cli.progress import byte_progress

    return byte_progress(True)


def _exit_code(result: Comparison) -> int:
    return EXIT_FOUND if result.verdict is Verdict.DIFFERENT else EXIT_OK


def _refuse_oversized(paths: tuple[Path, ...], limits: Limits) -> None:
    """An input bigger than --max-total-bytes is refused before any reading: every byte of it
    would be scanned and hashed, so a 100 GiB (even sparse) file would look like a hang."""
    for path in paths:
        try:
            size = path.stat().st_size if path.is_file() else 0
        except OSError:
            continue  # the comparison reports unreadable inputs itself
        if size > limits.max_total_bytes:
            fail(
                f"{path}: {size} bytes, more than --max-total-bytes "
                f"({format_size(limits.max_total_bytes)}); raise the limit to compare it"
            )


@app.command("compare", help=COMPARE_HELP)
def compare_command(
    reference: Annotated[
        Path, typer.Argument(metavar="REFERENCE", help="The lab-reviewed image file.")
    ],
    deployed: Annotated[
        Path, typer.Argument(metavar="DEPLOYED", help="The image file pulled from the equipment.")
    ],
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Report format: text, json or html.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the report to FILE (atomically) instead of standard output.",
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="Text report: list every benign finding and all diff lines."
        ),
    ] = False,
    max_depth: Annotated[
        int, typer.Option(min=1, metavar="N", help="Containers nested inside each other.")
    ] = DEFAULTS.max_depth,
    max_total_bytes: Annotated[
        str,
        typer.Option(
            metavar="SIZE",
            callback=_size_option,
            help="Bytes decompressed and parsed per image, e.g. 512M, 64G (binary units).",
        ),
    ] = format_size(DEFAULTS.max_total_bytes),
    max_ratio: Annotated[
        int,
        typer.Option(
            min=1, metavar="N", help="Expanded bytes per input byte for one decompression layer."
        ),
    ] = DEFAULTS.max_ratio,
    max_entries: Annotated[
        int,
        typer.Option(min=1, metavar="N", help="Members listed across all containers per image."),
    ] = DEFAULTS.max_entries,
    max_seconds: Annotated[
        float,
        typer.Option(min=0, metavar="S", help="Wall time for the whole comparison; 0 = no limit."),
    ] = DEFAULTS.max_seconds,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="No live progress display on stderr.")
    ] = False,
) -> None:
    # The user-facing help is COMPARE_HELP above.
    try:
        limits = Limits(
            max_depth=max_depth,
            max_total_bytes=parse_size(max_total_bytes),
            max_ratio=max_ratio,
            max_entries=max_entries,
            max_seconds=max_seconds,
        )
    except ValueError as exc:
        fail(f"bad limit: {exc}")

    _refuse_oversized((reference, deployed), limits)

    def work() -> int:
        from netvet.firmware.compare import compare

        with _progress(not no_progress) as progress:
            result = compare(reference, deployed, limits, progress=progress)
        tty = output is None and fmt is Format.TEXT and sys.stdout.isatty()
        text = _render(result, fmt, verbose, tty)
        if output is None:
            write_stdout(text, None if fmt is Format.TEXT else "utf-8")
        else:
            write_atomic(output, text)
            sys.stderr.write(f"netvet: verdict {result.verdict.value}; report in {output}\n")
        return _exit_code(result)

    raise typer.Exit(run_guarded(work))
