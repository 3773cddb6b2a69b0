#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Where net_fbnic's cycles go: runs dpdk-testpmd io forwarding on two cabled net_fbnic ports
# (as the harness does) and, once it is forwarding, records the forwarding lcore's thread and
# the device model's engine thread with `perf record -g` and counts them with `perf stat`.
# Prints the hottest symbols of each thread and the hottest source lines of the burst
# functions; keeps perf.data files under perf/out/profile-<time>/ for `perf report -i`.
#
#   bash perf/profile.sh                     (as root; burst 32, 5 s)
#   bash perf/profile.sh --burst 1 --secs 5 --pmd null
#
# Options: --burst N [32]  --secs N [5]  --inflight N (packets per port) [512]
#          --pmd fbnic|null [fbnic]  --no-build (use the installed PMD as it is)
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"

BURST=32
SECS=5
INFLIGHT=512
PMD=fbnic
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --burst) BURST=$2; shift 2 ;;
    --secs) SECS=$2; shift 2 ;;
    --inflight) INFLIGHT=$2; shift 2 ;;
    --pmd) PMD=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

if [ "$BUILD" = 1 ]; then
    bash scripts/setup.sh >/dev/null
    build_and_install_pmd
fi

OUT=$REPO/perf/out/profile-$(date -u +%Y%m%d-%H%M%S)-$PMD-b$BURST
mkdir -p "$OUT"
WORK=$(mktemp -d /run/fbnic-profile.XXXXXX)
chmod 700 "$WORK"
FIFO=$WORK/cmd
mkfifo "$FIFO"
TP_PID=
cleanup() {
    exec 3>&- 2>/dev/null || true
    if [ -n "$TP_PID" ] && kill -0 "$TP_PID" 2>/dev/null; then
        kill -INT "$TP_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$TP_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# shellcheck disable=SC2054 # the commas belong to the devargs
case "$PMD" in
fbnic) VDEVS=(-d "$NET_FBNIC_PMD" --vdev net_fbnic0,model_cpu=0 --vdev net_fbnic1) ;;
null) VDEVS=(--vdev net_null0 --vdev net_null1) ;;
*) echo "--pmd fbnic or null" >&2; exit 2 ;;
esac

if [ -x "$REPO/target/release/fbnic-perf" ]; then
    "$REPO/target/release/fbnic-perf" c2c --cpus 0,1 | tee "$OUT/c2c-before.txt"
fi
log "dpdk-testpmd ($PMD, burst $BURST, $INFLIGHT packets in flight per port)"
timeout --signal=INT --kill-after=20 $((SECS + 120)) \
    stdbuf -oL dpdk-testpmd -l 0-1 --in-memory --no-pci "${VDEVS[@]}" -- \
    -i --forward-mode=io --nb-cores=1 --burst="$BURST" --txpkts=64 --rxd=1024 --txd=1024 \
    --record-core-cycles --record-burst-stats <"$FIFO" >"$OUT/testpmd.txt" 2>&1 &
TP_PID=$!
exec 3>"$FIFO"
for _ in $(seq 600); do
    grep -q "testpmd> " "$OUT/testpmd.txt" 2>/dev/null && break
    kill -0 "$TP_PID" 2>/dev/null || { cat "$OUT/testpmd.txt"; echo "testpmd exited" >&2; exit 1; }
    sleep 0.1
done
sleep 1.5
echo "start tx_first $(( (INFLIGHT + BURST - 1) / BURST ))" >&3
sleep 2
# timeout runs stdbuf, which execs testpmd: testpmd is timeout's child.
PID=$(pgrep -x dpdk-testpmd -P "$TP_PID" || true)
[ -n "$PID" ] || { cat "$OUT/testpmd.txt"; echo "cannot find the dpdk-testpmd process" >&2; exit 1; }
tid_of() { grep -l -E "^$1" /proc/"$PID"/task/*/comm 2>/dev/null | head -n1 | cut -d/ -f5; }
WORKER=$(tid_of 'rte-worker|lcore-worker|dpdk-worker')
ENGINE=$(tid_of 'fbnic-engine' || true)
[ -n "$WORKER" ] || { cat "$OUT/testpmd.txt"; echo "no forwarding lcore thread in $PID" >&2; exit 1; }
echo "testpmd pid $PID, forwarding lcore thread $WORKER${ENGINE:+, model engine thread $ENGINE}"

echo "show fwd stats all" >&3
sleep 0.3
perf stat -e cycles,instructions,branch-misses,L1-dcache-loads,L1-dcache-load-misses \
    -t "$WORKER" -o "$OUT/stat-worker.txt" -- sleep "$SECS" &
perf record -q -g -t "$WORKER" -o "$OUT/worker.data" -- sleep "$SECS" 2>/dev/null &
if [ -n "$ENGINE" ]; then
    perf stat -e cycles,instructions,branch-misses,L1-dcache-loads,L1-dcache-load-misses \
        -t "$ENGINE" -o "$OUT/stat-engine.txt" -- sleep "$SECS" &
    perf record -q -g -t "$ENGINE" -o "$OUT/engine.data" -- sleep "$SECS" 2>/dev/null &
fi
for job in $(jobs -p); do
    [ "$job" = "$TP_PID" ] || wait "$job" 2>/dev/null || true
done
echo "show fwd stats all" >&3
sleep 0.5
echo "stop" >&3
echo "quit" >&3
exec 3>&-
wait "$TP_PID" || true
TP_PID=
if [ -x "$REPO/target/release/fbnic-perf" ]; then
    "$REPO/target/release/fbnic-perf" c2c --cpus 0,1 | sed 's/^/after: /' | tee "$OUT/c2c-after.txt"
fi

python3 - "$OUT/testpmd.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
c = re.findall(r"total cycles=(\d+) / total \w+ packets=(\d+)", t)
b = re.findall(r"TX-bursts : (\d+)", t)
if len(c) >= 2:
    (c0, p0), (c1, p1) = [(int(x), int(y)) for x, y in c[:2]]
    print(f"\nprofiled window: {p1 - p0} packets, {(c1 - c0) / max(p1 - p0, 1):.2f} busy cycles/packet (testpmd --record-core-cycles)")
PY
for who in worker engine; do
    [ -f "$OUT/$who.data" ] || continue
    log "$who thread: perf stat"
    grep -E "cycles|instructions|misses|loads" "$OUT/stat-$who.txt" || true
    log "$who thread: hottest symbols (self time)"
    perf report -i "$OUT/$who.data" --no-children --stdio -g none --percent-limit 1 2>/dev/null |
        grep -v -e '^#' -e '^$' | head -25
done
for sym in rte_net_fbnic::ethdev::ops::rx_burst rte_net_fbnic::ethdev::ops::tx_burst; do
    [ "$PMD" = fbnic ] || break
    log "hottest lines of $sym (percent of its samples; AMD sampling skids: the cost is often the instruction before)"
    perf annotate -i "$OUT/worker.data" --stdio -l -s "$sym" 2>/dev/null |
        grep -E '^\s+[0-9]+\.[0-9]+ +:' | sort -rn | head -12
done
echo
echo "perf data: $OUT (perf report -i $OUT/worker.data)"
