"""Parsers for the registry files as their publishers write them.

- IEEE RA CSV (`oui.csv`, `mam.csv`, `oui36.csv`, `iab.csv`): header
  `Registry,Assignment,Organization Name,Organization Address`, assignment as 6/7/9 hex digits.
- IANA `enterprise-numbers.txt`: a "(last updated YYYY-MM-DD)" line, then per entry the decimal
  number at column 0 and the organization indented by two spaces (contact and e-mail follow,
  indented deeper), closed by "End of Document".
- Wireshark's `manuf` and `enterprises.tsv` (Debian package libwireshark-data), used to build
  the bundled snapshot. Wireshark rewrites names: it collapses blanks, title-cases all-caps
  names and turns "(formerly ...)" into a comment. `enterprises_tsv` undoes the latter exactly;
  manuf names are used only for blocks missing from the IEEE CSVs, respelled as the IEEE spells
  the same organization elsewhere when it can be told (see `respell`).
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator

from netvet.inventory.errors import DataError
from netvet.inventory.registry.oui import REGISTRIES, OuiAssignment
from netvet.inventory.registry.pen import PenEntry

IEEE_HEADER = ["Registry", "Assignment", "Organization Name", "Organization Address"]
_HEX = re.compile(r"[0-9A-Fa-f]+")
_LAST_UPDATED = re.compile(r"\(last updated (\d{4}-\d{2}-\d{2})\)")
_FORMERLY = re.compile(r"\t# ((?:formerly|previously) .*)$")
# IAB blocks were all carved from these two OUIs (IEEE RA IAB registry).
IAB_OUIS = ("0050C2", "40D855")


def ieee_csv(text: str, source: str) -> list[OuiAssignment]:
    """Assignments of one IEEE RA CSV file; `DataError` on a header or row that is not IEEE's."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header != IEEE_HEADER:
        raise DataError(f"not an IEEE registry CSV (header {header!r})")
    rows = []
    for lineno, row in enumerate(reader, 2):
        if not row:
            continue
        if len(row) != 4 or row[0] not in REGISTRIES:
            raise DataError(f"IEEE CSV line {lineno}: unexpected row {row[:3]!r}")
        registry, prefix, organization = row[0], row[1].upper(), clean_name(row[2])
        if (
            len(prefix) * 4 != REGISTRIES[registry]
            or not _HEX.fullmatch(prefix)
            or not organization
        ):
            raise DataError(f"IEEE CSV line {lineno}: bad assignment {row[:3]!r}")
        rows.append(OuiAssignment(prefix, REGISTRIES[registry], registry, organization, source))
    return rows


def clean_name(name: str) -> str:
    """A registry name as stored: HTML entities undone (IEEE's CSV has some), no tab or newline,
    no blanks at the ends. Inner spelling, case and blanks are the registry's own."""
    name = html.unescape(name)
    return re.sub(r"[\t\r\n]+", " ", name).strip()


def iana_pen(text: str) -> tuple[str, list[PenEntry]]:
    """The "last updated" date and the entries of IANA's enterprise-numbers.txt."""
    date_match = _LAST_UPDATED.search(text[:2000])
    if date_match is None:
        raise DataError("not IANA enterprise-numbers.txt: no '(last updated ...)' line")
    if "End of Document" not in text[-200:]:
        raise DataError("IANA enterprise-numbers.txt is truncated: no 'End of Document'")
    body = text[text.index("| | | |") :]
    entries = []
    number: int | None = None
    for line in body.splitlines()[1:]:
        if line[:1].isdigit():
            if not line.strip().isdigit():
                raise DataError(f"IANA enterprise-numbers.txt: bad number line {line!r}")
            number = int(line)
        elif number is not None and line.strip():
            # The organization is the first line after the number, indented two spaces (a few
            # entries have three); contact and e-mail follow, indented deeper.
            indent = len(line) - len(line.lstrip(" "))
            organization = clean_name(line)
            if indent <= 3 and organization.casefold() != "unassigned":
                entries.append(PenEntry(number, organization))
            number = None
    return date_match.group(1), entries


def enterprises_tsv(text: str) -> tuple[str, list[PenEntry]]:
    """Wireshark's enterprises.tsv, with IANA's "(formerly '...')" put back into the name."""
    date_match = _LAST_UPDATED.search(text[:2000])
    if date_match is None:
        raise DataError("enterprises.tsv has no '(last updated ...)' line")
    entries = []
    for line in text.splitlines():
        if not line[:1].isdigit():
            continue
        number, _, name = line.partition("\t")
        name = _FORMERLY.sub(r" (\1)", name)
        if not number.isdigit() or "\t" in name or not name.strip():
            raise DataError(f"enterprises.tsv: unexpected line {line!r}")
        entries.append(PenEntry(int(number), clean_name(name)))
    return date_match.group(1), entries


def wireshark_manuf(text: str, source: str) -> Iterator[OuiAssignment]:
    """The 24/28/36-bit universal blocks of Wireshark's manuf file, with Wireshark's long names.

    Group and locally administered prefixes (Wireshark's well-known addresses, IEEE CIDs) are
    skipped: they never name a device maker. The registry kind is inferred from the length.
    """
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        prefix, _, mask = fields[0].partition("/")
        hexdigits = prefix.replace(":", "").replace("-", "").replace(".", "").upper()
        bits = int(mask) if mask else 24
        if bits not in (24, 28, 36) or len(hexdigits) < bits // 4:
            continue
        hexdigits = hexdigits[: bits // 4]
        if not _HEX.fullmatch(hexdigits) or int(hexdigits[:2], 16) & 0x03:
            continue
        name = fields[2] if len(fields) > 2 and fields[2].strip() else fields[1]
        name = clean_name(name.split("\t#")[0])
        if bits == 24:
            registry = "MA-L"
        elif bits == 28:
            registry = "MA-M"
        else:
            registry = "IAB" if hexdigits[:6] in IAB_OUIS else "MA-S"
        yield OuiAssignment(hexdigits, bits, registry, name, source)


def wireshark_key(name: str) -> str:
    """What Wireshark's make-manuf leaves of a name, compared without case: blanks collapsed,
    none before a period, HTML entities undone."""
    name = unicodedata.normalize("NFKC", html.unescape(name))
    name = re.sub(r"\s+\.", ".", " ".join(name.split()))
    return name.casefold()


def respell(wireshark_names: Iterable[str], ieee_names: Iterable[str]) -> dict[str, str]:
    """Map Wireshark spellings to the IEEE spelling of the same organization: for each key the
    spelling the IEEE registry uses most often. Names without an IEEE counterpart are absent."""
    counts: dict[str, Counter[str]] = {}
    for name in ieee_names:
        counts.setdefault(wireshark_key(name), Counter())[name] += 1
    result = {}
    for name in wireshark_names:
        found = counts.get(wireshark_key(name))
        if found:
            result[name] = found.most_common(1)[0][0]
    return result
