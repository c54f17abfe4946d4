"""CycloneDX BOMs (JSON, spec 1.4 to 1.6): one row per component of type "device".

Devices are taken from `metadata.component` (the BOM's subject) and from `components`, nested
`components` included (a chassis and its line cards). Fields, per the CycloneDX 1.6 JSON schema:

- manufacturer: `component.manufacturer.name` (new in 1.6), else `supplier.name` (which may be
  a distributor: the `supplier` column keeps it separately), else the BOM's
  `metadata.manufacturer.name` / deprecated `metadata.manufacture.name` for the subject device,
  else `author`; the column `manufacturer_source` says which;
- model: `name` (a device component's name is its product/model name); `version` and `group`
  kept as columns;
- serial and MACs: the property taxonomy's `cdx:device:serialNumber` / `cdx:device:macAddress`
  (and their older `cdx:deviceInfo:` spelling); several MAC properties are joined;
- id: `bom-ref`; `parent`: the bom-ref of the enclosing component.

Components of other types (firmware, operating-system, library...) are not devices and are
skipped (counted in a note).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from netvet.inventory.importers import jsonl
from netvet.inventory.importers.base import Inventory, UnreadableInventory, check_file
from netvet.inventory.importers.limits import read_whole
from netvet.inventory.importers.report import ImportReport

_PROPS = {
    "serial": ("cdx:device:serialNumber", "cdx:deviceInfo:serialNumber"),
    "mac": ("cdx:device:macAddress", "cdx:deviceInfo:macAddress"),
    "sku": ("cdx:device:sku", "cdx:deviceInfo:sku"),
}


def is_cyclonedx(value: Any) -> bool:
    return isinstance(value, dict) and value.get("bomFormat") == "CycloneDX"


def read_cyclonedx(path: Path, mapping: Mapping[str, str] | None = None) -> Inventory:
    """Import the device components of a CycloneDX JSON BOM."""
    check_file(path)
    text = read_whole(path, "a CycloneDX BOM").decode("utf-8", errors="replace")
    try:
        bom = jsonl.loads(text, path)
    except json.JSONDecodeError as exc:
        raise UnreadableInventory(f"{path}: not JSON ({exc})") from exc
    if not is_cyclonedx(bom):
        raise UnreadableInventory(f'{path}: not a CycloneDX BOM (no "bomFormat": "CycloneDX")')
    report = ImportReport(str(path), f"cyclonedx-{bom.get('specVersion', '?')}")
    metadata = bom.get("metadata") if isinstance(bom.get("metadata"), dict) else {}
    subject_maker = _org(metadata.get("manufacturer")) or _org(metadata.get("manufacture"))
    found: list[tuple[dict[str, Any], str | None, str | None]] = []
    if isinstance(metadata.get("component"), dict):
        found.append((metadata["component"], None, subject_maker))
    found += [(c, p, None) for c, p in _walk(bom.get("components"), None)]
    devices = [(c, p, m) for c, p, m in found if c.get("type") == "device"]
    skipped = len(found) - len(devices)
    if skipped:
        report.notes.append(f"{skipped} component(s) that are not devices skipped")
    if not devices:
        raise UnreadableInventory(f'{path}: no component of type "device"')
    records = [_record(c, parent, maker) for c, parent, maker in devices]
    return jsonl.build(list(records), report, mapping)


def _walk(components: Any, parent: str | None) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every component object, depth first, with the bom-ref of its parent."""
    if not isinstance(components, list):
        return
    for component in components:
        if isinstance(component, dict):
            yield component, parent
            ref = component.get("bom-ref")
            yield from _walk(component.get("components"), str(ref) if ref else parent)


def _record(c: dict[str, Any], parent: str | None, subject_maker: str | None) -> dict[str, Any]:
    props = _properties(c.get("properties"))
    supplier = _org(c.get("supplier"))
    sources = (
        ("manufacturer", _org(c.get("manufacturer"))),
        ("supplier", supplier),
        ("metadata.manufacturer", subject_maker),
        ("author", jsonl.scalar_text(c.get("author"))),
    )
    source, maker = next(((s, v) for s, v in sources if v), (None, None))
    record: dict[str, Any] = {
        "id": jsonl.scalar_text(c.get("bom-ref")),
        "manufacturer": maker,
        "manufacturer_source": source,
        "supplier": supplier,
        "model": jsonl.scalar_text(c.get("name")),
        "version": jsonl.scalar_text(c.get("version")),
        "group": jsonl.scalar_text(c.get("group")),
        "description": jsonl.scalar_text(c.get("description")),
        "cpe": jsonl.scalar_text(c.get("cpe")),
        "purl": jsonl.scalar_text(c.get("purl")),
        "parent": parent,
    }
    for name, keys in _PROPS.items():
        values = [v for k in keys for v in props.get(k, [])]
        record[name] = " ".join(values) or None
    return record


def _org(value: Any) -> str | None:
    """The name of an organizationalEntity."""
    if isinstance(value, dict) and value.get("name"):
        return str(value["name"]).strip() or None
    return None


def _properties(value: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for prop in value if isinstance(value, list) else []:
        if isinstance(prop, dict) and prop.get("name") and prop.get("value") not in (None, ""):
            out.setdefault(str(prop["name"]), []).append(str(prop["value"]))
    return out
