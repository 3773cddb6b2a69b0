#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Command 2 of the README: sets the machine up and runs every test: formatting and lints,
# unit and integration tests of every crate (the device model, the driver core against the
# model, the ethdev glue in real DPDK apps: dpdk-testpmd, dpdk-test, our RSS checker), the
# long acceptance runs, a short run of the mbuf burst bench, and each fuzz target for a
# short while.
#
#   bash scripts/test.sh            (as root)
#
# FBNIC_FUZZ_SECONDS (default 30) bounds each fuzz target; 0 skips fuzzing.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO"

bash scripts/setup.sh
build_and_install_pmd

log "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --profile ci -- -D warnings
# The model's entry points for the fuzz targets are behind a feature the workspace leaves off.
cargo clippy -p fbnic-model --features fuzzing --profile ci -- -D warnings
# The fuzz targets and their seed writer are crates of their own, outside the workspace.
for m in fuzz/Cargo.toml fuzz/seed/Cargo.toml; do
    cargo fmt --manifest-path "$m" --check
    cargo clippy --manifest-path "$m" --bins -- -D warnings
done

log "tests (optimised build with debug assertions), including the long ones"
cargo test --workspace --profile ci -- --include-ignored
cargo test -p fbnic-model --features fuzzing --profile ci --lib fuzzing

log "the mbuf burst bench, briefly (it checks every burst moved 32 packets and no mbuf was lost)"
FBNIC_BENCH_BATCHES=200 cargo bench -p fbnic-pmd --bench mbuf_burst

FUZZ_SECONDS=${FBNIC_FUZZ_SECONDS:-30}
if [ "$FUZZ_SECONDS" -gt 0 ]; then
    log "fuzzing each target for ${FUZZ_SECONDS}s"
    bash fuzz/run.sh "$FUZZ_SECONDS"
fi

log "all tests passed"
