/* SPDX-License-Identifier: BSD-3-Clause
 *
 * fbnic shim: each function calls exactly one DPDK `static inline` function (or reads one
 * EAL thread-local) with its arguments unchanged. See shim.h for the contracts.
 */
#include "shim.h"

#include <ethdev_vdev.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_thash.h>

int
fbnic_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned int n)
{
	return rte_pktmbuf_alloc_bulk(mp, mbufs, n);
}

int
fbnic_mempool_get_bulk(struct rte_mempool *mp, void **objs, unsigned int n)
{
	return rte_mempool_get_bulk(mp, objs, n);
}

void
fbnic_mempool_put_bulk(struct rte_mempool *mp, void *const *objs, unsigned int n)
{
	rte_mempool_put_bulk(mp, objs, n);
}

struct rte_mbuf *
fbnic_pktmbuf_alloc(struct rte_mempool *mp)
{
	return rte_pktmbuf_alloc(mp);
}

struct rte_mbuf *
fbnic_pktmbuf_prefree_seg(struct rte_mbuf *m)
{
	return rte_pktmbuf_prefree_seg(m);
}

void
fbnic_pktmbuf_free_seg(struct rte_mbuf *m)
{
	rte_pktmbuf_free_seg(m);
}

void
fbnic_pktmbuf_free(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m);
}

void
fbnic_pktmbuf_reset(struct rte_mbuf *m)
{
	rte_pktmbuf_reset(m);
}

rte_iova_t
fbnic_mbuf_data_iova_default(const struct rte_mbuf *m)
{
	return rte_mbuf_data_iova_default(m);
}

rte_iova_t
fbnic_mbuf_data_iova(const struct rte_mbuf *m)
{
	return rte_mbuf_data_iova(m);
}

uint16_t
fbnic_pktmbuf_data_room_size(struct rte_mempool *mp)
{
	return rte_pktmbuf_data_room_size(mp);
}

uint16_t
fbnic_pktmbuf_priv_size(struct rte_mempool *mp)
{
	return rte_pktmbuf_priv_size(mp);
}

int
fbnic_eth_linkstatus_set(struct rte_eth_dev *dev, const struct rte_eth_link *link)
{
	return rte_eth_linkstatus_set(dev, link);
}

void
fbnic_eth_linkstatus_get(const struct rte_eth_dev *dev, struct rte_eth_link *link)
{
	rte_eth_linkstatus_get(dev, link);
}

uint16_t
fbnic_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
		   uint16_t nb_pkts)
{
	return rte_eth_rx_burst(port_id, queue_id, rx_pkts, nb_pkts);
}

uint16_t
fbnic_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
		   uint16_t nb_pkts)
{
	return rte_eth_tx_burst(port_id, queue_id, tx_pkts, nb_pkts);
}

struct rte_eth_dev *
fbnic_eth_vdev_allocate(struct rte_vdev_device *dev, size_t private_data_size)
{
	return rte_eth_vdev_allocate(dev, private_data_size);
}

const char *
fbnic_vdev_device_name(const struct rte_vdev_device *dev)
{
	return rte_vdev_device_name(dev);
}

const char *
fbnic_vdev_device_args(const struct rte_vdev_device *dev)
{
	return rte_vdev_device_args(dev);
}

unsigned int
fbnic_lcore_id(void)
{
	return rte_lcore_id();
}

int
fbnic_rte_errno(void)
{
	return rte_errno;
}

void
fbnic_set_rte_errno(int value)
{
	rte_errno = value;
}

uint64_t
fbnic_get_tsc_cycles(void)
{
	return rte_get_tsc_cycles();
}

int
fbnic_log(uint32_t level, uint32_t logtype, const char *msg)
{
	return rte_log(level, logtype, "%s", msg);
}

uint32_t
fbnic_softrss(const uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key)
{
	/* rte_softrss only reads the tuple; its prototype lacks the const. */
	return rte_softrss((uint32_t *)(uintptr_t)input_tuple, input_len, rss_key);
}

uint32_t
fbnic_softrss_be(const uint32_t *input_tuple, uint32_t input_len, const uint8_t *rss_key)
{
	return rte_softrss_be((uint32_t *)(uintptr_t)input_tuple, input_len, rss_key);
}
