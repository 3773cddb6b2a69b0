//! Ethernet MAC addresses.

use core::fmt;
use core::str::FromStr;

/// A 48-bit Ethernet address, in wire order.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Self = Self([0xff; 6]);
    /// 00:00:00:00:00:00.
    pub const ZERO: Self = Self([0; 6]);

    /// The group (multicast) bit is set; broadcast is a group address too.
    pub const fn is_multicast(&self) -> bool {
        self.0[0] & 1 != 0
    }

    /// ff:ff:ff:ff:ff:ff.
    pub const fn is_broadcast(&self) -> bool {
        matches!(self.0, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
    }

    /// A unicast address other than all-zeros: one a port can own.
    pub const fn is_valid_unicast(&self) -> bool {
        !self.is_multicast() && !matches!(self.0, [0, 0, 0, 0, 0, 0])
    }

    /// The address a device derives from its PCIe Device Serial Number (spec 1): DSN bytes
    /// 63:56, 55:48, 47:40, 23:16, 15:8, 7:0.
    pub const fn from_dsn(dsn: u64) -> Self {
        let b = dsn.to_be_bytes();
        Self([b[0], b[1], b[2], b[5], b[6], b[7]])
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

impl fmt::Debug for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Why a string is not a MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseMacError;

impl fmt::Display for ParseMacError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected six two-digit hex bytes separated by ':' (XX:XX:XX:XX:XX:XX)")
    }
}

impl FromStr for MacAddr {
    type Err = ParseMacError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = [0u8; 6];
        let mut parts = s.split(':');
        for byte in &mut out {
            let p = parts.next().ok_or(ParseMacError)?;
            if p.len() != 2 {
                return Err(ParseMacError);
            }
            *byte = u8::from_str_radix(p, 16).map_err(|_| ParseMacError)?;
        }
        if parts.next().is_some() {
            return Err(ParseMacError);
        }
        Ok(Self(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let m: MacAddr = "02:1b:9d:00:00:0A".parse().unwrap();
        assert_eq!(m.0, [0x02, 0x1b, 0x9d, 0, 0, 0x0a]);
        assert_eq!(m.to_string(), "02:1b:9d:00:00:0a");
        for bad in [
            "",
            "02:1b:9d:00:00",
            "02:1b:9d:00:00:0a:01",
            "2:1b:9d:00:00:0a",
            "zz:1b:9d:00:00:0a",
            "02-1b-9d-00-00-0a",
        ] {
            assert_eq!(bad.parse::<MacAddr>(), Err(ParseMacError), "{bad}");
        }
    }

    #[test]
    fn classes() {
        assert!(MacAddr::BROADCAST.is_multicast() && MacAddr::BROADCAST.is_broadcast());
        assert!(MacAddr([0x01, 0, 0x5e, 0, 0, 1]).is_multicast());
        assert!(MacAddr([0x02, 0, 0, 0, 0, 1]).is_valid_unicast());
        assert!(!MacAddr::ZERO.is_valid_unicast());
    }

    #[test]
    fn from_dsn_takes_the_spec_bytes() {
        assert_eq!(
            MacAddr::from_dsn(0x0011_2233_4455_6677).0,
            [0x00, 0x11, 0x22, 0x55, 0x66, 0x77]
        );
    }
}
