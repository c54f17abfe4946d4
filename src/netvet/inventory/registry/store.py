"""Where registry snapshots live and how they are stored: bundled package data or a user cache.

A snapshot directory holds `oui.tsv.gz` (prefix hex, prefix bits, registry, source id,
organization), `pen.tsv.gz` (number, organization) and `sources.json`, which records for each
registry its date, the sources it was built from (package and version, or URL) and row counts.
The bundled snapshot ships in `netvet/data/registries/`; `netvet registry update` writes a fresh
one to the user cache (`$XDG_CACHE_HOME/netvet/registries`). Loaders take the newer of the two.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from netvet.inventory.errors import DataError

SOURCES_FILE = "sources.json"
FILES = {"oui": "oui.tsv.gz", "pen": "pen.tsv.gz"}


@dataclass(frozen=True, slots=True)
class Source:
    """One input a registry snapshot was built from."""

    id: str
    description: str
    origin: str  # Debian package name or download URL
    version: str  # package version, or HTTP Last-Modified of the download
    date: str  # ISO date of the data itself
    rows: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """What a registry snapshot is: which registry, how fresh, built from what."""

    registry: str  # "oui" or "pen"
    date: str  # ISO date of the newest source; compared to pick bundled vs cache
    rows: int
    sources: tuple[Source, ...]
    location: str  # "bundled" or the cache directory

    def source(self, source_id: str) -> Source | None:
        return next((s for s in self.sources if s.id == source_id), None)


def bundled_dir() -> Path:
    """The snapshot shipped inside the package."""
    return Path(str(resources.files("netvet") / "data" / "registries"))


def cache_dir() -> Path:
    """The per-user snapshot written by `netvet registry update`."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "netvet" / "registries"


def read_info(directory: Path, registry: str, location: str) -> SnapshotInfo | None:
    """The `sources.json` entry of one registry in a snapshot directory, if it has one."""
    path = directory / SOURCES_FILE
    if not path.is_file():
        return None
    try:
        entry = json.loads(path.read_text(encoding="utf-8")).get(registry)
        if entry is None:
            return None
        sources = tuple(Source(**s) for s in entry["sources"])
        return SnapshotInfo(registry, entry["date"], entry["rows"], sources, location)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(
            f"{path}: unreadable registry description ({exc}); delete it or run "
            "`netvet registry update` again"
        ) from exc


def choose(registry: str, directory: Path | None, cache: Path | None) -> tuple[Path, SnapshotInfo]:
    """The directory to load `registry` from: `directory` if given, else the cache when it is
    strictly newer than the bundled snapshot, else the bundled one."""
    if directory is not None:
        info = read_info(directory, registry, str(directory))
        if info is None:
            raise DataError(f"{directory}: no {registry} registry snapshot there")
        return directory, info
    bundled = read_info(bundled_dir(), registry, "bundled")
    if bundled is None:
        raise DataError(f"the bundled {registry} registry snapshot is missing from the package")
    cached_dir = cache if cache is not None else cache_dir()
    cached = read_info(cached_dir, registry, str(cached_dir))
    if cached is not None and cached.date > bundled.date:
        return cached_dir, cached
    return bundled_dir(), bundled


def read_rows(path: Path, columns: int) -> Iterator[list[str]]:
    """Rows of a gzip TSV snapshot file, each checked to have `columns` fields. A snapshot is
    a few MB: inflated whole (in C, at once) rather than line by line through a text stream."""
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except (OSError, EOFError, UnicodeDecodeError, zlib.error) as exc:
        raise DataError(f"{path}: unreadable registry snapshot ({exc})") from exc
    lines = text.split("\n")
    if lines[-1] == "":  # after the last line's end
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        row = line.split("\t")
        if len(row) != columns:
            raise DataError(f"{path}:{lineno}: expected {columns} fields, got {len(row)}")
        yield row


def write_rows(path: Path, rows: Iterable[Iterable[object]]) -> int:
    """Write a gzip TSV snapshot file atomically; returns the row count. `mtime=0` keeps the
    bytes reproducible so rebuilding an unchanged snapshot leaves no diff."""
    buf = io.StringIO()
    count = 0
    for row in rows:
        fields = [str(f) for f in row]
        if any("\t" in f or "\n" in f for f in fields):
            raise DataError(f"tab or newline inside a registry field: {fields!r}")
        buf.write("\t".join(fields) + "\n")
        count += 1
    data = gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)
    _atomic_write(path, data)
    return count


def write_info(directory: Path, info: SnapshotInfo) -> None:
    """Record one registry's description in `sources.json`, keeping the other registry's."""
    path = directory / SOURCES_FILE
    doc: dict[str, Any] = {}
    if path.is_file():
        doc = json.loads(path.read_text(encoding="utf-8"))
    entry = asdict(info)
    del entry["registry"], entry["location"]
    entry["file"] = FILES[info.registry]
    doc[info.registry] = entry
    text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    _atomic_write(path, text.encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
