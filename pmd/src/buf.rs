//! What the fast path needs from packet buffers and their pools.
//!
//! The burst loops are generic over these traits and monomorphised per implementation: in
//! DPDK the buffer is an `rte_mbuf` pointer and the pool an `rte_mempool` (see the ethdev glue);
//! in tests it is a buffer of a native pool. There is no dynamic dispatch per packet: every
//! method is expected to inline into the loop.

use core::mem::MaybeUninit;

use fbnic_hw::desc::{Rcd, Twd};

/// A handle to a packet buffer (one segment; segments chain into packets).
pub trait PktBuf: Copy {
    /// Frees a packet (all its segments) the driver built but will not deliver.
    fn free_pkt(self);

    // ----- Tx -----

    /// The packet's segment count.
    fn tx_nb_segs(self) -> u16;

    /// This segment's data: device address and length.
    fn tx_seg(self) -> (u64, u16);

    /// The next segment of the packet, if any.
    fn tx_next(self) -> Option<Self>;

    /// The META descriptor for this packet's offload requests (checksums); the driver adds
    /// REQ_COMPLETION itself.
    fn tx_meta(self) -> Twd;

    /// Frees packets the device has finished sending. `fast` is set when the queue was
    /// configured for fast free (one pool, refcount 1) and every packet here has one segment.
    fn free_sent(pkts: &[Self], fast: bool);
}

/// A pool the Rx side refills from.
pub trait RxPool {
    /// The buffers it hands out.
    type Buf: PktBuf;

    /// Takes `out.len()` buffers, all or nothing. Returns false (and takes none) if the pool
    /// cannot supply them all.
    fn alloc_bulk(&mut self, out: &mut [MaybeUninit<Self::Buf>]) -> bool;

    /// Returns buffers the device never filled (they hold no packet, no chain).
    fn free_unused(&mut self, bufs: &[Self::Buf]);

    /// Bytes of data room each buffer offers past [`rx_dma_addr`](Self::rx_dma_addr).
    fn data_room(&self) -> u32;

    /// The device address where received data may be written: the start of the buffer's data
    /// room, past the headroom the implementation keeps.
    fn rx_dma_addr(&self, buf: Self::Buf) -> u64;

    /// Makes `buf` the first segment of a received packet holding `len` bytes at `off` past
    /// [`rx_dma_addr`](Self::rx_dma_addr).
    fn rx_first(&self, buf: Self::Buf, off: u16, len: u16);

    /// Appends `seg` (holding `len` bytes at `off`) to the packet headed by `head`, after its
    /// current last segment `last`.
    fn rx_append(&self, head: Self::Buf, last: Self::Buf, seg: Self::Buf, off: u16, len: u16);

    /// Completes a received packet: its total length, segment count and the device's META
    /// completion (RSS hash, packet types, checksum status). Returns true when the packet
    /// needs [`rx_inspect`](Self::rx_inspect) too, having asked for the data that will read
    /// to be fetched: the queue calls it once the burst's completions are done, so those
    /// fetches overlap.
    fn rx_complete(&self, buf: Self::Buf, pkt_len: u32, nb_segs: u16, meta: Rcd) -> bool;

    /// Finishes a packet [`rx_complete`](Self::rx_complete) left open, from its headers and
    /// the same META (the TCP/UDP checksum verdict from L2_CSUM).
    fn rx_inspect(&self, _buf: Self::Buf, _meta: Rcd) {}

    /// Gives a completed packet the device's Rx timestamp (`ns`, full nanoseconds), if the
    /// pool reports timestamps; with `ieee1588`, flags the packet when it is a PTP frame
    /// (EtherType 0x88F7) and returns whether it is. Called only for packets the device
    /// stamped, after [`rx_complete`](Self::rx_complete).
    fn rx_stamp(&self, _buf: Self::Buf, _ns: u64, _ieee1588: bool) -> bool {
        false
    }
}
