"""Company names reduced to a comparable key.

Registries and inventories spell one company many ways: "HUAWEI TECHNOLOGIES CO.,LTD",
"Huawei Technologies Co., Ltd.", "huawei technologies co ltd". The key folds case and Unicode
compatibility forms (registries contain no-break and en spaces), turns punctuation into blanks
and drops trailing legal-form words. Descriptive words such as "technologies", "networks" or
"systems" are kept: "Juniper Networks" and "Juniper Systems" are different companies.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Legal forms, written as they look once punctuation became blanks ("S.A." -> "s a").
_LEGAL_FORMS = (
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "plc",
    "gmbh",
    "ag",
    "kg",
    "sa",
    "sas",
    "sau",
    "srl",
    "spa",
    "bv",
    "nv",
    "ab",
    "as",
    "oy",
    "oyj",
    "kk",
    "pty",
    "pvt",
    "private",
    "zao",
    "ooo",
    "ao",
    "jsc",
    "sdn",
    "bhd",
    "fz",
    "llp",
    "lp",
    "s a",
    "s a u",
    "s a s",
    "s r l",
    "s p a",
    "b v",
    "n v",
    "a s",
    "k k",
    "fz llc",
    "co ltd",
    "co limited",
    "ltd co",
)
# Longest first so "s a u" wins over "s a"; single letters only as part of a spelt-out form,
# so "AT&T" keeps its final "t".
_FORMS = sorted(
    set(_LEGAL_FORMS) | {f.replace(" ", "") for f in _LEGAL_FORMS}, key=len, reverse=True
)
_TRAILING_FORM = re.compile(r"(?:\s(?:" + "|".join(map(re.escape, _FORMS)) + r"))+$")
# Forms written before the name: AO/OOO/ZAO (Russian), PT (Indonesian), and "the".
_LEADING_FORM = re.compile(r"^(?:(?:the|ao|ooo|zao|oao|pt)\s)+")
_NOT_WORD = re.compile(r"[\W_]+")


@lru_cache(maxsize=65536)
def name_key(name: str) -> str:
    """The comparison key of a company name ("" when nothing is left).

    Cached: identification asks for the same few thousand manufacturer strings millions of times.
    """
    s = unicodedata.normalize("NFKC", name).casefold().replace("&", " and ")
    s = " " + " ".join(_NOT_WORD.sub(" ", s).split())
    stripped = _LEADING_FORM.sub("", _TRAILING_FORM.sub("", s).strip())
    # Keep the name itself when it is nothing but legal-form words ("AB", "Company").
    return stripped or s.strip()
