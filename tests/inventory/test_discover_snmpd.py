"""Live SNMP discovery against a real net-snmp agent on 127.0.0.1 (see snmpd_fixture), plus the
pure parts (targets, credentials, device assembly, text cleaning) that need no agent.

No test sends a packet anywhere but 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from netvet.inventory.discover import (
    ENT_CLASS,
    ENT_CONTAINED_IN,
    ENT_MFG,
    ENT_MODEL,
    ENT_SERIAL,
    IF_PHYS_ADDRESS,
    ROW_KEYS,
    SYS_NAME,
    SYS_OBJECT_ID,
    DiscoveredDevice,
    DiscoveryFailure,
    DiscoveryResult,
    build_device,
    discover,
    identify_rows,
)
from netvet.inventory.snmp_client import Column, FailureKind, Oid, SnmpValue
from netvet.inventory.snmp_config import (
    V3,
    AuthProtocol,
    PrivProtocol,
    SecurityLevel,
    SnmpOptions,
    SnmpSetupError,
    Target,
    V2c,
    parse_target,
)
from netvet.inventory.snmp_text import MAX_TEXT, clean_text

from . import snmpd_fixture as fx
from .snmpd_fixture import Agent, free_udp_port, requires_snmpd, running_snmpd

OPTS = SnmpOptions(timeout=1, retries=1)
V2C = V2c(fx.COMMUNITY)
V3_GOOD = V3(fx.V3_USER, AuthProtocol.SHA, fx.V3_AUTH_KEY, PrivProtocol.AES, fx.V3_PRIV_KEY)
MAC = re.compile(r"(?:[0-9A-F]{2}:){5}[0-9A-F]{2}")

E = "1.3.6.1.2.1.47.1.1.1.1"  # entPhysicalEntry
ENTITY_ROWS = [
    # 1: a power supply (class 6) from another maker, in 2; 2: the chassis (class 3), in
    # nothing; 3: a port (class 10), in 2. The chassis is not the first row on purpose.
    *([f"{E}.5.{i}", "integer", c] for i, c in ((1, "6"), (2, "3"), (3, "10"))),
    *([f"{E}.4.{i}", "integer", c] for i, c in ((1, "2"), (2, "0"), (3, "2"))),
    [f"{E}.10.2", "string", "V200R019C10SPC800\x1b[2J\x1b]0;owned\x07"],
    [f"{E}.11.1", "string", "PSU-SERIAL-77"],
    [f"{E}.11.2", "string", "2102351931P0K8000123"],
    [f"{E}.12.1", "string", "Delta Electronics"],
    [f"{E}.12.2", "string", "Huawei Technologies Co., Ltd."],
    [f"{E}.13.1", "string", "PAC600S12-CB"],
    [f"{E}.13.2", "string", "CE6881-48S6CQ"],
]


# More v3 users, one per protocol family and security level.
V3_USERS = {
    "md5des": V3("md5des", AuthProtocol.MD5, "authpass123", PrivProtocol.DES, "privpass123"),
    "sha256": V3("sha256", AuthProtocol.SHA256, "authpass123", PrivProtocol.AES, "privpass123"),
    "authonly": V3("authonly", AuthProtocol.SHA, "authpass123"),
    "noauth": V3("noauth"),
}
V3_CONF = [
    'createUser md5des MD5 "authpass123" DES "privpass123"',
    "rouser md5des authpriv",
    'createUser sha256 SHA-256 "authpass123" AES "privpass123"',
    "rouser sha256 authpriv",
    'createUser authonly SHA "authpass123"',
    "rouser authonly auth",
    "createUser noauth",
    "rouser noauth noauth",
]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpd as installed: system group, IF-MIB, no ENTITY-MIB."""
    with running_snmpd(tmp_path_factory.mktemp("snmpd"), extra=V3_CONF) as running:
        yield running


@pytest.fixture(scope="module")
def entity_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpd serving a physical entity table through pass_persist."""
    with running_snmpd(tmp_path_factory.mktemp("snmpd-ent"), entity_rows=ENTITY_ROWS) as running:
        yield running


@pytest.fixture(scope="module")
def looping_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpd whose entPhysicalSerialNum column answers its second row forever."""
    with running_snmpd(
        tmp_path_factory.mktemp("snmpd-loop"), entity_rows=ENTITY_ROWS, loop_after=f"{E}.11.2"
    ) as running:
        yield running


def one(results: list[DiscoveryResult]) -> DiscoveryResult:
    assert len(results) == 1
    return results[0]


def device(result: DiscoveryResult) -> DiscoveredDevice:
    assert isinstance(result, DiscoveredDevice), result
    return result


def failure(result: DiscoveryResult, kind: FailureKind) -> DiscoveryFailure:
    assert isinstance(result, DiscoveryFailure), result
    assert result.kind is kind, result
    return result


def host_macs() -> set[str] | None:
    """This machine's 6-byte interface MACs, which snmpd reports (same network namespace)."""
    net = Path("/sys/class/net")
    if not net.is_dir():
        return None
    found = set()
    for iface in net.iterdir():
        text = (
            (iface / "address").read_text().strip().upper() if (iface / "address").exists() else ""
        )
        if MAC.fullmatch(text) and text != "00:00:00:00:00:00":
            found.add(text)
    return found


@requires_snmpd
class TestLiveAgent:
    def test_v2c_reads_the_system_group(self, agent: Agent) -> None:
        got = device(one(discover([agent.target], V2C, OPTS)))
        assert (got.target, got.host, got.port) == (agent.target, "127.0.0.1", agent.port)
        assert got.name == fx.SYS_NAME
        assert got.sys_descr == fx.SYS_DESCR
        assert got.sys_object_id == fx.SYS_OBJECT_ID
        assert (got.sys_location, got.sys_contact) == (fx.SYS_LOCATION, fx.SYS_CONTACT)
        raw = dict(got.raw)
        assert raw["1.3.6.1.2.1.1.1.0"] == fx.SYS_DESCR
        assert raw["1.3.6.1.2.1.1.2.0"] == fx.SYS_OBJECT_ID

    def test_agent_without_entity_mib_gives_empty_fields(self, agent: Agent) -> None:
        got = device(one(discover([agent.target], V2C, OPTS)))
        assert (got.manufacturer, got.model, got.serial, got.software) == ("", "", "", "")
        assert got.warnings == ()
        assert not [oid for oid, _ in got.raw if oid.startswith("1.3.6.1.2.1.47.")]

    def test_interface_macs(self, agent: Agent) -> None:
        got = device(one(discover([agent.target], V2C, OPTS)))
        assert all(MAC.fullmatch(m) for m in got.macs)
        assert len(set(got.macs)) == len(got.macs)
        assert "00:00:00:00:00:00" not in got.macs
        raw_macs = {v for oid, v in got.raw if oid.startswith("1.3.6.1.2.1.2.2.1.6.")}
        assert {"0x" + m.replace(":", "").lower() for m in got.macs} <= raw_macs
        # snmpd runs in this network namespace: whatever it reports must be this host's own
        # (which interfaces exist varies from machine to machine, so not more than that).
        mine = host_macs()
        if mine is not None:
            assert set(got.macs) <= mine

    def test_identify_rows(self, agent: Agent) -> None:
        rows = identify_rows(discover([agent.target], V2C, OPTS))
        assert len(rows) == 1 and tuple(rows[0]) == ROW_KEYS
        row = rows[0]
        assert (row["name"], row["ip"]) == (fx.SYS_NAME, "127.0.0.1")
        assert row["sys_object_id"] == fx.SYS_OBJECT_ID and row["sys_descr"] == fx.SYS_DESCR
        assert row["mac"] == "" or MAC.fullmatch(row["mac"])

    def test_v3_auth_priv(self, agent: Agent) -> None:
        got = device(one(discover([agent.target], V3_GOOD, OPTS)))
        assert (got.name, got.sys_object_id) == (fx.SYS_NAME, fx.SYS_OBJECT_ID)

    @pytest.mark.parametrize("user", sorted(V3_USERS))
    def test_v3_protocols_and_levels(self, agent: Agent, user: str) -> None:
        got = device(one(discover([agent.target], V3_USERS[user], OPTS)))
        assert (got.name, got.sys_object_id) == (fx.SYS_NAME, fx.SYS_OBJECT_ID)

    def test_v3_wrong_auth_key_is_an_auth_error(self, agent: Agent) -> None:
        creds = V3(fx.V3_USER, AuthProtocol.SHA, "wrong-password", PrivProtocol.AES, fx.V3_PRIV_KEY)
        bad = failure(one(discover([agent.target], creds, OPTS)), FailureKind.AUTH)
        assert bad.message == (
            f"{agent.target} rejected SNMPv3 user 'netvet': "
            "wrong authentication key or protocol (usmStatsWrongDigests)"
        )
        assert "wrong-password" not in repr(bad)

    def test_v3_unknown_user_is_an_auth_error(self, agent: Agent) -> None:
        creds = V3("nobody", AuthProtocol.SHA, fx.V3_AUTH_KEY, PrivProtocol.AES, fx.V3_PRIV_KEY)
        bad = failure(one(discover([agent.target], creds, OPTS)), FailureKind.AUTH)
        assert "unknown user name" in bad.message

    def test_v3_below_the_users_security_level_is_denied(self, agent: Agent) -> None:
        # authNoPriv, while the user is only allowed to read with authPriv
        creds = V3(fx.V3_USER, AuthProtocol.SHA, fx.V3_AUTH_KEY)
        assert creds.security_level is SecurityLevel.AUTH_NO_PRIV
        bad = failure(one(discover([agent.target], creds, OPTS)), FailureKind.AUTH)
        assert "authorizationError" in bad.message

    def test_wrong_community_gets_no_answer(self, agent: Agent) -> None:
        bad = failure(one(discover([agent.target], V2c("private"), OPTS)), FailureKind.NO_ANSWER)
        assert bad.message == (
            f"no answer from {agent.target} after 2 tries (timeout 1s); "
            "a wrong community gets no answer either"
        )

    def test_closed_port_beside_a_live_agent(self, agent: Agent) -> None:
        closed = free_udp_port()
        results = discover([f"127.0.0.1:{closed}", agent.target], V2C, OPTS)
        assert len(results) == 2  # in the order asked, one failing, one not
        bad = failure(results[0], FailureKind.NO_ANSWER)
        assert bad.message.startswith(
            f"no answer from 127.0.0.1:{closed} after 2 tries (timeout 1s)"
        )
        assert (bad.host, bad.port) == ("127.0.0.1", closed)
        assert device(results[1]).name == fx.SYS_NAME

    def test_host_budget_ends_a_slow_host(self) -> None:
        closed = free_udp_port()
        opts = SnmpOptions(timeout=1, retries=5, host_budget=0.2)
        bad = failure(one(discover([f"127.0.0.1:{closed}"], V2C, opts)), FailureKind.BUDGET)
        assert bad.message.startswith(f"gave up on 127.0.0.1:{closed} after 0.2s (host_budget)")

    def test_host_name_target(self, agent: Agent) -> None:
        try:
            infos = socket.getaddrinfo("localhost", None, socket.AF_INET)
        except OSError:
            pytest.skip("localhost does not resolve here")
        if {info[4][0] for info in infos} != {"127.0.0.1"}:
            pytest.skip("localhost is not 127.0.0.1 here")
        got = device(one(discover([f"localhost:{agent.port}"], V2C, OPTS)))
        assert (got.target, got.host, got.name) == (
            f"localhost:{agent.port}",
            "127.0.0.1",
            fx.SYS_NAME,
        )

    def test_entity_table_names_the_chassis(self, entity_agent: Agent) -> None:
        got = device(one(discover([entity_agent.target], V2C, OPTS)))
        assert got.manufacturer == "Huawei Technologies Co., Ltd."
        assert got.model == "CE6881-48S6CQ"
        assert got.serial == "2102351931P0K8000123"  # the chassis', not the power supply's
        assert got.warnings == ()

    def test_escape_sequences_from_the_agent_are_neutralised(self, entity_agent: Agent) -> None:
        got = device(one(discover([entity_agent.target], V2C, OPTS)))
        assert got.software == "V200R019C10SPC800\ufffd[2J\ufffd]0;owned\ufffd"
        assert dict(got.raw)[f"{E}.10.2"].startswith("0x56323030")  # raw keeps the bytes, as hex

    def test_tables_are_read_only_up_to_max_rows(self, entity_agent: Agent) -> None:
        opts = SnmpOptions(timeout=1, retries=1, max_rows=2)
        got = device(one(discover([entity_agent.target], V2C, opts)))
        assert "entPhysicalClass: read 2 rows, then stopped: more than 2 rows (max_rows)" in (
            got.warnings
        )
        assert len([oid for oid, _ in got.raw if oid.startswith(f"{E}.5.")]) == 2
        assert got.model == "CE6881-48S6CQ"  # the two rows of other columns were complete

    def test_a_looping_agent_is_not_walked_forever(self, looping_agent: Agent) -> None:
        got = device(one(discover([looping_agent.target], V2C, OPTS)))
        assert got.warnings == (
            f"entPhysicalSerialNum: read 2 rows, then stopped: agent returned OID {E}.11.2 "
            f"after {E}.11.2 (not increasing)",
        )
        assert got.serial == "2102351931P0K8000123"
        assert got.model == "CE6881-48S6CQ"  # the columns after the loop were still read


# --- targets and credentials -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "host", "port"),
    [
        ("192.0.2.7", "192.0.2.7", 161),
        ("192.0.2.7:1161", "192.0.2.7", 1161),
        ("[2001:db8::1]:1161", "2001:db8::1", 1161),
        ("[2001:db8::1]", "2001:db8::1", 161),
        ("2001:db8::1", "2001:db8::1", 161),
        (" router-1.example.net:162 ", "router-1.example.net", 162),
        ("core.example.net.", "core.example.net.", 161),
    ],
)
def test_parse_target(text: str, host: str, port: int) -> None:
    assert parse_target(text) == Target(host, port)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "host:0",
        "host:65536",
        "host:abc",
        "host:",
        "[::1",
        "[nothost]:1",
        "[::1]x",
        "bad host",
        "300.1.1.1",
        "-bad.example",
        "a..b",
        "x" * 64 + ".example",
        "host/24",
        "2001:db8::zz",
        "h:１",
    ],
)
def test_parse_target_rejects(text: str) -> None:
    with pytest.raises(SnmpSetupError):
        parse_target(text)


def test_target_text() -> None:
    assert str(Target("2001:db8::1", 1161)) == "[2001:db8::1]:1161"
    assert str(Target("192.0.2.7")) == "192.0.2.7:161"


def test_v3_levels_follow_the_keys() -> None:
    assert V3("u").security_level is SecurityLevel.NO_AUTH_NO_PRIV
    assert V3("u", auth_key="12345678").security_level is SecurityLevel.AUTH_NO_PRIV
    assert V3("u", auth_key="12345678", priv_key="abcdefgh").security_level is (
        SecurityLevel.AUTH_PRIV
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: V3(""),
        lambda: V3("u", auth_key="short"),
        lambda: V3("u", auth_key="12345678", priv_key="short"),
        lambda: V3("u", level=SecurityLevel.AUTH_PRIV, auth_key="12345678"),
        lambda: V3("u", level=SecurityLevel.NO_AUTH_NO_PRIV, auth_key="12345678"),
        lambda: V3("u", level=SecurityLevel.AUTH_NO_PRIV, auth_key="12345678", priv_key="abcdefgh"),
        lambda: V2c(""),
        lambda: SnmpOptions(timeout=0),
        lambda: SnmpOptions(max_rows=0),
        lambda: SnmpOptions(retries=-1),
        lambda: AuthProtocol.parse("SHA-3"),
        lambda: PrivProtocol.parse("3DES"),
        lambda: SecurityLevel.parse("authPrivPlus"),
    ],
)
def test_bad_setup_is_refused(make: object) -> None:
    with pytest.raises(SnmpSetupError):
        make()  # type: ignore[operator]


def test_protocol_names() -> None:
    assert AuthProtocol.parse("sha-256") is AuthProtocol.SHA256
    assert AuthProtocol.parse("SHA1") is AuthProtocol.SHA
    assert AuthProtocol.parse("md5") is AuthProtocol.MD5
    assert PrivProtocol.parse("aes128") is PrivProtocol.AES
    assert SecurityLevel.parse("AUTHPRIV") is SecurityLevel.AUTH_PRIV


def test_secrets_stay_out_of_reprs() -> None:
    assert "s3cret-community" not in repr(V2c("s3cret-community"))
    shown = repr(V3("u", auth_key="auth-secret", priv_key="priv-secret"))
    assert "auth-secret" not in shown and "priv-secret" not in shown


# --- device assembly (no network) ----------------------------------------------------------


def build(
    scalars: dict[Oid, SnmpValue], **columns: list[tuple[int, SnmpValue]]
) -> DiscoveredDevice:
    names = {
        "cls": ENT_CLASS,
        "inside": ENT_CONTAINED_IN,
        "mfg": ENT_MFG,
        "model": ENT_MODEL,
        "serial": ENT_SERIAL,
        "mac": IF_PHYS_ADDRESS,
    }
    built = {
        names[key]: Column(tuple(((i,), v) for i, v in rows), None) for key, rows in columns.items()
    }
    return build_device(Target("192.0.2.9"), "192.0.2.9", scalars, built)


def test_maker_falls_back_to_another_entity_but_serial_does_not() -> None:
    got = build(
        {},
        cls=[(1, 3), (2, 6)],
        mfg=[(1, b""), (2, b"Huawei")],
        serial=[(2, b"PSU-1")],
        model=[(1, b"S5735")],
    )
    assert (got.manufacturer, got.model, got.serial) == ("Huawei", "S5735", "")


def test_top_level_entity_stands_in_for_a_missing_chassis() -> None:
    got = build(
        {}, cls=[(1, 11), (2, 9)], inside=[(1, 0), (2, 1)], model=[(2, b"M"), (1, b"Stack")]
    )
    assert got.model == "Stack"


def test_without_class_or_containment_the_first_value_is_used() -> None:
    got = build({}, model=[(4, b""), (7, b"AR6120")], serial=[(7, b"SN7")])
    assert (got.model, got.serial) == ("AR6120", "SN7")


def test_macs_are_canonical_unique_and_six_bytes() -> None:
    mac = bytes.fromhex("001b210a0b0c")
    got = build(
        {},
        mac=[
            (1, b""),
            (2, mac),
            (3, bytes(6)),
            (4, mac),
            (5, bytes(8)),
            (6, bytes.fromhex("021b21000001")),
        ],
    )
    assert got.macs == ("00:1B:21:0A:0B:0C", "02:1B:21:00:00:01")


def test_identify_rows_prefer_a_mac_that_names_a_maker() -> None:
    got = build(
        {SYS_NAME: b"edge-1"},
        mac=[(1, bytes.fromhex("021b21000001")), (2, bytes.fromhex("001b210a0b0c"))],
    )
    gone = DiscoveryFailure("192.0.2.1:161", "192.0.2.1", 161, FailureKind.NO_ANSWER, "no answer")
    rows = identify_rows([gone, got])
    assert rows == [
        {
            "name": "edge-1",
            "manufacturer": "",
            "model": "",
            "serial": "",
            "mac": "00:1B:21:0A:0B:0C",
            "sys_object_id": "",
            "sys_descr": "",
            "ip": "192.0.2.9",
        }
    ]


def test_name_falls_back_to_the_address() -> None:
    assert identify_rows([build({})])[0]["name"] == "192.0.2.9"


@pytest.mark.parametrize("value", [b"1.3.6.1.4.1.2011", (1, 3, 6, 1, 4, 1, 2**40), (1,) * 129])
def test_bad_sys_object_id_is_dropped_with_a_warning(value: SnmpValue) -> None:
    got = build({SYS_OBJECT_ID: value})
    assert got.sys_object_id == ""
    assert got.warnings and got.warnings[0].startswith("sysObjectID is not a valid")


# --- text from the agent ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "text"),
    [
        (b"Cisco IOS Software,\r\nVersion 15.2\x00\x00", "Cisco IOS Software, Version 15.2"),
        (b"\x1b[31mred", "\ufffd[31mred"),
        ("evil\u202etxt.exe".encode(), "evil\ufffdtxt.exe"),
        ("Zürich".encode("latin-1"), "Zürich"),
        ("Zürich".encode(), "Zürich"),
        (b"  a \t\t b  ", "a b"),
    ],
)
def test_clean_text(data: bytes, text: str) -> None:
    assert clean_text(data) == text


def test_clean_text_is_bounded() -> None:
    cut = clean_text(b"A" * 1_000_000)
    assert len(cut) == MAX_TEXT and cut.endswith("…")
