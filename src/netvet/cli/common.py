"""What every netvet command shares: error exits, size options, atomic report files.

Exit codes are the same everywhere: 0 ok/same, 1 differences or violations found, 2 error.
Library code never exits; commands call `run_guarded` so an expected error is one line on
stderr and an unexpected one is one line plus a request to report it (the traceback only with
NETVET_DEBUG=1).
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import traceback
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import NoReturn, TypeVar

import typer

from netvet.errors import NetvetError
from netvet.report.safe import printable

EXIT_OK = 0
EXIT_FOUND = 1
EXIT_ERROR = 2
DEBUG_ENV = "NETVET_DEBUG"

T = TypeVar("T")

_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """A byte count from `4096`, `512M`, `64G`, `1T` (binary units; `MiB`/`GB` also read)."""
    m = _SIZE.match(text)
    if not m:
        raise typer.BadParameter(f"{text!r} is not a size such as 4096, 512M, 64G")
    value = int(m.group(1)) * _UNITS[m.group(2).upper()]
    if value <= 0:
        raise typer.BadParameter("must be positive")
    return value


def format_size(n: int) -> str:
    """The shortest exact form of `n` that parse_size reads back: 64G, 512M, 1000."""
    for unit in ("T", "G", "M", "K"):
        if n % _UNITS[unit] == 0:
            return f"{n // _UNITS[unit]}{unit}"
    return str(n)


class InputFormat(StrEnum):
    """Inventory formats a command reads (`--input-format`); auto detects it. The values are
    the importers' names (`netvet.inventory.importers.READERS`), spelled here so that building
    the command line does not import polars."""

    AUTO = "auto"
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"
    JSONL = "jsonl"
    PARQUET = "parquet"
    NETBOX = "netbox"
    CYCLONEDX = "cyclonedx"
    SNMPWALK = "snmpwalk"

    def chosen(self) -> str | None:
        """The importer's name, or None to detect the format."""
        return None if self is InputFormat.AUTO else self.value


MAP_HELP = (
    "Column holding a field (manufacturer, model, mac, sys_object_id, sys_descr, serial, name, "
    "id, ip, site, role, platform, domain, date; - to ignore). Repeatable."
)


def parse_map(pairs: list[str]) -> dict[str, str]:
    """`--map COLUMN=FIELD` options as {column: field}; exits 2 on a malformed pair. The column
    may itself hold `=` (the last one splits)."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column or not field.strip():
            fail(f"--map {pair!r}: expected COLUMN=FIELD, e.g. --map 'Hersteller=manufacturer'")
        mapping[column] = field.strip()
    return mapping


def fail(message: str) -> NoReturn:
    """Print `netvet: error: MESSAGE` (one line) on stderr and exit 2."""
    one_line = printable(" ".join(message.split()))
    sys.stderr.write(f"netvet: error: {one_line}\n")
    raise typer.Exit(EXIT_ERROR)


def run_guarded(action: Callable[[], T]) -> T:
    """Run `action`; turn every error into an exit 2 without a traceback (unless debugging)."""
    try:
        return action()
    except typer.Exit:
        raise
    except NetvetError as exc:
        fail(str(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}")
    except KeyboardInterrupt:
        fail("interrupted")
    except Exception as exc:  # noqa: BLE001 - the last line of defence before a user's terminal
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
        fail(
            f"unexpected {type(exc).__name__}: {exc} -- this is a bug in netvet, please report "
            f"it (run again with {DEBUG_ENV}=1 to see the traceback)"
        )


def write_atomic(path: Path, text: str) -> None:
    """Write `text` as UTF-8 to `path` so a reader sees the old file or the whole new one.

    The temporary file sits in the same directory (os.replace is atomic only within one
    filesystem) and gets the permissions a plain open() would have given. Raises NetvetError
    naming `path` (not the temporary name) when the file cannot be written.

    A target that exists and is not a regular file (/dev/null, a FIFO, /dev/stdout) is written
    in place: replacing it would swap a device node for a file.
    """
    if path.exists() and not path.is_file():
        try:
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as exc:
            raise NetvetError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise NetvetError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise NetvetError(f"cannot write {path}: {exc.strerror or exc}") from exc
        raise


def write_stdout(text: str, encoding: str | None = None) -> None:
    """Write `text` to stdout in `encoding` (default: stdout's own), never failing on a char."""
    stream = sys.stdout
    enc = encoding or getattr(stream, "encoding", None) or "utf-8"
    buffer = getattr(stream, "buffer", None)
    try:
        if buffer is None:
            stream.write(text)
        else:
            stream.flush()
            buffer.write(text.encode(enc, "backslashreplace"))
        stream.flush()
    except BrokenPipeError:
        # The reader went away (`| head`). Point stdout at /dev/null so the interpreter's
        # final flush does not print a second error, then report it once.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        raise
