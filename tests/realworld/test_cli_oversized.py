"""Inputs bigger than --max-total-bytes are refused up front with exit 2.

Found with a sparse 100 GiB file given as the deployed image: nothing bounded the scan of the
raw input (the byte budget counts expanded data only), and the run had not finished after five
minutes. A sparse file costs no disk here, so the test uses the same shape at a small limit.
"""

from __future__ import annotations

import os
from pathlib import Path

from typer.testing import CliRunner

from netvet.cli.main import app

runner = CliRunner()


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as f:
        f.truncate(size)
    return path


def test_oversized_deployed_image_exit_2_with_clear_message(tmp_path: Path) -> None:
    ref = tmp_path / "ref.bin"
    ref.write_bytes(bytes(range(256)) * 16)
    big = _sparse(tmp_path / "dump.bin", 3 << 20)
    result = runner.invoke(
        app, ["firmware", "compare", str(ref), str(big), "--max-total-bytes", "2M"]
    )
    assert result.exit_code == 2
    assert "dump.bin: 3145728 bytes, more than --max-total-bytes (2M)" in result.output
    assert "Traceback" not in result.output


def test_oversized_reference_is_refused_too(tmp_path: Path) -> None:
    big = _sparse(tmp_path / "lab.bin", (1 << 20) + 1)
    small = tmp_path / "dep.bin"
    small.write_bytes(b"x" * 100)
    result = runner.invoke(
        app, ["firmware", "compare", str(big), str(small), "--max-total-bytes", "1M"]
    )
    assert result.exit_code == 2
    assert "lab.bin: 1048577 bytes" in result.output


def test_input_at_the_limit_is_compared(tmp_path: Path) -> None:
    a = _sparse(tmp_path / "a.bin", 1 << 20)
    b = tmp_path / "b.bin"
    b.write_bytes(a.read_bytes())
    result = runner.invoke(
        app, ["firmware", "compare", str(a), str(b), "--max-total-bytes", "1M", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert os.path.getsize(b) == 1 << 20
