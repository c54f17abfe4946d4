"""An inventory's rows as the policy rules see them: narrow columns computed lazily by polars.

`policy_rows` reduces every row to `PROFILE_KEYS` (vendor, entity, domain, generation,
install-date bucket) plus the site, install date, row number, id and name the report shows.
Only these columns are collected, so a ten-million-row inventory costs a few narrow columns,
never its whole width. `check_profiles` then checks the values on the distinct profiles rather
than on every row.

What a row is taken to be (the audit's docstring says it for users):
- vendor: the `vendor` column (family slugs); empty: unidentified. Entity: `vendor_entity`.
- domain: the `domain_column`, else the role through the role map (a role spelled like a
  domain maps to it), else the default, else unknown. The inventory's `domain` *field* is a
  DNS domain and is never read as a network domain.
- generation: the `generation` column. Install date: the column mapped to the `date` field.
- domain and generation values are read through `spellings` (LTE is 4g, access is ran); a value
  it does not know leaves the dimension unknown and is kept in `_bad_domain`/`_bad_generation`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from netvet.errors import InputError
from netvet.inventory.families import load_families
from netvet.inventory.importers import FieldMap
from netvet.inventory.importers.base import as_text
from netvet.policy.model import Domain
from netvet.policy.spellings import DOMAINS, GENERATIONS

DOMAIN_COLUMN = "network_domain"
GENERATION_COLUMN = "generation"
PROFILE_KEYS = ("_vendor", "_entity", "_domain", "_generation", "_bucket")


def role_key(role: str) -> str:
    """How roles are compared: case and runs of blanks do not matter ("Core  Router")."""
    return " ".join(role.split()).lower()


def policy_rows(
    frame: pl.LazyFrame,
    fields: FieldMap,
    cuts: Sequence[dt.date],
    *,
    domain_column: str | None = None,
    role_map: Mapping[str, Domain] | None = None,
    default: Domain | None = None,
) -> pl.LazyFrame:
    """The policy view of every row: `PROFILE_KEYS`, `_installed`, `_site`, `_row` (1-based),
    `_id`, `_name` and `_unmapped_role` (the role of a row left without a domain). `_bucket` is
    the index of the install date among the ban dates `cuts` (profile.bucket_range turns it
    back into a range)."""
    schema = frame.collect_schema()

    def text(column: str | None, lower: bool = False) -> pl.Expr:
        if column is None or column not in schema:
            return pl.lit(None, pl.String)
        value = as_text(column, schema[column]).str.strip_chars()
        value = value.str.to_lowercase() if lower else value
        return pl.when(value == "").then(None).otherwise(value)

    if domain_column is not None and domain_column not in schema:
        raise InputError(f"--domain-column: no column {domain_column!r} in the inventory")
    column = domain_column or (DOMAIN_COLUMN if DOMAIN_COLUMN in schema else None)
    roles = dict(DOMAINS)
    roles.update({role_key(k): v.value for k, v in (role_map or {}).items()})
    given_role = text(fields.get("role"))
    role = _folded(given_role)
    given_domain = text(column)
    given_generation = text(GENERATION_COLUMN)
    domain_value = _folded(given_domain).replace_strict(DOMAINS, default=None)
    generation = _folded(given_generation).replace_strict(GENERATIONS, default=None)
    domain = pl.coalesce(
        domain_value,
        role.replace_strict(roles, default=None, return_dtype=pl.String),
        pl.lit(default and default.value, pl.String),
    )
    installed = _date(fields.get("date"), schema)
    cut_days = pl.Series("cuts", list(cuts), dtype=pl.Date)
    bucket = (
        pl.when(installed.is_null())
        .then(None)
        .otherwise(pl.lit(cut_days).search_sorted(installed, side="right"))
    )
    # Few distinct values in many rows: categoricals hold 4 bytes a row instead of a string.
    few = pl.Categorical()
    return frame.select(
        text("vendor", lower=True).cast(few).alias("_vendor"),
        text("vendor_entity").cast(few).alias("_entity"),
        domain.cast(few).alias("_domain"),
        generation.cast(few).alias("_generation"),
        bucket.cast(pl.Int32).alias("_bucket"),
        installed.alias("_installed"),
        text(fields.get("site")).cast(few).alias("_site"),
        (pl.int_range(pl.len(), dtype=pl.Int64) + 1).alias("_row"),
        text(fields.get("id")).alias("_id"),
        text(fields.get("name")).alias("_name"),
        pl.when(domain.is_null()).then(given_role).cast(few).alias("_unmapped_role"),
        pl.when(domain_value.is_null()).then(given_domain).cast(few).alias("_bad_domain"),
        pl.when(generation.is_null()).then(given_generation).cast(few).alias("_bad_generation"),
    )


def _folded(value: pl.Expr) -> pl.Expr:
    """`spellings.key` in polars: lowercase, runs of blanks as one space."""
    return value.str.to_lowercase().str.replace_all(r"\s+", " ")


def check_profiles(profiles: pl.DataFrame, has_vendor: bool) -> None:
    """Refuse raw maker names in a `vendor` column: no rule could be matched against them.
    Unknown domains and generations are not refused: they are reported per value
    (`_bad_domain`, `_bad_generation`) and left unknown."""
    if has_vendor:
        known = {f.slug for f in load_families()}
        bad = sorted(set(profiles.get_column("_vendor").drop_nulls().to_list()) - known)
        if bad:
            raise InputError(
                "column 'vendor' holds values that are not vendor family slugs "
                f"({', '.join(bad[:5])}); name a maker column 'manufacturer', or run "
                "`netvet inventory identify` first"
            )


def _date(column: str | None, schema: pl.Schema) -> pl.Expr:
    if column is None:
        return pl.lit(None, pl.Date)
    dtype = schema[column]
    if dtype == pl.Date:
        return pl.col(column)
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.date()
    return as_text(column, dtype).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
