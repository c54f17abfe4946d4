"""Role maps from `--role-map` values: pairs, YAML and CSV files, and their errors (each with
the file and line where it can have one)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.policy import load_packs
from netvet.policy.audit_run import audit_inventory
from netvet.policy.evaluate import Kind
from netvet.policy.model import Domain
from netvet.policy.roles import MAX_BYTES, load_role_file, role_map

SAMPLES = Path(__file__).parent / "samples"


def test_pairs_case_and_blanks_do_not_matter() -> None:
    assert role_map(["Core  Router=CORE", "olt = ran "]) == {
        "core router": Domain.CORE,
        "olt": Domain.RAN,
    }


def test_later_values_win() -> None:
    assert role_map(["olt=ran", "olt=transport"]) == {"olt": Domain.TRANSPORT}


def test_yaml_file_and_pairs_together() -> None:
    roles = role_map([str(SAMPLES / "netbox-roles.yaml"), "PDU=enterprise"])
    assert roles["5g radio unit"] is Domain.RAN and roles["pdu"] is Domain.ENTERPRISE


def test_csv_file_with_header_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "roles.csv"
    path.write_text("role;domain\n# the radio side\nOLT;ran\n\nNMS;management\n")
    assert load_role_file(path) == {"olt": Domain.RAN, "nms": Domain.MANAGEMENT}


def test_csv_without_header(tmp_path: Path) -> None:
    path = tmp_path / "roles.csv"
    path.write_text("olt,ran\n")
    assert load_role_file(path) == {"olt": Domain.RAN}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("r.yaml", "olt: ran\nnms: backbone\n", r"r\.yaml:2: 'backbone' is not a domain"),
        ("r.yaml", "- olt\n- ran\n", "mapping of role to domain"),
        ("r.yaml", "olt: ran\nolt: core\n", r"r\.yaml:2: .*duplicate"),
        ("r.yaml", "a: &x ran\nb: *x\n", "alias"),
        ("r.yaml", "olt: [ran]\n", "must be text"),
        ("r.yaml", "olt: ran\n  bad: indent\n", r"r\.yaml:\d+:"),
        ("r.yaml", "", "empty"),
        ("r.csv", "# nothing yet\n", "no role mapped"),
        ("r.csv", "olt,ran,extra\n", r"r\.csv:1: expected two cells"),
        ("r.csv", "olt,ran\nOLT,core\n", r"r\.csv:2: role 'OLT' mapped twice"),
        ("r.csv", ",ran\n", r"r\.csv:1: empty role"),
    ],
)
def test_bad_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        load_role_file(path)


def test_not_utf8_and_too_large(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_bytes(b"olt: \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_role_file(path)
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="larger than"):
        load_role_file(path)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("olt", "not ROLE=DOMAIN .* and no such file"),
        ("=ran", "the role is empty"),
        ("olt=radio", "'radio' is not a domain"),
    ],
)
def test_bad_pairs(value: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        role_map([value])


def test_a_role_is_any_text_even_one_no_path_could_hold() -> None:
    assert role_map(["olt\x00=ran"]) == {"olt\x00": Domain.RAN}


def test_netbox_export_role_column_drives_the_domain() -> None:
    """A NetBox device export: the Role column, mapped with a role file, gives each device its
    network domain; an unmapped role leaves the domain unknown and is listed."""
    result = audit_inventory(
        SAMPLES / "netbox-devices.csv",
        load_packs(["uk"]),
        dt.date(2028, 1, 1),
        role_map=role_map([str(SAMPLES / "netbox-roles.yaml")]),
    )
    exposure = {(e.vendor, e.domain): e.devices for e in result.exposure}
    assert exposure == {
        ("ericsson", Domain.RAN): 1,
        ("huawei", Domain.CORE): 1,
        ("huawei", Domain.MANAGEMENT): 1,
        ("huawei", Domain.RAN): 2,
        ("nokia", Domain.CORE): 1,  # "Core  Router": blanks do not matter
        ("nokia", Domain.RAN): 1,
        (None, None): 1,  # the PDU: APC is no known family, PDU no mapped role
    }
    assert [(v.device, v.name, v.rule.id) for v in result.violations] == [
        ("101", "lon-core-01", "UK-DVD-CORE")
    ]
    assert result.unmapped_roles == (("PDU", 1),)
    # no generation column: the fibre-access cap cannot tell whether the RAN devices count
    open_ = {t.rule.id: t.devices for t in result.tallies if t.would_be is Kind.CAP}
    assert open_["UK-DVD-FIBRE-ACCESS-CAP"] == 2
