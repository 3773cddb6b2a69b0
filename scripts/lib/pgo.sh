# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Profile-guided build of net_fbnic (sourced after common.sh; see scripts/build-pgo.sh).
#
# 1. Builds librte_net_fbnic.so instrumented (-Cprofile-generate) in target/pgo/gen.
# 2. Trains it on the real application: dpdk-testpmd io forwarding between two net_fbnic
#    ports cabled through the embedded model, once in the harness's shape (one queue per
#    port, burst 32, 64-byte frames) and once in the demo's (four queues, RSS over IP
#    flows). Only testpmd trains it: the model's own throughput tool and the latency tool
#    are measured with the profile but never fed it.
# 3. Merges the counts with llvm-profdata of rustc's own LLVM (installed from Debian when
#    missing) and rebuilds with -Cprofile-use in target/pgo/use: the PMD, the harness
#    (whose model-mpps links the same driver and model crates) and the latency tool.
#
# Separate target directories keep the plain build in target/release untouched (RUSTFLAGS
# differ, so sharing one would rebuild everything each time).

PGO_DIR="$REPO/target/pgo"
PGO_USE_DIR="$PGO_DIR/use"
PGO_TRAIN_SECS=${FBNIC_PGO_TRAIN_SECS:-8}
# Where the profile-guided PMD is installed (EAL loads plugins only from directories that
# are not world-writable).
export NET_FBNIC_PMD_PGO=${NET_FBNIC_PMD_PGO:-$FBNIC_LIB_DIR/pgo/librte_net_fbnic.so}

# Prints the path of an llvm-profdata that reads what rustc's LLVM writes, installing
# Debian's llvm-<major> if needed. Fails (with the reason on stderr) when there is none.
pgo_profdata_tool() {
    local major tool
    major=$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')
    if [ -z "$major" ]; then
        echo "pgo: cannot tell rustc's LLVM version (rustc -vV)" >&2
        return 1
    fi
    tool=/usr/lib/llvm-$major/bin/llvm-profdata
    if [ ! -x "$tool" ]; then
        # To stderr: this function's output is the tool's path.
        log "installing llvm-$major (llvm-profdata for rustc's LLVM $major)" >&2
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "llvm-$major" >&2; then
            echo "pgo: the Debian package llvm-$major (rustc's LLVM) is not available" >&2
            return 1
        fi
    fi
    if [ ! -x "$tool" ]; then
        echo "pgo: $tool missing after installing llvm-$major" >&2
        return 1
    fi
    echo "$tool"
}

# dpdk-testpmd io forwarding on two net_fbnic ports of `lib` for `secs`, stopped with
# SIGINT like a user would (an instrumented build writes its profile at exit). Fails unless
# testpmd forwarded packets and shut down cleanly.
pgo_forward_run() {
    local what=$1 lib=$2 secs=$3 queues=$4 out
    shift 4
    out=$(mktemp)
    set +e
    timeout --signal=INT --kill-after=20 "$secs" \
        dpdk-testpmd -l 0-1 --in-memory --no-pci -d "$lib" \
        --vdev net_fbnic0 --vdev net_fbnic1 -- \
        --forward-mode=io --nb-cores=1 --rxq="$queues" --txq="$queues" \
        --burst=32 --rxd=1024 --txd=1024 --txpkts=64 --tx-first "$@" \
        --stats-period 2 </dev/null >"$out" 2>&1
    local rc=$?
    set -e
    local fwd
    fwd=$(sed -n 's/.*RX-packets: *\([0-9]*\).*/\1/p' "$out" | tail -1)
    if { [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; } || ! grep -q "Bye" "$out" || [ "${fwd:-0}" -eq 0 ]; then
        cat "$out" >&2
        rm -f "$out"
        echo "pgo: $what run ($queues queues) failed (exit $rc, ${fwd:-no} packets)" >&2
        return 1
    fi
    echo "  $what: $queues queue(s), ${secs}s, $fwd packets received"
    rm -f "$out"
}

# The whole profile-guided build. Installs the PMD at NET_FBNIC_PMD_PGO (after a short
# forwarding check) and sets PGO_PERF_BIN and PGO_LATENCY_BIN.
build_pgo() {
    local tool raw gen_lib
    tool=$(pgo_profdata_tool) || return 1
    raw="$PGO_DIR/profraw"
    rm -rf "$raw" "$PGO_DIR/merged.profdata"
    mkdir -p "$raw"

    log "PGO 1/3: instrumented librte_net_fbnic.so"
    CARGO_TARGET_DIR="$PGO_DIR/gen" RUSTFLAGS="-Cprofile-generate=$raw" \
        cargo build --release -p fbnic-pmd
    gen_lib="$FBNIC_LIB_DIR/pgo-gen/librte_net_fbnic.so"
    install -D -m 0644 "$PGO_DIR/gen/release/librte_net_fbnic.so" "$gen_lib"

    log "PGO 2/3: training on dpdk-testpmd io forwarding"
    pgo_forward_run training "$gen_lib" "$PGO_TRAIN_SECS" 1
    pgo_forward_run training "$gen_lib" "$PGO_TRAIN_SECS" 4 --rss-ip --txonly-multi-flow
    if ! compgen -G "$raw/*.profraw" >/dev/null; then
        echo "pgo: the training runs wrote no profile under $raw" >&2
        return 1
    fi
    "$tool" merge -o "$PGO_DIR/merged.profdata" "$raw"
    # The instrumented library has done its work; leave no second PMD installed.
    rm -rf "$(dirname "$gen_lib")"

    log "PGO 3/3: librte_net_fbnic.so, fbnic-perf and fbnic-latency built with the profile"
    CARGO_TARGET_DIR="$PGO_USE_DIR" RUSTFLAGS="-Cprofile-use=$PGO_DIR/merged.profdata" \
        cargo build --release -p fbnic-pmd -p fbnic-perf -p fbnic-latency
    install -D -m 0644 "$PGO_USE_DIR/release/librte_net_fbnic.so" "$NET_FBNIC_PMD_PGO"
    pgo_forward_run "check of the profile-guided build" "$NET_FBNIC_PMD_PGO" 3 1
    export PGO_PERF_BIN="$PGO_USE_DIR/release/fbnic-perf"
    export PGO_LATENCY_BIN="$PGO_USE_DIR/release/fbnic-latency"
    echo "installed $NET_FBNIC_PMD_PGO (profile-guided)"
}
