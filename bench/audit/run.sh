#!/usr/bin/env bash
# netvet audit of 10 million generated devices against every shipped policy pack, against
# identification alone (netvet inventory identify) on the same file. RUNS interleaved runs of
# each (default 3); wall, CPU and peak RSS from /usr/bin/time -v; a markdown table of medians
# and the audit / identify ratio at the end.
#
#   bash bench/audit/run.sh            # ROWS=10000000 RUNS=3
#   RUNS=2 ROWS=1000000 bash bench/audit/run.sh
#
# The rows are bench/inventory/make_rows.py's plus a generation column (bench/audit/make_rows.py);
# the domain comes from the role through bench/audit/roles.yaml. The audit identifies vendors
# first (the file has no vendor column) and writes its CSV report; identify writes its CSV rows.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$ROOT/bench/work/audit
RUNS=${RUNS:-3}
ROWS=${ROWS:-10000000}
AS_OF=${AS_OF:-2026-12-01}
PY=$ROOT/.venv/bin/python
NETVET=$ROOT/.venv/bin/netvet
mkdir -p "$WORK"

if [[ $ROWS == 10000000 ]]; then ROWS_CSV=$WORK/rows.csv; else ROWS_CSV=$WORK/rows-$ROWS.csv; fi
if [[ ! -s $ROWS_CSV ]]; then
    "$PY" bench/audit/make_rows.py "$ROWS_CSV" --rows "$ROWS"
fi

RESULTS=$WORK/results-$ROWS.tsv
: >"$RESULTS"
cat "$ROWS_CSV" >/dev/null # warm page cache: both commands read a cached file

# shellcheck source=bench/timev.sh
source "$ROOT/bench/timev.sh"

for run in $(seq 1 "$RUNS"); do
    measure audit "$run" "$NETVET" audit "$ROWS_CSV" --policy all \
        --role-map bench/audit/roles.yaml --as-of "$AS_OF" --format csv \
        --output "$WORK/audit.csv"
    measure identify "$run" "$NETVET" inventory identify "$ROWS_CSV" --as-of "$AS_OF" \
        --output "$WORK/identified.csv"
done

"$PY" - "$RESULTS" "$ROWS" <<'PYEOF'
import statistics
import sys

rows = int(sys.argv[2])
runs: dict[str, list[list[str]]] = {}
for line in open(sys.argv[1], encoding="utf-8"):
    tool, _run, *rest = line.rstrip("\n").split("\t")
    runs.setdefault(tool, []).append(rest)
wall, cpu = {}, {}
print(f"{rows:,} rows, every shipped pack\n")
print("| command | runs | median wall (s) | min-max (s) | median CPU (s) | rows/s | median peak "
      "RSS (MiB) | load (1-min) | exit |")
print("|---|---|---|---|---|---|---|---|---|")
for tool, rs in runs.items():
    walls = [float(r[0]) for r in rs]
    wall[tool] = statistics.median(walls)
    cpu[tool] = statistics.median(float(r[1]) for r in rs)
    rss = statistics.median(int(r[2]) for r in rs) / 1024
    load = statistics.median(float(r[3]) for r in rs)
    exits = ",".join(sorted({r[4] for r in rs}))
    print(f"| {tool} | {len(rs)} | {wall[tool]:.2f} | {min(walls):.2f}-{max(walls):.2f} | "
          f"{cpu[tool]:.2f} | {rows / wall[tool]:,.0f} | {rss:,.0f} | {load:.2f} | {exits} |")
if "audit" in wall and "identify" in wall:
    print(f"\naudit / identify: {wall['audit'] / wall['identify']:.2f}x wall, "
          f"{cpu['audit'] / cpu['identify']:.2f}x CPU (medians)")
PYEOF
