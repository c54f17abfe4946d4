"""Canonical inventory fields and how a file's column names are mapped onto them.

Every importer keeps the file's own columns as they are and says which of them hold the
canonical fields below. Column names are compared by a key that ignores case, blanks and
punctuation and accents ("Serial Number", "serial_number" and "SERIALNUMBER" are one name); a
few German, French, Spanish and Italian names are known too ("Hersteller", "Modèle").
Synonyms come in tiers: a tier-1 name ("manufacturer", "vendor") beats a tier-2 one
("brand"), so a file with both columns is not ambiguous; two columns of the same best tier
are, and the mapping asks the user for an explicit `{"column": "field"}` (the CLI's
`--map column=field`).

Only `mac` may come from several columns (`MAC 1`, `WiFi MAC`): a device has several addresses.
An explicit mapping to `IGNORE` ("-") keeps a column out of the automatic mapping.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from netvet.errors import InputError
from netvet.inventory.errors import InventoryError

FIELDS = (
    "id",
    "name",
    "manufacturer",
    "model",
    "serial",
    "mac",
    "sys_object_id",
    "sys_descr",
    "role",
    "site",
    "platform",
    "ip",
    "domain",
    "date",  # purchase/installation date: the day ownership of a brand is judged on
)
MULTI = frozenset({"mac"})
# The columns identification adds; a file holding all of them is netvet output.
OUTPUT_COLUMNS = frozenset(
    {"vendor", "vendor_entity", "vendor_confidence", "vendor_evidence", "vendor_conflict"}
)
IGNORE = "-"

# field -> synonym keys by tier (tier 1 first). Keys are `column_key` forms.
_SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "id": (
        ("id", "deviceid", "assetid", "inventoryid", "assettag", "assetnumber", "bomref"),
        ("asset", "uid", "uuid", "ciid", "recordid"),
    ),
    "name": (
        ("name", "hostname", "devicename", "sysname"),
        ("host", "displayname", "nodename", "label", "fqdn", "systemname"),
    ),
    "manufacturer": (
        ("manufacturer", "vendor", "make", "mfr", "mfg", "manufacturername", "vendorname"),
        ("hersteller", "fabricant", "fabricante", "produttore"),
        ("entphysicalmfgname", "maker", "brand", "oem", "producer", "manufacturedby"),
    ),
    "model": (
        ("model", "modelname", "modelnumber", "devicetype", "hwmodel", "entphysicalmodelname"),
        ("modell", "modele", "modelo", "modello"),
        ("partnumber", "pn", "productmodel", "productname", "product", "hardware", "sku"),
    ),
    "serial": (
        ("serial", "serialnumber", "serialno", "sn", "entphysicalserialnum", "seriennummer"),
        ("servicetag", "chassisserial"),
    ),
    "mac": (
        (
            "mac",
            "macaddress",
            "macaddr",
            "hwaddr",
            "hwaddress",
            "physicaladdress",
            "ifphysaddress",
            "ethernetaddress",
            "macaddresses",
            "macs",
            "macadresse",
            "adressemac",
            "direccionmac",
        ),
    ),
    "sys_object_id": (
        ("sysobjectid", "sysoid", "snmpobjectid", "sysobjid", "snmpsysobjectid"),
        ("objectid", "oid"),
    ),
    "sys_descr": (("sysdescr", "sysdescription", "snmpsysdescr", "sysdesc", "snmpdescription"),),
    "role": (("role", "devicerole"), ("function", "category", "devicecategory")),
    "site": (
        ("site", "sitename", "standort"),
        ("location", "facility", "building", "syslocation", "emplacement", "ubicacion"),
    ),
    "platform": (("platform", "os", "operatingsystem"), ("software", "osname")),
    "ip": (
        ("ip", "ipaddress", "primaryip", "primaryip4", "managementip", "mgmtip", "ipv4"),
        ("primaryip6", "ipv6", "ipv4address", "ipv6address"),
    ),
    "domain": (("domain", "dnsdomain", "domainname"), ("addomain", "zone")),
    "date": (
        (
            "purchasedate",
            "installdate",
            "installationdate",
            "dateinstalled",
            "installed",
            "commissioningdate",
            "commissiondate",
            "inservicedate",
            "acquisitiondate",
            "deploymentdate",
            "purchased",
            "kaufdatum",
            "installationsdatum",
            "dateachat",
            "fechadecompra",
        ),
        ("date", "acquired", "deployed", "commissioned"),
    ),
}
# Extra MAC columns: "MAC 2", "wifi_mac", "eth0 MAC address".
_MAC_COLUMN = re.compile(r"^[a-z]{0,8}\d{0,2}(mac|macaddress|macaddr|hwaddr)\d{0,2}$")
_NOT_ALNUM = re.compile(r"[\W_]+")
_KNOWN_KEYS = frozenset(k for tiers in _SYNONYMS.values() for tier in tiers for k in tier)


class MappingError(InventoryError, InputError):
    """The column mapping is ambiguous or names a column or field that does not exist."""


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Which columns hold each canonical field (absent fields are not keys)."""

    columns: Mapping[str, tuple[str, ...]]

    def get(self, field: str) -> str | None:
        """The one column of a single-column field, None when not mapped."""
        cols = self.columns.get(field, ())
        return cols[0] if cols else None

    def all(self, field: str) -> tuple[str, ...]:
        return tuple(self.columns.get(field, ()))

    def describe(self) -> str:
        """`field<-column` pairs, for reports."""
        return ", ".join(f"{f}<-{'+'.join(c)}" for f, c in self.columns.items())


def column_key(name: str) -> str:
    """The comparable form of a column name: folded case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub("", bare)


def is_known_name(name: str) -> bool:
    """Whether a column name is a synonym of some canonical field (for finding a header)."""
    key = column_key(name)
    return bool(key) and (key in _KNOWN_KEYS or bool(_MAC_COLUMN.fullmatch(key)))


def resolve(
    columns: Iterable[str],
    explicit: Mapping[str, str] | None = None,
    synonyms: Mapping[str, tuple[tuple[str, ...], ...]] | None = None,
) -> FieldMap:
    """Map `columns` onto the canonical fields: `explicit` ({column: field}) first, then the
    synonyms (`synonyms` adds to or overrides the default tiers, for formats such as NetBox
    whose "Type" column is the model). `MappingError` for an ambiguous or impossible mapping."""
    cols = list(columns)
    chosen: dict[str, list[str]] = {}
    taken: set[str] = set()
    for column, field in (explicit or {}).items():
        if column not in cols:
            raise MappingError(f"--map names column {column!r}, which the input does not have")
        taken.add(column)
        if field == IGNORE:
            continue
        if field not in FIELDS:
            known = ", ".join(FIELDS)
            raise MappingError(f"--map {column}={field}: unknown field (one of {known})")
        if chosen.get(field) and field not in MULTI:
            raise MappingError(f"--map gives field {field!r} two columns")
        chosen.setdefault(field, []).append(column)
    table = {**_SYNONYMS, **(synonyms or {})}
    if set(cols) >= OUTPUT_COLUMNS:
        taken |= OUTPUT_COLUMNS  # netvet's own output, identified again: not signals
    free = [c for c in cols if c not in taken]
    for field in FIELDS:
        if field in chosen:
            continue
        found = _by_synonym(field, free, table[field])
        if found:
            chosen[field] = found
            taken.update(found)
            free = [c for c in free if c not in taken]
    return FieldMap({f: tuple(chosen[f]) for f in FIELDS if f in chosen})


def _by_synonym(field: str, columns: list[str], tiers: tuple[tuple[str, ...], ...]) -> list[str]:
    """The columns of the best tier that names `field`; ambiguity is an error."""
    keys = {c: column_key(c) for c in columns}
    for tier in tiers:
        found = [c for c in columns if keys[c] in tier]
        if field in MULTI:
            found += [c for c in columns if c not in found and _MAC_COLUMN.fullmatch(keys[c])]
            if found:
                return found
        elif len(found) == 1:
            return found
        elif found:
            listed = ", ".join(repr(c) for c in found)
            raise MappingError(
                f"columns {listed} could all be {field!r}; say which with "
                f"--map {found[0]}={field} (and --map OTHER={IGNORE} to ignore one)"
            )
    return []
