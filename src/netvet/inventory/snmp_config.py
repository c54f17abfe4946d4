"""What live SNMP discovery is told: the targets, the credentials and the limits.

Everything here is checked when it is built, so a typo on the command line fails before any
packet is sent, with a message naming the bad value. Secrets (community, v3 keys) never appear
in a repr or an error message.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from dataclasses import dataclass, field

from netvet.errors import InputError
from netvet.inventory.errors import InventoryError

DEFAULT_PORT = 161  # RFC 3417 §3: snmp 161/udp
# RFC 1123 §2.1 host names: labels of letters, digits and hyphens, at most 63 characters.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# RFC 3414 §11.2: pass phrases shorter than 8 characters are refused by conforming agents.
MIN_KEY_LENGTH = 8


class SnmpSetupError(InventoryError, InputError, ValueError):
    """A discovery target, credential or limit is invalid."""


@dataclass(frozen=True, slots=True)
class Target:
    """One agent to query: a host name or IP literal (IPv6 without brackets) and a UDP port."""

    host: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def is_literal(self) -> bool:
        """True when `host` is an IP address, so no name lookup is needed."""
        return _ip(self.host) is not None


def parse_target(text: str, default_port: int = DEFAULT_PORT) -> Target:
    """Read `HOST`, `HOST:PORT`, `[IPV6]`, `[IPV6]:PORT` or a bare IPv6 literal."""
    s = text.strip()
    if s.startswith("["):
        host, sep, rest = s[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")) or _ip(host) is None:
            raise SnmpSetupError(f"bad SNMP target {text!r}: expected [IPv6] or [IPv6]:PORT")
        return Target(host, _port(rest[1:], text) if rest else default_port)
    if s.count(":") > 1:  # a bare IPv6 literal: no room for a port without brackets
        if _ip(s) is None:
            raise SnmpSetupError(f"bad SNMP target {text!r}: write IPv6 with a port as [ADDR]:PORT")
        return Target(s, default_port)
    host, sep, port_text = s.partition(":")
    if not _valid_host(host):
        raise SnmpSetupError(f"bad SNMP target {text!r}: not a host name or IP address")
    return Target(host, _port(port_text, text) if sep else default_port)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _valid_host(host: str) -> bool:
    if _ip(host) is not None:
        return True
    name = host[:-1] if host.endswith(".") else host  # a fully qualified name may end in "."
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    # All-numeric names such as 300.1.1.1 are bad IPv4 addresses, not host names.
    return all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


def _port(text: str, target: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise SnmpSetupError(f"bad SNMP target {target!r}: port must be 1-65535")
    return int(text)


class SecurityLevel(enum.Enum):
    """SNMPv3 security levels (RFC 3411 §3.4.3), spelt as net-snmp's `-l` option takes them."""

    NO_AUTH_NO_PRIV = "noAuthNoPriv"
    AUTH_NO_PRIV = "authNoPriv"
    AUTH_PRIV = "authPriv"

    @classmethod
    def parse(cls, text: str) -> SecurityLevel:
        for level in cls:
            if level.value.lower() == text.strip().lower():
                return level
        raise SnmpSetupError(f"unknown SNMPv3 security level {text!r}: {_choices(cls)}")


class AuthProtocol(enum.Enum):
    """USM authentication protocols: HMAC-MD5-96 and HMAC-SHA-96 (RFC 3414), HMAC-SHA-2
    (RFC 7860)."""

    MD5 = "MD5"
    SHA = "SHA"
    SHA224 = "SHA-224"
    SHA256 = "SHA-256"
    SHA384 = "SHA-384"
    SHA512 = "SHA-512"

    @classmethod
    def parse(cls, text: str) -> AuthProtocol:
        key = text.strip().upper().replace("-", "").replace("_", "")
        for proto in cls:
            if proto.value.replace("-", "") == key:
                return proto
        if key == "SHA1":
            return cls.SHA
        raise SnmpSetupError(f"unknown SNMPv3 authentication protocol {text!r}: {_choices(cls)}")


class PrivProtocol(enum.Enum):
    """USM privacy protocols: CBC-DES (RFC 3414 §8) and CFB128-AES-128 (RFC 3826)."""

    DES = "DES"
    AES = "AES"

    @classmethod
    def parse(cls, text: str) -> PrivProtocol:
        key = text.strip().upper().replace("-", "")
        if key in ("AES", "AES128"):
            return cls.AES
        if key == "DES":
            return cls.DES
        raise SnmpSetupError(f"unknown SNMPv3 privacy protocol {text!r}: {_choices(cls)}")


def _choices(kind: type[enum.Enum]) -> str:
    return "one of " + ", ".join(str(member.value) for member in kind)


@dataclass(frozen=True, slots=True)
class V2c:
    """SNMPv2c community-based access."""

    community: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.community:
            raise SnmpSetupError("SNMPv2c needs a community")


@dataclass(frozen=True, slots=True)
class V3:
    """SNMPv3 user-based access (USM, RFC 3414). `level` defaults to what the keys allow."""

    user: str
    auth_protocol: AuthProtocol = AuthProtocol.SHA
    auth_key: str = field(default="", repr=False)
    priv_protocol: PrivProtocol = PrivProtocol.AES
    priv_key: str = field(default="", repr=False)
    level: SecurityLevel | None = None

    def __post_init__(self) -> None:
        if not self.user:
            raise SnmpSetupError("SNMPv3 needs a user name")
        level = self.security_level
        needs_auth = level is not SecurityLevel.NO_AUTH_NO_PRIV
        needs_priv = level is SecurityLevel.AUTH_PRIV
        # A key given for a level that does not use it would silently weaken what the user
        # believes is protected: refuse it rather than ignore it.
        for name, key, needed in (
            ("auth", self.auth_key, needs_auth),
            ("priv", self.priv_key, needs_priv),
        ):
            if needed and len(key) < MIN_KEY_LENGTH:
                raise SnmpSetupError(
                    f"SNMPv3 {level.value} needs a {name} key of at least "
                    f"{MIN_KEY_LENGTH} characters"
                )
            if key and not needed:
                raise SnmpSetupError(f"SNMPv3 {name} key given but security level is {level.value}")

    @property
    def security_level(self) -> SecurityLevel:
        if self.level is not None:
            return self.level
        if self.priv_key:
            return SecurityLevel.AUTH_PRIV
        return SecurityLevel.AUTH_NO_PRIV if self.auth_key else SecurityLevel.NO_AUTH_NO_PRIV


Credentials = V2c | V3


@dataclass(frozen=True, slots=True)
class SnmpOptions:
    """Limits of one discovery run. An agent is untrusted: every table read and every host's
    total time is bounded."""

    timeout: float = 1.0  # seconds to wait for each response
    retries: int = 1  # re-sends after a timeout; tries = retries + 1
    max_rows: int = 10_000  # rows read per table column; the rest is reported as cut
    max_repetitions: int = 25  # GETBULK max-repetitions (RFC 3416 §4.2.3)
    concurrency: int = 32  # hosts queried at once
    host_budget: float = 120.0  # seconds for everything asked of one host

    def __post_init__(self) -> None:
        checks = (
            ("timeout", 0 < self.timeout <= 60),
            ("retries", 0 <= self.retries <= 10),
            ("max_rows", 0 < self.max_rows <= 1_000_000),
            ("max_repetitions", 0 < self.max_repetitions <= 100),
            ("concurrency", 0 < self.concurrency <= 1024),
            ("host_budget", 0 < self.host_budget <= 86_400),
        )
        for name, ok in checks:
            if not ok:
                raise SnmpSetupError(f"SNMP option {name}={getattr(self, name)!r} is out of range")

    @property
    def tries(self) -> int:
        return self.retries + 1
