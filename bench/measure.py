"""Run one command and append its wall time and peak memory to a JSON-lines file.

Peak memory is measured two ways, because diffoscope spawns helpers (unsquashfs, readelf,
objdump...) while netvet and the baseline are single processes:

- `max_rss_kb`: the largest peak RSS of any single process in the tree, from wait4() (what
  `/usr/bin/time -v` prints as "Maximum resident set size"). Exact, but it does not add up
  processes that run at the same time.
- `tree_rss_kb`: the largest *sum* of RSS over the process tree, sampled from /proc every
  `--interval` seconds. Adds concurrent processes, but can miss a peak shorter than the interval.

The reported `peak_rss_kb` is the larger of the two. A run that exceeds `--timeout` is killed
(its whole process group) and recorded with `timed_out: true`. CPU time (`user_s`, `sys_s`,
children included) and the 1-minute load average before and after are recorded too: on a shared
machine, other work stretches wall times, and these show by how much.

Usage: python bench/measure.py --out results.jsonl --pair big --tool netvet --run 1 -- CMD...
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def children_map() -> dict[int, list[int]]:
    """ppid -> pids, from /proc/*/stat."""
    kids: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # exited meanwhile
        # The command name is in parentheses and may contain spaces; fields follow the last ')'.
        ppid = int(stat[stat.rindex(b")") + 2 :].split()[1])
        kids.setdefault(ppid, []).append(int(entry.name))
    return kids


def tree_rss_kb(root: int) -> int:
    kids = children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, ()))
        try:
            with open(f"/proc/{pid}/statm", "rb") as f:
                total += int(f.read().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
    return total


def run(cmd: list[str], timeout: float, interval: float, log: Path) -> dict[str, object]:
    load_before = os.getloadavg()[0]  # other work on the machine skews wall times; say so
    started = time.monotonic()
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
    peak_tree, timed_out = 0, False
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)  # the group this script created for the command
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        peak_tree = max(peak_tree, tree_rss_kb(proc.pid))
        time.sleep(interval)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {
        "wall_s": round(wall, 3),
        "user_s": round(usage.ru_utime, 3),
        "sys_s": round(usage.ru_stime, 3),
        "max_rss_kb": usage.ru_maxrss,
        "tree_rss_kb": peak_tree,
        "peak_rss_kb": max(usage.ru_maxrss, peak_tree),
        "exit": proc.returncode,
        "timed_out": timed_out,
        "load1_before": round(load_before, 2),
        "load1_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--pair", required=True)
    ap.add_argument("--tool", required=True)
    ap.add_argument("--run", type=int, required=True)
    ap.add_argument("--session", default="", help="groups the runs of one bench invocation")
    ap.add_argument("--timeout", type=float, default=1800.0)
    ap.add_argument("--interval", type=float, default=0.1)
    ap.add_argument("--log", type=Path, help="where the command's stderr goes")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command given")
    log = args.log or args.out.with_name(f"{args.pair}-{args.tool}-{args.run}.stderr")
    result = {
        "session": args.session,
        "pair": args.pair,
        "tool": args.tool,
        "run": args.run,
        "command": cmd,
    }
    result.update(run(cmd, args.timeout, args.interval, log))
    with args.out.open("a") as f:
        f.write(json.dumps(result) + "\n")
    shown = f">{args.timeout:.0f} s (timed out)" if result["timed_out"] else f"{result['wall_s']} s"
    print(
        f"{args.pair} {args.tool} #{args.run}: {shown}, peak {result['peak_rss_kb']} KB, "
        f"exit {result['exit']}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
