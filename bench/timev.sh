# shellcheck shell=bash
# measure TOOL RUN COMMAND...: runs COMMAND under /usr/bin/time -v (stdout and stderr to
# $WORK/TOOL-RUN.*) and appends "tool run wall cpu maxrss_kib load exit" to $RESULTS.
# Sourced by bench/inventory/run.sh and bench/audit/run.sh, which set WORK and RESULTS.
# A non-zero exit is recorded, not fatal: `netvet audit` exits 1 when it finds violations.
measure() {
    local tool=$1 run=$2 log load
    shift 2
    log=$WORK/$tool-$run.time
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v -o "$log" "$@" >"$WORK/$tool-$run.stdout" 2>"$WORK/$tool-$run.stderr" || true
    awk -v tool="$tool" -v run="$run" -v ld="$load" -F': ' '
        /User time/ {u=$2} /System time/ {s=$2} /Maximum resident/ {m=$2}
        /Elapsed \(wall clock\)/ {n=split($2, p, ":"); w=0; for (i=1;i<=n;i++) w=w*60+p[i]}
        /Exit status/ {x=$2}
        END {printf "%s\t%s\t%.2f\t%.2f\t%d\t%s\t%s\n", tool, run, w, u+s, m, ld, x}
    ' "$log" >>"$RESULTS"
    tail -1 "$RESULTS"
}
