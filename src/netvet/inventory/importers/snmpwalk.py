"""Files of `snmpwalk` / `snmpget` output (net-snmp's text format), one row per device.

Each line is `OID = TYPE: value`. OIDs may be numeric (`.1.3.6.1.2.1.1.1.0`, `iso.3.6...`,
`-On`), MIB-named (`SNMPv2-MIB::sysDescr.0`, `IF-MIB::ifPhysAddress.3`, `-Of` long names) or
half-resolved (`SNMPv2-SMI::mib-2.47.1.1.1.1.12.1` when ENTITY-MIB is not loaded). Read:

- system group (RFC 3418): sysDescr (1.3.6.1.2.1.1.1), sysObjectID (.1.2), sysName (.1.5),
  sysLocation (.1.6); quoted values may continue over several lines;
- ifPhysAddress (1.3.6.1.2.1.2.2.1.6) as `STRING: 0:1b:21:a:b:c` or `Hex-STRING: 00 1B 21 ..`:
  the 6-byte ones are the device's MACs (other lengths are not Ethernet and are skipped);
- ENTITY-MIB (RFC 6933) entPhysicalMfgName (.47.1.1.1.1.12), entPhysicalModelName (.13),
  entPhysicalSerialNum (.11), from the chassis entity (entPhysicalClass .5 = chassis(3)) when
  there is one, else from the lowest-numbered entity that names a maker or model.

Output styles: the default `OID = TYPE: value`, `-OQ` (no type), `-Oq`/`-Onq` (`OID value`, no
` = `), `-Ox` (strings as hex, wrapped over several lines of hex pairs: the continuation lines
are joined), `-Of`/`-On`. An unquoted sysDescr that goes on over several lines keeps its
continuation lines. MACs are read as `0:1b:21:a:b:c`, `00 1B 21 0A 0B 0C` (Hex-STRING, or the
quoted hex of `-Oq`/`-OQ`). `-Of` sysObjectID values (`.iso.org.dod.internet.private.
enterprises.N...`) are written numerically (`1.3.6.1.4.1.N...`); other spellings are kept as
they are (identification reads `iso.3.6...` and `SNMPv2-SMI::enterprises.N`; for other MIB
names it needs the MIB files, and asks for `-On`). UTF-16 files (a PowerShell redirect) are
read by their byte-order mark.

Several devices per file: a header line `# host: NAME` (also `device:`, `target:`, `agent:`;
`#` repeated or not) or `==> NAME <==` (the separator `tail`/`head` print between files)
starts a new device named NAME. Without headers, a second sysDescr.0 or sysObjectID.0 starts a
new device (noted). Every other line is ignored; unparsable ones are counted in a note.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from netvet.inventory.importers import jsonl
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.limits import read_whole
from netvet.inventory.importers.report import ImportReport

# Numeric OID prefix -> column (all under mib-2 = 1.3.6.1.2.1).
_COLUMNS = {
    "1.3.6.1.2.1.1.1": "sys_descr",
    "1.3.6.1.2.1.1.2": "sys_object_id",
    "1.3.6.1.2.1.1.5": "sys_name",
    "1.3.6.1.2.1.1.6": "sys_location",
    "1.3.6.1.2.1.2.2.1.6": "mac",
    "1.3.6.1.2.1.47.1.1.1.1.5": "ent_class",
    "1.3.6.1.2.1.47.1.1.1.1.11": "serial",
    "1.3.6.1.2.1.47.1.1.1.1.12": "manufacturer",
    "1.3.6.1.2.1.47.1.1.1.1.13": "model",
}
_NAMES = {
    "sysDescr": "sys_descr",
    "sysObjectID": "sys_object_id",
    "sysName": "sys_name",
    "sysLocation": "sys_location",
    "ifPhysAddress": "mac",
    "entPhysicalClass": "ent_class",
    "entPhysicalSerialNum": "serial",
    "entPhysicalMfgName": "manufacturer",
    "entPhysicalModelName": "model",
}
_SCALARS = ("sys_descr", "sys_object_id", "sys_name", "sys_location")
_ENTITY = ("serial", "manufacturer", "model")
_LINE = re.compile(r"^(\S+) = (?:([A-Za-z0-9-]+): ?)?(.*)$")
# -Oq/-Onq: `OID value` (an OID: numeric, iso-rooted, -Of long name or MIB::name).
_OID = r"(?:\.?(?:iso|1)(?:\.[A-Za-z0-9-]+)+|[A-Za-z][A-Za-z0-9-]*::[^\s=]+)"
_QLINE = re.compile(rf"^({_OID})(?:[ \t]+(.*))?$")
_HEX_LINE = re.compile(r"^(?:[0-9A-Fa-f]{2} ?)+$")
_HEX_MAC = re.compile(r"^(?:[0-9A-Fa-f]{2}[ ]){5}[0-9A-Fa-f]{2}$")
_OID_PREFIXES = (
    ("iso.org.dod.internet.private.enterprises", "1.3.6.1.4.1"),
    ("iso.org.dod.internet", "1.3.6.1"),
    ("iso", "1"),
)
_HEADER = re.compile(
    r"^(?:#+\s*(?:host|device|target|agent)\s*[:=]\s*(.+?)|==> (.+) <==)\s*$", re.IGNORECASE
)
_MISSING = ("No Such Object", "No Such Instance", "No more variables")
_CHASSIS = "3"


@dataclass(slots=True)
class _Device:
    host: str | None
    scalars: dict[str, str] = field(default_factory=dict)
    macs: list[str] = field(default_factory=list)
    entities: dict[int, dict[str, str]] = field(default_factory=dict)

    def record(self) -> dict[str, str | None]:
        entity = self._entity()
        return {
            "host": self.host,
            **{k: self.scalars.get(k) or None for k in _SCALARS},
            **{k: entity.get(k) or None for k in _ENTITY},
            "mac": " ".join(dict.fromkeys(self.macs)) or None,
        }

    def _entity(self) -> dict[str, str]:
        """The chassis entity, else the first that names a maker or model."""
        ordered = sorted(self.entities.items())
        for _, values in ordered:
            if values.get("ent_class") == _CHASSIS:
                return values
        return next((v for _, v in ordered if v.get("manufacturer") or v.get("model")), {})


def read_snmpwalk(path: Path, mapping: Mapping[str, str] | None = None) -> Inventory:
    """Import an snmpwalk output file (one or several devices)."""
    check_file(path)
    raw = read_whole(path, "an snmpwalk file")
    report = ImportReport(str(path), "snmpwalk")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = raw.decode("utf-16", errors="replace")
        report.encoding = "utf-16"
    else:
        text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    devices = list(_devices(text.splitlines(), report))
    if not any(d.scalars or d.macs or d.entities for d in devices):
        raise UnreadableInventory(f"{path}: no sysDescr, sysObjectID, ENTITY-MIB or MAC values")
    records = [d.record() for d in devices if d.scalars or d.macs or d.entities]
    return jsonl.build(list(records), report, mapping)


def _devices(lines: list[str], report: ImportReport) -> Iterator[_Device]:
    device = _Device(None)
    unparsed: list[int] = []
    split = 0
    for _, oid, kind, value in _values(lines, unparsed):
        if oid is None:  # a header line: value is the host name
            if device.scalars or device.macs or device.entities:
                yield device
            device = _Device(value)
            continue
        column, index = _column(oid)
        if column is None:
            continue
        if column in ("sys_descr", "sys_object_id") and column in device.scalars:
            split += 1
            yield device
            device = _Device(None)
        _store(device, column, index, kind, value)
    yield device
    if split:
        report.notes.append(f"{split} device boundaries guessed from a repeated sysDescr/OID")
    if unparsed:
        shown = ", ".join(map(str, unparsed[:10]))
        report.notes.append(f"{len(unparsed)} line(s) not in snmpwalk format ignored: {shown}")


def _values(lines: list[str], unparsed: list[int]) -> Iterator[tuple[int, str | None, str, str]]:
    """(line number, OID or None for a header, type, value) with continued values joined."""
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        header = _HEADER.match(line)
        if header:
            yield i, None, "", (header.group(1) or header.group(2)).strip()
            continue
        found = _LINE.match(line) or _QLINE.match(line)
        if not found:
            if line.strip() and not line.lstrip().startswith("#"):
                unparsed.append(i)
            continue
        number = i
        oid, kind, value = found.group(1), "", found.group(found.lastindex or 1)
        if found.re is _LINE:
            kind, value = found.group(2) or "", found.group(3)
        elif found.lastindex == 1:
            value = ""
        if value.startswith('"'):
            while not _closed(value) and i < len(lines):
                value += "\n" + lines[i].rstrip("\r")
                i += 1
            value = value[1:-1] if _closed(value) else value[1:]
            value = value.replace('\\"', '"')
        elif kind == "Hex-STRING" or _column(oid)[0] == "sys_descr":
            while i < len(lines) and _continues(lines[i].rstrip("\r"), kind, value):
                hex_value = kind == "Hex-STRING"
                value += (" " if hex_value else "\n") + lines[i].rstrip("\r")
                i += 1
        yield number, oid, kind or "", value


def _continues(line: str, kind: str, value: str) -> bool:
    """Whether `line` goes on with the value before it rather than starting a new one: hex
    pairs after a Hex-STRING (-Ox wraps them), any text that is not a value line, a header or
    a comment after an unquoted sysDescr (Cisco's runs over several lines)."""
    if not line.strip() or _HEADER.match(line) or line.lstrip().startswith("#"):
        return False
    if kind == "Hex-STRING":
        return bool(_HEX_LINE.match(line.strip()))
    if kind not in ("", "STRING") or not value.strip():
        return False
    return not (_LINE.match(line) or _QLINE.match(line))


def _closed(value: str) -> bool:
    """Whether a value that opened with a quote has its closing quote."""
    body = value[1:]
    return body == '"' or (body.endswith('"') and not body.endswith('\\"'))


def _column(oid: str) -> tuple[str | None, str]:
    """Which column an OID's value fills, and the OID's index (instance) part."""
    if "::" in oid:
        module, rest = oid.split("::", 1)
        if rest.startswith("mib-2."):
            return _numeric("1.3.6.1.2.1." + rest[len("mib-2.") :])
        name, _, index = rest.partition(".")
        return _NAMES.get(name), index
    parts = oid.lstrip(".").split(".")
    if parts[0] == "iso" and all(p.isdigit() for p in parts[1:]):
        return _numeric(".".join(["1", *parts[1:]]))
    if all(p.isdigit() for p in parts):
        return _numeric(".".join(parts))
    # -Of long names: the last word is the object, what follows it the index.
    words = [i for i, p in enumerate(parts) if not p.isdigit()]
    last = words[-1]
    return _NAMES.get(parts[last]), ".".join(parts[last + 1 :])


def _numeric(oid: str) -> tuple[str | None, str]:
    for prefix, column in _COLUMNS.items():
        if oid.startswith(prefix + "."):
            return column, oid[len(prefix) + 1 :]
    return None, ""


def _store(device: _Device, column: str, index: str, kind: str, value: str) -> None:
    if value.startswith(_MISSING):
        return
    if column == "mac":
        mac = _mac(kind, value)
        if mac:
            device.macs.append(mac)
        return
    text = _hex_text(value) if kind == "Hex-STRING" else value.strip()
    if column == "sys_object_id":
        text = _oid_text(text)
    if column in _SCALARS:
        device.scalars[column] = text
    elif index.isdigit():
        if column == "ent_class":
            text = re.sub(r"^\D*\((\d+)\)$", r"\1", text)  # "chassis(3)" -> "3"
        device.entities.setdefault(int(index), {})[column] = text


def _mac(kind: str, value: str) -> str | None:
    """A 6-byte physical address as colon-separated octets; None for empty or non-Ethernet."""
    text = value.strip()
    if kind == "Hex-STRING" or _HEX_MAC.match(text):
        octets = text.split()
    elif ":" in text:
        octets = text.split(":")
    else:
        return text or None  # another spelling: identification judges it
    return ":".join(o.zfill(2) for o in octets) if len(octets) == 6 else None


def _hex_text(value: str) -> str:
    """A Hex-STRING's bytes as text (agents print strings with odd bytes in hex)."""
    try:
        raw = bytes.fromhex(value.replace("\n", " "))
    except ValueError:
        return value.strip()
    return raw.decode("utf-8", errors="replace").strip("\x00").strip()


def _oid_text(value: str) -> str:
    """An `-Of` OID value (`.iso.org.dod.internet.private.enterprises.3902...`, `.iso.3.6...`)
    numerically: its symbolic arcs have fixed numbers (RFC 1155/2578: iso(1).org(3).dod(6).
    internet(1).private(4).enterprises(1)). Other spellings are kept as the file has them."""
    text = value.strip()
    if not text.startswith(".iso"):
        return text
    bare = text[1:]
    for name, number in _OID_PREFIXES:
        if bare == name or bare.startswith(name + "."):
            numeric = number + bare[len(name) :]
            if all(p.isdigit() for p in numeric.split(".")):
                return numeric
    return text
