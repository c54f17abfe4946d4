"""Write the audit benchmark's inventory: the identification benchmark's rows plus a
`generation` column.

The rows come from `bench/inventory/make_rows.py` (seeded, the same file for a given `--rows`),
so the audit and identification alone read the same kind of data. The added column is a pure
function of the row's role and id, so this file is deterministic too: OLTs and ONTs are
`fixed`, core routers, firewalls and access points cycle through 4g/5g/fixed, the rest
(switches, cameras, recorders, UPSes) have none. The network domain comes from the role
through `bench/audit/roles.yaml` at audit time, as an operator would give it.

    python bench/audit/make_rows.py OUT.csv [--rows 10000000]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
BASE_SCRIPT = HERE.parent / "inventory" / "make_rows.py"
CYCLE = ("4g", "5g", "fixed")


def generation() -> pl.Expr:
    role, cycle = pl.col("role"), pl.lit(pl.Series(CYCLE)).get(pl.col("id") % len(CYCLE))
    return (
        pl.when(role.is_in(["olt", "ont"]))
        .then(pl.lit("fixed"))
        .when(role.is_in(["core-router", "firewall", "ap"]))
        .then(cycle)
        .otherwise(pl.lit(None, pl.String))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args(argv)
    base = args.out.with_suffix(".base.csv")
    subprocess.run(
        [sys.executable, str(BASE_SCRIPT), str(base), "--rows", str(args.rows)], check=True
    )
    tmp = args.out.with_suffix(".partial")
    (
        pl.scan_csv(base, infer_schema=False)
        .with_columns(pl.col("id").cast(pl.Int64))
        .with_columns(generation=generation())
        .sink_csv(tmp)
    )
    tmp.replace(args.out)
    base.unlink()
    print(f"added a generation column: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
