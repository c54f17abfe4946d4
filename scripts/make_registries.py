#!/usr/bin/env python3
"""Rebuild the bundled registry snapshots in src/netvet/data/registries/ from Debian packages.

    apt-get install ieee-data libwireshark-data
    .venv/bin/python scripts/make_registries.py

Sources, newest data first:
- ieee-data: the IEEE RA CSVs (MA-L, MA-M, MA-S, IAB) with the registry's own spelling of every
  organization. Its date is the package's `.lastupdate` stamp.
- libwireshark-data `manuf`: built by Wireshark from the same IEEE CSVs, usually newer, but with
  names rewritten (all-caps names title-cased, blanks collapsed) and Wireshark's own overrides
  for old blocks. It only adds blocks missing from ieee-data; their names are respelled as the
  IEEE registry spells the same organization elsewhere when ieee-data has it, and otherwise kept
  as Wireshark writes them (source id "wireshark-manuf" says so row by row).
- libwireshark-data `enterprises.tsv`: IANA's PEN list, with "(formerly ...)" restored.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import subprocess
import sys
from pathlib import Path

from netvet.inventory.registry import formats, store
from netvet.inventory.registry.oui import OuiAssignment

ROOT = Path(__file__).resolve().parents[1]
IEEE_FILES = ("oui.csv", "mam.csv", "oui36.csv", "iab.csv")


def package_version(name: str) -> str:
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def ieee_rows(ieee_dir: Path) -> tuple[list[OuiAssignment], str]:
    rows: dict[tuple[int, str], OuiAssignment] = {}
    for name in IEEE_FILES:
        for a in formats.ieee_csv((ieee_dir / name).read_text(encoding="utf-8"), "ieee-data"):
            rows.setdefault((a.bits, a.prefix), a)
    stamp = int((ieee_dir / ".lastupdate").read_text().strip())
    date = dt.datetime.fromtimestamp(stamp, dt.UTC).date().isoformat()
    return list(rows.values()), date


def manuf_date(text: str) -> str:
    """Newest Last-Modified of the IEEE files Wireshark's manuf header lists."""
    dates = [
        dt.datetime.strptime(m, "%d %b %Y").date().isoformat()
        for m in re.findall(r"Last-Modified: \w+, (\d+ \w+ \d{4})", text[:5000])
    ]
    if not dates:
        sys.exit("manuf: no Last-Modified lines in its header")
    return max(dates)


def supplement(ieee: list[OuiAssignment], manuf_text: str) -> list[OuiAssignment]:
    """manuf blocks that ieee-data lacks, names respelled the IEEE way where possible."""
    known = {(a.bits, a.prefix) for a in ieee}
    extra = [
        a
        for a in formats.wireshark_manuf(manuf_text, "wireshark-manuf")
        if (a.bits, a.prefix) not in known
    ]
    spelling = formats.respell({a.organization for a in extra}, (a.organization for a in ieee))
    return [
        OuiAssignment(
            a.prefix, a.bits, a.registry, spelling.get(a.organization, a.organization), a.source
        )
        for a in extra
    ]


def build_oui(ieee_dir: Path, wireshark_dir: Path, out: Path) -> store.SnapshotInfo:
    ieee, ieee_date = ieee_rows(ieee_dir)
    manuf_text = (wireshark_dir / "manuf").read_text(encoding="utf-8")
    extra = supplement(ieee, manuf_text)
    rows = sorted(ieee + extra, key=lambda a: (a.bits, a.prefix))
    count = store.write_rows(
        out / store.FILES["oui"],
        ((a.prefix, a.bits, a.registry, a.source, a.organization) for a in rows),
    )
    sources = (
        store.Source(
            "ieee-data",
            "IEEE RA MA-L, MA-M, MA-S and IAB registries (CSV)",
            "Debian package ieee-data",
            package_version("ieee-data"),
            ieee_date,
            len(ieee),
            "organization names exactly as the IEEE registry spells them",
        ),
        store.Source(
            "wireshark-manuf",
            "Wireshark manuf (built from the IEEE RA CSVs)",
            "Debian package libwireshark-data",
            package_version("libwireshark-data"),
            manuf_date(manuf_text),
            len(extra),
            "only blocks missing from ieee-data; names respelled as the IEEE spells the"
            " same organization in ieee-data, else as Wireshark writes them",
        ),
    )
    info = store.SnapshotInfo("oui", max(s.date for s in sources), count, sources, "bundled")
    store.write_info(out, info)
    return info


def build_pen(wireshark_dir: Path, out: Path) -> store.SnapshotInfo:
    text = (wireshark_dir / "enterprises.tsv").read_text(encoding="utf-8")
    date, entries = formats.enterprises_tsv(text)
    count = store.write_rows(
        out / store.FILES["pen"], ((e.number, e.organization) for e in entries)
    )
    source = store.Source(
        "wireshark-enterprises",
        "IANA Private Enterprise Numbers (Wireshark enterprises.tsv)",
        "Debian package libwireshark-data",
        package_version("libwireshark-data"),
        date,
        count,
        'IANA\'s "(formerly ...)" suffixes restored',
    )
    info = store.SnapshotInfo("pen", date, count, (source,), "bundled")
    store.write_info(out, info)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ieee-dir", type=Path, default=Path("/usr/share/ieee-data"))
    parser.add_argument("--wireshark-dir", type=Path, default=Path("/usr/share/wireshark"))
    parser.add_argument("--out", type=Path, default=ROOT / "src/netvet/data/registries")
    args = parser.parse_args()
    for info in (
        build_oui(args.ieee_dir, args.wireshark_dir, args.out),
        build_pen(args.wireshark_dir, args.out),
    ):
        print(f"{info.registry}: {info.rows} rows, dated {info.date}")


if __name__ == "__main__":
    main()
