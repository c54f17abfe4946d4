"""Role mappings: which network domain a device role (NetBox's "Role", an asset tool's
"function") stands for, given as `ROLE=DOMAIN` pairs or a file.

A file is YAML (`olt: ran`, one role per key) or CSV (`role,domain` rows; a header naming those
two columns is skipped; `,` `;` tab or `|` between them). Files come from users: the YAML
goes through the policy loader's strict reader (no aliases, no duplicate keys), both are
limited in size, and every problem is reported as `file:line: message` in one InputError.
Roles are compared without regard to case or runs of blanks (`rows.role_key`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from netvet.errors import InputError
from netvet.policy.marked import MarkedError, load_marked
from netvet.policy.model import Domain
from netvet.policy.rows import role_key

MAX_BYTES = 1 << 20  # a role list of a few hundred lines is large
_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_DELIMITERS = (",", ";", "\t", "|")


def role_map(values: Iterable[str]) -> dict[str, Domain]:
    """The role map from `--role-map` values: `ROLE=DOMAIN` pairs and files (a value naming an
    existing file is a file, so a path may hold `=`). Later values win over earlier ones."""
    out: dict[str, Domain] = {}
    for value in values:
        if Path(value).is_file():
            out.update(load_role_file(Path(value)))
            continue
        role, sep, domain = value.rpartition("=")
        if not sep:
            raise InputError(
                f"--role-map {value!r}: not ROLE=DOMAIN (e.g. olt=ran) and no such file"
            )
        if not role.strip():
            raise InputError(f"--role-map {value!r}: the role is empty; expected ROLE=DOMAIN")
        out[role_key(role)] = _domain(domain, f"--role-map {value!r}")
    return out


def load_role_file(path: Path) -> dict[str, Domain]:
    """Read a role file (YAML or CSV, by suffix; see the module docstring)."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_BYTES:
        raise InputError(f"{path}: larger than {MAX_BYTES} bytes; not a role map")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    csv_file = path.suffix.lower() in _CSV_SUFFIXES
    pairs = _csv_pairs(text, path) if csv_file else _yaml_pairs(text, path)
    out: dict[str, Domain] = {}
    problems: list[str] = []
    for line, role, domain in pairs:
        where = f"{path}:{line}" if line else str(path)
        if not role.strip():
            problems.append(f"{where}: empty role")
            continue
        key = role_key(role)
        try:
            value = _domain(domain, where)
        except InputError as exc:
            problems.append(str(exc))
            continue
        if key in out and out[key] is not value:
            problems.append(f"{where}: role {role!r} mapped twice, to different domains")
        out[key] = value
    if problems:
        raise InputError("; ".join(problems[:10]))
    if not out:
        raise InputError(f"{path}: no role mapped (expected `role: domain` or `role,domain`)")
    return out


def _domain(text: str, where: str) -> Domain:
    try:
        return Domain(text.strip().lower())
    except ValueError:
        known = ", ".join(d.value for d in Domain)
        raise InputError(f"{where}: {text!r} is not a domain ({known})") from None


def _yaml_pairs(text: str, path: Path) -> list[tuple[int | None, str, str]]:
    try:
        data, lines = load_marked(text)
    except MarkedError as exc:
        where = f"{path}:{exc.line}" if exc.line else str(path)
        raise InputError(f"{where}: {exc.message}") from None
    if not isinstance(data, dict):
        raise InputError(
            f"{path}: a YAML role map is a mapping of role to domain, e.g. `olt: ran` "
            "(a CSV role map needs a .csv suffix)"
        )
    out: list[tuple[int | None, str, str]] = []
    for role, domain in data.items():
        line = lines.get((role,))
        if not isinstance(domain, str):
            raise InputError(f"{path}:{line}: role {role!r}: the domain must be text")
        out.append((line, str(role), domain))
    return out


def _csv_pairs(text: str, path: Path) -> list[tuple[int | None, str, str]]:
    # Two cells a row: the delimiter is the first candidate on the first data line (the csv
    # sniffer guesses wrong on comment lines and on files this short).
    first = next((ln for ln in text.splitlines() if ln.strip() and ln[:1] != "#"), "")
    delimiter = next((d for d in _DELIMITERS if d in first), ",")
    out: list[tuple[int | None, str, str]] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    for row in reader:
        number = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if len(cells) != 2:
            raise InputError(f"{path}:{number}: expected two cells, role and domain")
        if number == 1 and [c.lower() for c in cells] == ["role", "domain"]:
            continue
        out.append((number, cells[0], cells[1]))
    return out
