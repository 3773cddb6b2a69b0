#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The performance harness in one command (as root): sets the machine up, builds and installs
# net_fbnic, builds the harness and the latency tool (release), and runs them: dpdk-testpmd
# io forwarding on net_fbnic, net_null, net_memif and net_ring in interleaved rounds, a burst
# sweep on net_fbnic, dpdk-test pmd_perf_autotest, the model's own throughput, round-trip
# latency. Prints the table and writes CSV + SVG files under perf/out/.
#
#   bash perf/run.sh                 (about 10 minutes)
#   bash perf/run.sh --quick         (a smoke run, about 3 minutes)
#   bash perf/run.sh --rounds 3 --pmds fbnic,null --sweep-bursts ""   (any fbnic-perf option)
#
# See perf/README.md for what is measured and how to read it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"

bash scripts/setup.sh
build_and_install_pmd

log "building the harness and the latency tool (release)"
cargo build --release -p fbnic-perf -p fbnic-latency

log "running the harness"
extra=()
case " $* " in
*" --pmd-lib"*) ;;
*) extra+=(--pmd-lib "$NET_FBNIC_PMD") ;;
esac
case " $* " in
*" --latency-bin"*) ;;
*) extra+=(--latency-bin "$REPO/target/release/fbnic-latency") ;;
esac
exec "$REPO/target/release/fbnic-perf" run "${extra[@]}" "$@"
