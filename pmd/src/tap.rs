//! `wire=tap:NAME`: the embedded model port's cable ends in a Linux TAP interface, so the
//! host's network stack (ping, a socket, tcpdump) is the port's link partner.
//!
//! The interface exists while the port does (it is not persistent); its MTU is the kernel's
//! default and it starts down: bring it up and give it an address as for any interface
//! (`ip link set NAME up`, `ip addr add ...`). Needs CAP_NET_ADMIN.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};

use fbnic_model::Outside;

use crate::error::{Error, Result};

/// An open TAP interface: Ethernet frames without a packet-information header, non-blocking.
#[derive(Debug)]
pub struct Tap {
    file: File,
    name: String,
}

impl Tap {
    /// Creates the TAP interface `name` (or attaches to an existing one of that name).
    pub fn open(name: &str) -> Result<Self> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ || name.contains('\0') {
            return Err(Error::invalid(format!(
                "TAP interface name '{name}': 1-{} bytes",
                libc::IFNAMSIZ - 1
            )));
        }
        // SAFETY: a static path and valid flags; the result is checked.
        let fd = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(Error::Hardware(format!(
                "tap:{name}: open /dev/net/tun: {}",
                std::io::Error::last_os_error()
            )));
        }
        // SAFETY: a descriptor we just opened and now own (closed on every path below).
        let file = unsafe { File::from_raw_fd(fd) };
        // SAFETY: an all-zero ifreq is valid.
        let mut ifr: libc::ifreq = unsafe { core::mem::zeroed() };
        for (d, s) in ifr.ifr_name.iter_mut().zip(name.bytes()) {
            *d = s as libc::c_char;
        }
        ifr.ifr_ifru.ifru_flags = (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads and writes the ifreq, which lives for the call.
        if unsafe { libc::ioctl(file.as_raw_fd(), libc::TUNSETIFF, &mut ifr) } < 0 {
            let e = std::io::Error::last_os_error();
            let why = match e.raw_os_error() {
                Some(libc::EPERM) => " (creating a TAP interface needs CAP_NET_ADMIN)",
                Some(libc::EINVAL) | Some(libc::EBUSY) => {
                    " (is the name another interface's, or a TAP another process holds?)"
                }
                _ => "",
            };
            return Err(Error::Hardware(format!("tap:{name}: TUNSETIFF: {e}{why}")));
        }
        Ok(Self {
            file,
            name: name.to_string(),
        })
    }

    /// The interface's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Outside for Tap {
    fn send(&self, frame: &[u8]) -> bool {
        // One write is one frame; a full queue (the interface down, or the stack not
        // reading) loses it, as a cable would.
        (&self.file).write(frame).is_ok_and(|n| n == frame.len())
    }

    fn recv(&self, buf: &mut [u8]) -> Option<usize> {
        match (&self.file).read(buf) {
            Ok(n) if n > 0 => Some(n),
            Ok(_) => None,
            Err(e) if e.kind() == ErrorKind::WouldBlock => None,
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_names_are_refused_before_the_kernel_sees_them() {
        for n in ["", "0123456789abcdef", "a\0b"] {
            let e = Tap::open(n).unwrap_err().to_string();
            assert!(e.contains("1-15 bytes"), "{n:?}: {e}");
        }
    }
}
