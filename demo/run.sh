#!/usr/bin/env bash
# `make demo`: compare a reviewed firmware image with a benign rebuild and with an implanted copy.
#
#   bash demo/run.sh [NETVET]     (default NETVET: .venv/bin/netvet)
#
# Prints both text reports, writes both HTML reports to out/demo-*.html, and exits 0 when netvet
# gave the expected verdicts (equivalent -> exit 0, different -> exit 1), 1 otherwise.
# The images in demo/images/ are made by tests/fixtures/pairs/make_pairs.sh; see demo/README.md.
set -uo pipefail

NETVET=${1:-.venv/bin/netvet}
IMAGES=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/images
OUT=${OUT:-out}
REF=$IMAGES/reference.tar
status=0

compare() {  # compare DEPLOYED EXPECTED-EXIT TITLE HTML-NAME
    local dep=$1 want=$2 title=$3 html=$4 code
    printf '\n=== %s ===\n$ netvet firmware compare %s %s\n\n' "$title" \
        "demo/images/$(basename "$REF")" "demo/images/$(basename "$dep")"
    "$NETVET" firmware compare "$REF" "$dep" --no-progress
    code=$?
    if [ "$code" -eq "$want" ]; then
        printf '\n(exit %s, as expected)\n' "$code"
    else
        printf '\n(exit %s, expected %s)\n' "$code" "$want" >&2
        status=1
    fi
    "$NETVET" firmware compare "$REF" "$dep" --no-progress --format html -o "$OUT/$html" \
        2>/dev/null
    code=$?
    [ "$code" -eq "$want" ] || { echo "HTML report: exit $code, expected $want" >&2; status=1; }
}

[ -x "$NETVET" ] || command -v "$NETVET" >/dev/null || {
    echo "netvet not found at $NETVET (run 'make demo', which installs it)" >&2
    exit 2
}
mkdir -p "$OUT"
compare "$IMAGES/rebuild.tar" 0 "1. the same sources rebuilt four days later (benign)" \
    demo-rebuild.html
compare "$IMAGES/implanted.tar" 1 "2. the rebuild with three implants" demo-implanted.html

# 3. Is it allowed here? A sample operator inventory audited against two allies' packs.
INVENTORY=tests/policy/samples/operator-inventory.csv
AUDIT=(--policy uk,de --role-map olt=ran --as-of 2028-01-01)
printf '\n=== 3. a sample operator inventory against the UK and German rules ===\n'
printf '$ netvet audit %s %s\n\n' "$INVENTORY" "${AUDIT[*]}"
"$NETVET" audit "$INVENTORY" "${AUDIT[@]}"
code=$?
if [ "$code" -eq 1 ]; then
    printf '\n(exit 1: violations found, as expected)\n'
else
    printf '\n(exit %s, expected 1)\n' "$code" >&2
    status=1
fi
"$NETVET" audit "$INVENTORY" "${AUDIT[@]}" --format html -o "$OUT/demo-audit.html" 2>/dev/null
[ $? -eq 1 ] || { echo "HTML audit report: unexpected exit" >&2; status=1; }

printf '\nHTML reports: %s/demo-rebuild.html, %s/demo-implanted.html and %s/demo-audit.html\n' \
    "$OUT" "$OUT" "$OUT"
exit "$status"
