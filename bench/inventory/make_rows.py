"""Write a deterministic, realistic inventory CSV for the identification benchmark.

Rows are drawn (with replacement) from a pool of device *profiles*: one profile is a device
type as an operator's asset tool records it (manufacturer spelling, model, MAC block and
format, sysObjectID), so the signals of one profile agree the way real rows do. Every row
then gets its own id, name, serial, MAC low bytes, site and install date. The profiles use
the bundled vendor families and IEEE/IANA registries (src/netvet/data), so identification
does real work: aliases, legal suffixes, misspellings, white-label brands, blanks and
placeholders, chip-vendor MACs, locally administered MACs, net-snmp's 8072 agent, makers
outside the families.

Written in chunks with polars; the whole table is never in memory. Python's `random` with a
fixed seed makes the file the same on every run (polars only formats the columns).

    python bench/inventory/make_rows.py OUT.csv [--rows 10000000] [--profiles 50000]
        [--adversarial]

`--adversarial` writes the worst case instead: each row's manufacturer, model and sysObjectID
come from three different profiles and its MAC is 48 random bits (locally administered,
multicast and unassigned prefixes included), so nearly every row is a signal combination of
its own and the MAC prefixes hardly repeat.
"""

from __future__ import annotations

import argparse
import gzip
import random
import string
import sys
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml

DATA = Path(__file__).resolve().parents[2] / "src" / "netvet" / "data"
SEED = 20261128
CHUNK = 500_000
CHIP_WORDS = ("realtek", "broadcom", "qualcomm", "mediatek", "espressif", "hisilicon")
SUFFIXES = ("Co., Ltd.", "CO.,LTD", "Inc.", "Corp", "GmbH", "Ltd", "LLC", "S.A.", "AB")
PLACEHOLDERS = ("Unknown", "N/A", "generic", "OEM", "-", "TBD")
ROLES = ("access-switch", "core-router", "firewall", "camera", "nvr", "ap", "olt", "ont", "ups")
MAC_FORMATS = 5  # colon upper, colon lower, dash, Cisco dotted, bare
MODEL_STEMS = {
    "huawei": ("S5735-L48T4X", "CE6850-48S6Q", "AR6120", "NE40E-X8", "USG6650", "HG8245H"),
    "zte": ("ZXR10 5960", "ZXA10 C600", "ZXHN F670L", "ZXV10 B860H"),
    "hikvision": ("DS-2CD2143G2-I", "DS-7608NI-K2", "DS-2DE4425IW"),
    "dahua": ("IPC-HFW2431S", "NVR4108HS-4KS2", "SD49425XB"),
    "cisco": ("C9300-48P", "ISR4331/K9", "WS-C2960X-48TS", "N9K-C93180YC"),
    "juniper": ("EX4300-48T", "MX204", "SRX345", "QFX5120-48Y"),
}


@dataclass(frozen=True)
class Family:
    """What the generator needs of one vendor family."""

    slug: str
    names: tuple[str, ...]
    white_labels: tuple[str, ...]
    ouis: tuple[str, ...]
    pens: tuple[int, ...]


@dataclass(frozen=True)
class Profile:
    """One device type: the columns every row drawn from it shares."""

    manufacturer: str
    model: str
    mac_prefix: str  # hex digits of the block ("" for no MAC), the rest is per row
    mac_format: int
    sys_object_id: str
    role: str
    serial_prefix: str


def load_registry() -> dict[str, list[str]]:
    """IEEE organization name -> its block prefixes (hex digits: 6, 7 or 9)."""
    blocks: dict[str, list[str]] = {}
    with gzip.open(DATA / "registries" / "oui.tsv.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            prefix, bits, _kind, _src, org = line.rstrip("\n").split("\t", 4)
            blocks.setdefault(org, []).append(prefix[: int(bits) // 4])
    return blocks


def load_families(blocks: dict[str, list[str]]) -> list[Family]:
    data = yaml.safe_load((DATA / "vendor_families.yaml").read_text(encoding="utf-8"))
    families = []
    for fam in data["families"]:
        names: list[str] = []
        labels: list[str] = []
        ouis: list[str] = []
        pens: list[int] = []
        for member in fam["members"]:
            if member.get("kind") == "chip" or member.get("valid_to"):
                continue  # chip units are drawn separately; divested members would mislead
            spellings = [member["name"], *member.get("aliases", [])]
            (labels if member.get("kind") == "white-label" else names).extend(spellings)
            for org in member.get("oui_names", []):
                ouis.extend(blocks.get(org, []))
            pens.extend(p["number"] for p in member.get("pens", []))
        if names and ouis:
            families.append(
                Family(fam["slug"], tuple(names), tuple(labels), tuple(ouis), tuple(pens))
            )
    return families


def misspell(rng: random.Random, text: str) -> str:
    """One typo: a dropped, doubled or swapped letter."""
    if len(text) < 5:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        return text[:i] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i] + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def manufacturer(rng: random.Random, fam: Family) -> str:
    """How an asset tool spells the maker: mostly right, often not."""
    roll = rng.random()
    base = rng.choice(fam.names)
    if roll < 0.35:
        return base
    if roll < 0.50:
        return f"{base.split(',')[0].split()[0].upper()} {rng.choice(SUFFIXES)}"
    if roll < 0.58:
        return base.lower()
    if roll < 0.66:
        return misspell(rng, base.split()[0])
    if roll < 0.72 and fam.white_labels:
        return rng.choice(fam.white_labels)
    if roll < 0.87:
        return ""
    return rng.choice(PLACEHOLDERS)


def model(rng: random.Random, slug: str) -> str:
    stems = MODEL_STEMS.get(slug)
    if stems and rng.random() < 0.8:
        return rng.choice(stems)
    letters = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(1, 3)))
    return f"{letters}{rng.randint(100, 9999)}-{rng.choice(('A', 'P', 'X', 'LX', '24', '48'))}"


def make_profiles(rng: random.Random, count: int) -> list[Profile]:
    blocks = load_registry()
    families = load_families(blocks)
    chips = [p for org, ps in blocks.items() if org.lower().startswith(CHIP_WORDS) for p in ps]
    outside = [org for org in blocks if org != "Private"]
    weights = [1.0 / (rank + 1) for rank in range(len(families))]  # a few vendors dominate
    profiles = []
    for _ in range(count):
        if rng.random() < 0.15:  # a maker outside the families: its registry spelling
            org = rng.choice(outside)
            fam = Family("", (org,), (), tuple(blocks[org]), ())
        else:
            fam = rng.choices(families, weights)[0]
        profiles.append(_profile(rng, fam, chips))
    return profiles


def _profile(rng: random.Random, fam: Family, chips: list[str]) -> Profile:
    roll = rng.random()
    if roll < 0.70:
        prefix = rng.choice(fam.ouis)
    elif roll < 0.85:
        prefix = rng.choice(chips)  # the Wi-Fi or Ethernet chip's maker, not the device's
    elif roll < 0.92:
        prefix = f"{rng.getrandbits(24) | 0x020000:06X}"  # locally administered (U/L bit)
    else:
        prefix = ""
    roll = rng.random()
    if fam.pens and roll < 0.45:
        oid = f"1.3.6.1.4.1.{rng.choice(fam.pens)}.{rng.randint(1, 25)}.{rng.randint(1, 999)}"
    elif roll < 0.60:
        oid = "1.3.6.1.4.1.8072.3.2.10"  # net-snmp: says nothing about the maker
    else:
        oid = ""
    return Profile(
        manufacturer=manufacturer(rng, fam) if fam.slug else fam.names[0],
        model=model(rng, fam.slug),
        mac_prefix=prefix,
        mac_format=rng.randrange(MAC_FORMATS),
        sys_object_id=oid,
        role=rng.choice(ROLES),
        serial_prefix="".join(rng.choices(string.ascii_uppercase + string.digits, k=6)),
    )


def profile_frame(profiles: list[Profile]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "manufacturer": [p.manufacturer for p in profiles],
            "model": [p.model for p in profiles],
            "mac_prefix": [p.mac_prefix for p in profiles],
            "mac_format": [p.mac_format for p in profiles],
            "sys_object_id": [p.sys_object_id for p in profiles],
            "role": [p.role for p in profiles],
            "serial_prefix": [p.serial_prefix for p in profiles],
        }
    )


def mac_expr() -> pl.Expr:
    """The row's MAC: its profile's block plus per-row low digits, in the profile's format."""
    digits = (pl.col("mac_prefix") + pl.col("low")).str.slice(0, 12)
    pair = [digits.str.slice(i, 2) for i in range(0, 12, 2)]
    quad = [digits.str.slice(i, 4).str.to_lowercase() for i in range(0, 12, 4)]
    fmt = pl.col("mac_format")
    return (
        pl.when(pl.col("mac_prefix") == "")
        .then(pl.lit(""))
        .when(fmt == 0)
        .then(pl.concat_str(pair, separator=":"))
        .when(fmt == 1)
        .then(pl.concat_str(pair, separator=":").str.to_lowercase())
        .when(fmt == 2)
        .then(pl.concat_str(pair, separator="-"))
        .when(fmt == 3)
        .then(pl.concat_str(quad, separator="."))
        .otherwise(digits)
    )


def chunk(rng: random.Random, profiles: pl.DataFrame, start: int, n: int) -> pl.DataFrame:
    """Rows start .. start+n-1."""
    pick = rng.choices(range(profiles.height), k=n)
    rows = profiles[pick].with_columns(
        low=pl.Series([f"{rng.getrandbits(36):09X}" for _ in range(n)]),
    )
    return _rows(rng, rows, start, n)


def _rows(rng: random.Random, rows: pl.DataFrame, start: int, n: int) -> pl.DataFrame:
    """The per-row columns added to `rows` (profile columns and MAC low digits)."""
    rows = rows.with_columns(
        id=pl.int_range(start + 1, start + n + 1, dtype=pl.Int64),
        site=pl.Series([rng.randrange(2000) for _ in range(n)]),
        day=pl.Series([rng.randrange(4018) for _ in range(n)]),  # 2015-01-01 .. 2025-12-31
    )
    return rows.select(
        "id",
        name=pl.format("{}-{}-{}", "role", pl.col("site").cast(pl.String), "id"),
        manufacturer="manufacturer",
        model="model",
        serial=pl.format("{}{}", "serial_prefix", pl.col("id").cast(pl.String).str.zfill(10)),
        mac=mac_expr(),
        sys_object_id="sys_object_id",
        site=pl.format("site-{}", pl.col("site").cast(pl.String).str.zfill(4)),
        role="role",
        install_date=(pl.date(2015, 1, 1) + pl.duration(days=pl.col("day"))).cast(pl.String),
    )


def adversarial_chunk(
    rng: random.Random, profiles: pl.DataFrame, start: int, n: int
) -> pl.DataFrame:
    """Rows start .. start+n-1 whose signals are drawn independently of each other
    (manufacturer, model and sysObjectID each from a different profile) with fully random
    MACs (flag bits included) in random formats: nearly every row is a new combination."""
    picks = {c: rng.choices(range(profiles.height), k=n) for c in ("maker", "model", "oid")}
    rows = pl.DataFrame(
        {
            "manufacturer": profiles.get_column("manufacturer").gather(picks["maker"]),
            "model": profiles.get_column("model").gather(picks["model"]),
            "sys_object_id": profiles.get_column("sys_object_id").gather(picks["oid"]),
            "role": profiles.get_column("role").gather(picks["maker"]),
            "serial_prefix": profiles.get_column("serial_prefix").gather(picks["model"]),
            "mac_prefix": [f"{rng.getrandbits(48):012X}" for _ in range(n)],
            "mac_format": [rng.randrange(MAC_FORMATS) for _ in range(n)],
            "low": [""] * n,
        }
    )
    return _rows(rng, rows, start, n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--profiles", type=int, default=50_000)
    parser.add_argument(
        "--adversarial",
        action="store_true",
        help="signals drawn independently of each other and random MACs (worst case)",
    )
    args = parser.parse_args(argv)
    make = adversarial_chunk if args.adversarial else chunk
    rng = random.Random(SEED)
    profiles = profile_frame(make_profiles(rng, args.profiles))
    tmp = args.out.with_suffix(".partial")
    with tmp.open("wb") as fh:
        for start in range(0, args.rows, CHUNK):
            n = min(CHUNK, args.rows - start)
            make(rng, profiles, start, n).write_csv(fh, include_header=start == 0)
    tmp.replace(args.out)
    print(f"wrote {args.rows:,} rows from {profiles.height:,} profiles to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
