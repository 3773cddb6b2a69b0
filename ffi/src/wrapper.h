/* SPDX-License-Identifier: BSD-3-Clause
 *
 * What bindgen reads (ffi/build.rs): the installed DPDK's public headers, the driver-SDK
 * headers extracted by scripts/setup.sh, and the shim's declarations.
 * rte_config.h comes first through pkg-config's `-include rte_config.h`.
 */
#include <rte_common.h>
#include <rte_version.h>
#include <rte_errno.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_cycles.h>
#include <rte_log.h>
#include <rte_alarm.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_memzone.h>
#include <rte_dev.h>
#include <rte_devargs.h>
#include <rte_bus.h>
#include <rte_kvargs.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_mbuf_ptype.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ethdev.h>
#include <rte_bus_vdev.h>
#include <rte_flow.h>
#include <rte_flow_driver.h>

/* driver SDK (not packaged by Debian) */
#include <dev_driver.h>
#include <bus_driver.h>
#include <ethdev_driver.h>
#include <bus_vdev_driver.h>
#include <ethdev_vdev.h>

#include "shim.h"
