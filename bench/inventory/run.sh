#!/usr/bin/env bash
# netvet inventory identify on 10 million generated rows vs DuckDB copying the same CSV (read
# and write, no work in between). RUNS interleaved runs of each (default 3); wall, CPU and
# peak RSS from /usr/bin/time -v; a markdown table of medians at the end.
#
#   bash bench/inventory/run.sh            # ROWS=10000000 RUNS=3
#   RUNS=2 ROWS=1000000 bash bench/inventory/run.sh
#   ADVERSARIAL=1 bash bench/inventory/run.sh   # the worst case (make_rows.py --adversarial)
#   OUT_DIR=/dev/shm bash bench/inventory/run.sh # both tools write to memory, not disk
#
# Both tools write their output to OUT_DIR (default bench/work/inventory). On a machine whose
# disk writes are slow, writing dominates both times (netvet writes 2.2x the bytes: the rows
# plus five columns); OUT_DIR=/dev/shm shows the compute alone (see docs/benchmarks.md).
#
# DuckDB is installed into its own venv (bench/work/duckdb-venv): it is not a netvet dependency.
set -euo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
WORK=$ROOT/bench/work/inventory
RUNS=${RUNS:-3}
ROWS=${ROWS:-10000000}
PY=$ROOT/.venv/bin/python
NETVET=$ROOT/.venv/bin/netvet
DDVENV=$ROOT/bench/work/duckdb-venv
OUT_DIR=${OUT_DIR:-$WORK}
mkdir -p "$WORK" "$OUT_DIR"

ADVERSARIAL=${ADVERSARIAL:-0}
if [[ $ADVERSARIAL == 1 ]]; then
    ROWS_CSV=$WORK/adversarial-$ROWS.csv
    MAKE_ARGS=(--adversarial)
elif [[ $ROWS == 10000000 ]]; then
    ROWS_CSV=$WORK/rows.csv
    MAKE_ARGS=()
else
    ROWS_CSV=$WORK/rows-$ROWS.csv
    MAKE_ARGS=()
fi
if [[ ! -s $ROWS_CSV ]]; then
    "$PY" bench/inventory/make_rows.py "$ROWS_CSV" --rows "$ROWS" "${MAKE_ARGS[@]}"
fi
if [[ ! -x $DDVENV/bin/python ]]; then
    python3 -m venv "$DDVENV"
    "$DDVENV/bin/pip" install --quiet duckdb
fi

RESULTS=$WORK/results.tsv
: >"$RESULTS"
cat "$ROWS_CSV" >/dev/null # warm page cache: every tool reads a cached file

# shellcheck source=bench/timev.sh
source "$ROOT/bench/timev.sh"

DUCK="COPY (SELECT * FROM read_csv_auto('$ROWS_CSV')) TO '$OUT_DIR/dd.csv' (HEADER)"
# Every run writes a new file: the previous outputs are removed first and the machine is left
# SETTLE seconds. Overwriting would favour whichever tool truncates its old output before
# writing (DuckDB does; netvet writes a temporary file and renames it over the old one): on a
# VM whose freed memory goes back to the host within seconds (free page reporting, as on the
# machine in docs/benchmarks.md), pages freed just before are cheap to fill and pages freed
# long ago cost a host fault each. Both tools now start alike.
SETTLE=${SETTLE:-5}
fresh() {
    rm -f "$OUT_DIR/out.csv" "$OUT_DIR/dd.csv"
    sleep "$SETTLE"
}
for run in $(seq 1 "$RUNS"); do
    fresh
    measure netvet "$run" "$NETVET" inventory identify "$ROWS_CSV" --output "$OUT_DIR/out.csv"
    fresh
    measure duckdb "$run" "$DDVENV/bin/python" -c "import duckdb; duckdb.sql(\"$DUCK\")"
done
if [[ $OUT_DIR != "$WORK" ]]; then
    rm -f "$OUT_DIR/out.csv" "$OUT_DIR/dd.csv" # memory, when OUT_DIR is a tmpfs
fi

"$PY" - "$RESULTS" "$ROWS" "$("$DDVENV/bin/python" -c 'import duckdb; print(duckdb.__version__)')" <<'EOF'
import statistics
import sys

rows = int(sys.argv[2])
runs: dict[str, list[list[str]]] = {}
for line in open(sys.argv[1], encoding="utf-8"):
    tool, _run, *rest = line.rstrip("\n").split("\t")
    runs.setdefault(tool, []).append(rest)
med = {}
print(f"{rows:,} rows; DuckDB {sys.argv[3]}\n")
print("| tool | runs | median wall (s) | min-max (s) | median CPU (s) | rows/s | median peak RSS "
      "(MiB) | / 4 GiB | load (1-min) | exit |")
print("|---|---|---|---|---|---|---|---|---|---|")
for tool, rs in runs.items():
    wall = [float(r[0]) for r in rs]
    cpu = statistics.median(float(r[1]) for r in rs)
    rss = statistics.median(int(r[2]) for r in rs) / 1024
    load = statistics.median(float(r[3]) for r in rs)
    med[tool] = statistics.median(wall)
    exits = ",".join(sorted({r[4] for r in rs}))
    print(f"| {tool} | {len(rs)} | {med[tool]:.2f} | {min(wall):.2f}-{max(wall):.2f} | {cpu:.2f}"
          f" | {rows / med[tool]:,.0f} | {rss:,.0f} | {rss / 4096:.2f} | {load:.2f} | {exits} |")
if "netvet" in med and "duckdb" in med:
    ratio = med["netvet"] / med["duckdb"]
    print(f"\nnetvet / duckdb (median wall): {ratio:.2f}x (target <= 3x:"
          f" {'met' if ratio <= 3 else 'missed'})")
    # Run i of each tool ran back to back: their ratio cancels drift in the machine's speed.
    pairs = [float(n[0]) / float(d[0]) for n, d in zip(runs["netvet"], runs["duckdb"])]
    print(f"per-run ratios: {', '.join(f'{p:.2f}' for p in pairs)}"
          f" (median {statistics.median(pairs):.2f}x)")
EOF
