"""`netvet inventory ...`: who made each device of an inventory?

Thin by design: parse options -> netvet.inventory (identify_file, discover, identify_frame) ->
write rows -> a summary on stderr -> exit code. How a vendor is decided belongs in
netvet.inventory, not here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from netvet.cli.common import (
    EXIT_FOUND,
    EXIT_OK,
    MAP_HELP,
    InputFormat,
    fail,
    parse_map,
    run_guarded,
)
from netvet.errors import NetvetError
from netvet.inventory.snmp_config import (
    V3,
    AuthProtocol,
    Credentials,
    PrivProtocol,
    SecurityLevel,
    SnmpOptions,
    SnmpSetupError,
    V2c,
    parse_target,
)
from netvet.report.safe import printable

if TYPE_CHECKING:
    import polars as pl

    from netvet.inventory.discover import DiscoveryResult

app = typer.Typer(
    help="Who made it? Identify the vendor of every device in an inventory, or ask devices "
    "over SNMP.",
    no_args_is_help=True,
)


class OutFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    PARQUET = "parquet"


class DiscoverFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _unwrap(text: str) -> str:
    """Join hard-wrapped prose lines; lines starting with a space keep their breaks."""
    return re.sub(r"(?<=\S)\n(?=\S)", " ", text)


COLUMNS_HELP = """Added columns:
  vendor             vendor family slug (huawei, zte, hikvision, cisco...); empty when unknown
  vendor_entity      the company or brand behind the answer (LTS, Honor, Dell Inc.)
  vendor_confidence  0-1: the signals' combined weight, lowered by conflicting evidence
  vendor_evidence    what each signal said, e.g.
                     manufacturer='LTS'→hikvision(white-label); oui=C0:56:E3→hikvision
  vendor_conflict    empty, or which answers disagreed: cisco by manufacturer vs huawei by oui
"""

IDENTIFY_HELP = _unwrap(
    f"""Identify the vendor of every device in INPUT and write the rows with five added
columns.

INPUT is a CSV (any delimiter; UTF-8 or Latin-1), XLSX, JSON, JSON Lines or Parquet table, a
NetBox device export, a CycloneDX BOM or an snmpwalk output file; the format is detected
unless --input-format says it. Columns are mapped onto fields (manufacturer, model, mac,
sys_object_id, sys_descr, date...) by name; say which column holds what with
--map COLUMN=FIELD when the names are ambiguous or unknown (--map COLUMN=- ignores a column).

Signals, in precedence order: manufacturer string (aliases, brands, white labels, fuzzy
spelling), IANA enterprise number of sysObjectID, MAC OUI (IEEE MA-L/MA-M/MA-S), sysDescr,
model number. Ownership changes (Honor left Huawei on 2020-11-17) are judged on the row's own
date column, else on --as-of (default today). docs/identify.md has the details.

{COLUMNS_HELP}
The summary (devices per family, unknowns, conflicts, white labels, bad rows with their row
numbers) goes to stderr. Bad rows are reported, never dropped.

Exit codes: 0 done (also with bad rows), 2 error (unreadable input, bad mapping or option).
Example:

  netvet inventory identify devices.csv --output identified.csv
"""
)

DISCOVER_HELP = _unwrap(
    f"""Ask devices over SNMP who they are (sysDescr, sysObjectID, sysName, ENTITY-MIB maker,
model and serial number, interface MACs) and write one row per device that answered,
identified by default as `netvet inventory identify` does.

Credentials: SNMPv2c with --community, or SNMPv3 with --v3-user and keys. Secrets can come
from the environment instead of the command line (NETVET_SNMP_COMMUNITY,
NETVET_SNMP_AUTH_KEY, NETVET_SNMP_PRIV_KEY) and are never printed.

Targets that gave no device are reported on stderr, one line each.

{COLUMNS_HELP}
Exit codes: 0 every target answered, 1 some did not, 2 usage error. Example:

  netvet inventory discover --snmp 192.0.2.10 --snmp 192.0.2.11:1161 --community public
"""
)


# ----------------------------------------------------------------------------- output


@contextlib.contextmanager
def _destination(output: Path | None) -> Iterator[Path]:
    """A path to write to: a temporary file beside `output`, moved onto it when the block ends
    (readers see the old file or the whole new one), or copied to standard output. A target
    that is not a regular file (/dev/null, a FIFO) is written in place."""
    if output is not None and output.exists() and not output.is_file():
        yield output
        return
    directory = output.parent if output is not None and str(output.parent) else Path(".")
    where = "standard output" if output is None else str(output)
    try:
        tmp = tempfile.mkdtemp(dir=None if output is None else directory, prefix=".netvet-")
    except OSError as exc:
        raise NetvetError(f"cannot write {where}: {exc.strerror or exc}") from exc
    try:
        path = Path(tmp) / "rows"
        yield path
        if output is not None:
            os.replace(path, output)
        else:
            sys.stdout.flush()
            with path.open("rb") as src:
                shutil.copyfileobj(src, sys.stdout.buffer)
            sys.stdout.flush()
    except OSError as exc:
        raise NetvetError(f"cannot write {where}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _progress(label: str) -> contextlib.AbstractContextManager[object]:
    """A transient spinner on stderr, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(label)


def _say(lines: list[str]) -> None:
    for line in lines:
        sys.stderr.write(printable(line, keep_tab=True) + "\n")


def _as_of(text: str | None) -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        fail(f"--as-of: {text!r} is not a date YYYY-MM-DD")


# ----------------------------------------------------------------------------- identify


@app.command("identify", help=IDENTIFY_HELP)
def identify_command(
    input_path: Annotated[
        Path, typer.Argument(metavar="INPUT", help="The inventory file.", show_default=False)
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the rows to FILE (atomically) instead of standard output (CSV).",
        ),
    ] = None,
    fmt: Annotated[
        OutFormat,
        typer.Option("--format", "-f", help="Output format (parquet needs --output)."),
    ] = OutFormat.CSV,
    input_format: Annotated[
        InputFormat, typer.Option("--input-format", help="Input format; auto detects it.")
    ] = InputFormat.AUTO,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="COLUMN=FIELD",
            help=MAP_HELP,
        ),
    ] = None,
    header_row: Annotated[
        int | None,
        typer.Option(
            "--header-row",
            metavar="N",
            min=1,
            help="Row holding the column names (xlsx: sheet row; csv: line), when the rows "
            "above it are a title; found automatically in xlsx.",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Judge company ownership on DATE (YYYY-MM-DD) where a row has no date; "
            "default today.",
        ),
    ] = None,
) -> None:
    # The user-facing help is IDENTIFY_HELP above.
    if fmt is OutFormat.PARQUET and output is None:
        fail("--format parquet writes binary: give --output FILE")
    explicit = parse_map(mapping or [])
    day = _as_of(as_of)

    def work() -> int:
        from netvet.inventory.identify import identify_file

        with _progress("identifying vendors"), _destination(output) as out:
            report = identify_file(
                input_path,
                out,
                fmt.value,
                explicit,
                day,
                input_format=input_format.chosen(),
                header_row=header_row,
            )
        _say(report.lines())
        if output is not None:
            sys.stderr.write(f"netvet: rows written to {printable(str(output))}\n")
        return EXIT_OK

    raise typer.Exit(run_guarded(work))


# ----------------------------------------------------------------------------- discover


def _credentials(
    community: str | None,
    user: str | None,
    auth_protocol: str,
    auth_key: str | None,
    priv_protocol: str,
    priv_key: str | None,
    level: str | None,
) -> Credentials:
    """V2c or V3 from the options; never echoes a secret."""
    if community is not None and user is not None:
        fail("give either --community (SNMPv2c) or --v3-user (SNMPv3), not both")
    if user is None:
        if auth_key or priv_key or level:
            fail("SNMPv3 keys or --security-level given without --v3-user")
        if community is None:
            fail("give --community (SNMPv2c) or --v3-user (SNMPv3)")
        return V2c(community)
    return V3(
        user,
        AuthProtocol.parse(auth_protocol),
        auth_key or "",
        PrivProtocol.parse(priv_protocol),
        priv_key or "",
        SecurityLevel.parse(level) if level else None,
    )


@app.command("discover", help=DISCOVER_HELP)
def discover_command(
    snmp: Annotated[
        list[str],
        typer.Option(
            "--snmp",
            metavar="HOST[:PORT]",
            help="An SNMP agent to ask (port 161 by default; IPv6 as [ADDR]:PORT). Repeatable.",
            show_default=False,
        ),
    ],
    community: Annotated[
        str | None,
        typer.Option(
            metavar="C",
            envvar="NETVET_SNMP_COMMUNITY",
            show_envvar=True,
            help="SNMPv2c community.",
            show_default=False,
        ),
    ] = None,
    v3_user: Annotated[
        str | None, typer.Option("--v3-user", metavar="U", help="SNMPv3 user name.")
    ] = None,
    auth_protocol: Annotated[
        str,
        typer.Option(metavar="P", help="SNMPv3: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512."),
    ] = "SHA",
    auth_key: Annotated[
        str | None,
        typer.Option(
            metavar="KEY",
            envvar="NETVET_SNMP_AUTH_KEY",
            show_envvar=True,
            help="SNMPv3 authentication pass phrase (8+ characters).",
            show_default=False,
        ),
    ] = None,
    priv_protocol: Annotated[
        str, typer.Option(metavar="P", help="SNMPv3 privacy: AES or DES.")
    ] = "AES",
    priv_key: Annotated[
        str | None,
        typer.Option(
            metavar="KEY",
            envvar="NETVET_SNMP_PRIV_KEY",
            show_envvar=True,
            help="SNMPv3 privacy pass phrase (8+ characters).",
            show_default=False,
        ),
    ] = None,
    security_level: Annotated[
        str | None,
        typer.Option(
            metavar="LEVEL",
            help="SNMPv3: noAuthNoPriv, authNoPriv or authPriv; default: what the keys allow.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option(metavar="S", help="Seconds to wait for each response.")
    ] = 1.0,
    retries: Annotated[int, typer.Option(metavar="N", help="Re-sends after a timeout.")] = 1,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the rows to FILE (atomically) instead of standard output.",
        ),
    ] = None,
    fmt: Annotated[
        DiscoverFormat, typer.Option("--format", "-f", help="Output format.")
    ] = DiscoverFormat.CSV,
    identify: Annotated[
        bool,
        typer.Option("--identify/--no-identify", help="Add the vendor columns to the rows."),
    ] = True,
) -> None:
    # The user-facing help is DISCOVER_HELP above.
    try:
        targets = [parse_target(t) for t in snmp]
        options = SnmpOptions(timeout=timeout, retries=retries)
        creds = _credentials(
            community, v3_user, auth_protocol, auth_key, priv_protocol, priv_key, security_level
        )
    except SnmpSetupError as exc:
        fail(str(exc))

    def work() -> int:
        from netvet.inventory.discover import DiscoveryFailure, discover

        with _progress(f"asking {len(targets)} SNMP agent(s)"):
            results = discover(targets, creds, options)
        failures = [r for r in results if isinstance(r, DiscoveryFailure)]
        for result in results:
            if isinstance(result, DiscoveryFailure):
                _say([f"netvet: no device from {result.target}: {result.message}"])
            else:
                _say([f"netvet: {result.target}: warning: {w}" for w in result.warnings])
        frame, lines = _discovered_rows(results, identify)
        _write_frame(frame, output, fmt)
        _say(lines)
        answered = len(results) - len(failures)
        _say([f"netvet: {answered} of {len(results)} target(s) answered"])
        return EXIT_FOUND if failures else EXIT_OK

    raise typer.Exit(run_guarded(work))


def _discovered_rows(
    results: list[DiscoveryResult], identify: bool
) -> tuple[pl.DataFrame, list[str]]:
    """The devices as a frame (identified unless told not to) and the summary lines."""
    import polars as pl  # imported here: every netvet command would pay for it at start-up

    from netvet.inventory.discover import ROW_KEYS, identify_rows

    rows = identify_rows(results)
    frame = pl.DataFrame(
        {k: [r[k] for r in rows] for k in ROW_KEYS}, schema={k: pl.String for k in ROW_KEYS}
    )
    if not identify:
        return frame, []
    from netvet.inventory.identify import identify_frame

    identified, report = identify_frame(frame)
    # The import lines describe the in-memory frame, not anything the user gave.
    lines = report.lines()[: -len(report.imported.lines())]
    return identified, lines if rows else []


def _write_frame(frame: pl.DataFrame, output: Path | None, fmt: DiscoverFormat) -> None:
    writers: dict[DiscoverFormat, Callable[[Path], None]] = {
        DiscoverFormat.CSV: lambda p: frame.write_csv(p),
        DiscoverFormat.JSON: lambda p: frame.write_json(p),
    }
    with _destination(output) as path:
        writers[fmt](path)
