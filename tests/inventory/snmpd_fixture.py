"""A real net-snmp agent for discovery tests, started on 127.0.0.1 with a config of its own.

`running_snmpd` writes a config into a private directory, starts `snmpd -f` (foreground) on a
free UDP port, waits until it answers an SNMP GET, and stops it (with anything it started, such
as a pass_persist helper) when the block ends, also on failure. Nothing is read from or written
to /etc/snmp or /var/lib/snmp: `-C` skips the default config files and SNMP_PERSISTENT_DIR
points into the private directory.

Tables snmpd does not implement (ENTITY-MIB) are served by a small pass_persist helper
(snmpd.conf(5), "pass_persist") that answers from a JSON file: each row is [oid, type, value].
With `loop_after`, a GETNEXT at or past that OID within its column is answered with that same
OID again, as a broken or hostile agent might do.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SNMPD = shutil.which("snmpd") or next(
    (p for p in ("/usr/sbin/snmpd", "/usr/local/sbin/snmpd") if os.access(p, os.X_OK)), None
)
requires_snmpd = pytest.mark.skipif(
    SNMPD is None,
    reason="snmpd binary not found: install the Debian package snmpd (`make test` does)",
)

COMMUNITY = "public"
V3_USER, V3_AUTH_KEY, V3_PRIV_KEY = "netvet", "authpass123", "privpass123"
SYS_DESCR = "Huawei Versatile Routing Platform Software, VRP (R) software, Version 8.180"
SYS_OBJECT_ID = "1.3.6.1.4.1.2011.2.23.1"  # Huawei's enterprise arc (PEN 2011)
SYS_NAME = "netvet-test-agent"
SYS_LOCATION = "Lab rack 4"
SYS_CONTACT = "noc@example.invalid"

_PASS_HELPER = r"""
import json, sys

def arcs(text):
    return tuple(int(a) for a in text.strip().strip(".").split("."))

data = json.load(open(sys.argv[1]))
rows = sorted((arcs(oid), kind, value) for oid, kind, value in data["rows"])
loop = arcs(data["loop_after"]) if data.get("loop_after") else None

def answer(row):
    oid, kind, value = row
    sys.stdout.write("." + ".".join(map(str, oid)) + "\n" + kind + "\n" + value + "\n")

for line in sys.stdin:
    command = line.strip()
    if command == "PING":
        sys.stdout.write("PONG\n")
    elif command in ("get", "getnext"):
        oid = arcs(sys.stdin.readline())
        in_column = loop is not None and oid[: len(loop) - 1] == loop[:-1]
        if command == "getnext" and in_column and oid >= loop:
            # at or past the loop row, inside its column: answer that row again
            answer(next(r for r in rows if r[0] == loop))
        else:
            match = [r for r in rows if (r[0] == oid if command == "get" else r[0] > oid)]
            answer(match[0]) if match else sys.stdout.write("NONE\n")
    else:  # set, or anything else: read-only
        sys.stdout.write("not-writable\n")
    sys.stdout.flush()
"""


@dataclass(frozen=True)
class Agent:
    """A running snmpd: where it listens and where it logs."""

    port: int
    log: Path

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(port: int, extra: Sequence[str]) -> str:
    lines = [
        f"agentAddress udp:127.0.0.1:{port}",
        f"rocommunity {COMMUNITY} 127.0.0.1",
        # net-snmp reads createUser from any config file it is given and keeps the key only
        # in memory (and in SNMP_PERSISTENT_DIR on exit, which is private here).
        f'createUser {V3_USER} SHA "{V3_AUTH_KEY}" AES "{V3_PRIV_KEY}"',
        f"rouser {V3_USER} authpriv",
        f"sysDescr {SYS_DESCR}",
        f"sysObjectID .{SYS_OBJECT_ID}",
        f"sysName {SYS_NAME}",
        f"sysLocation {SYS_LOCATION}",
        f"sysContact {SYS_CONTACT}",
    ]
    return "\n".join([*lines, *extra]) + "\n"


def _pass_persist(root: Path, subtree: str, rows: Sequence[Sequence[str]], loop: str | None) -> str:
    (root / "pass_helper.py").write_text(_PASS_HELPER)
    (root / "pass_rows.json").write_text(json.dumps({"rows": rows, "loop_after": loop}))
    # -I: the helper must not pick up the test run's environment or site-packages.
    return f"pass_persist .{subtree} {sys.executable} -I {root / 'pass_helper.py'} " + str(
        root / "pass_rows.json"
    )


def _probe() -> bytes:
    """A hand-encoded SNMPv2c GET of sysUpTime.0 (RFC 3416 PDU, BER): readiness is an answer
    to a real request, checked without the code under test."""

    def tlv(tag: int, body: bytes) -> bytes:
        return bytes([tag, len(body)]) + body

    oid = bytes([0x2B, 6, 1, 2, 1, 1, 3, 0])  # 1.3.6.1.2.1.1.3.0
    varbind = tlv(0x30, tlv(0x06, oid) + tlv(0x05, b""))
    pdu = tlv(0xA0, tlv(0x02, b"\x01") + tlv(0x02, b"\0") * 2 + tlv(0x30, varbind))
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, COMMUNITY.encode()) + pdu)


def _answers(port: int, attempts: int = 100) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.1)
        for _ in range(attempts):
            sock.sendto(_probe(), ("127.0.0.1", port))
            try:
                if sock.recv(65535):
                    return True
            except (TimeoutError, ConnectionRefusedError):
                continue  # not listening yet (ICMP port unreachable) or still starting
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # snmpd runs in its own session (process group = its pid), so its pass_persist helper
    # goes with it.
    for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def running_snmpd(
    root: Path,
    *,
    extra: Sequence[str] = (),
    entity_rows: Sequence[Sequence[str]] = (),
    loop_after: str | None = None,
) -> Iterator[Agent]:
    """Run snmpd in `root` until the block ends. `entity_rows` ([oid, type, value]) are served
    under ENTITY-MIB (1.3.6.1.2.1.47) by the pass_persist helper."""
    assert SNMPD is not None, "guard the caller with requires_snmpd"
    lines = list(extra)
    if entity_rows:
        lines.append(_pass_persist(root, "1.3.6.1.2.1.47", entity_rows, loop_after))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(root),
        "SNMP_PERSISTENT_DIR": str(root / "persist"),
        # No MIB files: the agent needs none, and loading them only fills the log.
        "MIBS": "",
        "MIBDIRS": str(root / "no-mibs"),
    }
    for _ in range(5):  # another process may take the free port before snmpd binds it
        port = free_udp_port()
        conf, log = root / f"snmpd-{port}.conf", root / f"snmpd-{port}.log"
        conf.write_text(_config(port, lines))
        with log.open("wb") as out:
            command = [SNMPD, "-f", "-Lo", "-C", "-c", str(conf), "-p", str(root / "snmpd.pid")]
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        try:
            if _answers(port):
                yield Agent(port, log)
                return
        finally:
            _stop(proc)
    pytest.fail(f"snmpd did not answer on 127.0.0.1; last log:\n{log.read_text()[-2000:]}")
