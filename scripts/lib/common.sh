# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Shared by the top-level scripts: paths and the PMD install step.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# EAL refuses -d plugins below world-writable directories (/tmp, and any clone under it), so
# the built PMD is installed here and loaded from here.
FBNIC_LIB_DIR=${FBNIC_LIB_DIR:-/opt/net_fbnic/lib}
export NET_FBNIC_PMD=${NET_FBNIC_PMD:-$FBNIC_LIB_DIR/librte_net_fbnic.so}
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

log() { printf '\n=== %s\n' "$*"; }

# Builds the PMD (release) and installs it where EAL accepts plugins.
build_and_install_pmd() {
    log "building librte_net_fbnic.so"
    (cd "$REPO" && cargo build --release -p fbnic-pmd)
    install -D -m 0644 "$REPO/target/release/librte_net_fbnic.so" "$NET_FBNIC_PMD"
    echo "installed $NET_FBNIC_PMD"
}
