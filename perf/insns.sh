#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per packet of net_fbnic's Rx + Tx bursts next to net_null's, counted by
# callgrind (deterministic: no PMU needed, no run-to-run noise). Runs the mbuf_burst bench
# (pmd/benches/mbuf_burst.rs: real rte_mbufs, EAL on 4 KiB pages, the fake device) for a
# fixed number of batches under valgrind and prints the inclusive instruction counts of its
# two timed functions per packet forwarded.
#
#   bash perf/insns.sh [BATCHES]        (default 500 batches of 8 x 32 packets per side)
set -euo pipefail
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"

die() { echo "perf/insns.sh: $*" >&2; exit 1; }

BATCHES=${1:-500}
[[ "$BATCHES" =~ ^[1-9][0-9]*$ ]] || die "BATCHES must be a count above 0, not '$BATCHES'"
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends valgrind >&2 ||
        die "valgrind is not installed and apt-get could not install it"
fi

bin=$(cargo bench -p fbnic-pmd --bench mbuf_burst --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*mbuf_burst[^"]*\)".*/\1/p' | tail -1)
[ -x "$bin" ] || die "could not build the mbuf_burst bench"

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
FBNIC_BENCH_NO_HUGE=1 FBNIC_BENCH_BATCHES=$BATCHES \
    valgrind --tool=callgrind --callgrind-out-file="$out/cg" "$bin" >"$out/log" 2>&1 ||
    { cat "$out/log"; die "the bench failed under valgrind"; }
callgrind_annotate --inclusive=yes "$out/cg" >"$out/ann" 2>/dev/null
pkts=$((BATCHES * 8 * 32))
count() { awk -v f="mbuf_burst::$1 [" 'index($0, f) { gsub(",", "", $1); print $1; exit }' "$out/ann"; }
fbnic=$(count fbnic_batch)
null=$(count null_batch)
if [ -z "$fbnic" ] || [ -z "$null" ]; then
    die "no counts for fbnic_batch/null_batch in callgrind's output"
fi
awk -v f="$fbnic" -v n="$null" -v p="$pkts" 'BEGIN {
    printf "instructions per packet (Rx burst + Tx burst, %d packets per side, callgrind):\n", p
    printf "  net_fbnic %.1f  net_null %.1f  net_fbnic / net_null %.2f\n", f / p, n / p, f / n
}'
