//! Firmware versions (spec 5.1): FW_CAP_RESP VERSION, STORED_VERSION and UEFI_VERSION.
//!
//! A version is one `u32`: major 31:24, minor 23:16, patch 15:8, build 7:0. Because the most
//! significant part sits in the highest bits, comparing the raw words compares versions, so
//! [`FwVersion`] orders exactly as the numbers do.

use core::fmt;
use core::str::FromStr;

/// A firmware version: major 31:24, minor 23:16, patch 15:8, build 7:0.
///
/// Displays and parses as `major.minor.patch.build` in decimal, e.g. `0.10.6.0`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct FwVersion(u32);

impl FwVersion {
    /// The oldest firmware the host accepts (spec 5.1): 0.10.6.0. A host refuses older firmware.
    pub const MIN_SUPPORTED: FwVersion = FwVersion::new(0, 10, 6, 0);

    /// The version `major.minor.patch.build`.
    pub const fn new(major: u8, minor: u8, patch: u8, build: u8) -> Self {
        Self(u32::from_be_bytes([major, minor, patch, build]))
    }

    /// Wraps the wire word.
    pub const fn from_raw(raw: u32) -> Self {
        Self(raw)
    }

    /// The wire word.
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// Bits 31:24.
    pub const fn major(self) -> u8 {
        self.0.to_be_bytes()[0]
    }

    /// Bits 23:16.
    pub const fn minor(self) -> u8 {
        self.0.to_be_bytes()[1]
    }

    /// Bits 15:8.
    pub const fn patch(self) -> u8 {
        self.0.to_be_bytes()[2]
    }

    /// Bits 7:0.
    pub const fn build(self) -> u8 {
        self.0.to_be_bytes()[3]
    }

    /// Whether a host may run with this firmware (`self >= MIN_SUPPORTED`).
    pub const fn is_supported(self) -> bool {
        self.0 >= Self::MIN_SUPPORTED.0
    }
}

/// The oldest firmware the host accepts: 0.10.6.0 (same as [`FwVersion::MIN_SUPPORTED`]).
pub const MIN_SUPPORTED: FwVersion = FwVersion::MIN_SUPPORTED;

impl fmt::Display for FwVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.major(),
            self.minor(),
            self.patch(),
            self.build()
        )
    }
}

impl fmt::Debug for FwVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FwVersion({self})")
    }
}

impl From<u32> for FwVersion {
    fn from(raw: u32) -> Self {
        Self(raw)
    }
}

impl From<FwVersion> for u32 {
    fn from(v: FwVersion) -> Self {
        v.0
    }
}

/// Why a string is not a firmware version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseFwVersionError;

impl fmt::Display for ParseFwVersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "expected a firmware version as four decimal numbers 0-255 separated by '.' \
             (major.minor.patch.build, e.g. 0.10.6.0)",
        )
    }
}

impl std::error::Error for ParseFwVersionError {}

impl FromStr for FwVersion {
    type Err = ParseFwVersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = [0u8; 4];
        let mut it = s.split('.');
        for part in &mut parts {
            let p = it.next().ok_or(ParseFwVersionError)?;
            // Plain decimal digits only: no sign, no whitespace, at most three digits.
            if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseFwVersionError);
            }
            *part = p.parse().map_err(|_| ParseFwVersionError)?;
        }
        if it.next().is_some() {
            return Err(ParseFwVersionError);
        }
        Ok(Self::new(parts[0], parts[1], parts[2], parts[3]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_sit_where_the_spec_says() {
        let v = FwVersion::new(0x12, 0x34, 0x56, 0x78);
        assert_eq!(v.raw(), 0x1234_5678);
        assert_eq!(
            (v.major(), v.minor(), v.patch(), v.build()),
            (0x12, 0x34, 0x56, 0x78)
        );
        assert_eq!(
            FwVersion::from_raw(0x000a_0600),
            FwVersion::new(0, 10, 6, 0)
        );
        assert_eq!(MIN_SUPPORTED.raw(), 0x000a_0600);
        assert_eq!(u32::from(FwVersion::from(7u32)), 7);
    }

    #[test]
    fn display_and_parse_round_trip() {
        assert_eq!(MIN_SUPPORTED.to_string(), "0.10.6.0");
        assert_eq!(format!("{:?}", MIN_SUPPORTED), "FwVersion(0.10.6.0)");
        for v in [
            FwVersion::new(0, 0, 0, 0),
            FwVersion::new(255, 255, 255, 255),
            FwVersion::new(1, 2, 3, 4),
        ] {
            assert_eq!(v.to_string().parse::<FwVersion>(), Ok(v));
        }
        assert_eq!("0.10.6.0".parse(), Ok(FwVersion::new(0, 10, 6, 0)));
        assert_eq!("000.010.006.000".parse(), Ok(FwVersion::new(0, 10, 6, 0)));
    }

    #[test]
    fn parse_rejects_malformed() {
        for bad in [
            "",
            "0.10.6",
            "0.10.6.0.1",
            "0.10.6.256",
            "0.10..0",
            "a.b.c.d",
            "+1.0.0.0",
            " 1.0.0.0",
            "1.0.0.0 ",
            "0001.0.0.0",
            "0.10.6-0",
        ] {
            assert_eq!(
                bad.parse::<FwVersion>(),
                Err(ParseFwVersionError),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ordering_follows_the_numbers() {
        let min = MIN_SUPPORTED;
        assert!(FwVersion::new(0, 10, 5, 255) < min);
        assert!(FwVersion::new(0, 9, 255, 255) < min);
        assert!(FwVersion::new(0, 10, 6, 1) > min);
        assert!(FwVersion::new(1, 0, 0, 0) > FwVersion::new(0, 255, 255, 255));
        assert!(!FwVersion::new(0, 10, 5, 9).is_supported());
        assert!(min.is_supported());
        assert!(FwVersion::new(0, 11, 0, 0).is_supported());
        let mut v = [
            FwVersion::new(1, 0, 0, 0),
            FwVersion::new(0, 10, 6, 0),
            FwVersion::new(0, 10, 5, 3),
        ];
        v.sort();
        assert_eq!(v[0], FwVersion::new(0, 10, 5, 3));
        assert_eq!(v[2], FwVersion::new(1, 0, 0, 0));
    }
}
