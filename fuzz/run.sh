#!/usr/bin/env bash
# Fuzzes fbnic-hw's TLV decoder and message schemas, and the driver's parsers (Rx and Tx
# completions, devargs, the Rx TCP/UDP checksum verdict on received frames), and the device
# model's parser of received frames and its Tx engine's handling of work descriptors, and
# fbnic-lb's handling of frames off the wire.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Runs each target (default: all of them) for SECONDS (default 30) with -max_len=4096 (a
# mailbox page), starting from a corpus seeded with every encoded message of the schema
# table. Exits non-zero as soon as a target finds a crash; the input that crashed is left in
# fuzz/artifacts/TARGET/. Needs the nightly toolchain; installs cargo-fuzz if it is missing.
# The corpus (fuzz/corpus/TARGET) and build output (fuzz/target) are not committed.
set -euo pipefail

secs=${1:-30}
shift || true
if ! [[ $secs =~ ^[0-9]+$ ]] || [ "$secs" -eq 0 ]; then
    echo "usage: $0 [SECONDS] [TARGET...]   (SECONDS: a positive integer, default 30)" >&2
    exit 2
fi

here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(tlv_decode msg_decode msg_encode rx_completions tx_completions devargs rx_l4_csum model_rx_parse model_tx lb_packets)
fi

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "the nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Seeds: a plain (uninstrumented) build of fuzz/seed writes them into each target's corpus.
corpora=()
for t in "${targets[@]}"; do
    corpora+=("$here/corpus/$t")
done
CARGO_TARGET_DIR="$here/target/seed" cargo run --quiet --release \
    --manifest-path "$here/seed/Cargo.toml" -- "${corpora[@]}"

for t in "${targets[@]}"; do
    echo "== fuzzing $t for ${secs}s"
    if ! cargo +nightly fuzz run "$t" "$here/corpus/$t" -- \
        -max_len=4096 -max_total_time="$secs" -print_final_stats=1; then
        echo "== $t FAILED: crash input in $here/artifacts/$t/" >&2
        exit 1
    fi
done
echo "== all targets ran ${secs}s without a crash"
