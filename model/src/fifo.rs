//! A bounded FIFO of frames in one preallocated byte ring: the RXB (and the egress queue).
//!
//! Frames are stored contiguously; when a frame does not fit at the end of the ring, the end is
//! left unused and the frame goes to the start. Nothing is allocated after construction.

/// Smallest frame the FIFO accounts for when sizing its slot ring.
const MIN_SLOT_BYTES: usize = 32;

#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    off: u32,
    len: u32,
}

/// A FIFO of frames with a byte capacity.
#[derive(Debug)]
pub(crate) struct FrameFifo {
    buf: Box<[u8]>,
    /// Frame slots (a power of two).
    slots: Box<[Slot]>,
    /// Oldest slot.
    sh: usize,
    /// Frames held.
    count: usize,
    /// Start of the oldest frame.
    r: usize,
    /// End of the newest frame.
    w: usize,
    /// Bytes held (frames only).
    bytes: usize,
    /// Where the last reservation went.
    reserved: usize,
    /// Frames popped so far: the sequence number of the current head frame.
    popped: u64,
}

impl FrameFifo {
    /// A FIFO holding up to `cap` bytes of frames.
    pub fn new(cap: usize) -> Self {
        let cap = cap.max(64);
        Self {
            buf: vec![0; cap].into_boxed_slice(),
            slots: vec![Slot::default(); (cap / MIN_SLOT_BYTES + 16).next_power_of_two()]
                .into_boxed_slice(),
            sh: 0,
            count: 0,
            r: 0,
            w: 0,
            bytes: 0,
            reserved: usize::MAX,
            popped: 0,
        }
    }

    /// Byte capacity.
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.count
    }

    /// No frames held.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of frames held.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Where a frame of `len` bytes would go, if it fits.
    #[inline]
    fn place(&self, len: usize) -> Option<usize> {
        if len == 0 || self.count == self.slots.len() {
            return None;
        }
        let cap = self.buf.len();
        if self.count == 0 {
            return (len <= cap).then_some(0);
        }
        if self.w > self.r {
            if self.w + len <= cap {
                Some(self.w)
            } else if len <= self.r {
                Some(0)
            } else {
                None
            }
        } else if self.w + len <= self.r {
            Some(self.w)
        } else {
            None
        }
    }

    /// Whether a frame of `len` bytes fits now.
    #[cfg(test)]
    #[inline]
    pub fn has_room(&self, len: usize) -> bool {
        self.place(len).is_some()
    }

    /// Space for a frame of `len` bytes at the tail; it becomes part of the FIFO only when
    /// [`commit`](Self::commit) is called with the same length.
    #[inline]
    pub fn reserve(&mut self, len: usize) -> Option<&mut [u8]> {
        let off = self.place(len)?;
        self.reserved = off;
        Some(&mut self.buf[off..off + len])
    }

    /// Appends the frame last [`reserve`](Self::reserve)d with `len` bytes.
    #[inline]
    pub fn commit(&mut self, len: usize) {
        let off = std::mem::replace(&mut self.reserved, usize::MAX);
        if off == usize::MAX || off + len > self.buf.len() {
            debug_assert!(false, "commit without reserve");
            return;
        }
        if self.count == 0 {
            self.r = off;
        }
        let idx = (self.sh + self.count) & (self.slots.len() - 1);
        self.slots[idx] = Slot {
            off: off as u32,
            len: len as u32,
        };
        self.count += 1;
        self.w = off + len;
        self.bytes += len;
    }

    /// Appends a copy of `frame`; false if it does not fit.
    pub fn push(&mut self, frame: &[u8]) -> bool {
        match self.reserve(frame.len()) {
            Some(dst) => {
                dst.copy_from_slice(frame);
                self.commit(frame.len());
                true
            }
            None => false,
        }
    }

    /// The oldest frame.
    #[inline]
    pub fn front(&self) -> Option<&[u8]> {
        if self.count == 0 {
            return None;
        }
        let s = self.slots[self.sh];
        Some(&self.buf[s.off as usize..(s.off + s.len) as usize])
    }

    /// The sequence number of the oldest frame (frames popped before it): a frame keeps it
    /// for as long as it is the head.
    #[inline]
    pub fn head_seq(&self) -> u64 {
        self.popped
    }

    /// Removes the oldest frame.
    #[inline]
    pub fn pop(&mut self) {
        if self.count == 0 {
            return;
        }
        self.popped = self.popped.wrapping_add(1);
        let s = self.slots[self.sh];
        self.bytes -= s.len as usize;
        self.sh = (self.sh + 1) & (self.slots.len() - 1);
        self.count -= 1;
        if self.count == 0 {
            self.r = 0;
            self.w = 0;
        } else {
            self.r = self.slots[self.sh].off as usize;
        }
    }

    /// Drops every frame.
    #[cfg(test)]
    pub fn clear(&mut self) {
        while !self.is_empty() {
            self.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_wraps_and_keeps_order() {
        let mut f = FrameFifo::new(1000);
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        for round in 0..2000 {
            let len = 60 + (round * 37) % 300;
            while f.has_room(len) {
                let frame: Vec<u8> = (0..len).map(|i| (next_in as usize + i) as u8).collect();
                assert!(f.push(&frame));
                next_in += 1;
            }
            // Drain a few.
            for _ in 0..(round % 4 + 1) {
                if let Some(fr) = f.front() {
                    assert_eq!(fr[0], next_out as u8);
                    assert_eq!(fr[1], (next_out as u8).wrapping_add(1));
                    next_out += 1;
                    f.pop();
                }
            }
            assert!(f.bytes() <= f.capacity());
        }
        f.clear();
        assert!(f.is_empty());
        assert!(f.has_room(1000));
        assert!(!f.has_room(1001));
        assert!(!f.has_room(0));
    }

    #[test]
    fn reserve_without_commit_is_abandoned() {
        let mut f = FrameFifo::new(256);
        f.reserve(100).unwrap()[0] = 7;
        assert!(f.is_empty());
        assert!(f.push(&[1; 200]));
        assert!(!f.has_room(100));
        assert!(f.has_room(56));
    }
}
