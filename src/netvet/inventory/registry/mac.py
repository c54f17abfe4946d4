"""MAC addresses as inventories write them, turned into 48-bit integers.

Accepted: colon or dash separated octets (`00:1b:21:0a:0b:0c`, `00-1B-21-0A-0B-0C`; net-snmp
and some ARP tables drop leading zeros, so `0:1b:21:a:b:c` too), Cisco dotted
(`001b.210a.0b0c`) and bare hex (`001B210A0B0C`), any letter case, surrounding blanks ignored.
Anything else raises `BadValue` naming the value; guessing at a half-valid address would turn
typos into vendors.

The two flag bits of the first octet (IEEE 802-2014 clause 8.2) decide whether an address can
name a maker at all: the I/G bit (0x01) marks group (multicast/broadcast) addresses and the U/L
bit (0x02) locally administered ones, which include the randomised addresses phones and laptops
use for privacy. Neither comes from the maker's OUI, so neither is vendor evidence.
"""

from __future__ import annotations

import re

from netvet.inventory.errors import BadValue

_HEX = "0123456789abcdefABCDEF"
# Octets of one or two hex digits, one separator used throughout.
_SHORT_OCTETS = re.compile(r"[0-9A-Fa-f]{1,2}([:-])(?:[0-9A-Fa-f]{1,2}\1){4}[0-9A-Fa-f]{1,2}")

GROUP_BIT = 0x01 << 40  # I/G bit of the first octet
LOCAL_BIT = 0x02 << 40  # U/L bit of the first octet


def parse_mac(text: str) -> int:
    """Return the address as a 48-bit integer, or raise `BadValue` if it is not a MAC."""
    s = text.strip()
    n = len(s)
    # Fast paths first: identification parses millions of these. str.strip(_HEX) leaves
    # nothing only for pure hex; int() alone would also take "_", "+" and blanks.
    if n == 17:
        sep = s[2]
        if (sep == ":" or sep == "-") and s[5] == sep and s[8] == sep and s[11] == sep == s[14]:
            s = s.replace(sep, "")
    elif n == 14:
        if s[4] == "." and s[9] == ".":
            s = s.replace(".", "")
    elif n != 12 and _SHORT_OCTETS.fullmatch(s):
        s = "".join(part.zfill(2) for part in re.split(r"[:-]", s))
    if len(s) == 12 and not s.strip(_HEX):
        return int(s, 16)
    raise BadValue(f"not a MAC address: {text!r}")


def format_mac(value: int) -> str:
    """Canonical form: upper-case hex, colon separated."""
    return value.to_bytes(6, "big").hex(":").upper()


def not_evidence_reason(value: int) -> str | None:
    """Why this address cannot name its maker, or None when its OUI part is meaningful."""
    if value & GROUP_BIT:
        return "broadcast address" if value == 0xFFFFFFFFFFFF else "multicast (group) address"
    if value & LOCAL_BIT:
        return "locally administered address (randomised or assigned by software)"
    if value == 0:
        # 00:00:00 is a Xerox OUI, but an all-zero MAC is a placeholder, not a Xerox device.
        return "all-zero placeholder address"
    return None
