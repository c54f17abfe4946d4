"""Distinct key tuples to verdicts, output columns and malformed-value messages, by joining
them to the lookup tables of `tables` (Python computes only keys the tables have not seen).

A tuple's answer depends on its ownership period only through clue sets holding a member with
a validity period (`Tables.dated_sets`): `judge` says which tuples have one, so that
`tuplecache` can judge the others once for every period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from netvet.inventory.evidence import SIGNALS
from netvet.inventory.keyplan import KEY, PERIOD

if TYPE_CHECKING:
    from netvet.inventory.identify import Identifier

TOKEN = "__netvet_token"  # a tuple's sysDescr vendor word
DATED = "__netvet_dated"  # the tuple's answer depends on its period
BAD = {"oui": "bad-mac", "pen": "bad-oid"}  # signals whose keys can be malformed values
OUTPUT: dict[str, pl.DataType] = {
    "vendor": pl.String(),
    "vendor_entity": pl.String(),
    "vendor_confidence": pl.Float64(),
    "vendor_evidence": pl.String(),
    "vendor_conflict": pl.String(),
}
CSV_FIELDS = "__netvet_csv"  # the output columns as CSV fields (`passthrough.csv_fields`)
JUDGED = [*OUTPUT, "verdict", *(f"bad_{s}" for s in BAD), DATED, CSV_FIELDS]


def judge(groups: pl.DataFrame, ident: Identifier, signals: list[str]) -> pl.DataFrame:
    """`groups` (key columns, `PERIOD` and `TOKEN`) with the `JUDGED` columns added."""
    tables = ident.tables
    frame = groups
    for s in SIGNALS:
        key = TOKEN if s == "sysdescr" else KEY[s]
        names = {"key": key, "set": f"set_{s}", "text": f"text_{s}", "bad": f"bad_{s}"}
        frame = tables.keys[s].lookup(frame, names).with_columns(pl.col(f"set_{s}").fill_null(0))
    for s in SIGNALS:
        names = {"set": f"set_{s}", "period": PERIOD, "res": f"r_{s}", "arrow": f"arrow_{s}"}
        frame = tables.periods_table.lookup(frame, names)
    frame = tables.combos.lookup(frame)
    # A value that matched nothing and was set aside for no reason says nothing: left out.
    fragments = [
        pl.when(pl.col(f"arrow_{s}") != "→-").then(pl.col(f"text_{s}") + pl.col(f"arrow_{s}"))
        for s in signals
    ]
    evidence = pl.concat_str(fragments, separator="; ", ignore_nulls=True) if fragments else None
    dated = tables.dated_sets().implode()
    return frame.with_columns(
        (evidence if evidence is not None else pl.lit("")).fill_null("").alias("vendor_evidence"),
        pl.any_horizontal(pl.col(f"set_{s}").is_in(dated) for s in SIGNALS).alias(DATED),
    )
