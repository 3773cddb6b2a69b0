//! Layout tests: Rust's view of the DPDK structures (the bindgen output) against the C
//! compiler's (tests/layout.c, compiled by build.rs with the same flags as the shim).
//!
//! Sizes, alignments, offsets of every named field of the structures a PMD touches, members
//! of anonymous unions, and bitfield positions. Needs the DPDK shared libraries at run
//! time (through the shim), not EAL initialisation.

use std::collections::BTreeMap;
use std::ffi::{c_char, CStr};
use std::mem::{align_of, offset_of, size_of, MaybeUninit};

use dpdk_sys::*;

#[repr(C)]
struct LayoutItem {
    name: *const c_char,
    value: u64,
}

#[link(name = "fbnic_layout", kind = "static")]
extern "C" {
    fn fbnic_layout_probe(items: *mut LayoutItem, cap: usize) -> usize;
}

/// What the C compiler says, by item name.
fn c_layout() -> BTreeMap<String, u64> {
    // SAFETY: a null buffer with capacity 0 only counts the items.
    let n = unsafe { fbnic_layout_probe(std::ptr::null_mut(), 0) };
    let mut items: Vec<LayoutItem> = (0..n)
        .map(|_| LayoutItem {
            name: std::ptr::null(),
            value: 0,
        })
        .collect();
    // SAFETY: `items` has room for exactly `n` entries, the count the probe reported.
    let written = unsafe { fbnic_layout_probe(items.as_mut_ptr(), items.len()) };
    assert_eq!(written, n);
    items
        .iter()
        .map(|it| {
            // SAFETY: the probe stores pointers to string literals (static, NUL-terminated).
            let name = unsafe { CStr::from_ptr(it.name) };
            (
                name.to_str().expect("ASCII item name").to_string(),
                it.value,
            )
        })
        .collect()
}

/// First set bit (from the start of the object) * 256 + number of set bits.
fn bitpos(bytes: &[u8]) -> u64 {
    let mut first = None;
    let mut width = 0;
    for (i, b) in bytes.iter().enumerate() {
        for bit in 0..8 {
            if b >> bit & 1 == 1 {
                first.get_or_insert((i * 8 + bit) as u64);
                width += 1;
            }
        }
    }
    first.expect("bitfield setter set no bit") * 256 + width
}

/// Zeroes a `T`, lets `set` store all-ones into one bitfield, returns `bitpos` of the bytes.
fn bits_of<T>(set: impl FnOnce(&mut T)) -> u64 {
    let mut v = MaybeUninit::<T>::zeroed();
    // SAFETY: every type probed here is plain C data (integers, pointers, Option<fn>),
    // for which all-zero bytes are a valid value.
    set(unsafe { v.assume_init_mut() });
    // SAFETY: the memory was zeroed entirely, then only bitfield storage was written:
    // all `size_of::<T>()` bytes are initialised.
    let bytes = unsafe { std::slice::from_raw_parts(v.as_ptr().cast::<u8>(), size_of::<T>()) };
    bitpos(bytes)
}

macro_rules! size {
    ($t:ident) => {
        [
            (concat!("size ", stringify!($t)), size_of::<$t>() as u64),
            (concat!("align ", stringify!($t)), align_of::<$t>() as u64),
        ]
    };
}

macro_rules! off {
    ($t:ident, $f:ident) => {
        [(
            concat!("offset ", stringify!($t), ".", stringify!($f)),
            offset_of!($t, $f) as u64,
        )]
    };
    ($t:ident, $cname:literal, $($path:tt)+) => {
        [(
            concat!("offset ", stringify!($t), ".", $cname),
            offset_of!($t, $($path)+) as u64,
        )]
    };
}

macro_rules! bits {
    ($t:ident, $f:ident, |$v:ident| $set:expr) => {
        [(
            concat!("bits ", stringify!($t), ".", stringify!($f)),
            bits_of::<$t>(|$v| $set),
        )]
    };
}

/// The packet-type bitfields (l2_type..tun_type, inner_l4_type) of `m`, set by `set`.
fn set_ptype(m: &mut rte_mbuf, set: impl FnOnce(&mut rte_mbuf__bindgen_ty_1__bindgen_ty_1)) {
    let mut p = rte_mbuf__bindgen_ty_1__bindgen_ty_1::default();
    set(&mut p);
    m.__bindgen_anon_1 = rte_mbuf__bindgen_ty_1 {
        __bindgen_anon_1: p,
    };
}

/// inner_l2_type / inner_l3_type: one union deeper (shared with inner_esp_next_proto).
fn set_ptype_inner(
    m: &mut rte_mbuf,
    set: impl FnOnce(&mut rte_mbuf__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1),
) {
    let mut inner = rte_mbuf__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1::default();
    set(&mut inner);
    set_ptype(m, |p| {
        p.__bindgen_anon_1 = rte_mbuf__bindgen_ty_1__bindgen_ty_1__bindgen_ty_1 {
            __bindgen_anon_1: inner,
        }
    });
}

/// The Tx offload bitfields (l2_len, ...) of `m`, set by `set`.
fn set_txo(m: &mut rte_mbuf, set: impl FnOnce(&mut rte_mbuf__bindgen_ty_3__bindgen_ty_1)) {
    let mut t = rte_mbuf__bindgen_ty_3__bindgen_ty_1::default();
    set(&mut t);
    m.__bindgen_anon_3 = rte_mbuf__bindgen_ty_3 {
        __bindgen_anon_1: t,
    };
}

/// What Rust (the bindings) says, by item name.
fn rust_layout() -> BTreeMap<String, u64> {
    let groups: Vec<Vec<(&str, u64)>> = vec![
        size!(rte_mbuf).to_vec(),
        off!(rte_mbuf, cacheline0).to_vec(),
        off!(rte_mbuf, buf_addr).to_vec(),
        off!(rte_mbuf, buf_iova).to_vec(),
        off!(rte_mbuf, rearm_data).to_vec(),
        off!(rte_mbuf, data_off).to_vec(),
        off!(rte_mbuf, refcnt).to_vec(),
        off!(rte_mbuf, nb_segs).to_vec(),
        off!(rte_mbuf, port).to_vec(),
        off!(rte_mbuf, ol_flags).to_vec(),
        off!(rte_mbuf, rx_descriptor_fields1).to_vec(),
        off!(rte_mbuf, pkt_len).to_vec(),
        off!(rte_mbuf, data_len).to_vec(),
        off!(rte_mbuf, vlan_tci).to_vec(),
        off!(rte_mbuf, vlan_tci_outer).to_vec(),
        off!(rte_mbuf, buf_len).to_vec(),
        off!(rte_mbuf, pool).to_vec(),
        off!(rte_mbuf, cacheline1).to_vec(),
        off!(rte_mbuf, next).to_vec(),
        off!(rte_mbuf, shinfo).to_vec(),
        off!(rte_mbuf, priv_size).to_vec(),
        off!(rte_mbuf, timesync).to_vec(),
        off!(rte_mbuf, dynfield1).to_vec(),
        size!(rte_eth_dev).to_vec(),
        off!(rte_eth_dev, rx_pkt_burst).to_vec(),
        off!(rte_eth_dev, tx_pkt_burst).to_vec(),
        off!(rte_eth_dev, tx_pkt_prepare).to_vec(),
        off!(rte_eth_dev, rx_queue_count).to_vec(),
        off!(rte_eth_dev, rx_descriptor_status).to_vec(),
        off!(rte_eth_dev, tx_descriptor_status).to_vec(),
        off!(rte_eth_dev, data).to_vec(),
        off!(rte_eth_dev, process_private).to_vec(),
        off!(rte_eth_dev, dev_ops).to_vec(),
        off!(rte_eth_dev, device).to_vec(),
        off!(rte_eth_dev, intr_handle).to_vec(),
        off!(rte_eth_dev, link_intr_cbs).to_vec(),
        off!(rte_eth_dev, post_rx_burst_cbs).to_vec(),
        off!(rte_eth_dev, pre_tx_burst_cbs).to_vec(),
        off!(rte_eth_dev, state).to_vec(),
        off!(rte_eth_dev, security_ctx).to_vec(),
        size!(rte_eth_dev_data).to_vec(),
        off!(rte_eth_dev_data, name).to_vec(),
        off!(rte_eth_dev_data, rx_queues).to_vec(),
        off!(rte_eth_dev_data, tx_queues).to_vec(),
        off!(rte_eth_dev_data, nb_rx_queues).to_vec(),
        off!(rte_eth_dev_data, nb_tx_queues).to_vec(),
        off!(rte_eth_dev_data, sriov).to_vec(),
        off!(rte_eth_dev_data, dev_private).to_vec(),
        off!(rte_eth_dev_data, dev_link).to_vec(),
        off!(rte_eth_dev_data, dev_conf).to_vec(),
        off!(rte_eth_dev_data, mtu).to_vec(),
        off!(rte_eth_dev_data, min_rx_buf_size).to_vec(),
        off!(rte_eth_dev_data, rx_mbuf_alloc_failed).to_vec(),
        off!(rte_eth_dev_data, mac_addrs).to_vec(),
        off!(rte_eth_dev_data, mac_pool_sel).to_vec(),
        off!(rte_eth_dev_data, hash_mac_addrs).to_vec(),
        off!(rte_eth_dev_data, port_id).to_vec(),
        off!(rte_eth_dev_data, rx_queue_state).to_vec(),
        off!(rte_eth_dev_data, tx_queue_state).to_vec(),
        off!(rte_eth_dev_data, dev_flags).to_vec(),
        off!(rte_eth_dev_data, numa_node).to_vec(),
        off!(rte_eth_dev_data, vlan_filter_conf).to_vec(),
        off!(rte_eth_dev_data, owner).to_vec(),
        off!(rte_eth_dev_data, representor_id).to_vec(),
        off!(rte_eth_dev_data, backer_port_id).to_vec(),
        off!(rte_eth_dev_data, flow_ops_mutex).to_vec(),
        size!(eth_dev_ops).to_vec(),
        off!(eth_dev_ops, dev_configure).to_vec(),
        off!(eth_dev_ops, dev_start).to_vec(),
        off!(eth_dev_ops, dev_stop).to_vec(),
        off!(eth_dev_ops, dev_set_link_up).to_vec(),
        off!(eth_dev_ops, dev_set_link_down).to_vec(),
        off!(eth_dev_ops, dev_close).to_vec(),
        off!(eth_dev_ops, dev_reset).to_vec(),
        off!(eth_dev_ops, link_update).to_vec(),
        off!(eth_dev_ops, is_removed).to_vec(),
        off!(eth_dev_ops, promiscuous_enable).to_vec(),
        off!(eth_dev_ops, promiscuous_disable).to_vec(),
        off!(eth_dev_ops, allmulticast_enable).to_vec(),
        off!(eth_dev_ops, allmulticast_disable).to_vec(),
        off!(eth_dev_ops, mac_addr_remove).to_vec(),
        off!(eth_dev_ops, mac_addr_add).to_vec(),
        off!(eth_dev_ops, mac_addr_set).to_vec(),
        off!(eth_dev_ops, set_mc_addr_list).to_vec(),
        off!(eth_dev_ops, mtu_set).to_vec(),
        off!(eth_dev_ops, stats_get).to_vec(),
        off!(eth_dev_ops, stats_reset).to_vec(),
        off!(eth_dev_ops, xstats_get).to_vec(),
        off!(eth_dev_ops, xstats_reset).to_vec(),
        off!(eth_dev_ops, xstats_get_names).to_vec(),
        off!(eth_dev_ops, queue_stats_mapping_set).to_vec(),
        off!(eth_dev_ops, dev_infos_get).to_vec(),
        off!(eth_dev_ops, rxq_info_get).to_vec(),
        off!(eth_dev_ops, txq_info_get).to_vec(),
        off!(eth_dev_ops, rx_burst_mode_get).to_vec(),
        off!(eth_dev_ops, tx_burst_mode_get).to_vec(),
        off!(eth_dev_ops, fw_version_get).to_vec(),
        off!(eth_dev_ops, dev_supported_ptypes_get).to_vec(),
        off!(eth_dev_ops, dev_ptypes_set).to_vec(),
        off!(eth_dev_ops, vlan_filter_set).to_vec(),
        off!(eth_dev_ops, vlan_tpid_set).to_vec(),
        off!(eth_dev_ops, vlan_strip_queue_set).to_vec(),
        off!(eth_dev_ops, vlan_offload_set).to_vec(),
        off!(eth_dev_ops, vlan_pvid_set).to_vec(),
        off!(eth_dev_ops, rx_queue_start).to_vec(),
        off!(eth_dev_ops, rx_queue_stop).to_vec(),
        off!(eth_dev_ops, tx_queue_start).to_vec(),
        off!(eth_dev_ops, tx_queue_stop).to_vec(),
        off!(eth_dev_ops, rx_queue_setup).to_vec(),
        off!(eth_dev_ops, rx_queue_release).to_vec(),
        off!(eth_dev_ops, rx_queue_intr_enable).to_vec(),
        off!(eth_dev_ops, rx_queue_intr_disable).to_vec(),
        off!(eth_dev_ops, tx_queue_setup).to_vec(),
        off!(eth_dev_ops, tx_queue_release).to_vec(),
        off!(eth_dev_ops, tx_done_cleanup).to_vec(),
        off!(eth_dev_ops, dev_led_on).to_vec(),
        off!(eth_dev_ops, dev_led_off).to_vec(),
        off!(eth_dev_ops, flow_ctrl_get).to_vec(),
        off!(eth_dev_ops, flow_ctrl_set).to_vec(),
        off!(eth_dev_ops, priority_flow_ctrl_set).to_vec(),
        off!(eth_dev_ops, priority_flow_ctrl_queue_info_get).to_vec(),
        off!(eth_dev_ops, priority_flow_ctrl_queue_config).to_vec(),
        off!(eth_dev_ops, uc_hash_table_set).to_vec(),
        off!(eth_dev_ops, uc_all_hash_table_set).to_vec(),
        off!(eth_dev_ops, udp_tunnel_port_add).to_vec(),
        off!(eth_dev_ops, udp_tunnel_port_del).to_vec(),
        off!(eth_dev_ops, set_queue_rate_limit).to_vec(),
        off!(eth_dev_ops, rss_hash_update).to_vec(),
        off!(eth_dev_ops, rss_hash_conf_get).to_vec(),
        off!(eth_dev_ops, reta_update).to_vec(),
        off!(eth_dev_ops, reta_query).to_vec(),
        off!(eth_dev_ops, get_reg).to_vec(),
        off!(eth_dev_ops, get_eeprom_length).to_vec(),
        off!(eth_dev_ops, get_eeprom).to_vec(),
        off!(eth_dev_ops, set_eeprom).to_vec(),
        off!(eth_dev_ops, get_module_info).to_vec(),
        off!(eth_dev_ops, get_module_eeprom).to_vec(),
        off!(eth_dev_ops, flow_ops_get).to_vec(),
        off!(eth_dev_ops, get_dcb_info).to_vec(),
        off!(eth_dev_ops, timesync_enable).to_vec(),
        off!(eth_dev_ops, timesync_disable).to_vec(),
        off!(eth_dev_ops, timesync_read_rx_timestamp).to_vec(),
        off!(eth_dev_ops, timesync_read_tx_timestamp).to_vec(),
        off!(eth_dev_ops, timesync_adjust_time).to_vec(),
        off!(eth_dev_ops, timesync_read_time).to_vec(),
        off!(eth_dev_ops, timesync_write_time).to_vec(),
        off!(eth_dev_ops, read_clock).to_vec(),
        off!(eth_dev_ops, xstats_get_by_id).to_vec(),
        off!(eth_dev_ops, xstats_get_names_by_id).to_vec(),
        off!(eth_dev_ops, tm_ops_get).to_vec(),
        off!(eth_dev_ops, mtr_ops_get).to_vec(),
        off!(eth_dev_ops, pool_ops_supported).to_vec(),
        off!(eth_dev_ops, hairpin_cap_get).to_vec(),
        off!(eth_dev_ops, rx_hairpin_queue_setup).to_vec(),
        off!(eth_dev_ops, tx_hairpin_queue_setup).to_vec(),
        off!(eth_dev_ops, fec_get_capability).to_vec(),
        off!(eth_dev_ops, fec_get).to_vec(),
        off!(eth_dev_ops, fec_set).to_vec(),
        off!(eth_dev_ops, hairpin_get_peer_ports).to_vec(),
        off!(eth_dev_ops, hairpin_bind).to_vec(),
        off!(eth_dev_ops, hairpin_unbind).to_vec(),
        off!(eth_dev_ops, hairpin_queue_peer_update).to_vec(),
        off!(eth_dev_ops, hairpin_queue_peer_bind).to_vec(),
        off!(eth_dev_ops, hairpin_queue_peer_unbind).to_vec(),
        off!(eth_dev_ops, get_monitor_addr).to_vec(),
        off!(eth_dev_ops, representor_info_get).to_vec(),
        off!(eth_dev_ops, rx_metadata_negotiate).to_vec(),
        off!(eth_dev_ops, ip_reassembly_capability_get).to_vec(),
        off!(eth_dev_ops, ip_reassembly_conf_get).to_vec(),
        off!(eth_dev_ops, ip_reassembly_conf_set).to_vec(),
        off!(eth_dev_ops, buffer_split_supported_hdr_ptypes_get).to_vec(),
        off!(eth_dev_ops, eth_dev_priv_dump).to_vec(),
        off!(eth_dev_ops, rx_queue_avail_thresh_set).to_vec(),
        off!(eth_dev_ops, rx_queue_avail_thresh_query).to_vec(),
        off!(eth_dev_ops, eth_rx_descriptor_dump).to_vec(),
        off!(eth_dev_ops, eth_tx_descriptor_dump).to_vec(),
        off!(eth_dev_ops, cman_info_get).to_vec(),
        off!(eth_dev_ops, cman_config_init).to_vec(),
        off!(eth_dev_ops, cman_config_set).to_vec(),
        off!(eth_dev_ops, cman_config_get).to_vec(),
        size!(rte_eth_dev_info).to_vec(),
        off!(rte_eth_dev_info, device).to_vec(),
        off!(rte_eth_dev_info, driver_name).to_vec(),
        off!(rte_eth_dev_info, if_index).to_vec(),
        off!(rte_eth_dev_info, min_mtu).to_vec(),
        off!(rte_eth_dev_info, max_mtu).to_vec(),
        off!(rte_eth_dev_info, dev_flags).to_vec(),
        off!(rte_eth_dev_info, min_rx_bufsize).to_vec(),
        off!(rte_eth_dev_info, max_rx_pktlen).to_vec(),
        off!(rte_eth_dev_info, max_lro_pkt_size).to_vec(),
        off!(rte_eth_dev_info, max_rx_queues).to_vec(),
        off!(rte_eth_dev_info, max_tx_queues).to_vec(),
        off!(rte_eth_dev_info, max_mac_addrs).to_vec(),
        off!(rte_eth_dev_info, max_hash_mac_addrs).to_vec(),
        off!(rte_eth_dev_info, max_vfs).to_vec(),
        off!(rte_eth_dev_info, max_vmdq_pools).to_vec(),
        off!(rte_eth_dev_info, rx_seg_capa).to_vec(),
        off!(rte_eth_dev_info, rx_offload_capa).to_vec(),
        off!(rte_eth_dev_info, tx_offload_capa).to_vec(),
        off!(rte_eth_dev_info, rx_queue_offload_capa).to_vec(),
        off!(rte_eth_dev_info, tx_queue_offload_capa).to_vec(),
        off!(rte_eth_dev_info, reta_size).to_vec(),
        off!(rte_eth_dev_info, hash_key_size).to_vec(),
        off!(rte_eth_dev_info, flow_type_rss_offloads).to_vec(),
        off!(rte_eth_dev_info, default_rxconf).to_vec(),
        off!(rte_eth_dev_info, default_txconf).to_vec(),
        off!(rte_eth_dev_info, vmdq_queue_base).to_vec(),
        off!(rte_eth_dev_info, vmdq_queue_num).to_vec(),
        off!(rte_eth_dev_info, vmdq_pool_base).to_vec(),
        off!(rte_eth_dev_info, rx_desc_lim).to_vec(),
        off!(rte_eth_dev_info, tx_desc_lim).to_vec(),
        off!(rte_eth_dev_info, speed_capa).to_vec(),
        off!(rte_eth_dev_info, nb_rx_queues).to_vec(),
        off!(rte_eth_dev_info, nb_tx_queues).to_vec(),
        off!(rte_eth_dev_info, max_rx_mempools).to_vec(),
        off!(rte_eth_dev_info, default_rxportconf).to_vec(),
        off!(rte_eth_dev_info, default_txportconf).to_vec(),
        off!(rte_eth_dev_info, dev_capa).to_vec(),
        off!(rte_eth_dev_info, switch_info).to_vec(),
        off!(rte_eth_dev_info, err_handle_mode).to_vec(),
        off!(rte_eth_dev_info, reserved_64s).to_vec(),
        off!(rte_eth_dev_info, reserved_ptrs).to_vec(),
        size!(rte_eth_conf).to_vec(),
        off!(rte_eth_conf, link_speeds).to_vec(),
        off!(rte_eth_conf, rxmode).to_vec(),
        off!(rte_eth_conf, txmode).to_vec(),
        off!(rte_eth_conf, lpbk_mode).to_vec(),
        off!(rte_eth_conf, rx_adv_conf).to_vec(),
        off!(rte_eth_conf, tx_adv_conf).to_vec(),
        off!(rte_eth_conf, dcb_capability_en).to_vec(),
        off!(rte_eth_conf, intr_conf).to_vec(),
        size!(rte_eth_rxmode).to_vec(),
        off!(rte_eth_rxmode, mq_mode).to_vec(),
        off!(rte_eth_rxmode, mtu).to_vec(),
        off!(rte_eth_rxmode, max_lro_pkt_size).to_vec(),
        off!(rte_eth_rxmode, offloads).to_vec(),
        off!(rte_eth_rxmode, reserved_64s).to_vec(),
        off!(rte_eth_rxmode, reserved_ptrs).to_vec(),
        size!(rte_eth_txmode).to_vec(),
        off!(rte_eth_txmode, mq_mode).to_vec(),
        off!(rte_eth_txmode, offloads).to_vec(),
        off!(rte_eth_txmode, pvid).to_vec(),
        off!(rte_eth_txmode, reserved_64s).to_vec(),
        off!(rte_eth_txmode, reserved_ptrs).to_vec(),
        size!(rte_eth_rxconf).to_vec(),
        off!(rte_eth_rxconf, rx_thresh).to_vec(),
        off!(rte_eth_rxconf, rx_free_thresh).to_vec(),
        off!(rte_eth_rxconf, rx_drop_en).to_vec(),
        off!(rte_eth_rxconf, rx_deferred_start).to_vec(),
        off!(rte_eth_rxconf, rx_nseg).to_vec(),
        off!(rte_eth_rxconf, share_group).to_vec(),
        off!(rte_eth_rxconf, share_qid).to_vec(),
        off!(rte_eth_rxconf, offloads).to_vec(),
        off!(rte_eth_rxconf, rx_seg).to_vec(),
        off!(rte_eth_rxconf, rx_mempools).to_vec(),
        off!(rte_eth_rxconf, rx_nmempool).to_vec(),
        off!(rte_eth_rxconf, reserved_64s).to_vec(),
        off!(rte_eth_rxconf, reserved_ptrs).to_vec(),
        size!(rte_eth_txconf).to_vec(),
        off!(rte_eth_txconf, tx_thresh).to_vec(),
        off!(rte_eth_txconf, tx_rs_thresh).to_vec(),
        off!(rte_eth_txconf, tx_free_thresh).to_vec(),
        off!(rte_eth_txconf, tx_deferred_start).to_vec(),
        off!(rte_eth_txconf, offloads).to_vec(),
        off!(rte_eth_txconf, reserved_64s).to_vec(),
        off!(rte_eth_txconf, reserved_ptrs).to_vec(),
        size!(rte_eth_rss_conf).to_vec(),
        off!(rte_eth_rss_conf, rss_key).to_vec(),
        off!(rte_eth_rss_conf, rss_key_len).to_vec(),
        off!(rte_eth_rss_conf, rss_hf).to_vec(),
        size!(rte_eth_rss_reta_entry64).to_vec(),
        off!(rte_eth_rss_reta_entry64, mask).to_vec(),
        off!(rte_eth_rss_reta_entry64, reta).to_vec(),
        size!(rte_eth_stats).to_vec(),
        off!(rte_eth_stats, ipackets).to_vec(),
        off!(rte_eth_stats, opackets).to_vec(),
        off!(rte_eth_stats, ibytes).to_vec(),
        off!(rte_eth_stats, obytes).to_vec(),
        off!(rte_eth_stats, imissed).to_vec(),
        off!(rte_eth_stats, ierrors).to_vec(),
        off!(rte_eth_stats, oerrors).to_vec(),
        off!(rte_eth_stats, rx_nombuf).to_vec(),
        off!(rte_eth_stats, q_ipackets).to_vec(),
        off!(rte_eth_stats, q_opackets).to_vec(),
        off!(rte_eth_stats, q_ibytes).to_vec(),
        off!(rte_eth_stats, q_obytes).to_vec(),
        off!(rte_eth_stats, q_errors).to_vec(),
        size!(rte_eth_xstat).to_vec(),
        off!(rte_eth_xstat, id).to_vec(),
        off!(rte_eth_xstat, value).to_vec(),
        size!(rte_eth_xstat_name).to_vec(),
        off!(rte_eth_xstat_name, name).to_vec(),
        size!(rte_eth_link).to_vec(),
        off!(rte_eth_link, link_speed).to_vec(),
        size!(rte_eth_rxq_info).to_vec(),
        off!(rte_eth_rxq_info, mp).to_vec(),
        off!(rte_eth_rxq_info, conf).to_vec(),
        off!(rte_eth_rxq_info, scattered_rx).to_vec(),
        off!(rte_eth_rxq_info, queue_state).to_vec(),
        off!(rte_eth_rxq_info, nb_desc).to_vec(),
        off!(rte_eth_rxq_info, rx_buf_size).to_vec(),
        off!(rte_eth_rxq_info, avail_thresh).to_vec(),
        size!(rte_eth_txq_info).to_vec(),
        off!(rte_eth_txq_info, conf).to_vec(),
        off!(rte_eth_txq_info, nb_desc).to_vec(),
        off!(rte_eth_txq_info, queue_state).to_vec(),
        size!(rte_eth_fc_conf).to_vec(),
        off!(rte_eth_fc_conf, high_water).to_vec(),
        off!(rte_eth_fc_conf, low_water).to_vec(),
        off!(rte_eth_fc_conf, pause_time).to_vec(),
        off!(rte_eth_fc_conf, send_xon).to_vec(),
        off!(rte_eth_fc_conf, mode).to_vec(),
        off!(rte_eth_fc_conf, mac_ctrl_frame_fwd).to_vec(),
        off!(rte_eth_fc_conf, autoneg).to_vec(),
        size!(rte_eth_desc_lim).to_vec(),
        off!(rte_eth_desc_lim, nb_max).to_vec(),
        off!(rte_eth_desc_lim, nb_min).to_vec(),
        off!(rte_eth_desc_lim, nb_align).to_vec(),
        off!(rte_eth_desc_lim, nb_seg_max).to_vec(),
        off!(rte_eth_desc_lim, nb_mtu_seg_max).to_vec(),
        size!(rte_ether_addr).to_vec(),
        off!(rte_ether_addr, addr_bytes).to_vec(),
        size!(rte_mempool).to_vec(),
        off!(rte_mempool, name).to_vec(),
        off!(rte_mempool, pool_config).to_vec(),
        off!(rte_mempool, mz).to_vec(),
        off!(rte_mempool, flags).to_vec(),
        off!(rte_mempool, socket_id).to_vec(),
        off!(rte_mempool, size).to_vec(),
        off!(rte_mempool, cache_size).to_vec(),
        off!(rte_mempool, elt_size).to_vec(),
        off!(rte_mempool, header_size).to_vec(),
        off!(rte_mempool, trailer_size).to_vec(),
        off!(rte_mempool, private_data_size).to_vec(),
        off!(rte_mempool, ops_index).to_vec(),
        off!(rte_mempool, local_cache).to_vec(),
        off!(rte_mempool, populated_size).to_vec(),
        off!(rte_mempool, elt_list).to_vec(),
        off!(rte_mempool, nb_mem_chunks).to_vec(),
        off!(rte_mempool, mem_list).to_vec(),
        size!(rte_mempool_cache).to_vec(),
        off!(rte_mempool_cache, size).to_vec(),
        off!(rte_mempool_cache, flushthresh).to_vec(),
        off!(rte_mempool_cache, len).to_vec(),
        off!(rte_mempool_cache, objs).to_vec(),
        size!(rte_vdev_device).to_vec(),
        off!(rte_vdev_device, next).to_vec(),
        off!(rte_vdev_device, device).to_vec(),
        size!(rte_vdev_driver).to_vec(),
        off!(rte_vdev_driver, next).to_vec(),
        off!(rte_vdev_driver, driver).to_vec(),
        off!(rte_vdev_driver, probe).to_vec(),
        off!(rte_vdev_driver, remove).to_vec(),
        off!(rte_vdev_driver, dma_map).to_vec(),
        off!(rte_vdev_driver, dma_unmap).to_vec(),
        off!(rte_vdev_driver, drv_flags).to_vec(),
        size!(rte_device).to_vec(),
        off!(rte_device, next).to_vec(),
        off!(rte_device, name).to_vec(),
        off!(rte_device, bus_info).to_vec(),
        off!(rte_device, driver).to_vec(),
        off!(rte_device, bus).to_vec(),
        off!(rte_device, numa_node).to_vec(),
        off!(rte_device, devargs).to_vec(),
        size!(rte_driver).to_vec(),
        off!(rte_driver, next).to_vec(),
        off!(rte_driver, name).to_vec(),
        off!(rte_driver, alias).to_vec(),
        size!(rte_kvargs).to_vec(),
        off!(rte_kvargs, "str", str_).to_vec(),
        off!(rte_kvargs, count).to_vec(),
        off!(rte_kvargs, pairs).to_vec(),
        size!(rte_kvargs_pair).to_vec(),
        off!(rte_kvargs_pair, key).to_vec(),
        off!(rte_kvargs_pair, value).to_vec(),
        size!(rte_memseg).to_vec(),
        off!(rte_memseg, iova).to_vec(),
        off!(rte_memseg, len).to_vec(),
        off!(rte_memseg, hugepage_sz).to_vec(),
        off!(rte_memseg, socket_id).to_vec(),
        off!(rte_memseg, nchannel).to_vec(),
        off!(rte_memseg, nrank).to_vec(),
        off!(rte_memseg, flags).to_vec(),
        size!(rte_memseg_list).to_vec(),
        off!(rte_memseg_list, page_sz).to_vec(),
        off!(rte_memseg_list, socket_id).to_vec(),
        off!(rte_memseg_list, version).to_vec(),
        off!(rte_memseg_list, len).to_vec(),
        off!(rte_memseg_list, external).to_vec(),
        off!(rte_memseg_list, heap).to_vec(),
        off!(rte_memseg_list, memseg_arr).to_vec(),
        size!(rte_memzone).to_vec(),
        off!(rte_memzone, name).to_vec(),
        off!(rte_memzone, iova).to_vec(),
        off!(rte_memzone, len).to_vec(),
        off!(rte_memzone, hugepage_sz).to_vec(),
        off!(rte_memzone, socket_id).to_vec(),
        off!(rte_memzone, flags).to_vec(),
        // Members of anonymous unions and structs.
        off!(rte_mbuf, "packet_type", __bindgen_anon_1.packet_type).to_vec(),
        off!(
            rte_mbuf,
            "inner_esp_next_proto",
            __bindgen_anon_1
                .__bindgen_anon_1
                .__bindgen_anon_1
                .inner_esp_next_proto
        )
        .to_vec(),
        off!(rte_mbuf, "hash.rss", __bindgen_anon_2.hash.rss).to_vec(),
        off!(rte_mbuf, "hash.fdir.hi", __bindgen_anon_2.hash.fdir.hi).to_vec(),
        off!(
            rte_mbuf,
            "hash.fdir.lo",
            __bindgen_anon_2.hash.fdir.__bindgen_anon_1.lo
        )
        .to_vec(),
        off!(rte_mbuf, "tx_offload", __bindgen_anon_3.tx_offload).to_vec(),
        off!(rte_mempool, "pool_data", __bindgen_anon_1.pool_data).to_vec(),
        off!(rte_memseg, "addr", __bindgen_anon_1.addr).to_vec(),
        off!(rte_memseg_list, "base_va", __bindgen_anon_1.base_va).to_vec(),
        off!(rte_memzone, "addr", __bindgen_anon_1.addr).to_vec(),
        // Bitfields. Inside anonymous unions they are set on a standalone member that is
        // then written into the union (a safe write; no reference to a union field).
        bits!(rte_mbuf, l2_type, |m| set_ptype(m, |p| p.set_l2_type(!0))).to_vec(),
        bits!(rte_mbuf, l3_type, |m| set_ptype(m, |p| p.set_l3_type(!0))).to_vec(),
        bits!(rte_mbuf, l4_type, |m| set_ptype(m, |p| p.set_l4_type(!0))).to_vec(),
        bits!(rte_mbuf, tun_type, |m| set_ptype(m, |p| p.set_tun_type(!0))).to_vec(),
        bits!(rte_mbuf, inner_l2_type, |m| set_ptype_inner(m, |p| p
            .set_inner_l2_type(!0)))
        .to_vec(),
        bits!(rte_mbuf, inner_l3_type, |m| set_ptype_inner(m, |p| p
            .set_inner_l3_type(!0)))
        .to_vec(),
        bits!(rte_mbuf, inner_l4_type, |m| set_ptype(m, |p| p
            .set_inner_l4_type(!0)))
        .to_vec(),
        bits!(rte_mbuf, l2_len, |m| set_txo(m, |t| t.set_l2_len(!0))).to_vec(),
        bits!(rte_mbuf, l3_len, |m| set_txo(m, |t| t.set_l3_len(!0))).to_vec(),
        bits!(rte_mbuf, l4_len, |m| set_txo(m, |t| t.set_l4_len(!0))).to_vec(),
        bits!(rte_mbuf, tso_segsz, |m| set_txo(m, |t| t.set_tso_segsz(!0))).to_vec(),
        bits!(rte_mbuf, outer_l3_len, |m| set_txo(m, |t| t
            .set_outer_l3_len(!0)))
        .to_vec(),
        bits!(rte_mbuf, outer_l2_len, |m| set_txo(m, |t| t
            .set_outer_l2_len(!0)))
        .to_vec(),
        bits!(rte_eth_dev_data, promiscuous, |d| d.set_promiscuous(!0)).to_vec(),
        bits!(rte_eth_dev_data, scattered_rx, |d| d.set_scattered_rx(!0)).to_vec(),
        bits!(rte_eth_dev_data, all_multicast, |d| d.set_all_multicast(!0)).to_vec(),
        bits!(rte_eth_dev_data, dev_started, |d| d.set_dev_started(!0)).to_vec(),
        bits!(rte_eth_dev_data, lro, |d| d.set_lro(!0)).to_vec(),
        bits!(rte_eth_dev_data, dev_configured, |d| d
            .set_dev_configured(!0))
        .to_vec(),
        bits!(rte_eth_dev_data, flow_configured, |d| d
            .set_flow_configured(!0))
        .to_vec(),
        bits!(rte_eth_link, link_duplex, |l| l.set_link_duplex(!0)).to_vec(),
        bits!(rte_eth_link, link_autoneg, |l| l.set_link_autoneg(!0)).to_vec(),
        bits!(rte_eth_link, link_status, |l| l.set_link_status(!0)).to_vec(),
        bits!(rte_eth_txmode, hw_vlan_reject_tagged, |t| t
            .set_hw_vlan_reject_tagged(!0))
        .to_vec(),
        bits!(rte_eth_txmode, hw_vlan_reject_untagged, |t| t
            .set_hw_vlan_reject_untagged(!0))
        .to_vec(),
        bits!(rte_eth_txmode, hw_vlan_insert_pvid, |t| t
            .set_hw_vlan_insert_pvid(!0))
        .to_vec(),
    ];
    groups
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
}

#[test]
fn rust_layout_equals_c_layout() {
    let c = c_layout();
    let rust = rust_layout();
    let mut problems = Vec::new();
    for (name, cv) in &c {
        match rust.get(name) {
            Some(rv) if rv == cv => {}
            Some(rv) => problems.push(format!("{name}: C {cv}, Rust {rv}")),
            None => problems.push(format!("{name}: probed in C only (add it to layout.rs)")),
        }
    }
    for name in rust.keys().filter(|n| !c.contains_key(*n)) {
        problems.push(format!("{name}: probed in Rust only (add it to layout.c)"));
    }
    assert!(
        problems.is_empty(),
        "{} layout differences:\n{}",
        problems.len(),
        problems.join("\n")
    );
    println!("{} layout items equal in C and Rust", c.len());
}

#[test]
fn known_sizes() {
    // The sizes every DPDK 22.11 x86_64 build has; a change means an ABI change.
    let c = c_layout();
    for (ty, size) in [
        ("rte_mbuf", 128),
        ("rte_eth_dev", 16512),
        ("eth_dev_ops", 904),
        ("rte_eth_link", 8),
        ("rte_ether_addr", 6),
    ] {
        assert_eq!(c[&format!("size {ty}")], size, "sizeof(struct {ty})");
    }
    assert_eq!(c["align rte_mbuf"], 64);
    assert_eq!(c["offset rte_mbuf.cacheline1"], 64);
    for ty in [
        "rte_mbuf",
        "rte_eth_dev",
        "rte_eth_dev_data",
        "eth_dev_ops",
        "rte_eth_dev_info",
        "rte_mempool",
        "rte_mempool_cache",
        "rte_eth_stats",
        "rte_eth_link",
    ] {
        println!("sizeof(struct {ty}) = {}", c[&format!("size {ty}")]);
    }
}

#[test]
fn mbuf_fields_a_pmd_touches() {
    // Offsets fixed by the 22.11 ABI (RTE_IOVA_AS_PA build): the Rx rearm word at 16,
    // the Rx descriptor fields at 32, the pool pointer at the end of cache line 0.
    let c = c_layout();
    for (field, off) in [
        ("buf_addr", 0),
        ("buf_iova", 8),
        ("rearm_data", 16),
        ("data_off", 16),
        ("refcnt", 18),
        ("nb_segs", 20),
        ("port", 22),
        ("ol_flags", 24),
        ("rx_descriptor_fields1", 32),
        ("packet_type", 32),
        ("pkt_len", 36),
        ("data_len", 40),
        ("vlan_tci", 42),
        ("hash.rss", 44),
        ("vlan_tci_outer", 52),
        ("buf_len", 54),
        ("pool", 56),
        ("next", 64),
        ("tx_offload", 72),
    ] {
        assert_eq!(
            c[&format!("offset rte_mbuf.{field}")],
            off,
            "offsetof(rte_mbuf, {field})"
        );
    }
}
