/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fbnic shim: out-of-line wrappers for DPDK functions that are `static inline` in the
 * headers (bindgen cannot bind those) or that use C features Rust cannot call directly
 * (variadic rte_log, thread-local rte_errno / lcore id).
 *
 * Cost rule: on the fast path each of these costs one call per BURST, never per packet
 * (Rx refills with fbnic_pktmbuf_alloc_bulk, Tx completion frees with
 * rte_pktmbuf_free_bulk, which is exported, or fbnic_mempool_put_bulk). Everything else
 * here is control path.
 *
 * Compiled by ffi/build.rs with the cc crate and the same flags as the bindings
 * (pkg-config libdpdk cflags, -DALLOW_INTERNAL_API -DALLOW_EXPERIMENTAL_API).
 * bindgen reads this header too, so the Rust declarations cannot drift from it.
 */
#ifndef FBNIC_SHIM_H
#define FBNIC_SHIM_H

#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <ethdev_driver.h>
#include <bus_vdev_driver.h>

/* ---- mbufs and mempools (hot: once per burst) -------------------------------------- */

/* rte_pktmbuf_alloc_bulk: n mbufs from mp, each reset (data_off = headroom, 1 segment,
 * refcnt 1). All or nothing: 0 on success, -ENOENT if the pool cannot supply n. */
int fbnic_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned int n);

/* rte_mempool_get_bulk: n raw objects (not reset). 0, or -ENOENT (nothing taken). */
int fbnic_mempool_get_bulk(struct rte_mempool *mp, void **objs, unsigned int n);

/* rte_mempool_put_bulk: return n objects that all belong to mp (through the lcore cache). */
void fbnic_mempool_put_bulk(struct rte_mempool *mp, void *const *objs, unsigned int n);

/* ---- mbufs (control path, or per segment where a bulk form does not fit) ----------- */

/* rte_pktmbuf_alloc: one reset mbuf, or NULL. */
struct rte_mbuf *fbnic_pktmbuf_alloc(struct rte_mempool *mp);

/* rte_pktmbuf_prefree_seg: drops one reference of segment m; returns m if it may now be
 * returned to its pool (m->pool), NULL if others still hold it. */
struct rte_mbuf *fbnic_pktmbuf_prefree_seg(struct rte_mbuf *m);

/* rte_pktmbuf_free_seg: frees one segment (not the chain). */
void fbnic_pktmbuf_free_seg(struct rte_mbuf *m);

/* rte_pktmbuf_free: frees the whole chain; NULL is allowed. */
void fbnic_pktmbuf_free(struct rte_mbuf *m);

/* rte_pktmbuf_reset: resets the packet fields of a raw mbuf (as alloc does). */
void fbnic_pktmbuf_reset(struct rte_mbuf *m);

/* rte_mbuf_data_iova_default: buf_iova + RTE_PKTMBUF_HEADROOM, the IOVA where the
 * device should DMA received data into a freshly allocated mbuf. */
rte_iova_t fbnic_mbuf_data_iova_default(const struct rte_mbuf *m);

/* rte_mbuf_data_iova: IOVA of the first data byte (buf_iova + data_off). */
rte_iova_t fbnic_mbuf_data_iova(const struct rte_mbuf *m);

/* rte_pktmbuf_data_room_size / rte_pktmbuf_priv_size of a pktmbuf pool. */
uint16_t fbnic_pktmbuf_data_room_size(struct rte_mempool *mp);
uint16_t fbnic_pktmbuf_priv_size(struct rte_mempool *mp);

/* ---- ethdev -------------------------------------------------------------------------- */

/* rte_eth_linkstatus_set: atomically stores *link into dev->data->dev_link.
 * Returns 0 if link_status (up/down) changed, -1 if it did not (the value the
 * link_update op returns). */
int fbnic_eth_linkstatus_set(struct rte_eth_dev *dev, const struct rte_eth_link *link);

/* rte_eth_linkstatus_get: atomically loads dev->data->dev_link into *link. */
void fbnic_eth_linkstatus_get(const struct rte_eth_dev *dev, struct rte_eth_link *link);

/* rte_eth_rx_burst / rte_eth_tx_burst, for applications and tests written in Rust that
 * drive ports (one call per burst). */
uint16_t fbnic_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
                            uint16_t nb_pkts);
uint16_t fbnic_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
                            uint16_t nb_pkts);

/* ---- vdev ---------------------------------------------------------------------------- */

/* rte_eth_vdev_allocate: rte_eth_dev_allocate(name of dev); if private_data_size > 0,
 * data->dev_private = that many zeroed, cache-line aligned bytes on dev's NUMA node
 * (rte_zmalloc_socket); sets eth_dev->device, data->numa_node. NULL on failure (nothing
 * left allocated). The probe finishes with rte_eth_dev_probing_finish. */
struct rte_eth_dev *fbnic_eth_vdev_allocate(struct rte_vdev_device *dev,
                                            size_t private_data_size);

/* rte_vdev_device_name: the device name ("net_fbnic0"), or NULL. */
const char *fbnic_vdev_device_name(const struct rte_vdev_device *dev);

/* rte_vdev_device_args: the devargs string after the name ("" if none, never NULL
 * for a valid dev). */
const char *fbnic_vdev_device_args(const struct rte_vdev_device *dev);

/* ---- EAL: lcore, errno, time, log ---------------------------------------------------- */

/* rte_lcore_id: the calling thread's lcore id (thread-local in EAL), or
 * LCORE_ID_ANY (UINT32_MAX) for a non-EAL thread. */
unsigned int fbnic_lcore_id(void);

/* rte_errno (thread-local in EAL). */
int fbnic_rte_errno(void);
void fbnic_set_rte_errno(int value);

/* rte_get_tsc_cycles / rte_get_timer_cycles (TSC). rte_get_tsc_hz is exported. */
uint64_t fbnic_get_tsc_cycles(void);

/* rte_log(level, logtype, "%s", msg): msg is printed verbatim (no format expansion);
 * include the trailing newline in msg. Returns 0 or a negative errno. */
int fbnic_log(uint32_t level, uint32_t logtype, const char *msg);

/* ---- RSS ----------------------------------------------------------------------------- */

/* rte_softrss: Toeplitz hash of input_len 32-bit words of tuple (host byte order, as
 * rte_thash fills them) with rss_key (the key as the NIC takes it: 40 bytes for 4 words
 * of IPv4 + ports). Reference for tests; not for the fast path. */
uint32_t fbnic_softrss(const uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key);

/* rte_softrss_be: same, with the key already converted by rte_convert_rss_key. */
uint32_t fbnic_softrss_be(const uint32_t *input_tuple, uint32_t input_len,
                          const uint8_t *rss_key);

#endif /* FBNIC_SHIM_H */
