#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The fastest net_fbnic: a profile-guided build of librte_net_fbnic.so (as root). Sets the
# machine up, builds the PMD instrumented, trains it on dpdk-testpmd io forwarding through
# two net_fbnic ports on the embedded model, and rebuilds it with the profile (see
# scripts/lib/pgo.sh). Installs it at $NET_FBNIC_PMD_PGO
# (/opt/net_fbnic/lib/pgo/librte_net_fbnic.so); load it with `-d` like the plain build.
#
#   bash scripts/build-pgo.sh          (1-2 minutes)
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
source "$REPO/scripts/lib/pgo.sh"
cd "$REPO"

bash scripts/setup.sh
build_pgo
