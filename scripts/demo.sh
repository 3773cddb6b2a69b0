#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Command 1 of the README: sets the machine up, builds net_fbnic, and runs the real
# dpdk-testpmd forwarding (io mode) through two net_fbnic ports cabled to each other on the
# embedded device model, then prints Mpps and how RSS spread the traffic over the Rx queues.
#
#   bash scripts/demo.sh            (as root; FBNIC_DEMO_SECONDS=10 by default)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

SECS=${FBNIC_DEMO_SECONDS:-10}
QUEUES=${FBNIC_DEMO_QUEUES:-4}

bash "$REPO/scripts/setup.sh"
build_and_install_pmd

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
log "dpdk-testpmd: io forwarding, net_fbnic0 <-> net_fbnic1, $QUEUES queues each, ${SECS}s"
set +e
timeout --signal=INT --kill-after=20 "$SECS" \
    dpdk-testpmd -l 0-1 --in-memory --no-pci -d "$NET_FBNIC_PMD" \
        --vdev net_fbnic0 --vdev net_fbnic1 -- \
        --forward-mode=io --nb-cores=1 --rxq="$QUEUES" --txq="$QUEUES" \
        --rss-ip --burst=32 --tx-first --txonly-multi-flow --stats-period 1 </dev/null >"$OUT" 2>&1
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
    cat "$OUT"
    echo "dpdk-testpmd failed (exit $rc)" >&2
    exit 1
fi
if ! grep -q "Bye" "$OUT"; then
    cat "$OUT"
    echo "dpdk-testpmd did not shut down cleanly" >&2
    exit 1
fi

python3 - "$OUT" "$QUEUES" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
nq = int(sys.argv[2])
# Throughput samples per port (skip the first second: start-up).
pps = {}
for port, rx in re.findall(r"NIC statistics for port (\d+)\s+#+.*?Rx-pps:\s+(\d+)", text, re.S):
    pps.setdefault(int(port), []).append(int(rx))
print("\nnet_fbnic demo: real dpdk-testpmd, io forwarding, 2 ports cabled through the model")
total = 0.0
for port in sorted(pps):
    samples = pps[port][1:] or pps[port]
    mpps = sum(samples) / len(samples) / 1e6
    total += mpps
    print(f"  port {port} Rx: {mpps:6.2f} Mpps (mean of {len(samples)} one-second samples)")
print(f"  both ports: {total:6.2f} Mpps")
# Per-queue Rx counts from testpmd's per-stream forward statistics.
streams = re.findall(r"Forward Stats for RX Port=\s*(\d+)/Queue=\s*(\d+).*?RX-packets:\s*(\d+)", text, re.S)
per = {}
for port, q, n in streams:
    per.setdefault(int(port), {})[int(q)] = int(n)
for port in sorted(per):
    tot = sum(per[port].values()) or 1
    spread = "  ".join(f"q{q} {100.0 * n / tot:5.1f}%" for q, n in sorted(per[port].items()))
    print(f"  port {port} RSS spread over {len(per[port])} Rx queues: {spread}")
m = re.search(r"Accumulated forward statistics.*?RX-packets:\s*(\d+)\s+RX-dropped:\s*(\d+).*?TX-packets:\s*(\d+)", text, re.S)
if m:
    print(f"  forwarded {int(m.group(1))} packets, dropped {int(m.group(2))}")
if not pps or not m or int(m.group(1)) == 0:
    sys.exit("no traffic was forwarded")
PY
