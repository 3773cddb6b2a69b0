/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Layout probes for tests/layout.rs: what the C compiler says about the sizes, alignments,
 * field offsets and bitfield positions of the DPDK structures a PMD touches. Compiled by
 * build.rs with the same flags as the shim into libfbnic_layout.a, which only the layout
 * test links.
 *
 * Item names: "size T", "align T", "offset T.field" (bytes) and "bits T.field"
 * (first bit from the start of T, times 256, plus the width in bits).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "shim.h"

#include <rte_kvargs.h>
#include <rte_memory.h>
#include <rte_memzone.h>

struct fbnic_layout_item {
	const char *name;
	uint64_t value;
};

size_t fbnic_layout_probe(struct fbnic_layout_item *items, size_t cap);

/* Not a constant, so storing it into a narrow bitfield draws no overflow warning. */
static volatile uint64_t all_ones = ~(uint64_t)0;

static uint64_t
bitpos(const void *obj, size_t len)
{
	const uint8_t *b = obj;
	uint64_t first = UINT64_MAX, width = 0;
	size_t i;
	unsigned int bit;

	for (i = 0; i < len; i++)
		for (bit = 0; bit < 8; bit++)
			if (b[i] >> bit & 1) {
				if (first == UINT64_MAX)
					first = i * 8 + bit;
				width++;
			}
	return first * 256 + width;
}

#define ITEM(n, v)                                                                         \
	do {                                                                               \
		if (count < cap) {                                                         \
			items[count].name = (n);                                           \
			items[count].value = (uint64_t)(v);                                \
		}                                                                          \
		count++;                                                                   \
	} while (0)
#define SIZE(T)                                                                            \
	do {                                                                               \
		ITEM("size " #T, sizeof(struct T));                                        \
		ITEM("align " #T, _Alignof(struct T));                                     \
	} while (0)
#define OFF(T, F) ITEM("offset " #T "." #F, offsetof(struct T, F))
#define BITS(T, F)                                                                         \
	do {                                                                               \
		struct T v_;                                                               \
		memset(&v_, 0, sizeof(v_));                                                \
		v_.F = all_ones;                                                           \
		ITEM("bits " #T "." #F, bitpos(&v_, sizeof(v_)));                          \
	} while (0)

size_t
fbnic_layout_probe(struct fbnic_layout_item *items, size_t cap)
{
	size_t count = 0;

	/* Every named field of these structures (generated once from the bindings' field
	 * lists; tests/layout.rs has the same list). */
	SIZE(rte_mbuf);
	OFF(rte_mbuf, cacheline0);
	OFF(rte_mbuf, buf_addr);
	OFF(rte_mbuf, buf_iova);
	OFF(rte_mbuf, rearm_data);
	OFF(rte_mbuf, data_off);
	OFF(rte_mbuf, refcnt);
	OFF(rte_mbuf, nb_segs);
	OFF(rte_mbuf, port);
	OFF(rte_mbuf, ol_flags);
	OFF(rte_mbuf, rx_descriptor_fields1);
	OFF(rte_mbuf, pkt_len);
	OFF(rte_mbuf, data_len);
	OFF(rte_mbuf, vlan_tci);
	OFF(rte_mbuf, vlan_tci_outer);
	OFF(rte_mbuf, buf_len);
	OFF(rte_mbuf, pool);
	OFF(rte_mbuf, cacheline1);
	OFF(rte_mbuf, next);
	OFF(rte_mbuf, shinfo);
	OFF(rte_mbuf, priv_size);
	OFF(rte_mbuf, timesync);
	OFF(rte_mbuf, dynfield1);
	SIZE(rte_eth_dev);
	OFF(rte_eth_dev, rx_pkt_burst);
	OFF(rte_eth_dev, tx_pkt_burst);
	OFF(rte_eth_dev, tx_pkt_prepare);
	OFF(rte_eth_dev, rx_queue_count);
	OFF(rte_eth_dev, rx_descriptor_status);
	OFF(rte_eth_dev, tx_descriptor_status);
	OFF(rte_eth_dev, data);
	OFF(rte_eth_dev, process_private);
	OFF(rte_eth_dev, dev_ops);
	OFF(rte_eth_dev, device);
	OFF(rte_eth_dev, intr_handle);
	OFF(rte_eth_dev, link_intr_cbs);
	OFF(rte_eth_dev, post_rx_burst_cbs);
	OFF(rte_eth_dev, pre_tx_burst_cbs);
	OFF(rte_eth_dev, state);
	OFF(rte_eth_dev, security_ctx);
	SIZE(rte_eth_dev_data);
	OFF(rte_eth_dev_data, name);
	OFF(rte_eth_dev_data, rx_queues);
	OFF(rte_eth_dev_data, tx_queues);
	OFF(rte_eth_dev_data, nb_rx_queues);
	OFF(rte_eth_dev_data, nb_tx_queues);
	OFF(rte_eth_dev_data, sriov);
	OFF(rte_eth_dev_data, dev_private);
	OFF(rte_eth_dev_data, dev_link);
	OFF(rte_eth_dev_data, dev_conf);
	OFF(rte_eth_dev_data, mtu);
	OFF(rte_eth_dev_data, min_rx_buf_size);
	OFF(rte_eth_dev_data, rx_mbuf_alloc_failed);
	OFF(rte_eth_dev_data, mac_addrs);
	OFF(rte_eth_dev_data, mac_pool_sel);
	OFF(rte_eth_dev_data, hash_mac_addrs);
	OFF(rte_eth_dev_data, port_id);
	OFF(rte_eth_dev_data, rx_queue_state);
	OFF(rte_eth_dev_data, tx_queue_state);
	OFF(rte_eth_dev_data, dev_flags);
	OFF(rte_eth_dev_data, numa_node);
	OFF(rte_eth_dev_data, vlan_filter_conf);
	OFF(rte_eth_dev_data, owner);
	OFF(rte_eth_dev_data, representor_id);
	OFF(rte_eth_dev_data, backer_port_id);
	OFF(rte_eth_dev_data, flow_ops_mutex);
	SIZE(eth_dev_ops);
	OFF(eth_dev_ops, dev_configure);
	OFF(eth_dev_ops, dev_start);
	OFF(eth_dev_ops, dev_stop);
	OFF(eth_dev_ops, dev_set_link_up);
	OFF(eth_dev_ops, dev_set_link_down);
	OFF(eth_dev_ops, dev_close);
	OFF(eth_dev_ops, dev_reset);
	OFF(eth_dev_ops, link_update);
	OFF(eth_dev_ops, is_removed);
	OFF(eth_dev_ops, promiscuous_enable);
	OFF(eth_dev_ops, promiscuous_disable);
	OFF(eth_dev_ops, allmulticast_enable);
	OFF(eth_dev_ops, allmulticast_disable);
	OFF(eth_dev_ops, mac_addr_remove);
	OFF(eth_dev_ops, mac_addr_add);
	OFF(eth_dev_ops, mac_addr_set);
	OFF(eth_dev_ops, set_mc_addr_list);
	OFF(eth_dev_ops, mtu_set);
	OFF(eth_dev_ops, stats_get);
	OFF(eth_dev_ops, stats_reset);
	OFF(eth_dev_ops, xstats_get);
	OFF(eth_dev_ops, xstats_reset);
	OFF(eth_dev_ops, xstats_get_names);
	OFF(eth_dev_ops, queue_stats_mapping_set);
	OFF(eth_dev_ops, dev_infos_get);
	OFF(eth_dev_ops, rxq_info_get);
	OFF(eth_dev_ops, txq_info_get);
	OFF(eth_dev_ops, rx_burst_mode_get);
	OFF(eth_dev_ops, tx_burst_mode_get);
	OFF(eth_dev_ops, fw_version_get);
	OFF(eth_dev_ops, dev_supported_ptypes_get);
	OFF(eth_dev_ops, dev_ptypes_set);
	OFF(eth_dev_ops, vlan_filter_set);
	OFF(eth_dev_ops, vlan_tpid_set);
	OFF(eth_dev_ops, vlan_strip_queue_set);
	OFF(eth_dev_ops, vlan_offload_set);
	OFF(eth_dev_ops, vlan_pvid_set);
	OFF(eth_dev_ops, rx_queue_start);
	OFF(eth_dev_ops, rx_queue_stop);
	OFF(eth_dev_ops, tx_queue_start);
	OFF(eth_dev_ops, tx_queue_stop);
	OFF(eth_dev_ops, rx_queue_setup);
	OFF(eth_dev_ops, rx_queue_release);
	OFF(eth_dev_ops, rx_queue_intr_enable);
	OFF(eth_dev_ops, rx_queue_intr_disable);
	OFF(eth_dev_ops, tx_queue_setup);
	OFF(eth_dev_ops, tx_queue_release);
	OFF(eth_dev_ops, tx_done_cleanup);
	OFF(eth_dev_ops, dev_led_on);
	OFF(eth_dev_ops, dev_led_off);
	OFF(eth_dev_ops, flow_ctrl_get);
	OFF(eth_dev_ops, flow_ctrl_set);
	OFF(eth_dev_ops, priority_flow_ctrl_set);
	OFF(eth_dev_ops, priority_flow_ctrl_queue_info_get);
	OFF(eth_dev_ops, priority_flow_ctrl_queue_config);
	OFF(eth_dev_ops, uc_hash_table_set);
	OFF(eth_dev_ops, uc_all_hash_table_set);
	OFF(eth_dev_ops, udp_tunnel_port_add);
	OFF(eth_dev_ops, udp_tunnel_port_del);
	OFF(eth_dev_ops, set_queue_rate_limit);
	OFF(eth_dev_ops, rss_hash_update);
	OFF(eth_dev_ops, rss_hash_conf_get);
	OFF(eth_dev_ops, reta_update);
	OFF(eth_dev_ops, reta_query);
	OFF(eth_dev_ops, get_reg);
	OFF(eth_dev_ops, get_eeprom_length);
	OFF(eth_dev_ops, get_eeprom);
	OFF(eth_dev_ops, set_eeprom);
	OFF(eth_dev_ops, get_module_info);
	OFF(eth_dev_ops, get_module_eeprom);
	OFF(eth_dev_ops, flow_ops_get);
	OFF(eth_dev_ops, get_dcb_info);
	OFF(eth_dev_ops, timesync_enable);
	OFF(eth_dev_ops, timesync_disable);
	OFF(eth_dev_ops, timesync_read_rx_timestamp);
	OFF(eth_dev_ops, timesync_read_tx_timestamp);
	OFF(eth_dev_ops, timesync_adjust_time);
	OFF(eth_dev_ops, timesync_read_time);
	OFF(eth_dev_ops, timesync_write_time);
	OFF(eth_dev_ops, read_clock);
	OFF(eth_dev_ops, xstats_get_by_id);
	OFF(eth_dev_ops, xstats_get_names_by_id);
	OFF(eth_dev_ops, tm_ops_get);
	OFF(eth_dev_ops, mtr_ops_get);
	OFF(eth_dev_ops, pool_ops_supported);
	OFF(eth_dev_ops, hairpin_cap_get);
	OFF(eth_dev_ops, rx_hairpin_queue_setup);
	OFF(eth_dev_ops, tx_hairpin_queue_setup);
	OFF(eth_dev_ops, fec_get_capability);
	OFF(eth_dev_ops, fec_get);
	OFF(eth_dev_ops, fec_set);
	OFF(eth_dev_ops, hairpin_get_peer_ports);
	OFF(eth_dev_ops, hairpin_bind);
	OFF(eth_dev_ops, hairpin_unbind);
	OFF(eth_dev_ops, hairpin_queue_peer_update);
	OFF(eth_dev_ops, hairpin_queue_peer_bind);
	OFF(eth_dev_ops, hairpin_queue_peer_unbind);
	OFF(eth_dev_ops, get_monitor_addr);
	OFF(eth_dev_ops, representor_info_get);
	OFF(eth_dev_ops, rx_metadata_negotiate);
	OFF(eth_dev_ops, ip_reassembly_capability_get);
	OFF(eth_dev_ops, ip_reassembly_conf_get);
	OFF(eth_dev_ops, ip_reassembly_conf_set);
	OFF(eth_dev_ops, buffer_split_supported_hdr_ptypes_get);
	OFF(eth_dev_ops, eth_dev_priv_dump);
	OFF(eth_dev_ops, rx_queue_avail_thresh_set);
	OFF(eth_dev_ops, rx_queue_avail_thresh_query);
	OFF(eth_dev_ops, eth_rx_descriptor_dump);
	OFF(eth_dev_ops, eth_tx_descriptor_dump);
	OFF(eth_dev_ops, cman_info_get);
	OFF(eth_dev_ops, cman_config_init);
	OFF(eth_dev_ops, cman_config_set);
	OFF(eth_dev_ops, cman_config_get);
	SIZE(rte_eth_dev_info);
	OFF(rte_eth_dev_info, device);
	OFF(rte_eth_dev_info, driver_name);
	OFF(rte_eth_dev_info, if_index);
	OFF(rte_eth_dev_info, min_mtu);
	OFF(rte_eth_dev_info, max_mtu);
	OFF(rte_eth_dev_info, dev_flags);
	OFF(rte_eth_dev_info, min_rx_bufsize);
	OFF(rte_eth_dev_info, max_rx_pktlen);
	OFF(rte_eth_dev_info, max_lro_pkt_size);
	OFF(rte_eth_dev_info, max_rx_queues);
	OFF(rte_eth_dev_info, max_tx_queues);
	OFF(rte_eth_dev_info, max_mac_addrs);
	OFF(rte_eth_dev_info, max_hash_mac_addrs);
	OFF(rte_eth_dev_info, max_vfs);
	OFF(rte_eth_dev_info, max_vmdq_pools);
	OFF(rte_eth_dev_info, rx_seg_capa);
	OFF(rte_eth_dev_info, rx_offload_capa);
	OFF(rte_eth_dev_info, tx_offload_capa);
	OFF(rte_eth_dev_info, rx_queue_offload_capa);
	OFF(rte_eth_dev_info, tx_queue_offload_capa);
	OFF(rte_eth_dev_info, reta_size);
	OFF(rte_eth_dev_info, hash_key_size);
	OFF(rte_eth_dev_info, flow_type_rss_offloads);
	OFF(rte_eth_dev_info, default_rxconf);
	OFF(rte_eth_dev_info, default_txconf);
	OFF(rte_eth_dev_info, vmdq_queue_base);
	OFF(rte_eth_dev_info, vmdq_queue_num);
	OFF(rte_eth_dev_info, vmdq_pool_base);
	OFF(rte_eth_dev_info, rx_desc_lim);
	OFF(rte_eth_dev_info, tx_desc_lim);
	OFF(rte_eth_dev_info, speed_capa);
	OFF(rte_eth_dev_info, nb_rx_queues);
	OFF(rte_eth_dev_info, nb_tx_queues);
	OFF(rte_eth_dev_info, max_rx_mempools);
	OFF(rte_eth_dev_info, default_rxportconf);
	OFF(rte_eth_dev_info, default_txportconf);
	OFF(rte_eth_dev_info, dev_capa);
	OFF(rte_eth_dev_info, switch_info);
	OFF(rte_eth_dev_info, err_handle_mode);
	OFF(rte_eth_dev_info, reserved_64s);
	OFF(rte_eth_dev_info, reserved_ptrs);
	SIZE(rte_eth_conf);
	OFF(rte_eth_conf, link_speeds);
	OFF(rte_eth_conf, rxmode);
	OFF(rte_eth_conf, txmode);
	OFF(rte_eth_conf, lpbk_mode);
	OFF(rte_eth_conf, rx_adv_conf);
	OFF(rte_eth_conf, tx_adv_conf);
	OFF(rte_eth_conf, dcb_capability_en);
	OFF(rte_eth_conf, intr_conf);
	SIZE(rte_eth_rxmode);
	OFF(rte_eth_rxmode, mq_mode);
	OFF(rte_eth_rxmode, mtu);
	OFF(rte_eth_rxmode, max_lro_pkt_size);
	OFF(rte_eth_rxmode, offloads);
	OFF(rte_eth_rxmode, reserved_64s);
	OFF(rte_eth_rxmode, reserved_ptrs);
	SIZE(rte_eth_txmode);
	OFF(rte_eth_txmode, mq_mode);
	OFF(rte_eth_txmode, offloads);
	OFF(rte_eth_txmode, pvid);
	OFF(rte_eth_txmode, reserved_64s);
	OFF(rte_eth_txmode, reserved_ptrs);
	SIZE(rte_eth_rxconf);
	OFF(rte_eth_rxconf, rx_thresh);
	OFF(rte_eth_rxconf, rx_free_thresh);
	OFF(rte_eth_rxconf, rx_drop_en);
	OFF(rte_eth_rxconf, rx_deferred_start);
	OFF(rte_eth_rxconf, rx_nseg);
	OFF(rte_eth_rxconf, share_group);
	OFF(rte_eth_rxconf, share_qid);
	OFF(rte_eth_rxconf, offloads);
	OFF(rte_eth_rxconf, rx_seg);
	OFF(rte_eth_rxconf, rx_mempools);
	OFF(rte_eth_rxconf, rx_nmempool);
	OFF(rte_eth_rxconf, reserved_64s);
	OFF(rte_eth_rxconf, reserved_ptrs);
	SIZE(rte_eth_txconf);
	OFF(rte_eth_txconf, tx_thresh);
	OFF(rte_eth_txconf, tx_rs_thresh);
	OFF(rte_eth_txconf, tx_free_thresh);
	OFF(rte_eth_txconf, tx_deferred_start);
	OFF(rte_eth_txconf, offloads);
	OFF(rte_eth_txconf, reserved_64s);
	OFF(rte_eth_txconf, reserved_ptrs);
	SIZE(rte_eth_rss_conf);
	OFF(rte_eth_rss_conf, rss_key);
	OFF(rte_eth_rss_conf, rss_key_len);
	OFF(rte_eth_rss_conf, rss_hf);
	SIZE(rte_eth_rss_reta_entry64);
	OFF(rte_eth_rss_reta_entry64, mask);
	OFF(rte_eth_rss_reta_entry64, reta);
	SIZE(rte_eth_stats);
	OFF(rte_eth_stats, ipackets);
	OFF(rte_eth_stats, opackets);
	OFF(rte_eth_stats, ibytes);
	OFF(rte_eth_stats, obytes);
	OFF(rte_eth_stats, imissed);
	OFF(rte_eth_stats, ierrors);
	OFF(rte_eth_stats, oerrors);
	OFF(rte_eth_stats, rx_nombuf);
	OFF(rte_eth_stats, q_ipackets);
	OFF(rte_eth_stats, q_opackets);
	OFF(rte_eth_stats, q_ibytes);
	OFF(rte_eth_stats, q_obytes);
	OFF(rte_eth_stats, q_errors);
	SIZE(rte_eth_xstat);
	OFF(rte_eth_xstat, id);
	OFF(rte_eth_xstat, value);
	SIZE(rte_eth_xstat_name);
	OFF(rte_eth_xstat_name, name);
	SIZE(rte_eth_link);
	OFF(rte_eth_link, link_speed);
	SIZE(rte_eth_rxq_info);
	OFF(rte_eth_rxq_info, mp);
	OFF(rte_eth_rxq_info, conf);
	OFF(rte_eth_rxq_info, scattered_rx);
	OFF(rte_eth_rxq_info, queue_state);
	OFF(rte_eth_rxq_info, nb_desc);
	OFF(rte_eth_rxq_info, rx_buf_size);
	OFF(rte_eth_rxq_info, avail_thresh);
	SIZE(rte_eth_txq_info);
	OFF(rte_eth_txq_info, conf);
	OFF(rte_eth_txq_info, nb_desc);
	OFF(rte_eth_txq_info, queue_state);
	SIZE(rte_eth_fc_conf);
	OFF(rte_eth_fc_conf, high_water);
	OFF(rte_eth_fc_conf, low_water);
	OFF(rte_eth_fc_conf, pause_time);
	OFF(rte_eth_fc_conf, send_xon);
	OFF(rte_eth_fc_conf, mode);
	OFF(rte_eth_fc_conf, mac_ctrl_frame_fwd);
	OFF(rte_eth_fc_conf, autoneg);
	SIZE(rte_eth_desc_lim);
	OFF(rte_eth_desc_lim, nb_max);
	OFF(rte_eth_desc_lim, nb_min);
	OFF(rte_eth_desc_lim, nb_align);
	OFF(rte_eth_desc_lim, nb_seg_max);
	OFF(rte_eth_desc_lim, nb_mtu_seg_max);
	SIZE(rte_ether_addr);
	OFF(rte_ether_addr, addr_bytes);
	SIZE(rte_mempool);
	OFF(rte_mempool, name);
	OFF(rte_mempool, pool_config);
	OFF(rte_mempool, mz);
	OFF(rte_mempool, flags);
	OFF(rte_mempool, socket_id);
	OFF(rte_mempool, size);
	OFF(rte_mempool, cache_size);
	OFF(rte_mempool, elt_size);
	OFF(rte_mempool, header_size);
	OFF(rte_mempool, trailer_size);
	OFF(rte_mempool, private_data_size);
	OFF(rte_mempool, ops_index);
	OFF(rte_mempool, local_cache);
	OFF(rte_mempool, populated_size);
	OFF(rte_mempool, elt_list);
	OFF(rte_mempool, nb_mem_chunks);
	OFF(rte_mempool, mem_list);
	SIZE(rte_mempool_cache);
	OFF(rte_mempool_cache, size);
	OFF(rte_mempool_cache, flushthresh);
	OFF(rte_mempool_cache, len);
	OFF(rte_mempool_cache, objs);
	SIZE(rte_vdev_device);
	OFF(rte_vdev_device, next);
	OFF(rte_vdev_device, device);
	SIZE(rte_vdev_driver);
	OFF(rte_vdev_driver, next);
	OFF(rte_vdev_driver, driver);
	OFF(rte_vdev_driver, probe);
	OFF(rte_vdev_driver, remove);
	OFF(rte_vdev_driver, dma_map);
	OFF(rte_vdev_driver, dma_unmap);
	OFF(rte_vdev_driver, drv_flags);
	SIZE(rte_device);
	OFF(rte_device, next);
	OFF(rte_device, name);
	OFF(rte_device, bus_info);
	OFF(rte_device, driver);
	OFF(rte_device, bus);
	OFF(rte_device, numa_node);
	OFF(rte_device, devargs);
	SIZE(rte_driver);
	OFF(rte_driver, next);
	OFF(rte_driver, name);
	OFF(rte_driver, alias);
	SIZE(rte_kvargs);
	OFF(rte_kvargs, str);
	OFF(rte_kvargs, count);
	OFF(rte_kvargs, pairs);
	SIZE(rte_kvargs_pair);
	OFF(rte_kvargs_pair, key);
	OFF(rte_kvargs_pair, value);
	SIZE(rte_memseg);
	OFF(rte_memseg, iova);
	OFF(rte_memseg, len);
	OFF(rte_memseg, hugepage_sz);
	OFF(rte_memseg, socket_id);
	OFF(rte_memseg, nchannel);
	OFF(rte_memseg, nrank);
	OFF(rte_memseg, flags);
	SIZE(rte_memseg_list);
	OFF(rte_memseg_list, page_sz);
	OFF(rte_memseg_list, socket_id);
	OFF(rte_memseg_list, version);
	OFF(rte_memseg_list, len);
	OFF(rte_memseg_list, external);
	OFF(rte_memseg_list, heap);
	OFF(rte_memseg_list, memseg_arr);
	SIZE(rte_memzone);
	OFF(rte_memzone, name);
	OFF(rte_memzone, iova);
	OFF(rte_memzone, len);
	OFF(rte_memzone, hugepage_sz);
	OFF(rte_memzone, socket_id);
	OFF(rte_memzone, flags);

	/* Members of anonymous unions and structs. */
	OFF(rte_mbuf, packet_type);
	OFF(rte_mbuf, inner_esp_next_proto);
	OFF(rte_mbuf, hash.rss);
	OFF(rte_mbuf, hash.fdir.hi);
	OFF(rte_mbuf, hash.fdir.lo);
	OFF(rte_mbuf, tx_offload);
	OFF(rte_mempool, pool_data);
	OFF(rte_memseg, addr);
	OFF(rte_memseg_list, base_va);
	OFF(rte_memzone, addr);

	/* Bitfields. */
	BITS(rte_mbuf, l2_type);
	BITS(rte_mbuf, l3_type);
	BITS(rte_mbuf, l4_type);
	BITS(rte_mbuf, tun_type);
	BITS(rte_mbuf, inner_l2_type);
	BITS(rte_mbuf, inner_l3_type);
	BITS(rte_mbuf, inner_l4_type);
	BITS(rte_mbuf, l2_len);
	BITS(rte_mbuf, l3_len);
	BITS(rte_mbuf, l4_len);
	BITS(rte_mbuf, tso_segsz);
	BITS(rte_mbuf, outer_l3_len);
	BITS(rte_mbuf, outer_l2_len);
	BITS(rte_eth_dev_data, promiscuous);
	BITS(rte_eth_dev_data, scattered_rx);
	BITS(rte_eth_dev_data, all_multicast);
	BITS(rte_eth_dev_data, dev_started);
	BITS(rte_eth_dev_data, lro);
	BITS(rte_eth_dev_data, dev_configured);
	BITS(rte_eth_dev_data, flow_configured);
	BITS(rte_eth_link, link_duplex);
	BITS(rte_eth_link, link_autoneg);
	BITS(rte_eth_link, link_status);
	BITS(rte_eth_txmode, hw_vlan_reject_tagged);
	BITS(rte_eth_txmode, hw_vlan_reject_untagged);
	BITS(rte_eth_txmode, hw_vlan_insert_pvid);

	return count;
}
