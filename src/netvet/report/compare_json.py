"""A Comparison as the JSON document other tools rely on (docs/compare-json.md).

Key order is fixed by construction (not sorted) so diffs between two reports stay readable.
Strings are kept exactly, except that bytes of names that are not UTF-8 are written `\\xNN`
(see report.safe.utf8_safe), so the document is always valid UTF-8.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from typing import Any

from netvet.firmware.result import (
    BENIGN_CLASSES,
    SCHEMA_VERSION,
    Comparison,
    Finding,
    ImageInfo,
    Location,
)
from netvet.report.safe import utf8_safe


def _image(info: ImageInfo) -> dict[str, Any]:
    return {
        "path": utf8_safe(info.path),
        "size": info.size,
        "sha256": info.sha256,
        "format": info.format or None,
    }


def _location(loc: Location) -> dict[str, Any]:
    return {
        "section": None if loc.section is None else utf8_safe(loc.section),
        "symbol": None if loc.symbol is None else utf8_safe(loc.symbol),
        "offset": loc.offset,
        "length": loc.length,
        "detail": None if loc.detail is None else utf8_safe(loc.detail),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "path": utf8_safe(f.path),
        "change": f.change.value,
        "status": f.status.value,
        "class": f.klass,
        "summary": utf8_safe(f.summary),
        "locations": [_location(loc) for loc in f.locations],
        "node": f.node.value,
        "diff": [utf8_safe(line) for line in f.diff],
    }


def benign_by_class(c: Comparison) -> dict[str, int]:
    """Benign finding counts per class: known classes in DESIGN.md order, then any others."""
    counts = Counter(f.klass for f in c.benign)
    known = [k for k in BENIGN_CLASSES if k in counts]
    others = sorted(k for k in counts if k not in BENIGN_CLASSES)
    return {k: counts[k] for k in known + others}


def _stats(c: Comparison) -> dict[str, Any]:
    out: dict[str, Any] = asdict(c.stats)
    out["findings_unexplained"] = len(c.unexplained)
    out["findings_benign"] = len(c.benign)
    out["benign_by_class"] = benign_by_class(c)
    return out


def to_dict(c: Comparison) -> dict[str, Any]:
    """The JSON document as Python values (dicts, lists, str, int, float, None)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "verdict": c.verdict.value,
        "reference": _image(c.reference),
        "deployed": _image(c.deployed),
        "findings": [_finding(f) for f in c.findings],
        "stats": _stats(c),
    }


def render(c: Comparison) -> str:
    """The JSON document as text, indented, ending in a newline."""
    return json.dumps(to_dict(c), indent=2, ensure_ascii=False) + "\n"
