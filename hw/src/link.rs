//! Link modes the firmware reports (FW_CAP_RESP LINK_SPEED / LINK_FEC, spec 5.1 and 6).

use core::fmt;
use core::str::FromStr;

/// Link speed and lane configuration (FW_CAP_RESP attribute LINK_SPEED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum LinkSpeed {
    /// 25G, one lane.
    G25Cr = 1,
    /// 50G over two 25G lanes.
    G50Cr2 = 2,
    /// 50G over one lane (PAM4).
    G50Cr = 3,
    /// 100G over two 50G lanes.
    G100Cr2 = 4,
}

impl LinkSpeed {
    /// Every mode, in wire-encoding order.
    pub const ALL: [Self; 4] = [Self::G25Cr, Self::G50Cr2, Self::G50Cr, Self::G100Cr2];

    /// Decodes the wire value.
    pub const fn from_wire(v: u32) -> Option<Self> {
        match v {
            1 => Some(Self::G25Cr),
            2 => Some(Self::G50Cr2),
            3 => Some(Self::G50Cr),
            4 => Some(Self::G100Cr2),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn to_wire(self) -> u32 {
        self as u32
    }

    /// Speed in Mbit/s.
    pub const fn mbps(self) -> u32 {
        match self {
            Self::G25Cr => 25_000,
            Self::G50Cr2 | Self::G50Cr => 50_000,
            Self::G100Cr2 => 100_000,
        }
    }

    /// The name used in devargs and logs (`25G-CR`, `50G-CR2`, `50G-CR`, `100G-CR2`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::G25Cr => "25G-CR",
            Self::G50Cr2 => "50G-CR2",
            Self::G50Cr => "50G-CR",
            Self::G100Cr2 => "100G-CR2",
        }
    }

    /// The FEC the mode uses by default (50G-CR and 100G-CR2 require RS).
    pub const fn default_fec(self) -> Fec {
        match self {
            Self::G25Cr | Self::G50Cr2 => Fec::None,
            Self::G50Cr | Self::G100Cr2 => Fec::Rs,
        }
    }

    /// Whether `fec` is allowed with this mode (spec 6).
    pub const fn allows_fec(self, fec: Fec) -> bool {
        match self {
            Self::G25Cr | Self::G50Cr2 => true,
            Self::G50Cr | Self::G100Cr2 => matches!(fec, Fec::Rs),
        }
    }
}

impl fmt::Display for LinkSpeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LinkSpeed {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or("expected one of 25G-CR, 50G-CR2, 50G-CR, 100G-CR2")
    }
}

/// Forward error correction (FW_CAP_RESP attribute LINK_FEC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Fec {
    /// No FEC.
    None = 1,
    /// Reed-Solomon FEC.
    Rs = 2,
    /// BASE-R (FireCode) FEC.
    BaseR = 3,
}

impl Fec {
    /// Decodes the wire value.
    pub const fn from_wire(v: u32) -> Option<Self> {
        match v {
            1 => Some(Self::None),
            2 => Some(Self::Rs),
            3 => Some(Self::BaseR),
            _ => None,
        }
    }

    /// The wire value.
    pub const fn to_wire(self) -> u32 {
        self as u32
    }

    /// Its usual short name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Rs => "RS",
            Self::BaseR => "BASE-R",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for m in LinkSpeed::ALL {
            assert_eq!(LinkSpeed::from_wire(m.to_wire()), Some(m));
            assert_eq!(m.name().parse::<LinkSpeed>(), Ok(m));
            assert!(m.allows_fec(m.default_fec()));
        }
        assert_eq!(LinkSpeed::from_wire(0), None);
        assert_eq!(LinkSpeed::from_wire(5), None);
        assert!("40G".parse::<LinkSpeed>().is_err());
        assert_eq!(LinkSpeed::G100Cr2.mbps(), 100_000);
        assert!(!LinkSpeed::G100Cr2.allows_fec(Fec::BaseR));
        for f in [Fec::None, Fec::Rs, Fec::BaseR] {
            assert_eq!(Fec::from_wire(f.to_wire()), Some(f));
        }
        assert_eq!(Fec::from_wire(0), None);
    }
}
