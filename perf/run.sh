#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The performance harness in one command (as root): sets the machine up, builds and installs
# net_fbnic, builds the harness and the latency tool (release), and runs them: dpdk-testpmd
# io forwarding on net_fbnic, net_null, net_memif and net_ring in interleaved rounds, a burst
# sweep on net_fbnic, dpdk-test pmd_perf_autotest, the model's own throughput, round-trip
# latency. Prints the table and writes CSV + SVG files under perf/out/.
#
# net_fbnic is measured as built by scripts/build-pgo.sh (profile-guided, trained on
# dpdk-testpmd forwarding; the harness and the latency tool are built with the same profile).
# `--no-pgo` measures the plain release build instead (what `cargo build --release` gives);
# without an llvm-profdata for rustc's LLVM the harness says so and measures the plain one.
#
#   bash perf/run.sh                 (about 9 minutes, the build included)
#   bash perf/run.sh --no-pgo        (the plain release build)
#   bash perf/run.sh --quick         (a smoke run, about 2-3 minutes)
#   bash perf/run.sh --rounds 3 --pmds fbnic,null --sweep-bursts ""   (any fbnic-perf option)
#
# See perf/README.md for what is measured and how to read it.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
source "$(dirname "$0")/../scripts/lib/common.sh"
cd "$REPO"

pgo=1
args=()
for a in "$@"; do
    if [ "$a" = "--no-pgo" ]; then pgo=0; else args+=("$a"); fi
done

bash scripts/setup.sh
perf_bin="$REPO/target/release/fbnic-perf"
latency_bin="$REPO/target/release/fbnic-latency"
pmd="$NET_FBNIC_PMD"
build="plain release build (cargo build --release)"
if [ "$pgo" = 1 ]; then
    # shellcheck source=scripts/lib/pgo.sh
    source "$REPO/scripts/lib/pgo.sh"
    if build_pgo; then
        perf_bin="$PGO_PERF_BIN"
        latency_bin="$PGO_LATENCY_BIN"
        pmd="$NET_FBNIC_PMD_PGO"
        build="profile-guided (scripts/build-pgo.sh: trained on dpdk-testpmd io forwarding)"
    else
        log "the profile-guided build failed (above): measuring the plain release build"
        pgo=0
    fi
fi
if [ "$pgo" = 0 ]; then
    build_and_install_pmd
    log "building the harness and the latency tool (release)"
    cargo build --release -p fbnic-perf -p fbnic-latency
fi

log "running the harness"
case " ${args[*]:-} " in
*" --pmd-lib"*) extra=(--build "given by --pmd-lib") ;;
*) extra=(--build "$build" --pmd-lib "$pmd") ;;
esac
case " ${args[*]:-} " in
*" --latency-bin"*) ;;
*) extra+=(--latency-bin "$latency_bin") ;;
esac
exec "$perf_bin" run "${extra[@]}" "${args[@]}"
