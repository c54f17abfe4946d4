"""Turn bench/work/results.jsonl into the markdown tables of docs/benchmarks.md.

For each (pair, tool) it takes the runs of the latest session that measured that pair and tool
(so tools can be measured in separate `run.sh` calls; the tables then name the sessions used),
and reports the median wall time, the spread, the median peak memory and the exit codes. It
also checks that each tool actually found the planted change (a fast tool that misses it is
worth nothing): netvet's JSON must say `different` with an unexplained finding at the changed
path, diffoscope's text report must mention the changed file.

netvet's ratio to the decompress-and-hash floor (target <= 1.2x) is judged against the faster
of the two floors measured for the pair (`baseline-own`, netvet's own SquashFS reader, or
`baseline`, dissect.squashfs): a floor built on a slower parser would flatter netvet. The other
floor's ratio is shown for information.

Usage: python bench/summarize.py [WORK_DIR]   (also writes WORK_DIR/summary.md)
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

TOOLS = ("baseline-own", "baseline", "baseline-stock", "netvet", "netvet-serial", "diffoscope")
NETVETS = ("netvet", "netvet-serial")  # netvet-serial: NETVET_NO_PARALLEL=1 (no worker process)
# The decompress-and-hash floors (hash_baseline.py): netvet's own SquashFS reader, dissect's.
FLOORS = ("baseline-own", "baseline")
TARGET_VS_DIFFOSCOPE = 0.5
TARGET_VS_FLOOR = 1.2


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


def judged_floor(runs: dict[tuple[str, str], list[dict[str, Any]]], pair: str) -> str | None:
    """The floor the 1.2x target is judged against: the faster (lower median wall) of those
    measured, so that a slow parser under the floor cannot flatter netvet."""
    measured = [f for f in FLOORS if runs.get((pair, f))]
    return min(measured, key=lambda f: wall(runs[(pair, f)])[0]) if measured else None


def ratio_cell(
    nv: list[dict[str, Any]], peer: list[dict[str, Any]] | None, target: float | None
) -> str:
    """netvet's median wall over the peer's; with the verdict when `target` is given."""
    if not peer:
        return "not measured"
    (n, _), (p, peer_timeout) = wall(nv), wall(peer)
    ratio = n / p
    bound = "<" if peer_timeout else ""  # a timed-out peer's median is a lower bound
    if target is None:
        return f"{bound}{ratio:.2f}"
    met = "met" if ratio <= target else f"missed by {ratio / target - 1:.0%}"
    return f"{bound}{ratio:.2f} ({met})"


def ratios(runs: dict[tuple[str, str], list[dict[str, Any]]], pairs: list[str]) -> list[str]:
    out = [
        f"| pair | tool | / diffoscope (target <= {TARGET_VS_DIFFOSCOPE}) "
        f"| / judged floor (target <= {TARGET_VS_FLOOR}) | judged floor "
        "| / other floor (information) | / baseline-stock (information) "
        "| / judged floor by CPU time (information) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pair in pairs:
        judged = judged_floor(runs, pair)
        other = next((f for f in FLOORS if f != judged and runs.get((pair, f))), None)
        for tool in NETVETS:
            nv = runs.get((pair, tool))
            if not nv:
                continue
            floor = runs.get((pair, judged)) if judged else None
            cells = [
                ratio_cell(nv, runs.get((pair, "diffoscope")), TARGET_VS_DIFFOSCOPE),
                ratio_cell(nv, floor, TARGET_VS_FLOOR),
                # a lone dissect floor may be the slower one: say that the other was not run
                judged + (" (the only floor measured)" if other is None else "")
                if judged
                else "none measured",
                f"{ratio_cell(nv, runs[(pair, other)], None)} ({other})"
                if other
                else "not measured",
                ratio_cell(nv, runs.get((pair, "baseline-stock")), None),
                f"{cpu_of(nv) / cpu_of(floor):.2f}" if floor else "not measured",
            ]
            out.append(f"| {pair} | {tool} | " + " | ".join(cells) + " |")
    out += [
        "",
        f"The {TARGET_VS_FLOOR}x target is judged against the faster of the two "
        "decompress-and-hash floors on each pair (baseline-own: netvet's own SquashFS reader; "
        "baseline: dissect.squashfs); the other is shown for information.",
    ]
    return out


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
    out += ["", *ratios(runs, pairs)]
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
