"""Refreshing the registries: the offline message, and a full update served from 127.0.0.1.

No test leaves the machine: the "official" files are the committed samples, served by a local
HTTP server, and the offline case points at a port nobody listens on.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from netvet.errors import InputError
from netvet.inventory.errors import RegistryUnavailable
from netvet.inventory.registry import load_oui, load_pen
from netvet.inventory.registry.update import update_oui, update_pen
from tests.inventory.conftest import SAMPLES

LAST_MODIFIED = 4102444800  # 2100-01-01 UTC: newer than any bundled snapshot


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """Serve copies of the samples (with a far-future mtime) on 127.0.0.1."""
    root = tmp_path / "www"
    shutil.copytree(SAMPLES, root)
    for path in root.iterdir():
        os.utime(path, (LAST_MODIFIED, LAST_MODIFIED))
    (root / "truncated.txt").write_text(
        (SAMPLES / "iana_enterprise_numbers.txt").read_text().replace("End of Document", "")
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def test_offline_oui_update_says_the_bundled_snapshot_stays(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/oui.csv"
    with pytest.raises(RegistryUnavailable) as info:
        update_oui(tmp_path, urls={"MA-L": url}, timeout=5)
    message = str(info.value)
    assert f"cannot reach {url}" in message and "offline?" in message
    assert "bundled snapshot from 2024-08-25 stays in use" in message
    assert isinstance(info.value, InputError)  # the CLI maps it to exit code 2
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_offline_pen_update(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/enterprise-numbers.txt"
    with pytest.raises(RegistryUnavailable, match="snapshot from 2024-08-23 stays in use"):
        update_pen(tmp_path, url=url, timeout=5)


def test_update_writes_a_cache_that_loaders_prefer(server: str, tmp_path: Path) -> None:
    urls = {
        "MA-L": f"{server}/ieee_oui.csv",
        "MA-M": f"{server}/ieee_mam.csv",
        "MA-S": f"{server}/ieee_oui36.csv",
        "IAB": f"{server}/ieee_iab.csv",
    }
    info = update_oui(tmp_path, urls=urls, min_rows={})
    assert (info.date, info.rows) == ("2100-01-01", 10)
    assert {s.id for s in info.sources} == {"ieee-ma-l", "ieee-ma-m", "ieee-ma-s", "ieee-iab"}

    registry = load_oui(cache=tmp_path)
    assert registry.info.location == str(tmp_path) and len(registry) == 10
    match = registry.lookup("20:85:93:B0:00:01")
    assert match is not None and match.organization == "IOG Products LLC"
    assert registry.lookup("E0:06:30:00:00:01") is None  # only what was downloaded

    pen_info = update_pen(tmp_path, url=f"{server}/iana_enterprise_numbers.txt", min_rows={})
    assert (pen_info.date, pen_info.rows) == ("2025-08-22", 8)
    pen = load_pen(cache=tmp_path)
    assert pen.info.location == str(tmp_path)
    assert pen.lookup(9) is not None
    assert load_oui(cache=tmp_path).info.rows == 10  # the PEN update kept the OUI entry


def test_error_pages_and_short_downloads_are_refused(server: str, tmp_path: Path) -> None:
    with pytest.raises(RegistryUnavailable, match="truncated"):
        update_pen(tmp_path, url=f"{server}/truncated.txt", min_rows={})
    with pytest.raises(RegistryUnavailable, match="not an IEEE registry CSV"):
        update_oui(tmp_path, urls={"MA-L": f"{server}/wireshark_manuf"}, min_rows={})
    with pytest.raises(RegistryUnavailable, match="download incomplete"):
        update_oui(tmp_path, urls={"MA-L": f"{server}/ieee_oui.csv"})  # 5 rows < 20000
    with pytest.raises(RegistryUnavailable, match="answered HTTP 404"):
        update_pen(tmp_path, url=f"{server}/missing.txt")
    assert load_oui(cache=tmp_path).info.location == "bundled"
