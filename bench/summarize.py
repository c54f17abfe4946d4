"""Turn bench/work/results.jsonl into the markdown tables of docs/benchmarks.md.

For each (pair, tool) it takes the runs of the latest session that measured that pair and tool
(so tools can be measured in separate `run.sh` calls; the tables then name the sessions used),
and reports the median wall time, the spread, the median peak memory and the exit codes. It
also checks that each tool actually found the planted change (a fast tool that misses it is
worth nothing): netvet's JSON must say `different` with an unexplained finding at the changed
path, diffoscope's text report must mention the changed file.

Usage: python bench/summarize.py [WORK_DIR]   (also writes WORK_DIR/summary.md)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

TOOLS = ("baseline", "baseline-stock", "netvet", "netvet-serial", "diffoscope")
NETVETS = ("netvet", "netvet-serial")  # netvet-serial: NETVET_NO_PARALLEL=1 (no worker process)
TARGET_VS_DIFFOSCOPE = 0.5
TARGET_VS_BASELINE = 1.2
# (peer, target ratio or None for information only)
PEERS: tuple[tuple[str, float | None], ...] = (
    ("diffoscope", TARGET_VS_DIFFOSCOPE),
    ("baseline", TARGET_VS_BASELINE),
    ("baseline-stock", None),
)


def latest_runs(records: list[dict[str, Any]]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    by_key: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = {}
    for r in records:
        by_key.setdefault((r["pair"], r["tool"]), {}).setdefault(r.get("session", ""), []).append(r)
    return {k: sessions[max(sessions)] for k, sessions in by_key.items()}


def wall(runs: list[dict[str, Any]]) -> tuple[float, bool]:
    """Median wall time, and whether any run timed out (then the median is a lower bound)."""
    return statistics.median(r["wall_s"] for r in runs), any(r["timed_out"] for r in runs)


def cpu_of(runs: list[dict[str, Any]]) -> float:
    """Median CPU time (user + system, children included)."""
    return statistics.median(r["user_s"] + r["sys_s"] for r in runs)


def fmt_wall(runs: list[dict[str, Any]]) -> str:
    median, timed_out = wall(runs)
    return f">{median:.0f} (timed out)" if timed_out else f"{median:.2f}"


def detected(work: Path, pair: str, tool: str, manifest: dict[str, Any]) -> str:
    change = manifest.get(pair, {}).get("change", {})
    name = str(change.get("file", "")).rsplit("/", 1)[-1]
    if tool.startswith("baseline") or not name:
        return "n/a"
    if tool in NETVETS:
        report = work / f"{pair}-{tool}.json"
        if not report.exists():
            return "no report"
        data = json.loads(report.read_text())
        hits = [
            f
            for f in data.get("findings", [])
            if f.get("status") == "unexplained" and f.get("path", "").endswith(name)
        ]
        others = [
            f
            for f in data.get("findings", [])
            if f.get("status") == "unexplained" and f not in hits
        ]
        ok = data.get("verdict") == "different" and hits
        note = f"; {len(others)} other unexplained" if others else ""
        return ("yes" if ok else f"NO (verdict {data.get('verdict')})") + note
    report = work / f"{pair}-diffoscope.txt"
    if not report.exists():
        return "no report"
    return "yes" if name in report.read_text(errors="replace") else "NO"


def table(work: Path) -> str:
    records = [
        json.loads(line)
        for line in (work / "results.jsonl").read_text().splitlines()
        if line.strip()
    ]
    runs = latest_runs(records)
    manifest_path = work / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    pairs = sorted({p for p, _ in runs}, key=lambda p: (p != "big", p))
    out = [
        "| pair | tool | runs | median wall (s) | min-max (s) | median CPU (s) | "
        "median peak RSS (MiB) | load (1-min avg) | exit | found the change |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for pair in pairs:
        for tool in TOOLS:
            rs = runs.get((pair, tool))
            if not rs:
                continue
            walls = [r["wall_s"] for r in rs]
            rss = statistics.median(r["peak_rss_kb"] for r in rs) / 1024
            cpu = cpu_of(rs)
            load = statistics.median(r.get("load1_before", float("nan")) for r in rs)
            exits = ",".join(sorted({str(r["exit"]) for r in rs}))
            found = detected(work, pair, tool, manifest)
            out.append(
                f"| {pair} | {tool} | {len(rs)} | {fmt_wall(rs)} | "
                f"{min(walls):.2f}-{max(walls):.2f} | {cpu:.2f} | {rss:.0f} | {load:.1f} | "
                f"{exits} | {found} |"
            )
    out += [
        "",
        "| pair | tool | / diffoscope (target <= 0.5) | / baseline (target <= 1.2) "
        "| / baseline-stock (information) | / baseline by CPU time (information) |",
        "|---|---|---|---|---|---|",
    ]
    for pair, tool in ((p, t) for p in pairs for t in NETVETS):
        nv = runs.get((pair, tool))
        if not nv:
            continue
        cells = []
        for peer, target in PEERS:
            pr = runs.get((pair, peer))
            if not pr:
                cells.append("not measured")
                continue
            (n, _), (p, peer_timeout) = wall(nv), wall(pr)
            ratio = n / p
            bound = "<" if peer_timeout else ""
            if target is None:
                cells.append(f"{bound}{ratio:.2f}")
                continue
            met = "met" if ratio <= target else f"missed by {ratio / target - 1:.0%}"
            cells.append(f"{bound}{ratio:.2f} ({met})")
        base = runs.get((pair, "baseline"))
        cells.append(f"{cpu_of(nv) / cpu_of(base):.2f}" if base else "not measured")
        out.append(f"| {pair} | {tool} | " + " | ".join(cells) + " |")
    sessions = sorted({r.get("session", "") for rs in runs.values() for r in rs})
    if len(sessions) > 1:  # tools measured at different times: say so under the tables
        out += ["", "Rows come from several sessions: " + ", ".join(sessions)]
    return "\n".join(out) + "\n"


def main() -> None:
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "work"
    text = table(work)
    (work / "summary.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
