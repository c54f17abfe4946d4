"""`netvet firmware compare` end to end: exit codes, formats, error lines, atomic output."""

from __future__ import annotations

import gzip
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import typer
from typer.testing import CliRunner, Result

from netvet import __version__
from netvet.cli.common import format_size, parse_size, write_atomic
from netvet.cli.main import app
from netvet.cli.progress import byte_progress

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "compare.schema.json").read_text()
)
runner = CliRunner()


def compare(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return runner.invoke(app, ["firmware", "compare", *map(str, args)], env=env)


def run_netvet(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The real process, as a script would run it (no CliRunner shortcuts)."""
    return subprocess.run(
        [sys.executable, "-m", "netvet.cli.main", *map(str, args)],
        capture_output=True,
        text=True,
        env={**os.environ, "NETVET_DEBUG": ""},
        check=False,
    )


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two equal files and one that differs at offset 0x1234, one byte."""
    data = bytes(range(256)) * 32
    a, b, c = tmp_path / "ref.bin", tmp_path / "same.bin", tmp_path / "dep.bin"
    a.write_bytes(data)
    b.write_bytes(data)
    changed = bytearray(data)
    changed[0x1234] ^= 0xFF
    c.write_bytes(bytes(changed))
    return a, b, c


def gz(path: Path, data: bytes, mtime: int) -> Path:
    path.write_bytes(gzip.compress(data, mtime=mtime))
    return path


# -- verdicts and exit codes ---------------------------------------------------------------------
def test_identical_files_exit_0(pair: tuple[Path, Path, Path]) -> None:
    a, b, _ = pair
    result = compare(a, b, "--no-progress")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("VERDICT: identical — 0 unexplained, 0 benign differences")
    assert "\x1b" not in result.stdout


def test_different_files_exit_1_with_located_finding(pair: tuple[Path, Path, Path]) -> None:
    a, _, c = pair
    result = compare(a, c)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("VERDICT: different — 1 unexplained")
    assert "ref.bin" in result.stdout
    assert "offset 0x1234  length 1" in result.stdout


def test_different_files_real_process_exit_1(pair: tuple[Path, Path, Path]) -> None:
    a, b, c = pair
    assert run_netvet("firmware", "compare", a, b).returncode == 0
    proc = run_netvet("firmware", "compare", a, c, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    (finding,) = doc["findings"]
    assert finding["status"] == "unexplained"
    assert {"offset": 0x1234, "length": 1}.items() <= finding["locations"][0].items()


def test_gzip_mtime_only_is_equivalent_exit_0(tmp_path: Path) -> None:
    data = b"#!/bin/sh\necho hello\n" * 50
    a = gz(tmp_path / "a.gz", data, mtime=1_600_000_000)
    b = gz(tmp_path / "b.gz", data, mtime=1_700_000_000)
    result = compare(a, b, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"] == "equivalent"
    assert doc["findings"] and all(f["status"] == "benign" for f in doc["findings"])
    jsonschema.validate(doc, SCHEMA)


def test_gzip_content_change_is_different_exit_1(tmp_path: Path) -> None:
    a = gz(tmp_path / "a.gz", b"PermitRootLogin no\n", mtime=0)
    b = gz(tmp_path / "b.gz", b"PermitRootLogin yes\n", mtime=0)
    result = compare(a, b, "--format", "json")
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["verdict"] == "different"


# -- errors --------------------------------------------------------------------------------------
def test_missing_file_exit_2_one_line(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, _ = pair
    missing = tmp_path / "nope.bin"
    result = compare(a, missing)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("netvet: error: ")
    assert str(missing) in result.stderr
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.output


def test_missing_file_real_process_no_traceback(tmp_path: Path) -> None:
    proc = run_netvet("firmware", "compare", tmp_path / "a", tmp_path / "b")
    assert proc.returncode == 2
    assert proc.stderr.startswith("netvet: error: ") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_directory_as_input_exit_2(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    result = compare(pair[0], tmp_path)
    assert result.exit_code == 2 and result.stderr.startswith("netvet: error: ")


@pytest.mark.parametrize(
    "option",
    [
        ["--max-total-bytes", "12X"],
        ["--max-total-bytes", "0"],
        ["--max-depth", "0"],
        ["--max-ratio", "-1"],
        ["--max-seconds", "-5"],
        ["--format", "pdf"],
    ],
)
def test_bad_option_exit_2(pair: tuple[Path, Path, Path], option: list[str]) -> None:
    a, b, _ = pair
    result = compare(a, b, *option)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_unexpected_error_asks_for_report(
    pair: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module("netvet.firmware.compare")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(module, "compare", boom)
    a, b, _ = pair
    result = compare(a, b, env={"NETVET_DEBUG": ""})
    assert result.exit_code == 2
    assert "RuntimeError: kaboom" in result.stderr and "please report" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    debug = compare(a, b, env={"NETVET_DEBUG": "1"})
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr and "kaboom" in debug.stderr


# -- output --------------------------------------------------------------------------------------
def test_json_output_file_is_valid(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, c = pair
    out = tmp_path / "reports" / "result.json"
    out.parent.mkdir()
    out.write_text("old report")
    result = compare(a, c, "--format", "json", "--output", out)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "verdict different; report in" in result.stderr
    doc = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["verdict"] == "different"
    assert doc["reference"]["path"] == str(a)
    assert os.listdir(out.parent) == ["result.json"]  # no temporary file left behind


def test_html_and_text_output_files(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    a, _, c = pair
    html, text = tmp_path / "r.html", tmp_path / "r.txt"
    assert compare(a, c, "-f", "html", "-o", html).exit_code == 1
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert compare(a, c, "-o", text, "--verbose").exit_code == 1
    assert text.read_text().startswith("VERDICT: different")
    assert "\x1b" not in text.read_text()


def test_output_into_missing_directory_exit_2(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    a, b, _ = pair
    result = compare(a, b, "-o", tmp_path / "no" / "such" / "dir.json")
    assert result.exit_code == 2
    assert result.stderr.startswith("netvet: error: ") and result.stderr.count("\n") == 1


def test_write_atomic_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")

    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \udcff surrogate")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["r.json"]
    write_atomic(target, "new")
    assert target.read_text() == "new"


# -- help, version, helpers ----------------------------------------------------------------------
def test_help_explains_verdicts_exit_codes_classes_and_limits() -> None:
    result = runner.invoke(app, ["firmware", "compare", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Exit codes: 0 identical or equivalent, 1 different, 2 error" in text
    for word in ("equivalent", "gzip-mtime", "padding", "not compared", "--max-total-bytes", "64G"):
        assert word in text
    assert "2000000" in text and "1000" in text


def test_top_level_help_and_version() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "firmware" in result.stdout
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.stdout.strip() == f"netvet {__version__}"


def test_size_parsing() -> None:
    assert parse_size("64G") == 64 << 30
    assert parse_size("512M") == 512 << 20
    assert parse_size("4096") == 4096
    assert parse_size("2 GiB") == 2 << 30
    assert parse_size("1t") == 1 << 40
    for bad in ("", "12X", "-1G", "1.5G", "0"):
        with pytest.raises(typer.BadParameter):
            parse_size(bad)
    assert format_size(64 << 30) == "64G"
    assert format_size(1000) == "1000"
    assert parse_size(format_size(3 << 20)) == 3 << 20


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    with byte_progress(enabled=False) as cb:
        assert cb is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with byte_progress(enabled=True) as cb:
        assert cb is None


def test_write_atomic_writes_into_a_fifo_without_replacing_it(tmp_path: Path) -> None:
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_atomic(fifo, "report\n")
    reader.join(timeout=30)
    assert got == [b"report\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still a FIFO, not replaced by a file
