"""Print the benchmark machine's description as JSON: CPU, cores, RAM, tool versions."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as pkg_version


def field(path: str, key: str) -> str:
    """The value of the first `key` line of a /proc or /etc file ('key: v' or 'key=v')."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key):
                    return line[len(key) :].lstrip(" \t:=").strip().strip('"')
    except OSError:
        pass
    return ""


def tool(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def pkg(name: str) -> str:
    try:
        return pkg_version(name)
    except PackageNotFoundError:
        return "not installed"


def main() -> None:
    mem_kib = int(field("/proc/meminfo", "MemTotal").split()[0])
    info = {
        "cpu": field("/proc/cpuinfo", "model name"),
        "nproc": os.cpu_count(),
        "ram_gib": round(mem_kib / (1 << 20), 1),
        "os": field("/etc/os-release", "PRETTY_NAME") or platform.platform(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "netvet": pkg("netvet"),
        "dissect.squashfs": pkg("dissect.squashfs"),
        "diffoscope": tool(["diffoscope", "--version"]),
        "squashfs-tools": tool(["mksquashfs", "-version"]),
    }
    print(json.dumps(info, indent=2))


if __name__ == "__main__":
    main()
