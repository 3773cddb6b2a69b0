//! Model-side counters and the public statistics snapshot.

/// Counters the device keeps beyond its registers (engine-local, under the device lock).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Counters {
    pub tx_mac_disabled: u64,
    pub tx_no_wire: u64,
    pub tx_to_fw: u64,
    pub bmc_absent_drops: u64,
    pub bad_doorbells: u64,
    pub ring_faults: u64,
    pub ring_config_errors: u64,
    pub tcq_lost: u64,
    pub rx_queue_drops: u64,
    pub rx_page_mode_drops: u64,
    pub frames_to_bmc: u64,
    pub host_to_bmc: u64,
    pub ei_frames: u64,
    pub ei_drops: u64,
}

/// A snapshot of what the device counted, for tests (the driver reads registers instead).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceStats {
    /// DMA accesses that touched unmapped memory (also in MASTER_DMA_FAULT_CNT).
    pub dma_faults: u64,
    /// First unmapped IOVA of the last DMA fault.
    pub last_dma_fault: u64,
    /// Rings that stopped because their own memory faulted.
    pub ring_faults: u64,
    /// ENABLE writes refused for an invalid ring configuration (size, alignment).
    pub ring_config_errors: u64,
    /// Doorbell values beyond their ring (ignored).
    pub bad_doorbells: u64,
    /// Frames the RPC sent to the BMC.
    pub frames_to_bmc: u64,
    /// Frames the host sent with TWD DEST_BMC.
    pub host_frames_to_bmc: u64,
    /// Frames dropped because DEST_BMC was asked but there is no BMC.
    pub bmc_absent_drops: u64,
    /// Frames sent back out by an EI action.
    pub ei_frames: u64,
    /// Frames an EI action could not send (egress queue full).
    pub ei_drops: u64,
    /// Frames dropped for lack of RXB space (also rxb_drop_frms_sts(RXB_FIFO_HOST)).
    pub rxb_drops: u64,
    /// Frames arriving while MAC RX_ENA or RPC_RMI_CONFIG.ENABLE was clear.
    pub rx_disabled_drops: u64,
    /// Frames held in the RXB now.
    pub rxb_frames: u64,
    /// Frames classified to a disabled, unconfigured or nonexistent queue.
    pub rx_queue_drops: u64,
    /// Frames for a queue with payload packing (RDE_CTL1.PAYLD_PACK != 0), which is not
    /// modelled (also counted in the queue's RDE_PKT_ERR).
    pub rx_page_mode_drops: u64,
    /// Frames the TWQs consumed while MAC TX_ENA was clear.
    pub tx_mac_disabled: u64,
    /// Frames transmitted with no wire attached (counted by the MAC, discarded).
    pub tx_no_wire: u64,
    /// Frames sent with TWD DEST_FW (the firmware discards them).
    pub tx_to_fw: u64,
    /// Tx completions lost because the TCQ was not running.
    pub tcq_lost_completions: u64,
    /// Mailbox messages the firmware received.
    pub fw_messages_seen: u64,
    /// Mailbox messages the firmware could not read or decode.
    pub fw_messages_bad: u64,
    /// Messages the firmware sent to the host.
    pub fw_messages_sent: u64,
    /// Firmware messages dropped because the host posted no page for too long.
    pub fw_messages_dropped: u64,
}
