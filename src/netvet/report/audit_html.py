"""The audit as one self-contained HTML page: a headline, two inline SVG charts (exposure by
vendor and domain; removal timeline), then the violation, deadline and cap tables.

Nothing is fetched: CSS and charts are inline, there is no script, and a Content-Security-Policy
forbids scripts and every remote load, so the page opens offline and a missed escape could not
run code. Every string from the inventory or a policy file goes through `printable` and
`html.escape` (`_t`), in element text, attributes and SVG alike.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from html import escape

from netvet.policy.audit_run import AuditResult
from netvet.policy.model import Domain, EffectKind, percent_text
from netvet.report.audit_html_open import undetermined_html, warnings_html
from netvet.report.safe import printable

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
.headline{display:flex;flex-wrap:wrap;gap:.8em;margin:.5em 0}
.stat{border:1px solid #ccc;border-radius:6px;padding:.5em 1em;min-width:8em}
.stat b{display:block;font-size:1.8em}.stat.bad{border-color:#c62828;color:#8e0000}
.stat.ok{border-color:#2e7d32;color:#1b5e20}
.note{background:#fff6d5;border:1px solid #e0b000;padding:.5em 1em;border-radius:6px}
table{border-collapse:collapse;width:100%;margin:.5em 0}
th,td{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.breach td{background:#fde0e0;font-weight:bold}.about{color:#666}
svg{max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif;fill:#222}
"""

# One colour per domain (unknown last, grey); fixed so the same domain looks the same everywhere.
COLOURS = {
    Domain.CORE: "#c62828",
    Domain.RAN: "#ef6c00",
    Domain.TRANSPORT: "#6a1b9a",
    Domain.MANAGEMENT: "#1565c0",
    Domain.CPE: "#00838f",
    Domain.ENTERPRISE: "#2e7d32",
    Domain.SURVEILLANCE: "#5d4037",
}
UNKNOWN_COLOUR = "#9e9e9e"
WIDTH = 1000


def _t(s: str) -> str:
    """Escape a hostile string for element text and quoted attributes (HTML and SVG)."""
    return escape(printable(s), quote=True)


def _mark(unconfirmed: bool, approximate: bool = False) -> str:
    marks = ("*" if unconfirmed else "") + ("~" if approximate else "")
    return f"<sup title='unconfirmed fact or partial date'>{marks}</sup>" if marks else ""


def _stat(label: str, value: str, cls: str = "") -> str:
    return f"<div class='stat {cls}'><b>{value}</b>{label}</div>"


def _headline(r: AuditResult) -> str:
    devices = len({v.row for v in r.violations})
    stats = [
        _stat("devices audited", str(r.devices)),
        _stat("violations", str(len(r.violations)), "bad" if r.violations else "ok"),
        _stat("devices in violation", str(devices), "bad" if devices else "ok"),
        _stat("caps breached", str(len(r.breaches)), "bad" if r.breaches else "ok"),
        _stat("device deadlines ahead", str(sum(d.devices for d in r.deadlines))),
        _stat("as of", r.as_of.isoformat()),
        _stat("policy packs", _t(", ".join(r.policies) or "none")),
    ]
    about = (
        f"<p class='about'>Inventory {_t(r.source)}"
        + ("; vendors identified first" if r.identified else "")
        + f"; operator scope: {_t(', '.join(sorted(o.value for o in r.operators)))}.</p>"
    )
    return f"<div class='headline'>{''.join(stats)}</div>{about}"


def _domain_order(domain: Domain | None) -> int:
    return len(COLOURS) if domain is None else list(COLOURS).index(domain)


def exposure_svg(r: AuditResult) -> str:
    """Horizontal stacked bars: one per vendor (most devices first), a segment per domain."""
    per: dict[str | None, Counter[Domain | None]] = defaultdict(Counter)
    for e in r.exposure:
        per[e.vendor][e.domain] += e.devices
    if not per:
        return "<p>No devices.</p>"
    vendors = sorted(per, key=lambda v: (-sum(per[v].values()), v or "~"))
    top = max(sum(c.values()) for c in per.values())
    left, bar, gap, scale_w = 150, 22, 8, WIDTH - 150 - 60
    height = len(vendors) * (bar + gap) + 40
    parts: list[str] = []
    for i, vendor in enumerate(vendors):
        y, x = i * (bar + gap) + 5, float(left)
        name = vendor or "unidentified"
        parts.append(f"<text x='{left - 8}' y='{y + 16}' text-anchor='end'>{_t(name)}</text>")
        for domain in sorted(per[vendor], key=_domain_order):
            n = per[vendor][domain]
            w = scale_w * n / top
            label = f"{name}, {domain or 'unknown domain'}: {n} devices"
            colour = COLOURS.get(domain, UNKNOWN_COLOUR) if domain else UNKNOWN_COLOUR
            parts.append(
                f"<rect x='{x:.1f}' y='{y}' width='{w:.1f}' height='{bar}' fill='{colour}' "
                f"stroke='#fff'><title>{_t(label)}</title></rect>"
            )
            if w >= 18:
                parts.append(
                    f"<text x='{x + w / 2:.1f}' y='{y + 16}' text-anchor='middle' "
                    f"style='fill:#fff'>{n}</text>"
                )
            x += w
        parts.append(f"<text x='{x + 6:.1f}' y='{y + 16}'>{sum(per[vendor].values())}</text>")
    parts.append(_legend(height - 22))
    return _svg("exposure", "Exposure by vendor and domain", height, parts)


def _legend(y: int) -> str:
    items = [(d.value, c) for d, c in COLOURS.items()] + [("unknown", UNKNOWN_COLOUR)]
    out = []
    for i, (name, colour) in enumerate(items):
        x = 150 + i * 110
        out.append(
            f"<rect x='{x}' y='{y}' width='12' height='12' fill='{colour}'/>"
            f"<text x='{x + 16}' y='{y + 11}'>{name}</text>"
        )
    return "".join(out)


def _svg(ident: str, title: str, height: int, parts: list[str]) -> str:
    return (
        f"<svg id='{ident}-chart' role='img' aria-label='{title}'"
        f" width='{WIDTH}' height='{height}' viewBox='0 0 {WIDTH} {height}'>"
        f"<title>{title}</title>{''.join(parts)}</svg>"
    )


def timeline_points(r: AuditResult) -> list[tuple[dt.date, str, int, bool]]:
    """(due date, rule id, devices, overdue) per removal deadline: those ahead from the
    deadlines, those passed from devices violating a rule after its removal date."""
    ahead: Counter[tuple[dt.date, str]] = Counter()
    for d in r.deadlines:
        ahead[(d.due, d.rule.id)] += d.devices
    overdue: dict[tuple[dt.date, str], set[int]] = defaultdict(set)
    for v in r.violations:
        remove = v.rule.effect(EffectKind.REMOVE_BY)
        if remove is not None and v.since > remove.day:
            overdue[(remove.day, v.rule.id)].add(v.row)
    points = [(day, rule, n, False) for (day, rule), n in ahead.items()]
    points += [(day, rule, len(rows), True) for (day, rule), rows in overdue.items()]
    return sorted(points)


def timeline_svg(r: AuditResult) -> str:
    """Due dates on a time axis (with the audit's date marked); a bar per deadline and rule,
    its height the device count, red when already passed, amber when ahead."""
    points = timeline_points(r)
    if not points:
        return "<p>No removal deadlines concern this inventory.</p>"
    days = [p[0] for p in points] + [r.as_of]
    start = dt.date(min(days).year, 1, 1)
    end = dt.date(max(days).year + 1, 1, 1)
    left, right, base, top_h = 60, WIDTH - 120, 300, 120  # room for the slanted labels
    span = (end - start).days

    def x(day: dt.date) -> float:
        return left + (right - left) * (day - start).days / span

    most = max(p[2] for p in points)
    parts = [f"<line x1='{left}' y1='{base}' x2='{right}' y2='{base}' stroke='#444'/>"]
    for year in range(start.year, end.year + 1):
        xy = x(dt.date(year, 1, 1))
        parts.append(
            f"<line x1='{xy:.1f}' y1='{base}' x2='{xy:.1f}' y2='{base + 6}' stroke='#444'/>"
            f"<text x='{xy:.1f}' y='{base + 20}' text-anchor='middle'>{year}</text>"
        )
    now = x(r.as_of)
    parts.append(
        f"<line x1='{now:.1f}' y1='{base - top_h - 20}' x2='{now:.1f}' y2='{base + 26}' "
        f"stroke='#1565c0' stroke-dasharray='4 3'/><text x='{now + 4:.1f}' y='{base + 36}' "
        f"style='fill:#1565c0'>as of {r.as_of.isoformat()}</text>"
    )
    stacked: Counter[dt.date] = Counter()  # rules sharing a date sit side by side
    for day, rule, n, overdue in points:
        h = max(4.0, top_h * n / most)
        bx = x(day) - 9 + 22 * stacked[day]
        stacked[day] += 1
        colour = "#c62828" if overdue else "#f9a825"
        state = "overdue" if overdue else "due"
        tip = f"{rule}: {n} devices {state} {day.isoformat()}"
        parts.append(
            f"<rect x='{bx:.1f}' y='{base - h:.1f}' width='18' height='{h:.1f}' fill='{colour}'>"
            f"<title>{_t(tip)}</title></rect>"
            f"<text x='{bx + 9:.1f}' y='{base - h - 4:.1f}' text-anchor='middle'>{n}</text>"
            f"<text transform='translate({bx + 13:.1f},{base - h - 18:.1f}) rotate(-60)'>"
            f"{_t(rule)} ({day.isoformat()})</text>"
        )
    parts.append(
        f"<rect x='{left}' y='{base + 46}' width='12' height='12' fill='#c62828'/>"
        f"<text x='{left + 16}' y='{base + 57}'>deadline passed, devices still present</text>"
        f"<rect x='{left + 300}' y='{base + 46}' width='12' height='12' fill='#f9a825'/>"
        f"<text x='{left + 316}' y='{base + 57}'>devices to remove by the date</text>"
    )
    return _svg("timeline", "Removal timeline", base + 66, parts)


def _row(cells: list[str], cls: str = "") -> str:
    attr = f" class='{cls}'" if cls else ""
    return f"<tr{attr}>{''.join(cells)}</tr>"


def _td(s: str | None, num: bool = False) -> str:
    return f"<td class='num'>{_t(s)}</td>" if num and s else f"<td>{_t(s or '—')}</td>"


def _table(title: str, head: list[str], rows: list[str]) -> str:
    if not rows:
        return f"<h2>{title}</h2><p>None.</p>"
    ths = "".join(f"<th>{h}</th>" for h in head)
    return f"<h2>{title} ({len(rows)})</h2><table><tr>{ths}</tr>{''.join(rows)}</table>"


def _violations(r: AuditResult) -> str:
    rows = [
        _row(
            [
                _td(v.device or f"row {v.row}"),
                _td(v.name),
                _td(v.site),
                _td(v.vendor or "unidentified"),
                _td(v.domain or "unknown"),
                f"<td>{_t(v.rule.id)}{_mark(v.unconfirmed, v.approximate)}</td>",
                _td(v.since.isoformat()),
                _td(v.why),
            ]
        )
        for v in r.violations
    ]
    head = ["device", "name", "site", "vendor", "domain", "rule", "since", "why"]
    return _table("Violations", head, rows)


def _deadlines(r: AuditResult) -> str:
    rows = [
        _row(
            [
                _td(d.due.isoformat()),
                f"<td>{_t(d.rule.id)}{_mark(d.unconfirmed, d.approximate)}</td>",
                _td(d.domain or "unknown"),
                _td(d.site),
                _td(str(d.devices), num=True),
            ]
        )
        for d in r.deadlines
    ]
    return _table("Deadlines ahead", ["due", "rule", "domain", "site", "devices"], rows)


def _caps(r: AuditResult) -> str:
    rows = []
    for c in r.caps:
        state = c.state
        when = "in force" if c.in_force else f"from {c.effect.day.isoformat()}"
        extra = f" ({c.unknown} devices of unknown scope)" if c.unknown else ""
        extra += " (conditional)" if c.conditional else ""
        share = f"{percent_text(c.share)}% ({c.count}/{c.total})"
        rows.append(
            _row(
                [
                    f"<td>{_t(c.rule.id)}{_mark(c.unconfirmed)}</td>",
                    _td(c.domain.value),
                    _td(c.vendor or "named vendors"),
                    _td(share, num=True),
                    _td(f"{percent_text(c.limit)}%", num=True),
                    _td(when),
                    _td(state + extra),
                ],
                "breach" if c.breach else "",
            )
        )
    head = ["rule", "domain", "vendor", "share now", "cap", "applies", "standing"]
    return _table("Caps", head, rows)


def _note(r: AuditResult) -> str:
    if not r.unconfirmed:
        return ""
    return (
        "<p class='note' id='unconfirmed'><strong>Note:</strong> some findings rest on a fact "
        "whose status is not confirmed (marked <sup>*</sup>); <sup>~</sup> marks a partial "
        "date. Check the rule's sources before acting on them.</p>"
    )


def _assumptions(r: AuditResult) -> str:
    """What the user settled with --assume: findings below rest on it, so it sits on top."""
    if not r.assumptions:
        return ""
    items = "".join(
        f"<li><strong>{_t(a.rule.id)}</strong>: "
        f"{'holds' if a.holds else 'does not hold (rule left out)'} &mdash; {_t(a.condition)}</li>"
        for a in r.assumptions
    )
    return (
        "<div class='note' id='assumptions'><strong>Assumed</strong> (conditions netvet cannot "
        f"see, settled with --assume):<ul>{items}</ul></div>"
    )


def _unmapped(r: AuditResult) -> str:
    if not r.unmapped_roles:
        return ""
    roles = ", ".join(f"{_t(role)} ({n})" for role, n in r.unmapped_roles)
    return (
        f"<p class='about' id='unmapped-roles'>Roles with no network domain (give --role-map "
        f"ROLE=DOMAIN): {roles}.</p>"
    )


def render(result: AuditResult) -> str:
    """The whole HTML document as a string."""
    packs = _t(", ".join(result.policies) or "no policy")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' "
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>netvet audit: {packs} as of {result.as_of.isoformat()}</title>"
        f"<style>{CSS}</style></head><body>"
        f"<h1>netvet audit against {packs}</h1>"
        + _headline(result)
        + warnings_html(result)
        + _unmapped(result)
        + _assumptions(result)
        + _note(result)
        + "<h2>Exposure by vendor and domain</h2>"
        + exposure_svg(result)
        + "<h2>Removal timeline</h2>"
        + timeline_svg(result)
        + _violations(result)
        + _deadlines(result)
        + _caps(result)
        + undetermined_html(result)
        + "</body></html>\n"
    )
