"""The streamed, batched identification gives, row for row, what a plain row-by-row reference
gives: each signal's text judged by `ClueSource` on its own (full sysObjectID, MAC parsed in
Python), resolved on the row's day and combined. Small batches and a small cache limit make
the sample cross batch boundaries and cache clearings."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from netvet.inventory import rowrun
from netvet.inventory.clues import resolve
from netvet.inventory.combine import combine
from netvet.inventory.evidence import arrow
from netvet.inventory.families import Families
from netvet.inventory.identify import OUTPUT, Identifier, identify_file
from netvet.inventory.keyplan import HASHED, TUPLE, KeyPlan
from netvet.inventory.registry import OuiRegistry, PenRegistry
from netvet.inventory.signals import RAW
from netvet.inventory.tuplecache import TupleCache

AS_OF = dt.date(2025, 6, 1)
MAKERS = [
    "Huawei", "HUAWEI Co., Ltd.", "huawei technologies", "Hauwei", "Honor", "Lorex", "LTS",
    "Hikvision", "Dahua Technology", "Amcrest", "Cisco Systems, Inc.", "ZTE", "Juniper Systems",
    "Dell Inc.", "Realtek", "", "N/A", "Unknown", "Acme Widgets", "  Nokia  ",
]  # fmt: skip
OIDS = [
    "", "1.3.6.1.4.1.2011.2.23.96", ".1.3.6.1.4.1.9.1.2494", "1.3.6.1.4.1.8072.3.2.10",
    "iso.3.6.1.4.1.2011.1", "1.3.6.1.4.1.09.1", "1.3.6.1.4.1.25506.1", "1.3.6.1.2.1.1",
    "OID: 1.3.6.1.4.1.12356.101", "1.3.6.bogus", "0.0", "1.3.6.1.4.1.99999999", "1.3.6.1.4.1",
]  # fmt: skip
MODELS = ["", "S5735-L48T4X", "DS-2CD2143G2-I", "C9300-48P", "EX4300-48T", "IPC-HFW2431S", "X1"]
DESCRS = ["", "Huawei Versatile Routing Platform", "Linux 5.10 (Ubuntu 22.04 LTS)", "JUNOS 21"]
DATES = ["", "2015-03-01", "2019-06-30", "2020-11-16", "2020-11-17", "2022-11-24", "2024-01-01"]


def _prefixes(oui: OuiRegistry, rng: random.Random) -> list[str]:
    """MAC prefixes: common OUIs, MA-M and MA-S blocks and the IEEE RA parents around them."""
    picks = ["00E0FC", "C056E3", "00000C", "00E04C", "3C8CF8", "000000", "020000", "FFFFFF"]
    for bits in (28, 36):
        blocks = sorted(a.prefix for a in oui.blocks(bits))
        picks += rng.sample(blocks, 6)
    picks += rng.sample(sorted(oui.carved_prefixes()), 4)
    return picks


def _mac(rng: random.Random, prefix: str) -> str:
    digits = (prefix + "".join(rng.choice("0123456789ABCDEF") for _ in range(12)))[:12]
    pairs = [digits[i : i + 2] for i in range(0, 12, 2)]
    return rng.choice(
        [
            ":".join(pairs),
            "-".join(pairs).lower(),
            ".".join(digits[i : i + 4].lower() for i in range(0, 12, 4)),
            digits,
            ":".join(p.lstrip("0") or "0" for p in pairs),  # not a common spelling: Python
            f"{':'.join(pairs)}, {digits}",  # two in one cell
            "zz:zz",
            "",
        ]
    )


def _rows(oui: OuiRegistry, count: int) -> list[dict[str, str]]:
    rng = random.Random(20261203)
    prefixes = _prefixes(oui, rng)
    return [
        {
            "id": f"d{i}",
            "manufacturer": rng.choice(MAKERS),
            "model": rng.choice(MODELS),
            "mac": _mac(rng, rng.choice(prefixes)),
            "sysObjectID": rng.choice(OIDS),
            "sysDescr": rng.choice(DESCRS),
            "install date": rng.choice(DATES),
        }
        for i in range(count)
    ]


def _reference(ident: Identifier, row: dict[str, str]) -> dict[str, Any]:
    """One row judged on its own, without keys, tables or batches."""
    source = ident.source
    day = dt.date.fromisoformat(row["install date"]) if row["install date"] else AS_OF
    # Ownership is judged (and named in the evidence) on its period's representative day.
    day = ident.periods.day(ident.periods.index(day))
    found = source.tokens.find(row["sysDescr"]) if row["sysDescr"].strip() else None
    texts = {
        "manufacturer": row["manufacturer"].strip(),
        "pen": row["sysObjectID"].strip(),
        "oui": RAW + row["mac"] if row["mac"].strip() else "",
        "sysdescr": found[0] if found else "",
        "model": row["model"].strip(),
    }
    sets = []
    fragments = []
    for signal, text in texts.items():
        if not text:
            sets.append(())
            continue
        clues, shown, _bad = source.clues(signal, text)
        resolved = resolve(clues, day)
        sets.append(resolved)
        if arrow(resolved) != "→-":
            fragments.append(shown + arrow(resolved))
    verdict = combine(sets)
    return {
        "vendor": verdict.vendor,
        "vendor_entity": verdict.entity,
        "vendor_confidence": verdict.confidence,
        "vendor_evidence": "; ".join(fragments),
        "vendor_conflict": verdict.conflict,
    }


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rowrun, "BATCH", 97)
    monkeypatch.setattr(rowrun, "LIMIT", 150)


@pytest.fixture
def colliding_hashes(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Tuple hashes cut to two bits, so that many distinct tuples share one: the cache must
    tell them apart by the second hash (`tuplecache`). Yields, per batch, whether the cache
    joined on both hashes."""
    coarse = pl.struct(HASHED).hash(seed=0) % 4
    monkeypatch.setattr(KeyPlan, "tuple_hash", staticmethod(lambda: coarse.alias(TUPLE)))
    wide: list[bool] = []
    index = TupleCache.index

    def spy(self: TupleCache, batch: pl.DataFrame) -> pl.Series:
        found = index(self, batch)
        wide.append(self.wide)
        return found

    monkeypatch.setattr(TupleCache, "index", spy)
    return wide


@pytest.mark.usefixtures("small_batches")
def test_streamed_rows_match_a_row_by_row_reference_despite_hash_collisions(
    tmp_path: Path,
    oui: OuiRegistry,
    pen: PenRegistry,
    families: Families,
    colliding_hashes: list[bool],
) -> None:
    test_streamed_rows_match_a_row_by_row_reference(tmp_path, oui, pen, families)
    assert colliding_hashes and all(colliding_hashes)


@pytest.mark.usefixtures("small_batches")
def test_streamed_rows_match_a_row_by_row_reference(
    tmp_path: Path, oui: OuiRegistry, pen: PenRegistry, families: Families
) -> None:
    rows = _rows(oui, 1500)
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    ident = Identifier(oui, pen, families)
    out = tmp_path / "out.csv"
    report = identify_file(source, out, "csv", as_of=AS_OF, identifier=ident)
    with out.open(newline="", encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert [r["id"] for r in written] == [r["id"] for r in rows]
    reference = Identifier(oui, pen, families)
    mismatches = []
    wants = []
    for number, (row, got) in enumerate(zip(rows, written, strict=True), 1):
        want = _reference(reference, row)
        wants.append(want)
        have = {c: got[c] for c in OUTPUT}
        have["vendor_confidence"] = float(have["vendor_confidence"])
        if have != want:
            mismatches.append((number, row, have, want))
    assert not mismatches, mismatches[:3]
    assert report.summary.rows == len(rows)
    assert report.summary.per_family == Counter(w["vendor"] for w in wants if w["vendor"])
    assert report.summary.conflicts == sum(1 for w in wants if w["vendor_conflict"])
    bad = [n for n, r in enumerate(rows, 1) if r["mac"].strip() and _bad_mac(reference, r)]
    assert bad and report.imported.problems["bad-mac"].count == len(bad)
    assert report.imported.problems["bad-mac"].rows == bad[:100]


def _bad_mac(ident: Identifier, row: dict[str, str]) -> bool:
    return ident.source.clues("oui", RAW + row["mac"])[2] is not None
