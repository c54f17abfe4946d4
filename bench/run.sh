#!/usr/bin/env bash
# netvet vs diffoscope and two decompress-and-hash floors on two SquashFS pairs (see
# docs/benchmarks.md). Called by `make bench`.
#
# Builds the images if missing (bench/make_images.py), then runs each tool RUNS times per pair,
# interleaved, on a warm page cache, appending one JSON line per run to bench/work/results.jsonl,
# and prints a markdown table of medians (bench/summarize.py).
#
# Environment:
#   RUNS=3                   runs per tool and pair
#   PAIRS="big small"        which pairs
#   TOOLS="baseline-own baseline baseline-stock netvet netvet-serial diffoscope"
#                            (baseline-own: the floor through netvet's own SquashFS reader;
#                            baseline: through dissect.squashfs; baseline-stock: dissect unpatched;
#                            netvet-serial: netvet with NETVET_NO_PARALLEL=1, no worker process)
#   TIMEOUT=1800             seconds before a run is killed and recorded as timed out
#   PY=.venv/bin/python  NETVET=.venv/bin/netvet
#
# Needs: mksquashfs/unsquashfs (squashfs-tools), diffoscope (Debian package), both on PATH:
#   apt-get install squashfs-tools diffoscope
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
PAIRS=${PAIRS:-"big small"}
TOOLS=${TOOLS:-"baseline-own baseline baseline-stock netvet netvet-serial diffoscope"}
TIMEOUT=${TIMEOUT:-1800}
PY=${PY:-.venv/bin/python}
NETVET=${NETVET:-.venv/bin/netvet}
WORK=bench/work
OUT=$WORK/results.jsonl
SESSION=$(date -u +%Y-%m-%dT%H:%M:%SZ)

for tool in mksquashfs unsquashfs; do
    command -v "$tool" >/dev/null || { echo "bench: $tool missing (apt-get install squashfs-tools)" >&2; exit 2; }
done
if [[ " $TOOLS " == *" diffoscope "* ]] && ! command -v diffoscope >/dev/null; then
    echo "bench: diffoscope missing (apt-get install diffoscope)" >&2
    exit 2
fi

mkdir -p "$WORK"
# An installed netvet has its bytecode compiled (pip does it at install time). A checkout run
# with PYTHONDONTWRITEBYTECODE=1 in the environment would compile ~60 modules on every run
# (~0.3 s CPU, and again in the worker process): compile them once, as an install would.
"$PY" -m compileall -q src/netvet
"$PY" bench/make_images.py --work "$WORK"
"$PY" bench/machine.py > "$WORK/machine.json"

measure() {  # pair tool run -- command...
    local pair=$1 tool=$2 run=$3
    shift 4
    "$PY" bench/measure.py --out "$OUT" --session "$SESSION" --pair "$pair" --tool "$tool" \
        --run "$run" --timeout "$TIMEOUT" -- "$@"
}

for pair in $PAIRS; do
    ref=$WORK/$pair/ref.squashfs
    dep=$WORK/$pair/dep.squashfs
    cat "$ref" "$dep" > /dev/null  # warm the page cache: every tool reads from memory
    for run in $(seq 1 "$RUNS"); do
        for tool in $TOOLS; do
            case $tool in
            baseline-own)  # the floor through netvet's own reader (usually the stricter floor)
                measure "$pair" baseline-own "$run" -- \
                    "$PY" bench/hash_baseline.py --reader own "$ref" "$dep" ;;
            baseline)
                measure "$pair" baseline "$run" -- "$PY" bench/hash_baseline.py "$ref" "$dep" ;;
            baseline-stock)  # the same through dissect's unpatched stream (hash_baseline.py)
                measure "$pair" baseline-stock "$run" -- \
                    "$PY" bench/hash_baseline.py --stock "$ref" "$dep" ;;
            netvet)
                # The report goes to a file, not /dev/null: --output writes atomically (temp
                # file + rename), which must not be pointed at a device node.
                measure "$pair" netvet "$run" -- "$NETVET" firmware compare "$ref" "$dep" \
                    --format json --output "$WORK/$pair-netvet.json" --no-progress ;;
            netvet-serial)  # the same without the worker process that lists the deployed side
                measure "$pair" netvet-serial "$run" -- env NETVET_NO_PARALLEL=1 "$NETVET" \
                    firmware compare "$ref" "$dep" --format json \
                    --output "$WORK/$pair-netvet-serial.json" --no-progress ;;
            diffoscope)
                measure "$pair" diffoscope "$run" -- diffoscope "$ref" "$dep" \
                    --text "$WORK/$pair-diffoscope.txt" ;;
            *)
                echo "bench: unknown tool $tool" >&2
                exit 2 ;;
            esac
        done
    done
done

"$PY" bench/summarize.py "$WORK"
