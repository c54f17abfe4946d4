"""A small SNMP manager for discovery: GET of scalars and a bounded walk of one table column,
over pysnmp's asyncio API (`pysnmp.hlapi.v3arch.asyncio`).

pysnmp's own `bulk_walk_cmd` is not used: it re-sends forever after a timeout and has no
notion of a hostile agent. The walk here stops at the end of the column, at `max_rows`, and at
the first OID that does not increase (an agent that loops would otherwise be walked forever).

Values leave this module as plain Python: `bytes` for OCTET STRING (and IpAddress, Opaque,
BITS), `int` for the integer types, a tuple of arcs for OBJECT IDENTIFIER; absent values
(noSuchObject, noSuchInstance, endOfMibView) are left out. pysnmp is told not to resolve
names through MIBs: discovery needs numbers only and MIB lookups only cost time.
"""

from __future__ import annotations

import asyncio
import enum
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.error import PySnmpError
from pysnmp.hlapi.v3arch import asyncio as hlapi
from pysnmp.proto import errind

from netvet.inventory.errors import InventoryError
from netvet.inventory.snmp_config import (
    AuthProtocol,
    Credentials,
    PrivProtocol,
    SecurityLevel,
    SnmpOptions,
    Target,
    V2c,
)

Oid = tuple[int, ...]
SnmpValue = bytes | int | Oid

_AUTH = {
    AuthProtocol.MD5: hlapi.USM_AUTH_HMAC96_MD5,
    AuthProtocol.SHA: hlapi.USM_AUTH_HMAC96_SHA,
    AuthProtocol.SHA224: hlapi.USM_AUTH_HMAC128_SHA224,
    AuthProtocol.SHA256: hlapi.USM_AUTH_HMAC192_SHA256,
    AuthProtocol.SHA384: hlapi.USM_AUTH_HMAC256_SHA384,
    AuthProtocol.SHA512: hlapi.USM_AUTH_HMAC384_SHA512,
}
_PRIV = {PrivProtocol.DES: hlapi.USM_PRIV_CBC56_DES, PrivProtocol.AES: hlapi.USM_PRIV_CFB128_AES}

# USM report PDUs (RFC 3414 §3.2) and local security failures: the credentials are wrong.
_AUTH_ERRORS: dict[type[errind.ErrorIndication], str] = {
    errind.WrongDigest: "wrong authentication key or protocol (usmStatsWrongDigests)",
    errind.UnknownUserName: "unknown user name (usmStatsUnknownUserNames)",
    errind.UnsupportedSecurityLevel: "security level not allowed for this user",
    errind.UnknownSecurityName: "unknown security name",
    errind.DecryptionError: "wrong privacy key or protocol (usmStatsDecryptionErrors)",
    errind.AuthenticationFailure: "authentication failed",
    errind.AuthenticationError: "authentication failed",
    errind.NotInTimeWindow: "message outside the agent's time window (usmStatsNotInTimeWindows)",
}
# RFC 3416 §3 error-status values that mean "not allowed", as opposed to an agent fault.
_ACCESS_STATUS = {"authorizationError", "noAccess"}


class FailureKind(enum.Enum):
    """Why a host gave no device."""

    RESOLVE = "resolve"  # the host name has no address
    NO_ANSWER = "no-answer"  # nothing came back in time (also: wrong community, wrong v3 priv key)
    AUTH = "auth"  # the agent rejected the credentials or denied access
    AGENT_ERROR = "agent-error"  # the agent answered with an error status
    PROTOCOL = "protocol"  # the exchange failed (bad response, local SNMP engine error)
    BUDGET = "budget"  # the host's total time budget ran out


class SnmpFailure(InventoryError):
    """One request to one agent failed; `kind` says how."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Column:
    """The rows of one table column: (index arcs after the column OID, value)."""

    rows: tuple[tuple[Oid, SnmpValue], ...]
    cut: str | None  # why the walk stopped early, None when the column was read to its end


async def resolve(target: Target) -> str:
    """The address to query: the literal itself, or the host name's first IPv4 address (else
    its first IPv6 one: agents commonly listen on IPv4 only)."""
    if target.is_literal:
        return target.host
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(target.host, target.port, type=socket.SOCK_DGRAM)
    except (OSError, UnicodeError) as exc:
        raise SnmpFailure(FailureKind.RESOLVE, f"cannot resolve {target.host!r}: {exc}") from exc
    ipv4 = [str(info[4][0]) for info in infos if info[0] == socket.AF_INET]
    ipv6 = [str(info[4][0]) for info in infos if info[0] == socket.AF_INET6]
    if not ipv4 and not ipv6:
        raise SnmpFailure(FailureKind.RESOLVE, f"cannot resolve {target.host!r}: no address")
    return (ipv4 or ipv6)[0]


class SnmpSession:
    """Requests to one agent, sharing the run's SNMP engine (one engine serves every
    concurrent host; pysnmp keeps per-target state such as v3 engine IDs itself)."""

    def __init__(
        self, engine: Any, credentials: Credentials, options: SnmpOptions, transport: Any
    ) -> None:
        self._engine = engine
        self._credentials = credentials
        self._auth = _auth_data(credentials)
        self._options = options
        self._transport = transport
        host, port = transport.transport_address[:2]
        self.label = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"

    @classmethod
    async def open(
        cls, engine: Any, credentials: Credentials, options: SnmpOptions, address: str, port: int
    ) -> SnmpSession:
        kind = hlapi.Udp6TransportTarget if ":" in address else hlapi.UdpTransportTarget
        try:
            transport = await kind.create(
                (address, port), timeout=options.timeout, retries=options.retries
            )
        except PySnmpError as exc:
            raise SnmpFailure(FailureKind.RESOLVE, f"bad address {address!r}: {exc}") from exc
        return cls(engine, credentials, options, transport)

    async def get(self, oids: Sequence[Oid]) -> dict[Oid, SnmpValue]:
        """The values of `oids` that the agent has; answers for OIDs not asked are dropped."""
        objects = [hlapi.ObjectType(hlapi.ObjectIdentity(oid)) for oid in oids]
        response = await self._call(hlapi.get_cmd, *objects)
        wanted = set(oids)
        found: dict[Oid, SnmpValue] = {}
        for name, value in response:
            oid, converted = tuple(name), _convert(value)
            if oid in wanted and converted is not None:
                found[oid] = converted
        return found

    async def walk(self, column: Oid, max_rows: int) -> Column:
        """Read the rows of `column` with GETBULK, at most `max_rows` of them."""
        rows: list[tuple[Oid, SnmpValue]] = []
        seen, last, prefix = 0, column, len(column)
        while True:
            reps = min(self._options.max_repetitions, max_rows - seen + 1)
            start = hlapi.ObjectType(hlapi.ObjectIdentity(last), hlapi.Null(""))
            response = await self._call(hlapi.bulk_cmd, 0, reps, start)
            if not response:
                return Column(tuple(rows), None)
            for name, value in response:
                oid = tuple(name)
                if oid[:prefix] != column or isinstance(value, univ.Null):
                    return Column(tuple(rows), None)  # past the column, or end of the MIB view
                if oid <= last:
                    cut = (
                        f"agent returned OID {_dotted(oid)} after {_dotted(last)} (not increasing)"
                    )
                    return Column(tuple(rows), cut)
                if seen == max_rows:
                    return Column(tuple(rows), f"more than {max_rows} rows (max_rows)")
                seen, last = seen + 1, oid
                converted = _convert(value)
                if converted is not None:
                    rows.append((oid[prefix:], converted))

    async def _call(self, command: Any, *args: Any) -> Sequence[Any]:
        try:
            indication, status, _, var_binds = await command(
                self._engine,
                self._auth,
                self._transport,
                hlapi.ContextData(),
                *args,
                lookupMib=False,
            )
        except (PySnmpError, PyAsn1Error) as exc:
            raise SnmpFailure(FailureKind.PROTOCOL, f"{self.label}: SNMP error: {exc}") from exc
        if indication:
            raise self._failure(indication)
        if status:
            name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
            if name in _ACCESS_STATUS:
                message = f"{self.label} answered {name}: these credentials may not read it"
                raise SnmpFailure(FailureKind.AUTH, message)
            raise SnmpFailure(FailureKind.AGENT_ERROR, f"{self.label} answered {name}")
        return list(var_binds)

    def _failure(self, indication: errind.ErrorIndication) -> SnmpFailure:
        if isinstance(indication, errind.RequestTimedOut):
            tries = self._options.tries
            message = (
                f"no answer from {self.label} after {tries} {'try' if tries == 1 else 'tries'} "
                f"(timeout {self._options.timeout:g}s)"
            )
            return SnmpFailure(FailureKind.NO_ANSWER, message + self._silence_hint())
        for kind, reason in _AUTH_ERRORS.items():
            if isinstance(indication, kind):
                user = getattr(self._credentials, "user", "")
                return SnmpFailure(
                    FailureKind.AUTH, f"{self.label} rejected SNMPv3 user {user!r}: {reason}"
                )
        return SnmpFailure(FailureKind.PROTOCOL, f"{self.label}: {indication}")

    def _silence_hint(self) -> str:
        # Agents drop requests with a wrong community (RFC 3584 §5.2.1) and those they cannot
        # decrypt without answering, so these look exactly like a host that is down.
        if isinstance(self._credentials, V2c):
            return "; a wrong community gets no answer either"
        if self._credentials.security_level is SecurityLevel.AUTH_PRIV:
            return "; a wrong privacy key gets no answer either"
        return ""


def new_engine() -> Any:
    """An SNMP engine for one discovery run; create it inside the running event loop."""
    return hlapi.SnmpEngine()


def close_engine(engine: Any) -> None:
    """Release the engine's sockets and timers."""
    engine.close_dispatcher()


def _auth_data(credentials: Credentials) -> Any:
    if isinstance(credentials, V2c):
        return hlapi.CommunityData(credentials.community, mpModel=1)  # mpModel 1 = SNMPv2c
    level = credentials.security_level
    auth = priv = None
    if level is not SecurityLevel.NO_AUTH_NO_PRIV:
        auth = _AUTH[credentials.auth_protocol]
    if level is SecurityLevel.AUTH_PRIV:
        priv = _PRIV[credentials.priv_protocol]
    return hlapi.UsmUserData(
        credentials.user,
        authKey=credentials.auth_key or None,
        privKey=credentials.priv_key or None,
        authProtocol=auth or hlapi.USM_AUTH_NONE,
        privProtocol=priv or hlapi.USM_PRIV_NONE,
    )


def _convert(value: Any) -> SnmpValue | None:
    if isinstance(value, univ.Null):  # also noSuchObject, noSuchInstance, endOfMibView
        return None
    if isinstance(value, univ.OctetString):
        return bytes(value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(int(arc) for arc in value)
    if isinstance(value, univ.Integer):
        return int(value)
    return None


def _dotted(oid: Oid) -> str:
    return ".".join(map(str, oid))
