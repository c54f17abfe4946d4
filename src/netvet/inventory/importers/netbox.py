"""NetBox device exports: the device list's CSV export and the REST API's JSON.

CSV: the UI export ("Name, Status, Site, Role, Manufacturer, Type, IP Address, ID, Serial
number...") and the bulk-import layout ("name, role, manufacturer, device_type, site, serial,
...") are read by the CSV importer with NetBox's column meanings: "Type"/"device_type" is the
model, "ID" the id (the asset tag only when there is no ID), "Role"/"Device Role" the role.

JSON: `/api/dcim/devices/` output, as a page (`{"count", "results": [...]}`) or a bare list of
devices. Nested objects are read by NetBox's field names: `device_type.manufacturer.name`,
`device_type.model`, `role` (`device_role` before NetBox 3.6), `platform`, `site`, `serial`,
`primary_ip`/`primary_ip4`/`primary_ip6`. A combined file `{"devices": [...], "interfaces":
[...]}` (the second from `/api/dcim/interfaces/`) adds each device's interface MACs:
`mac_address` (NetBox up to 4.1) or `primary_mac_address`/`mac_addresses` (4.2 on), matched
by `device.id`, else by `device.name`. Custom fields become columns of their own name.
The same device objects one per line (JSON Lines, as `jq -c '.results[]'` writes them) are read
alike. A single page of a paginated answer (`"count"` above the devices read, a `"next"` URL)
is read with a warning naming the next page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from netvet.inventory.importers import jsonl
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.csv import read_csv
from netvet.inventory.importers.fields import column_key
from netvet.inventory.importers.limits import read_whole
from netvet.inventory.importers.report import ImportReport

SYNONYMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "id": (("id",), ("assettag",)),
    "model": (("devicetype", "type", "model"),),
    "role": (("role", "devicerole"),),
    "ip": (("ip", "primaryip", "ipaddress", "primaryip4"), ("ipv4address", "primaryipv4")),
}
_CSV_MARKERS = ({"devicetype"}, {"type", "site"})


def looks_like_netbox_csv(header: list[str]) -> bool:
    """Whether a CSV header is a NetBox device export (has a device type, or Type plus Site)."""
    keys = {column_key(h) for h in header}
    return any(marker <= keys for marker in _CSV_MARKERS) and "manufacturer" in keys


def looks_like_netbox_json(value: Any) -> bool:
    """Whether a parsed JSON document is NetBox device objects."""
    if isinstance(value, dict) and isinstance(value.get("devices"), list):
        return True
    records = jsonl.unwrap(value)
    return bool(records) and all(
        isinstance(r, dict) and isinstance(r.get("device_type"), dict) for r in records[:10]
    )


def read_netbox(path: Path, mapping: Mapping[str, str] | None = None) -> Inventory:
    """Import a NetBox device export, CSV or JSON (by its first byte)."""
    check_file(path)
    with path.open("rb") as f:
        first = f.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if first not in (b"[", b"{"):
        return read_csv(path, mapping, synonyms=SYNONYMS, format_name="netbox-csv")
    raw = read_whole(path, "NetBox JSON").removeprefix(b"\xef\xbb\xbf")
    report = ImportReport(str(path), "netbox-json")
    if path.suffix.lower() in jsonl.LINE_SUFFIXES:
        return _read_lines(raw, report, mapping)
    try:
        document = jsonl.loads(raw.decode("utf-8", errors="replace"), path)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # several values: JSON Lines
            return _read_lines(raw, report, mapping)
        raise UnreadableInventory(f"{path}: not JSON ({exc})") from exc
    devices = document.get("devices") if isinstance(document, dict) else None
    devices = devices if isinstance(devices, list) else jsonl.unwrap(document)
    report.notes += jsonl.page_notes(document, len(devices))
    interfaces = document.get("interfaces", []) if isinstance(document, dict) else []
    macs = _interface_macs(interfaces if isinstance(interfaces, list) else [])
    records = [_device(d, row, macs, report) for row, d in enumerate(devices, 1)]
    return jsonl.build(records, report, mapping, SYNONYMS)


def _read_lines(raw: bytes, report: ImportReport, mapping: Mapping[str, str] | None) -> Inventory:
    """NetBox device objects one per line."""
    report.format = "netbox-jsonl"
    records = [
        None if value is jsonl.BAD else _device(value, row, {}, report)
        for row, value in jsonl.line_values(raw, report)
    ]
    return jsonl.build(records, report, mapping, SYNONYMS)


def _device(
    obj: Any, row: int, macs: dict[str, list[str]], report: ImportReport
) -> dict[str, Any] | None:
    if not isinstance(obj, dict):
        report.add("not-a-record", row, f"a JSON {type(obj).__name__}, not a device object")
        return None
    dtype: dict[str, Any] = obj["device_type"] if isinstance(obj.get("device_type"), dict) else {}
    found = macs.get(f"id:{obj.get('id')}") or macs.get(f"name:{obj.get('name')}") or []
    record = {
        "id": jsonl.scalar_text(obj.get("id")),
        "name": jsonl.scalar_text(obj.get("name")),
        "manufacturer": _name(dtype.get("manufacturer")),
        "model": jsonl.scalar_text(dtype.get("model")) or _name(dtype),
        "serial": jsonl.scalar_text(obj.get("serial")),
        "asset_tag": jsonl.scalar_text(obj.get("asset_tag")),
        "role": _name(obj.get("role") or obj.get("device_role")),
        "platform": _name(obj.get("platform")),
        "site": _name(obj.get("site")),
        "location": _name(obj.get("location")),
        "tenant": _name(obj.get("tenant")),
        "status": _name(obj.get("status")),
        "ip": _address(obj.get("primary_ip") or obj.get("primary_ip4") or obj.get("primary_ip6")),
        "mac": " ".join(dict.fromkeys(found)) or None,
    }
    custom = obj.get("custom_fields")
    if isinstance(custom, dict):
        try:
            custom = jsonl.flatten(custom)
        except jsonl.TooDeep:
            report.add("not-a-record", row, "custom_fields nested too deeply")
            custom = {}
        # Under their own names (as NetBox's CSV export heads them), so that a custom field
        # such as purchase_date maps like any column; prefixed only where a name is taken.
        for name, value in custom.items():
            record[name if name not in record else f"custom_fields.{name}"] = value
    return record


def _name(value: Any) -> str | None:
    """The display text of a nested NetBox object (name, else label/value/display), or a
    scalar as text."""
    if isinstance(value, dict):
        for key in ("name", "label", "value", "display", "model"):
            if value.get(key) not in (None, ""):
                return str(value[key])
        return None
    return jsonl.scalar_text(value)


def _address(value: Any) -> str | None:
    """A primary IP as NetBox writes it ("192.0.2.1/24"), without the prefix length."""
    text = value.get("address") if isinstance(value, dict) else jsonl.scalar_text(value)
    return str(text).split("/", 1)[0] if text else None


def _interface_macs(interfaces: list[Any]) -> dict[str, list[str]]:
    """Interface MACs by device (keys `id:N` and `name:X`)."""
    out: dict[str, list[str]] = {}
    for iface in interfaces:
        if not isinstance(iface, dict) or not isinstance(iface.get("device"), dict):
            continue
        found = [iface.get("mac_address")]
        primary = iface.get("primary_mac_address")
        found.append(primary.get("mac_address") if isinstance(primary, dict) else None)
        for item in iface.get("mac_addresses") or []:
            found.append(item.get("mac_address") if isinstance(item, dict) else None)
        device = iface["device"]
        for mac in (str(m) for m in found if m):
            for key in (f"id:{device.get('id')}", f"name:{device.get('name')}"):
                out.setdefault(key, []).append(mac)
    return out
