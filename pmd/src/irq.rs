//! Interrupt events: an eventfd an MSI-X vector signals, as VFIO delivers a PCI function's
//! MSI-X messages to user space. The device side routes a vector to one with
//! [`Transport::set_msix`](crate::Transport::set_msix); DPDK applications wait on it through
//! epoll (`rte_eth_dev_rx_intr_ctl_q`), native users with [`IrqEvent::wait`].

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::error::{Error, Result};

/// An eventfd (non-blocking, close-on-exec) counting the messages of one vector.
#[derive(Debug)]
pub struct IrqEvent(OwnedFd);

impl IrqEvent {
    /// Creates the eventfd.
    pub fn new() -> Result<Self> {
        // SAFETY: eventfd takes no pointers; a non-negative result is a new descriptor we own.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(Error::NoMemory(format!(
                "eventfd: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: fd is a fresh descriptor nothing else owns.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// The descriptor (for epoll).
    pub fn fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Sends one message (adds 1 to the count). Never blocks: a count at its maximum stays
    /// readable, which is all a waiter needs.
    pub fn signal(&self) {
        let one = 1u64.to_ne_bytes();
        // SAFETY: writes 8 bytes from a local buffer to our descriptor.
        let _ = unsafe { libc::write(self.fd(), one.as_ptr().cast(), one.len()) };
    }

    /// Takes the messages counted so far (0 if none).
    pub fn take(&self) -> u64 {
        let mut buf = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a local buffer from our descriptor.
        let n = unsafe { libc::read(self.fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n == 8 {
            u64::from_ne_bytes(buf)
        } else {
            0
        }
    }

    /// Waits up to `timeout` for a message; true when one is pending (not taken).
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut p = libc::pollfd {
            fd: self.fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut p, 1, ms) };
        n > 0 && p.revents & libc::POLLIN != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_messages_and_waits_with_a_timeout() {
        let e = IrqEvent::new().unwrap();
        assert!(!e.wait(Duration::from_millis(10)));
        assert_eq!(e.take(), 0);
        e.signal();
        e.signal();
        assert!(e.wait(Duration::from_millis(10)));
        assert_eq!(e.take(), 2);
        assert!(!e.wait(Duration::ZERO));
    }
}
