"""How inventories spell network domains and generations, mapped onto the schema's values.

Inventories say `LTE` for 4g, `NR` for 5g, `GPON` for fixed and `access` for the RAN domain.
A value neither known nor listed here never stops an audit: the row's domain or generation is
unknown (findings that depend on it are undetermined) and the audit reports the value with its
row count and first row numbers (`audit_run.BadValue`).

Dual-mode values ("4G/5G", "LTE/NR", "NSA") are read as the newer generation: the equipment
serves that generation, and the rules that name generations are about the newer one (5G).
Keys are compared lowercased with runs of blanks folded (`key`).
"""

from __future__ import annotations

from netvet.policy.model import Domain, Generation


def key(text: str) -> str:
    return " ".join(text.split()).lower()


def _spread(target: str, *spellings: str) -> dict[str, str]:
    return {key(s): target for s in spellings}


GENERATIONS: dict[str, str] = {
    **{g.value: g.value for g in Generation},
    **_spread("2g", "gsm", "gprs", "edge", "2g gsm"),
    **_spread("3g", "umts", "wcdma", "hspa", "hspa+", "3g umts", "2g/3g", "td-scdma", "cdma2000"),
    **_spread("4g", "lte", "4g lte", "lte-a", "lte advanced", "4g/lte", "lte-advanced", "3g/4g"),
    **_spread("4g", "2g/3g/4g", "td-lte", "fdd-lte"),
    **_spread("5g", "nr", "5g nr", "5gnr", "5g-nr", "5g sa", "5g nsa", "nsa"),
    **_spread("5g", "4g/5g", "4g+5g", "4g-5g", "lte/nr", "lte/5g", "4g/5g nsa", "en-dc"),
    **_spread("fixed", "gpon", "xgs-pon", "xg-pon", "xgspon", "epon", "10g-epon", "xpon", "pon"),
    **_spread("fixed", "ngpon2", "ng-pon2", "dsl", "adsl", "adsl2+", "vdsl", "vdsl2", "g.fast"),
    **_spread("fixed", "xdsl", "ftth", "fttx", "fttc", "fttp", "docsis", "cable", "fibre", "fiber"),
    **_spread("fixed", "wireline", "fixed line", "fixed-line", "fixed access"),
}

DOMAINS: dict[str, str] = {
    **{d.value: d.value for d in Domain},
    **_spread("ran", "access", "radio", "radio access", "radio access network", "access network"),
    **_spread("ran", "fixed access", "mobile access", "wireless access", "olt", "base station"),
    **_spread("core", "core network", "packet core", "5gc", "epc", "ims"),
    **_spread("transport", "backhaul", "backbone", "transmission", "aggregation", "metro"),
    **_spread("transport", "fronthaul", "midhaul", "ip transport", "optical transport"),
    **_spread("management", "oss", "bss", "oss/bss", "nms", "oam", "o&m", "network management"),
    **_spread("cpe", "customer premises", "customer premises equipment", "home gateway"),
    **_spread("enterprise", "it", "office", "corporate", "corporate it", "enterprise it"),
    **_spread("surveillance", "cctv", "video", "video surveillance", "camera", "cameras"),
}
