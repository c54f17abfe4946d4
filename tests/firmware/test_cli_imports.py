"""`netvet firmware compare` imports what it needs and not the other commands' engines.

The sub-apps are loaded on lookup (cli/main.py) and rich only for a live progress display
(cli/firmware.py): both cost CPU on every comparison. `netvet --help` must still list every
command. Run in a fresh interpreter: the test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

CODE = """
import sys
from netvet.cli.main import app
try:
    app(sys.argv[1:])
except SystemExit as exc:
    print("EXIT", exc.code)
print("MODULES", " ".join(sorted(sys.modules)))
"""


def _run(*args: str) -> tuple[str, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", CODE, *args], capture_output=True, text=True, check=True
    ).stdout
    text, _, names = out.rpartition("MODULES ")
    return text.strip(), set(names.split())


def test_compare_loads_only_the_firmware_command(tmp_path: Path) -> None:
    image = tmp_path / "a.bin"
    image.write_bytes(bytes(range(256)) * 8)
    report = tmp_path / "r.json"
    out, modules = _run(
        "firmware", "compare", str(image), str(image), "-f", "json", "-o", str(report),
        "--no-progress",
    )  # fmt: skip
    assert out.endswith("EXIT 0")
    assert report.read_text().count('"identical"') >= 1
    assert "netvet.cli.firmware" in modules
    loaded = {m for m in modules if m.startswith(("netvet.cli.", "netvet.policy", "rich"))}
    assert loaded <= {"netvet.cli.main", "netvet.cli.firmware", "netvet.cli.common"}, loaded


def test_help_lists_every_command() -> None:
    out, _ = _run("--help")
    for name in ("audit", "firmware", "inventory", "policy", "registry"):
        assert f" {name} " in out, name
