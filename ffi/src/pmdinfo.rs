//! Driver registration pieces that C drivers get from macros: the `dpdk-pmdinfo.py` record
//! (`RTE_PMD_REGISTER_VDEV`'s `RTE_PMD_EXPORT_NAME` + `RTE_PMD_REGISTER_PARAM_STRING`, turned
//! into a `PMD_INFO_STRING=` string by DPDK's build) and constructors (`RTE_INIT`).
//!
//! How DPDK 22.11's `dpdk-pmdinfo.py` finds drivers: it reads the `.rodata` section of the
//! ELF file (and of the `librte_*` libraries it needs) and collects every NUL-terminated run
//! of printable ASCII that starts with `PMD_INFO_STRING=`; the rest is JSON with the keys
//! `name`, `params` (optional), `kmod` (optional) and `pci_ids` (required, a list of
//! `[vendor, device, subsystem_vendor, subsystem_device]`; empty for a vdev). DPDK's own
//! build makes that string with `buildtools/pmdinfogen.py` from the `this_pmd_name<N>` and
//! `__<name>_param_string_export` symbols; those symbols themselves are not read at run time.
//! [`rte_pmd_info!`] emits the final string directly.

/// Whether `s` can be embedded in the JSON record as is: printable ASCII without `"`
/// and `\` (so no escaping is needed and `dpdk-pmdinfo.py` sees one printable run).
pub const fn is_json_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 || c > 0x7e || c == b'"' || c == b'\\' {
            return false;
        }
        i += 1;
    }
    true
}

/// Copies `s` into an array of exactly its length (a `static`'s initializer).
pub const fn record<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    assert!(b.len() == N, "record length mismatch");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = b[i];
        i += 1;
    }
    out
}

/// Emits the `dpdk-pmdinfo.py` record of a driver into `.rodata` as an exported symbol, so
/// that `dpdk-pmdinfo.py librte_net_fbnic.so` lists the driver and its parameters.
///
/// ```ignore
/// dpdk_sys::rte_pmd_info!(
///     net_fbnic_pmd_info,              // symbol name (exported, unmangled)
///     name: "net_fbnic",               // the driver name (rte_driver.name)
///     params: "mac=<mac> lpbk_mode=<0|1>",
/// );
/// ```
/// An optional `kmod: "..."` follows `params`. `name`, `params` and `kmod` must be
/// printable ASCII without `"` or `\` (checked at compile time). The record is
/// `PMD_INFO_STRING= {"name": "...", "params": "...", "pci_ids": []}` followed by a NUL.
#[macro_export]
macro_rules! rte_pmd_info {
    ($sym:ident, name: $name:literal, params: $params:literal $(, kmod: $kmod:literal)? $(,)?) => {
        const _: () = {
            assert!(
                $crate::pmdinfo::is_json_safe($name) && $crate::pmdinfo::is_json_safe($params),
                "rte_pmd_info!: name and params must be printable ASCII without '\"' or '\\'"
            );
            $(assert!(
                $crate::pmdinfo::is_json_safe($kmod),
                "rte_pmd_info!: kmod must be printable ASCII without '\"' or '\\'"
            );)?
        };
        /// `dpdk-pmdinfo.py` record (see dpdk_sys::rte_pmd_info!).
        #[no_mangle]
        #[used]
        pub static $sym: [u8; $crate::rte_pmd_info!(@str $name, $params $(, $kmod)?).len()] =
            $crate::pmdinfo::record($crate::rte_pmd_info!(@str $name, $params $(, $kmod)?));
    };
    (@str $name:literal, $params:literal $(, $kmod:literal)?) => {
        concat!(
            "PMD_INFO_STRING= {\"name\": \"", $name,
            "\", \"params\": \"", $params, "\"",
            $(", \"kmod\": \"", $kmod, "\"",)?
            ", \"pci_ids\": []}\0"
        )
    };
}

/// Runs `f` when the shared object is loaded (`dlopen` by EAL for `-d`, or program start
/// when linked in), like C's `RTE_INIT`: a pointer to it is placed in `.init_array`.
///
/// `f` must be an `extern "C" fn()` that does not unwind; a vdev driver calls
/// `rte_vdev_register` there. EAL's own constructors (log, buses) have already run when a
/// plugin is loaded; for a driver linked into the application, `rte_vdev_register` only
/// appends to a list and is safe from any constructor.
///
/// ```ignore
/// extern "C" fn fbnic_register() { /* rte_vdev_register(...) */ }
/// dpdk_sys::rte_init!(fbnic_register);
/// ```
#[macro_export]
macro_rules! rte_init {
    ($f:path) => {
        const _: () = {
            #[used]
            #[link_section = ".init_array"]
            static INIT: extern "C" fn() = $f;
        };
    };
}

#[cfg(test)]
mod tests {
    extern crate std;

    crate::rte_pmd_info!(
        fbnic_test_pmd_info,
        name: "net_test",
        params: "mac=<mac> n=<int>",
        kmod: "* vfio-pci",
    );
    crate::rte_pmd_info!(fbnic_test_pmd_info2, name: "net_test2", params: "");

    #[test]
    fn record_is_the_string_pmdinfo_looks_for() {
        let s = std::str::from_utf8(&fbnic_test_pmd_info).unwrap();
        assert_eq!(
            s,
            "PMD_INFO_STRING= {\"name\": \"net_test\", \"params\": \"mac=<mac> n=<int>\", \
             \"kmod\": \"* vfio-pci\", \"pci_ids\": []}\0"
        );
        let s2 = std::str::from_utf8(&fbnic_test_pmd_info2).unwrap();
        assert!(s2.ends_with("\"params\": \"\", \"pci_ids\": []}\0"));
    }

    #[test]
    fn json_safety() {
        assert!(super::is_json_safe("iface=<ifc> mac=<mac>"));
        assert!(!super::is_json_safe("a\"b"));
        assert!(!super::is_json_safe("a\\b"));
        assert!(!super::is_json_safe("a\nb"));
        assert!(!super::is_json_safe("\u{e9}"));
    }
}
