"""Refresh the registry snapshots from the official sources into the user cache.

`update_oui` downloads the IEEE RA CSVs (MA-L, MA-M, MA-S and the closed IAB registry),
`update_pen` IANA's enterprise-numbers.txt. A registry is written only when all of its files
arrived and parsed, with enough rows to rule out a truncated download; loaders then prefer it
over the bundled snapshot because it is newer. When a source cannot be reached, the error says
so and that the bundled snapshot stays in use.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from netvet.inventory.errors import DataError, RegistryUnavailable
from netvet.inventory.registry import formats, store
from netvet.inventory.registry.oui import OuiAssignment

IEEE_URLS = {
    "MA-L": "https://standards-oui.ieee.org/oui/oui.csv",
    "MA-M": "https://standards-oui.ieee.org/oui28/mam.csv",
    "MA-S": "https://standards-oui.ieee.org/oui36/oui36.csv",
    "IAB": "https://standards-oui.ieee.org/iab/iab.csv",
}
PEN_URL = "https://www.iana.org/assignments/enterprise-numbers.txt"
# Well below the real counts (MA-L ~36k, MA-M ~5k, MA-S ~6k, IAB ~4.5k, PEN ~60k) and well
# above what a truncated or error page would hold.
MIN_ROWS: dict[str, int] = {"MA-L": 20000, "MA-M": 1000, "MA-S": 1000, "IAB": 1000, "PEN": 30000}
MAX_BYTES = 64 << 20  # the largest file, enterprise-numbers.txt, is ~5 MB
TIMEOUT = 30.0
USER_AGENT = "netvet-registry-update"


@dataclass(frozen=True, slots=True)
class Download:
    """One fetched file: its text and the date the server says it was last modified."""

    url: str
    text: str
    modified: str  # ISO date; today (UTC) when the server sends no Last-Modified


def fetch(url: str, in_use: str, timeout: float = TIMEOUT) -> Download:
    """GET `url`; on any failure `RegistryUnavailable`, whose message names `in_use`, the
    snapshot that stays in use ("the bundled snapshot from 2024-08-25")."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(MAX_BYTES + 1)
            modified = response.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:  # reached, but refused: not an offline problem
        raise RegistryUnavailable(
            f"{url} answered HTTP {exc.code} {exc.reason}; {in_use} stays in use"
        ) from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RegistryUnavailable(
            f"cannot reach {url} ({reason}): offline? {in_use} stays in use"
        ) from exc
    if len(data) > MAX_BYTES:
        raise RegistryUnavailable(f"{url}: larger than {MAX_BYTES} bytes; not a registry file")
    return Download(url, data.decode("utf-8", errors="replace"), _http_date(modified))


def _http_date(value: str | None) -> str:
    if value:
        try:
            return email.utils.parsedate_to_datetime(value).date().isoformat()
        except (TypeError, ValueError):
            pass
    return dt.datetime.now(dt.UTC).date().isoformat()


def update_oui(
    cache: Path | None = None,
    *,
    urls: dict[str, str] | None = None,
    timeout: float = TIMEOUT,
    min_rows: Mapping[str, int] = MIN_ROWS,
) -> store.SnapshotInfo:
    """Download the IEEE registries and write them to the cache; returns what was written."""
    target = cache if cache is not None else store.cache_dir()
    in_use = _in_use("oui", cache)
    rows = []
    sources = []
    for registry, url in (urls or IEEE_URLS).items():
        got = fetch(url, in_use, timeout)
        parsed = _checked(got, f"ieee-{registry.lower()}", registry, min_rows)
        rows.extend(parsed)
        sources.append(
            store.Source(
                f"ieee-{registry.lower()}",
                f"IEEE RA {registry} registry (CSV)",
                url,
                got.modified,
                got.modified,
                len(parsed),
            )
        )
    rows.sort(key=lambda a: (a.bits, a.prefix))
    count = store.write_rows(
        target / store.FILES["oui"],
        ((a.prefix, a.bits, a.registry, a.source, a.organization) for a in rows),
    )
    info = store.SnapshotInfo(
        "oui", max(s.date for s in sources), count, tuple(sources), str(target)
    )
    store.write_info(target, info)
    return info


def update_pen(
    cache: Path | None = None,
    *,
    url: str = PEN_URL,
    timeout: float = TIMEOUT,
    min_rows: Mapping[str, int] = MIN_ROWS,
) -> store.SnapshotInfo:
    """Download IANA's enterprise numbers and write them to the cache; returns what was written."""
    target = cache if cache is not None else store.cache_dir()
    got = fetch(url, _in_use("pen", cache), timeout)
    try:
        date, entries = formats.iana_pen(got.text)
    except DataError as exc:
        raise RegistryUnavailable(f"{url}: {exc}") from exc
    if len(entries) < min_rows.get("PEN", 1):
        raise RegistryUnavailable(f"{url}: only {len(entries)} entries; download incomplete?")
    count = store.write_rows(
        target / store.FILES["pen"], ((e.number, e.organization) for e in entries)
    )
    source = store.Source(
        "iana-pen", "IANA Private Enterprise Numbers", url, got.modified, date, count
    )
    info = store.SnapshotInfo("pen", date, count, (source,), str(target))
    store.write_info(target, info)
    return info


def _checked(
    got: Download, source: str, registry: str, min_rows: Mapping[str, int]
) -> list[OuiAssignment]:
    try:
        parsed = formats.ieee_csv(got.text, source)
    except DataError as exc:
        raise RegistryUnavailable(f"{got.url}: {exc}") from exc
    if len(parsed) < min_rows.get(registry, 1):
        raise RegistryUnavailable(f"{got.url}: only {len(parsed)} rows; download incomplete?")
    return parsed


def _in_use(registry: str, cache: Path | None) -> str:
    """The snapshot that stays in use if the update fails, for the error message."""
    try:
        info = store.choose(registry, None, cache)[1]
    except DataError:
        return "the current snapshot"
    where = "bundled" if info.location == "bundled" else "cached"
    return f"the {where} snapshot from {info.date}"
