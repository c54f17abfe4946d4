"""Live SNMP discovery: ask agents who they are and what they are made of.

For each target this reads the system group (SNMPv2-MIB, RFC 3418: sysDescr, sysObjectID,
sysContact, sysName, sysLocation), the physical entity table (ENTITY-MIB, RFC 6933:
entPhysicalClass, ContainedIn, SoftwareRev, SerialNum, MfgName, ModelName) and the interface
MACs (IF-MIB ifPhysAddress, RFC 2863), over SNMPv2c or SNMPv3, several hosts at once.

A host that cannot be asked (no answer, rejected credentials, no address) gives a
`DiscoveryFailure` with a message meant for the operator; it never raises. What an agent sends
is untrusted: tables are read up to `SnmpOptions.max_rows` rows, each host gets a total time
budget, and every string is cleaned (see `snmp_text`). Tables cut short or not readable are
named in the device's `warnings`, and the values that were read are kept.

`identify_rows` turns devices into rows for the identify engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from netvet.inventory.errors import BadValue
from netvet.inventory.registry.mac import format_mac, not_evidence_reason
from netvet.inventory.registry.pen import parse_oid
from netvet.inventory.snmp_client import (
    Column,
    FailureKind,
    Oid,
    SnmpFailure,
    SnmpSession,
    SnmpValue,
    close_engine,
    new_engine,
    resolve,
)
from netvet.inventory.snmp_config import Credentials, SnmpOptions, Target, parse_target
from netvet.inventory.snmp_text import plain, render

_SYSTEM = (1, 3, 6, 1, 2, 1, 1)
SYS_DESCR, SYS_OBJECT_ID = (*_SYSTEM, 1, 0), (*_SYSTEM, 2, 0)
SYS_CONTACT, SYS_NAME, SYS_LOCATION = (*_SYSTEM, 4, 0), (*_SYSTEM, 5, 0), (*_SYSTEM, 6, 0)
SYSTEM_OIDS = (SYS_DESCR, SYS_OBJECT_ID, SYS_CONTACT, SYS_NAME, SYS_LOCATION)

_ENT = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)  # ENTITY-MIB entPhysicalEntry
ENT_CONTAINED_IN, ENT_CLASS = (*_ENT, 4), (*_ENT, 5)
ENT_SOFTWARE, ENT_SERIAL, ENT_MFG, ENT_MODEL = (*_ENT, 10), (*_ENT, 11), (*_ENT, 12), (*_ENT, 13)
IF_PHYS_ADDRESS = (1, 3, 6, 1, 2, 1, 2, 2, 1, 6)
CHASSIS = 3  # PhysicalClass chassis(3), ENTITY-MIB

# Walked in this order; the names appear in warnings.
COLUMNS: dict[Oid, str] = {
    ENT_CLASS: "entPhysicalClass",
    ENT_CONTAINED_IN: "entPhysicalContainedIn",
    ENT_MFG: "entPhysicalMfgName",
    ENT_MODEL: "entPhysicalModelName",
    ENT_SERIAL: "entPhysicalSerialNum",
    ENT_SOFTWARE: "entPhysicalSoftwareRev",
    IF_PHYS_ADDRESS: "ifPhysAddress",
}
_BINARY = {IF_PHYS_ADDRESS}
MAX_OID_ARCS = 128  # RFC 2578 §3.5: at most 128 sub-identifiers

ROW_KEYS = ("name", "manufacturer", "model", "serial", "mac", "sys_object_id", "sys_descr", "ip")


@dataclass(frozen=True, slots=True)
class DiscoveredDevice:
    """What one agent said about its device, cleaned; empty strings where it said nothing."""

    target: str  # HOST:PORT as asked
    host: str  # the address queried
    port: int
    name: str  # sysName
    sys_descr: str
    sys_object_id: str  # numeric, without leading dot
    sys_contact: str
    sys_location: str
    manufacturer: str  # entPhysicalMfgName of the chassis, else the first one given
    model: str  # of the chassis (entPhysicalModelName)
    serial: str  # of the chassis (entPhysicalSerialNum)
    software: str  # of the chassis (entPhysicalSoftwareRev)
    macs: tuple[str, ...]  # ifPhysAddress values, canonical, deduplicated, all-zero left out
    raw: tuple[tuple[str, str], ...]  # (dotted OID, value as text) of everything read
    warnings: tuple[str, ...] = ()  # tables cut short or unreadable


@dataclass(frozen=True, slots=True)
class DiscoveryFailure:
    """A target that gave no device, and why."""

    target: str
    host: str  # the address queried; empty when the name did not resolve
    port: int
    kind: FailureKind
    message: str


DiscoveryResult = DiscoveredDevice | DiscoveryFailure


def discover(
    targets: Sequence[Target | str], credentials: Credentials, options: SnmpOptions | None = None
) -> list[DiscoveryResult]:
    """Query every target, `options.concurrency` at a time; one result per target, in order.
    Runs its own event loop: from async code, await `discover_async` instead."""
    return asyncio.run(discover_async(targets, credentials, options))


async def discover_async(
    targets: Sequence[Target | str], credentials: Credentials, options: SnmpOptions | None = None
) -> list[DiscoveryResult]:
    """`discover` for callers already in an event loop. Bad target text raises
    `SnmpSetupError` before any packet is sent."""
    opts = options or SnmpOptions()
    parsed = [t if isinstance(t, Target) else parse_target(t) for t in targets]
    engine = new_engine()
    gate = asyncio.Semaphore(opts.concurrency)
    try:
        jobs = (_discover_one(engine, t, credentials, opts, gate) for t in parsed)
        return list(await asyncio.gather(*jobs))
    finally:
        close_engine(engine)


async def _discover_one(
    engine: Any,
    target: Target,
    credentials: Credentials,
    opts: SnmpOptions,
    gate: asyncio.Semaphore,
) -> DiscoveryResult:
    address = ""
    async with gate:
        try:
            async with asyncio.timeout(opts.host_budget):
                address = await resolve(target)
                session = await SnmpSession.open(engine, credentials, opts, address, target.port)
                scalars = await session.get(SYSTEM_OIDS)
                columns, warnings = await _read_columns(session, opts)
        except SnmpFailure as failure:
            return DiscoveryFailure(
                str(target), address, target.port, failure.kind, failure.message
            )
        except TimeoutError:
            message = (
                f"gave up on {target} after {opts.host_budget:g}s (host_budget): "
                "the agent answered too slowly or sent too much"
            )
            return DiscoveryFailure(str(target), address, target.port, FailureKind.BUDGET, message)
    return build_device(target, address, scalars, columns, warnings)


async def _read_columns(
    session: SnmpSession, opts: SnmpOptions
) -> tuple[dict[Oid, Column], list[str]]:
    """Walk every column; a column that fails is a warning, and after a timeout the rest are
    skipped (the agent answered the system group, so it is slow or gone, not absent)."""
    columns: dict[Oid, Column] = {}
    warnings: list[str] = []
    for oid, name in COLUMNS.items():
        try:
            column = await session.walk(oid, opts.max_rows)
        except SnmpFailure as failure:
            if failure.kind is FailureKind.NO_ANSWER:
                warnings.append(f"{name}: {failure.message}; later tables not read")
                break
            warnings.append(f"{name}: {failure.message}")
            continue
        columns[oid] = column
        if column.cut is not None:
            count = len(column.rows)
            rows = f"{count} row" if count == 1 else f"{count} rows"
            warnings.append(f"{name}: read {rows}, then stopped: {column.cut}")
    return columns, warnings


def build_device(
    target: Target,
    address: str,
    scalars: Mapping[Oid, SnmpValue],
    columns: Mapping[Oid, Column],
    warnings: Sequence[str] = (),
) -> DiscoveredDevice:
    """Assemble a device from the values read (pure: no network)."""
    notes = list(warnings)
    entities = _entities(columns)
    chassis = _principal(entities)
    return DiscoveredDevice(
        target=str(target),
        host=address,
        port=target.port,
        name=plain(scalars.get(SYS_NAME)),
        sys_descr=plain(scalars.get(SYS_DESCR)),
        sys_object_id=_object_id(scalars.get(SYS_OBJECT_ID), notes),
        sys_contact=plain(scalars.get(SYS_CONTACT)),
        sys_location=plain(scalars.get(SYS_LOCATION)),
        manufacturer=_pick(entities, chassis, ENT_MFG, fall_back=True),
        model=_pick(entities, chassis, ENT_MODEL),
        serial=_pick(entities, chassis, ENT_SERIAL),
        software=_pick(entities, chassis, ENT_SOFTWARE),
        macs=_macs(columns.get(IF_PHYS_ADDRESS)),
        raw=_raw(scalars, columns),
        warnings=tuple(notes),
    )


def _object_id(value: SnmpValue | None, notes: list[str]) -> str:
    """sysObjectID as identification reads it; a wrong type or an invalid OID is noted."""
    if value is None:
        return ""
    if isinstance(value, tuple) and len(value) <= MAX_OID_ARCS:
        text = ".".join(map(str, value))
        try:
            parse_oid(text)  # the arc limits identification applies to imported values
        except BadValue:
            pass
        else:
            return text
    notes.append(f"sysObjectID is not a valid OBJECT IDENTIFIER: {render(value)[:80]}")
    return ""


Entities = dict[Oid, dict[Oid, SnmpValue]]  # entPhysicalIndex -> column -> value


def _entities(columns: Mapping[Oid, Column]) -> Entities:
    entities: Entities = {}
    for oid in (ENT_CLASS, ENT_CONTAINED_IN, ENT_MFG, ENT_MODEL, ENT_SERIAL, ENT_SOFTWARE):
        for index, value in columns[oid].rows if oid in columns else ():
            entities.setdefault(index, {})[oid] = value
    return dict(sorted(entities.items()))


def _principal(entities: Entities) -> Oid | None:
    """The entity that is the device: the first chassis, else the first top-level entity
    (contained in nothing: entPhysicalContainedIn 0), else none."""
    for wanted, column in ((CHASSIS, ENT_CLASS), (0, ENT_CONTAINED_IN)):
        for index, values in entities.items():
            if values.get(column) == wanted:
                return index
    return None


def _pick(entities: Entities, principal: Oid | None, column: Oid, fall_back: bool = False) -> str:
    """The principal entity's value. Other entities' values are used only for the maker
    (`fall_back`), or when no entity is the device: a power supply's serial number is not the
    device's, but its maker is the device's maker far more often than not."""
    if principal is not None:
        own = plain(entities[principal].get(column))
        if own or not fall_back:
            return own
    for values in entities.values():
        text = plain(values.get(column))
        if text:
            return text
    return ""


def _macs(column: Column | None) -> tuple[str, ...]:
    """Interface MACs in ifIndex order: 6-byte values only (loopbacks have none, other link
    types other lengths), the all-zero placeholder left out."""
    seen: dict[str, None] = {}
    for _, value in column.rows if column else ():
        if isinstance(value, bytes) and len(value) == 6 and any(value):
            seen.setdefault(format_mac(int.from_bytes(value, "big")), None)
    return tuple(seen)


def _raw(
    scalars: Mapping[Oid, SnmpValue], columns: Mapping[Oid, Column]
) -> tuple[tuple[str, str], ...]:
    pairs = [(_dotted(oid), render(value)) for oid, value in scalars.items()]
    for column_oid, column in columns.items():
        binary = column_oid in _BINARY
        pairs.extend(
            (_dotted(column_oid + index), render(value, binary)) for index, value in column.rows
        )
    return tuple(pairs)


def _dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))


def identify_rows(results: Iterable[DiscoveryResult]) -> list[dict[str, str]]:
    """Rows for the identify engine, one per device (failures are left out), with the keys of
    `ROW_KEYS`. `name` is sysName, else the address; `mac` is the first MAC whose OUI can name
    a maker (not locally administered or multicast), else the first MAC."""
    rows: list[dict[str, str]] = []
    for device in results:
        if not isinstance(device, DiscoveredDevice):
            continue
        evidence = [
            m for m in device.macs if not_evidence_reason(int(m.replace(":", ""), 16)) is None
        ]
        rows.append(
            {
                "name": device.name or device.host,
                "manufacturer": device.manufacturer,
                "model": device.model,
                "serial": device.serial,
                "mac": (evidence or list(device.macs) or [""])[0],
                "sys_object_id": device.sys_object_id,
                "sys_descr": device.sys_descr,
                "ip": device.host,
            }
        )
    return rows
