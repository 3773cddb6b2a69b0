//! Build script of dpdk-sys.
//!
//! 1. Locates the installed DPDK with `pkg-config libdpdk` (compile flags, link libraries)
//!    and the driver-SDK headers (`$DPDK_SDK_INCLUDE`, else `/opt/net_fbnic/dpdk-sdk/include`,
//!    both put there by `scripts/setup.sh`).
//! 2. Generates the bindings with bindgen into `$OUT_DIR/bindings.rs`.
//! 3. Compiles the C shim (`src/shim.c`) and, for the layout tests only, `tests/layout.c`.
//! 4. Links the DPDK shared libraries (pkg-config's list plus `rte_bus_vdev`).
//!
//! Nothing generated is written outside `$OUT_DIR`.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{self, Command};

/// Default location of the SDK headers: a symlink that `scripts/setup.sh` points at
/// `/opt/net_fbnic/dpdk-sdk-<debian version>`.
const DEFAULT_SDK: &str = "/opt/net_fbnic/dpdk-sdk";
/// Headers the SDK directory must contain (not packaged by Debian).
const SDK_HEADERS: [&str; 5] = [
    "ethdev_driver.h",
    "ethdev_vdev.h",
    "bus_vdev_driver.h",
    "dev_driver.h",
    "bus_driver.h",
];
/// Defines every compilation against the SDK needs.
const DEFINES: [&str; 2] = ["-DALLOW_INTERNAL_API", "-DALLOW_EXPERIMENTAL_API"];
/// Structures that are packed but contain aligned members: Rust cannot express them.
const OPAQUE: [&str; 4] = [
    "rte_arp_hdr",
    "rte_arp_ipv4",
    "rte_l2tpv2_combined_msg_hdr",
    "rte_gtp_psc_generic_hdr",
];

/// Macro constants whose C type is 64-bit although their value fits in 32 bits: the flag
/// words they are or-ed into (ol_flags, rss_hf, offloads, dev_capa) are uint64_t.
const U64_MACRO_PREFIXES: [&str; 6] = [
    "RTE_MBUF_F_",
    "RTE_ETH_RSS_",
    "RTE_ETH_RX_OFFLOAD_",
    "RTE_ETH_TX_OFFLOAD_",
    "RTE_ETH_RX_METADATA_",
    "RTE_ETH_DEV_CAPA_",
];

/// Gives `U64_MACRO_PREFIXES` constants the type `u64` (bindgen would pick `u32`).
#[derive(Debug)]
struct MacroTypes;

impl bindgen::callbacks::ParseCallbacks for MacroTypes {
    fn int_macro(&self, name: &str, value: i64) -> Option<bindgen::callbacks::IntKind> {
        let flag_word = U64_MACRO_PREFIXES.iter().any(|p| name.starts_with(p))
            && !name.starts_with("RTE_ETH_RSS_RETA_SIZE_");
        (flag_word && value >= 0).then_some(bindgen::callbacks::IntKind::U64)
    }
}

/// Stops the build with one message (no panic backtrace noise).
fn fail(msg: &str) -> ! {
    eprintln!("\nerror: dpdk-sys: {msg}\n");
    process::exit(1);
}

fn pkg_config_bin() -> String {
    env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".to_string())
}

/// Runs `pkg-config <args> libdpdk` and returns its stdout.
fn pkg_config(args: &[&str]) -> String {
    let bin = pkg_config_bin();
    let out = Command::new(&bin)
        .args(args)
        .arg("libdpdk")
        .output()
        .unwrap_or_else(|e| {
            fail(&format!(
                "cannot run `{bin}` ({e}): install DPDK and pkg-config, run scripts/setup.sh"
            ))
        });
    if !out.status.success() {
        fail(&format!(
            "`{bin} {} libdpdk` failed: {}DPDK's development files are missing: run scripts/setup.sh",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Finds the SDK include directory and checks it is complete and matches the installed DPDK.
fn sdk_include(dpdk_version: &str) -> PathBuf {
    println!("cargo:rerun-if-env-changed=DPDK_SDK_INCLUDE");
    let (dir, origin) = match env::var_os("DPDK_SDK_INCLUDE") {
        Some(d) if !d.is_empty() => (PathBuf::from(d), "DPDK_SDK_INCLUDE"),
        _ => (
            Path::new(DEFAULT_SDK).join("include"),
            "the default location",
        ),
    };
    let missing: Vec<&str> = SDK_HEADERS
        .iter()
        .copied()
        .filter(|h| !dir.join(h).is_file())
        .collect();
    if !missing.is_empty() {
        fail(&format!(
            "DPDK driver-SDK headers not found in {} ({origin}; missing: {}). \
             Run `bash scripts/setup.sh` as root (it extracts them from the Debian source package \
             of the installed DPDK), or set DPDK_SDK_INCLUDE to a directory holding them.",
            dir.display(),
            missing.join(", ")
        ));
    }
    // setup.sh writes the DPDK version beside the include directory: a stale SDK (DPDK
    // upgraded since) must not be mixed with newer installed headers.
    let version_file = dir.join("..").join("VERSION");
    if let Ok(v) = std::fs::read_to_string(&version_file) {
        let v = v.trim();
        if v != dpdk_version {
            fail(&format!(
                "the driver-SDK headers in {} are for DPDK {v} but the installed DPDK is \
                 {dpdk_version}: run `bash scripts/setup.sh` again (as root)",
                dir.display()
            ));
        }
    }
    for h in SDK_HEADERS {
        println!("cargo:rerun-if-changed={}", dir.join(h).display());
    }
    println!("cargo:rerun-if-changed={}", version_file.display());
    // The symlink may be re-pointed by setup.sh after a DPDK upgrade.
    println!("cargo:rerun-if-changed={DEFAULT_SDK}");
    dir
}

/// Escapes a path for use inside a bindgen allowlist regex.
fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The rust target for the generated code: the crate's declared `rust-version`.
fn rust_target() -> Option<bindgen::RustTarget> {
    let v = env::var("CARGO_PKG_RUST_VERSION").ok()?;
    let mut parts = v.split('.');
    let major: u64 = parts.next()?.parse().ok()?;
    let minor: u64 = parts.next()?.parse().ok()?;
    let patch: u64 = parts.next().map_or(Some(0), |p| p.parse().ok())?;
    if major != 1 {
        return None;
    }
    bindgen::RustTarget::stable(minor, patch).ok()
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/wrapper.h");
    println!("cargo:rerun-if-changed=src/shim.h");
    println!("cargo:rerun-if-changed=src/shim.c");
    println!("cargo:rerun-if-changed=tests/layout.c");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");

    let dpdk_version = pkg_config(&["--modversion"]);
    if !dpdk_version.starts_with("22.11") {
        fail(&format!(
            "found DPDK {dpdk_version}; these bindings target DPDK 22.11 (Debian bookworm)"
        ));
    }
    let sdk = sdk_include(&dpdk_version);

    // Compile flags: pkg-config's (include dirs, `-include rte_config.h`, `-march=...`),
    // the SDK directory and the internal/experimental API defines.
    let mut cflags: Vec<String> = pkg_config(&["--cflags"])
        .split_whitespace()
        .map(str::to_string)
        .collect();
    cflags.push(format!("-I{}", sdk.display()));
    cflags.extend(DEFINES.iter().map(|d| d.to_string()));
    // DPDK's own include directories (pkg-config also lists libnl3, dbus, ...).
    let dpdk_includes: Vec<PathBuf> = cflags
        .iter()
        .filter_map(|f| f.strip_prefix("-I"))
        .map(PathBuf::from)
        .filter(|p| p.join("rte_config.h").is_file() || p.join("rte_eal.h").is_file())
        .collect();

    // ---- bindings ----
    // clang names a header by the -I directory it was found through, as given
    // ("/usr/include/dpdk/../x86_64-linux-gnu/dpdk"); allow the canonical spelling too.
    let mut allow_files = String::new();
    for dir in dpdk_includes.iter().chain(std::iter::once(&sdk)) {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        for d in [dir, &canonical] {
            if !allow_files.is_empty() {
                allow_files.push('|');
            }
            let _ = write!(allow_files, "{}/.*", regex_escape(&d.display().to_string()));
        }
    }
    let mut builder = bindgen::Builder::default()
        .header(manifest.join("src/wrapper.h").display().to_string())
        .clang_args(&cflags)
        .clang_arg(format!("-I{}", manifest.join("src").display()))
        // Everything declared in DPDK's headers (and the shim), plus what those items need.
        .allowlist_file(allow_files)
        .allowlist_function("fbnic_.*")
        // Thread-local variables (RTE_DEFINE_PER_LCORE) cannot be bound as plain statics:
        // the shim reads them (fbnic_lcore_id, fbnic_rte_errno).
        .blocklist_var("per_lcore_.*")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .generate_comments(false)
        .layout_tests(true)
        .derive_default(true)
        .use_core()
        .merge_extern_blocks(true)
        .wrap_unsafe_ops(true)
        // Macros such as RTE_ETH_RSS_IPV4 (RTE_BIT64(n)) are evaluated by clang.
        .clang_macro_fallback()
        .clang_macro_fallback_build_dir(&out_dir)
        .parse_callbacks(Box::new(MacroTypes))
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for t in OPAQUE {
        builder = builder.opaque_type(t);
    }
    if let Some(t) = rust_target() {
        builder = builder.rust_target(t);
    }
    let bindings = builder.generate().unwrap_or_else(|e| {
        fail(&format!(
            "bindgen failed over src/wrapper.h ({e}); is libclang-dev installed? run scripts/setup.sh"
        ))
    });
    bindings
        .write_to_file(out_dir.join("bindings.rs"))
        .unwrap_or_else(|e| fail(&format!("cannot write bindings.rs: {e}")));

    // ---- C: shim (linked into the library) and layout probes (tests only) ----
    let c_build = || {
        let mut b = cc::Build::new();
        b.include(manifest.join("src"));
        for f in &cflags {
            b.flag(f);
        }
        b.flag_if_supported("-fno-strict-aliasing");
        b.warnings(true).extra_warnings(true);
        b
    };
    c_build()
        .file(manifest.join("src/shim.c"))
        .compile("fbnic_shim");
    // Not linked by default: tests/layout.rs links it with #[link(name = "fbnic_layout")].
    c_build()
        .file(manifest.join("tests/layout.c"))
        .cargo_metadata(false)
        .compile("fbnic_layout");
    println!("cargo:rustc-link-search=native={}", out_dir.display());

    // ---- DPDK shared libraries ----
    // pkg-config's list (libdpdk-libs: rte_ethdev, rte_mbuf, rte_mempool, rte_eal, ...),
    // never the static archives, plus rte_bus_vdev that pkg-config does not list
    // (rte_vdev_register lives there).
    pkg_config::Config::new()
        .statik(false)
        .cargo_metadata(true)
        .env_metadata(true)
        .probe("libdpdk")
        .unwrap_or_else(|e| fail(&format!("pkg-config libdpdk: {e}")));
    println!("cargo:rustc-link-lib=dylib=rte_bus_vdev");

    // For dependents' build scripts (links = "dpdk"): DEP_DPDK_SDK_INCLUDE, DEP_DPDK_CFLAGS.
    println!("cargo:sdk_include={}", sdk.display());
    println!("cargo:cflags={}", cflags.join(" "));
    println!("cargo:version={dpdk_version}");
}
