#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Machine setup for net_fbnic (Debian bookworm, run as root; idempotent, non-interactive).
#
#   bash scripts/setup.sh
#
# What it does, each step skipped when already done:
#   1. apt packages: DPDK 22.11 runtime, dev tools (dpdk-testpmd, dpdk-test) and headers,
#      libclang for bindgen, a C toolchain, pkg-config, pyelftools for dpdk-pmdinfo.py,
#      iproute2 and ping for the TAP wire test.
#   2. Driver-SDK headers. DPDK's driver-facing headers (ethdev_driver.h, ethdev_vdev.h,
#      bus_vdev_driver.h, dev_driver.h, bus_driver.h) are not packaged by Debian. They are
#      taken from the Debian source package of exactly the installed libdpdk-dev version
#      (a deb-src entry is added if the machine has none), with any Debian patch that touches
#      them applied, and installed flat (like /usr/include/dpdk) into
#
#          /opt/net_fbnic/dpdk-sdk-<debian version>/include/     the headers
#          /opt/net_fbnic/dpdk-sdk-<debian version>/VERSION      `pkg-config --modversion libdpdk`
#          /opt/net_fbnic/dpdk-sdk -> dpdk-sdk-<debian version>  symlink to the current one
#
#      HOW THE BUILD FINDS THEM (the one scheme; see ffi/README.md): ffi/build.rs uses
#      $DPDK_SDK_INCLUDE if set (a directory holding ethdev_driver.h & co.), otherwise
#      /opt/net_fbnic/dpdk-sdk/include, and checks that the VERSION file beside that include
#      directory (when present) equals `pkg-config --modversion libdpdk`. Nothing is exported
#      into the environment.
#   3. Hugepages: at least 1024 x 2 MiB reserved (a larger existing value is kept) and
#      hugetlbfs mounted on /dev/hugepages.
#
# Environment overrides (all optional; the defaults are what the build expects):
#   FBNIC_OPT_DIR        base directory for the SDK headers   (default /opt/net_fbnic)
#   FBNIC_SRC_CACHE      where the source package is kept     (default /var/cache/net_fbnic/dpdk-src)
#   FBNIC_HUGEPAGES      number of 2 MiB hugepages to reserve (default 1024)
#   FBNIC_SKIP_APT=1     do not install packages (they must already be there)
#   FBNIC_SKIP_HUGEPAGES=1  leave hugepages alone
#   FBNIC_NO_SYMLINK=1   do not (re)point $FBNIC_OPT_DIR/dpdk-sdk (useful with a scratch FBNIC_OPT_DIR)
#
# Rust toolchains are not installed here: rustup with stable and nightly is expected.

set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

OPT_DIR=${FBNIC_OPT_DIR:-/opt/net_fbnic}
SRC_CACHE=${FBNIC_SRC_CACHE:-/var/cache/net_fbnic/dpdk-src}
HUGEPAGES=${FBNIC_HUGEPAGES:-1024}

# Paths inside the DPDK source tree of the headers the driver SDK needs.
SDK_HEADERS=(
    lib/ethdev/ethdev_driver.h
    lib/ethdev/ethdev_vdev.h
    drivers/bus/vdev/bus_vdev_driver.h
    lib/eal/include/dev_driver.h
    lib/eal/include/bus_driver.h
)

PACKAGES=(
    dpdk dpdk-dev libdpdk-dev
    libclang-dev clang
    pkg-config build-essential patch xz-utils
    python3 python3-pyelftools
    iproute2 iputils-ping
)

log() { printf 'setup: %s\n' "$*"; }
die() {
    printf 'setup: ERROR: %s\n' "$*" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    die "must run as root (it installs packages, writes $OPT_DIR and reserves hugepages)"
fi

# ---------------------------------------------------------------------------------------------
# 1. Packages
# ---------------------------------------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
    if [ "$APT_UPDATED" -eq 0 ]; then
        log "apt-get update"
        apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
    fi
}

pkg_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

install_packages() {
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        log "packages: all present (${PACKAGES[*]})"
        return
    fi
    if [ "${FBNIC_SKIP_APT:-0}" = 1 ]; then
        die "packages missing and FBNIC_SKIP_APT=1: ${missing[*]}"
    fi
    apt_update_once
    log "installing: ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed for: ${missing[*]}"
}

check_tools() {
    local f
    for f in /usr/bin/dpdk-testpmd /usr/bin/dpdk-test /usr/bin/dpdk-pmdinfo.py; do
        [ -x "$f" ] || die "$f is missing after installing the dpdk packages"
    done
    /usr/bin/python3 -c 'import elftools' 2>/dev/null ||
        die "/usr/bin/python3 cannot import elftools (python3-pyelftools), dpdk-pmdinfo.py needs it"
    pkg-config --exists libdpdk || die "pkg-config cannot find libdpdk"
    if command -v cargo >/dev/null 2>&1; then
        log "rust: $(cargo --version)"
    else
        log "warning: cargo is not on PATH (rustup stable is expected; this script installs no toolchain)"
    fi
}

# ---------------------------------------------------------------------------------------------
# 2. Driver-SDK headers from the Debian source package
# ---------------------------------------------------------------------------------------------

# Prints deb-src stanzas (deb822) mirroring every "Types: deb" stanza of the distribution's own
# repositories (suite = codename or codename-*), read from the given .sources files and
# one-line .list files.
debsrc_stanzas() {
    local codename=$1
    shift
    awk -v codename="$codename" '
        function suite_ok(s,   n, i, a) {
            n = split(s, a, /[ \t]+/)
            for (i = 1; i <= n; i++)
                if (a[i] == codename || index(a[i], codename "-") == 1) return 1
            return 0
        }
        function flush() {
            if (types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && suite_ok(suites) && enabled != "no") {
                printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", uris, suites, comps
                if (signed != "") printf "Signed-By: %s\n", signed
                printf "\n"
            }
            types = uris = suites = comps = signed = enabled = ""
        }
        FNR == 1 { flush() }
        # one-line style (.list): deb [opts] URI suite comp...
        /^[ \t]*deb[ \t]/ {
            line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
            opts = ""
            if (line ~ /^\[/) { opts = line; sub(/\].*/, "", opts); sub(/^\[/, "", opts); sub(/^[^]]*\][ \t]*/, "", line) }
            n = split(line, f, /[ \t]+/)
            if (n >= 3 && suite_ok(f[2])) {
                c = f[3]; for (i = 4; i <= n; i++) c = c " " f[i]
                printf "Types: deb-src\nURIs: %s\nSuites: %s\nComponents: %s\n", f[1], f[2], c
                if (match(opts, /signed-by=[^ \t]+/)) printf "Signed-By: %s\n", substr(opts, RSTART + 10, RLENGTH - 10)
                printf "\n"
            }
            next
        }
        /^[ \t]*#/ { next }
        /^[ \t]*$/ { flush(); next }
        /^Types:/      { types = $0;  sub(/^Types:[ \t]*/, "", types) }
        /^URIs:/       { uris = $0;   sub(/^URIs:[ \t]*/, "", uris) }
        /^Suites:/     { suites = $0; sub(/^Suites:[ \t]*/, "", suites) }
        /^Components:/ { comps = $0;  sub(/^Components:[ \t]*/, "", comps) }
        /^Signed-By:/  { signed = $0; sub(/^Signed-By:[ \t]*/, "", signed) }
        /^Enabled:/    { enabled = $0; sub(/^Enabled:[ \t]*/, "", enabled) }
        END { flush() }
    ' "$@"
}

have_debsrc() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] && grep -qE '^[[:space:]]*deb-src[[:space:]]' "$f" && return 0
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && grep -qE '^Types:.*deb-src' "$f" && return 0
    done
    return 1
}

ensure_debsrc() {
    if have_debsrc; then
        return
    fi
    local codename files=() f out=/etc/apt/sources.list.d/net_fbnic-debsrc.sources
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || die "cannot tell the Debian codename from /etc/os-release"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ "${#files[@]}" -gt 0 ] || die "no apt sources found to derive a deb-src entry from"
    debsrc_stanzas "$codename" "${files[@]}" >"$out.tmp"
    [ -s "$out.tmp" ] || {
        rm -f "$out.tmp"
        die "found no '$codename' repository in the apt sources to mirror as deb-src"
    }
    mv "$out.tmp" "$out"
    log "added deb-src entries in $out:"
    sed 's/^/    /' "$out"
    APT_UPDATED=0
    apt_update_once
}

# Extracts the SDK headers of source version $1 (upstream $2) into directory $3.
build_sdk() {
    local srcver=$1 upver=$2 dest=$3
    local srcver_noepoch=${srcver#*:}
    local cache=$SRC_CACHE/$srcver_noepoch
    local orig debtar work

    mkdir -p "$cache"
    orig=$(find "$cache" -maxdepth 1 -name "dpdk_${upver}.orig.tar.*" | head -n1)
    debtar=$(find "$cache" -maxdepth 1 -name "dpdk_${srcver_noepoch}.debian.tar.*" | head -n1)
    if [ -z "$orig" ] || [ -z "$debtar" ]; then
        ensure_debsrc
        log "downloading the dpdk=$srcver source package into $cache"
        # As root apt warns that the download is unsandboxed (user _apt): harmless.
        (cd "$cache" && apt-get source -q --download-only "dpdk=$srcver") || {
            APT_UPDATED=0
            apt_update_once
            (cd "$cache" && apt-get source -q --download-only "dpdk=$srcver")
        } || die "apt-get source --download-only dpdk=$srcver failed (is the version still in the archive?)"
        orig=$(find "$cache" -maxdepth 1 -name "dpdk_${upver}.orig.tar.*" | head -n1)
        debtar=$(find "$cache" -maxdepth 1 -name "dpdk_${srcver_noepoch}.debian.tar.*" | head -n1)
        [ -n "$orig" ] || die "no dpdk_${upver}.orig.tar.* in $cache after apt-get source"
    else
        log "using cached source package in $cache"
    fi

    work=$(mktemp -d "${TMPDIR:-/tmp}/fbnic-sdk.XXXXXX")
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
    mkdir -p "$work/src"

    # Only the wanted members: the tarball's top directory is stripped.
    local top
    # (head closes the pipe early: tar's SIGPIPE is expected, hence "|| true")
    top=$( (tar -tf "$orig" 2>/dev/null || true) | head -n1 | cut -d/ -f1)
    [ -n "$top" ] || die "cannot read $orig"
    local members=() h
    for h in "${SDK_HEADERS[@]}"; do members+=("$top/$h"); done
    tar -xf "$orig" -C "$work/src" --strip-components=1 "${members[@]}" ||
        die "headers not found in $orig: ${SDK_HEADERS[*]}"

    # Apply the Debian patches (in series order) that touch any of these headers, together
    # with the other files each such patch touches, so the headers are exactly the packaged ones.
    if [ -n "$debtar" ]; then
        mkdir -p "$work/deb"
        tar -xf "$debtar" -C "$work/deb" debian/patches 2>/dev/null || true
        local series=$work/deb/debian/patches/series p touched rel applied=0
        if [ -f "$series" ]; then
            while read -r p _; do
                case "$p" in '' | '#'*) continue ;; esac
                [ -f "$work/deb/debian/patches/$p" ] || continue
                touched=$(sed -n 's/^+++ [^/]*\/\([^[:space:]]*\).*/\1/p' "$work/deb/debian/patches/$p" | sort -u)
                local hit=0
                for h in "${SDK_HEADERS[@]}"; do
                    grep -qxF "$h" <<<"$touched" && hit=1
                done
                [ "$hit" = 1 ] || continue
                for rel in $touched; do
                    [ -e "$work/src/$rel" ] || tar -xf "$orig" -C "$work/src" --strip-components=1 "$top/$rel" 2>/dev/null || true
                done
                patch -d "$work/src" -p1 --batch --forward -s <"$work/deb/debian/patches/$p" ||
                    die "Debian patch $p does not apply to the SDK headers"
                log "applied Debian patch $p"
                applied=$((applied + 1))
            done <"$series"
        fi
        [ "$applied" -gt 0 ] || log "no Debian patch touches the SDK headers"
    fi

    # Every header they include must now resolve: in the SDK itself or in the installed DPDK.
    local incdirs=() d inc found
    for d in $(pkg-config --cflags-only-I libdpdk); do incdirs+=("${d#-I}"); done
    mkdir -p "$work/out/include"
    for h in "${SDK_HEADERS[@]}"; do
        install -m 0644 "$work/src/$h" "$work/out/include/"
    done
    for h in "$work"/out/include/*.h; do
        # shellcheck disable=SC2013 # header names have no spaces
        for inc in $(sed -n 's/^#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$h"); do
            found=0
            for d in "$work/out/include" "${incdirs[@]}" /usr/include; do
                [ -f "$d/$inc" ] && found=1 && break
            done
            [ "$found" = 1 ] || die "$(basename "$h") includes <$inc>, found neither in the SDK nor in the installed DPDK"
        done
    done
    printf '%s\n' "$upver" >"$work/out/VERSION"
    printf '%s\n' "$srcver" >"$work/out/DEBIAN_VERSION"

    mkdir -p "$(dirname "$dest")"
    rm -rf "$dest.new"
    cp -a "$work/out" "$dest.new"
    rm -rf "$dest"
    mv "$dest.new" "$dest"
    rm -rf "$work"
    trap - EXIT
    log "SDK headers installed in $dest/include: $(cd "$dest/include" && echo *.h)"
}

setup_sdk() {
    local srcver upver dest h ok=1
    srcver=$(dpkg-query -W -f='${source:Version}' libdpdk-dev 2>/dev/null) ||
        die "libdpdk-dev is not installed"
    upver=$(pkg-config --modversion libdpdk)
    dest=$OPT_DIR/dpdk-sdk-${srcver#*:}
    for h in "${SDK_HEADERS[@]}"; do
        [ -f "$dest/include/$(basename "$h")" ] || ok=0
    done
    if [ "$ok" = 1 ] && [ "$(cat "$dest/VERSION" 2>/dev/null)" = "$upver" ]; then
        log "SDK headers: present in $dest/include (DPDK $upver)"
    else
        build_sdk "$srcver" "$upver" "$dest"
    fi
    if [ "${FBNIC_NO_SYMLINK:-0}" != 1 ]; then
        local link=$OPT_DIR/dpdk-sdk target
        target=$(basename "$dest")
        if [ "$(readlink "$link" 2>/dev/null)" != "$target" ]; then
            ln -sfn "$target" "$link.new"
            mv -T "$link.new" "$link"
            log "SDK symlink: $link -> $target"
        else
            log "SDK symlink: $link -> $target (unchanged)"
        fi
    fi
}

# ---------------------------------------------------------------------------------------------
# 3. Hugepages
# ---------------------------------------------------------------------------------------------
setup_hugepages() {
    local nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages cur
    [ -f "$nr" ] || die "this kernel has no 2 MiB hugepages ($nr missing)"
    cur=$(cat "$nr")
    if [ "$cur" -ge "$HUGEPAGES" ]; then
        log "hugepages: $cur x 2 MiB reserved (>= $HUGEPAGES, kept)"
    else
        if ! echo "$HUGEPAGES" >"$nr" 2>/dev/null; then
            die "cannot write $nr (read-only /sys? a container without privileges?): need $HUGEPAGES x 2 MiB hugepages, have $cur"
        fi
        cur=$(cat "$nr")
        if [ "$cur" -lt "$HUGEPAGES" ]; then
            die "asked the kernel for $HUGEPAGES x 2 MiB hugepages, got only $cur (not enough free contiguous memory?)"
        fi
        log "hugepages: reserved $cur x 2 MiB"
    fi
    if grep -qE '^[^ ]+ /dev/hugepages hugetlbfs ' /proc/mounts; then
        log "hugepages: hugetlbfs already mounted on /dev/hugepages"
    else
        mkdir -p /dev/hugepages
        mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages ||
            die "cannot mount hugetlbfs on /dev/hugepages"
        log "hugepages: mounted hugetlbfs on /dev/hugepages"
    fi
}

# ---------------------------------------------------------------------------------------------
case "${1:-}" in
--print-debsrc)
    # Debug aid: show the deb-src stanzas this script would write, without writing them.
    shift
    # shellcheck disable=SC1091
    debsrc_stanzas "$(. /etc/os-release && echo "$VERSION_CODENAME")" "${@:-/etc/apt/sources.list.d/debian.sources}"
    exit 0
    ;;
'') ;;
*) die "unknown argument '$1' (usage: setup.sh [--print-debsrc [FILES...]])" ;;
esac

install_packages
check_tools
setup_sdk
if [ "${FBNIC_SKIP_HUGEPAGES:-0}" = 1 ]; then
    log "hugepages: skipped (FBNIC_SKIP_HUGEPAGES=1)"
else
    setup_hugepages
fi
log "done"
