//! Device arguments (`--vdev net_fbnic0,wire=loop,mac=...`): parsed strictly, every mistake
//! reported with the key and the reason.

use core::fmt;
use core::str::FromStr;

use fbnic_hw::link::LinkSpeed;
use fbnic_hw::mac::MacAddr;
use fbnic_hw::version::FwVersion;

use crate::rx::IntrCoalesce;

/// Every key the driver accepts, with its value syntax (also the PMD's parameter string).
pub const PARAMS: &[(&str, &str)] = &[
    ("wire", "pair|loop|cable:<name>|tap:<ifname>"),
    ("mac", "<XX:XX:XX:XX:XX:XX>"),
    ("link", "25G-CR|50G-CR2|50G-CR|100G-CR2"),
    ("bmc", "0|1"),
    ("model_cpu", "<cpu>|none"),
    ("model_poll_us", "<us>"),
    ("model_nice", "<-20..19>"),
    ("fw_version", "<major.minor.patch.build>"),
    (
        "fw_fault",
        "none|no_life|no_ownership|malformed|no_heartbeat|crash:<ms>",
    ),
    ("fw_timeout_ms", "<ms>"),
    ("rx_intr_usecs", "<0..16383>"),
    ("rx_intr_frames", "<1..16383>"),
];

/// The parameter string DPDK shows for the driver (`key=<syntax> key=<syntax> ...`).
pub fn param_string() -> String {
    PARAMS
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// What the port's cable plugs into.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Wire {
    /// Cabled to the next (or previous) `pair` port in creation order: 0<->1, 2<->3.
    #[default]
    Pair,
    /// An external loopback plug: the port's Tx comes back to its own Rx.
    Loop,
    /// Connected to the other port naming the same cable.
    Cable(String),
    /// Connected to a Linux TAP interface of this name (the host's stack as link partner).
    Tap(String),
}

/// A firmware misbehaviour to simulate (embedded model only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FwFault {
    /// A healthy firmware.
    #[default]
    None,
    /// Never shows signs of life.
    NoLife,
    /// Never answers ownership requests.
    NoOwnership,
    /// Answers with malformed messages.
    Malformed,
    /// Stops answering heartbeats.
    NoHeartbeat,
    /// Crashes (reboots) once, this long after the device powered on (at probe).
    Crash(std::time::Duration),
}

/// Parsed device arguments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Devargs {
    /// `wire=`.
    pub wire: Wire,
    /// `mac=`: overrides the address derived from the serial number.
    pub mac: Option<MacAddr>,
    /// `link=` (default 100G-CR2): the mode the firmware reports.
    pub link: Option<LinkSpeed>,
    /// `bmc=`: a BMC shares the port.
    pub bmc: bool,
    /// `model_cpu=`: the CPU the model's engine thread is pinned to (`None` when not given;
    /// `Some(None)` for `none`, no pinning).
    pub model_cpu: Option<Option<usize>>,
    /// `model_poll_us=`: how long the model's engine keeps polling after its last work before
    /// it starts sleeping between passes.
    pub model_poll_us: Option<u64>,
    /// `model_nice=`: the scheduler nice value of the model's engine thread.
    pub model_nice: Option<i32>,
    /// `fw_version=`: the version the model's firmware reports.
    pub fw_version: Option<FwVersion>,
    /// `fw_fault=`.
    pub fw_fault: FwFault,
    /// `fw_timeout_ms=`: caps every firmware wait (signs of life, responses, ownership).
    pub fw_timeout_ms: Option<u64>,
    /// `rx_intr_usecs=`, `rx_intr_frames=`: Rx interrupt moderation of every queue of the
    /// port (see [`IntrCoalesce`]).
    pub rx_intr: IntrCoalesce,
}

/// A devargs mistake: the key (or the text that should have been one) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevargsError {
    /// The offending key.
    pub key: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for DevargsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "devarg '{}': {}", self.key, self.reason)
    }
}

impl std::error::Error for DevargsError {}

fn err(key: &str, reason: impl Into<String>) -> DevargsError {
    DevargsError {
        key: key.to_string(),
        reason: reason.into(),
    }
}

impl FromStr for Devargs {
    type Err = DevargsError;

    /// Parses `key=value` pairs separated by commas (an empty string gives the defaults).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut d = Devargs::default();
        let mut seen: Vec<&str> = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((key, value)) = item.split_once('=') else {
                return Err(err(item, "expected key=value"));
            };
            let key = key.trim();
            let value = value.trim();
            let Some(syntax) = PARAMS.iter().find(|(k, _)| *k == key).map(|(_, v)| *v) else {
                let known: Vec<&str> = PARAMS.iter().map(|(k, _)| *k).collect();
                return Err(err(
                    key,
                    format!("unknown key (known: {})", known.join(", ")),
                ));
            };
            if seen.contains(&key) {
                return Err(err(key, "given twice"));
            }
            seen.push(key);
            let bad = |why: &str| {
                err(
                    key,
                    format!("bad value '{value}': {why} (expected {syntax})"),
                )
            };
            match key {
                "wire" => {
                    d.wire = match value {
                        "pair" => Wire::Pair,
                        "loop" => Wire::Loop,
                        v => match (v.strip_prefix("cable:"), v.strip_prefix("tap:")) {
                            (Some(name), _) if valid_cable_name(name) => {
                                Wire::Cable(name.to_string())
                            }
                            (Some(_), _) => {
                                return Err(bad("cable names are 1-32 letters, digits, '-' or '_'"))
                            }
                            (_, Some(name)) if valid_ifname(name) => Wire::Tap(name.to_string()),
                            (_, Some(_)) => {
                                return Err(bad(
                                    "interface names are 1-15 letters, digits, '-', '_' or '.'",
                                ))
                            }
                            (None, None) => return Err(bad("unknown wire")),
                        },
                    }
                }
                "mac" => {
                    let mac: MacAddr = value.parse().map_err(|e| bad(&format!("{e}")))?;
                    if !mac.is_valid_unicast() {
                        return Err(bad(
                            "not a unicast address (multicast bit set, or all zeros)",
                        ));
                    }
                    d.mac = Some(mac);
                }
                "link" => d.link = Some(value.parse().map_err(|e: &str| bad(e))?),
                "bmc" => {
                    d.bmc = match value {
                        "0" => false,
                        "1" => true,
                        _ => return Err(bad("not 0 or 1")),
                    }
                }
                "model_cpu" => {
                    d.model_cpu = Some(match value {
                        "none" => None,
                        v => Some(
                            v.parse::<usize>()
                                .ok()
                                .filter(|&c| c < 4096)
                                .ok_or_else(|| bad("not a CPU number"))?,
                        ),
                    })
                }
                "model_poll_us" => {
                    d.model_poll_us = Some(
                        value
                            .parse::<u64>()
                            .ok()
                            .filter(|us| *us <= MAX_POLL_US)
                            .ok_or_else(|| bad("not 0..3600000000"))?,
                    )
                }
                "model_nice" => {
                    d.model_nice = Some(
                        value
                            .parse::<i32>()
                            .ok()
                            .filter(|n| (-20..=19).contains(n))
                            .ok_or_else(|| bad("not -20..19"))?,
                    )
                }
                "fw_version" => {
                    d.fw_version = Some(value.parse().map_err(|_| bad("not a version"))?)
                }
                "fw_fault" => {
                    d.fw_fault = match value {
                        "none" => FwFault::None,
                        "no_life" => FwFault::NoLife,
                        "no_ownership" => FwFault::NoOwnership,
                        "malformed" => FwFault::Malformed,
                        "no_heartbeat" => FwFault::NoHeartbeat,
                        _ => match value.strip_prefix("crash:") {
                            Some(ms) => FwFault::Crash(std::time::Duration::from_millis(
                                ms.parse::<u64>()
                                    .ok()
                                    .filter(|ms| (1..=3_600_000).contains(ms))
                                    .ok_or_else(|| bad("crash:<ms>: not 1..3600000"))?,
                            )),
                            None => return Err(bad("unknown fault")),
                        },
                    }
                }
                "fw_timeout_ms" => {
                    d.fw_timeout_ms = Some(
                        value
                            .parse::<u64>()
                            .ok()
                            .filter(|ms| (1..=600_000).contains(ms))
                            .ok_or_else(|| bad("not 1..600000"))?,
                    )
                }
                "rx_intr_usecs" => {
                    d.rx_intr.usecs = value
                        .parse::<u16>()
                        .ok()
                        .filter(|us| *us <= IntrCoalesce::MAX_USECS)
                        .ok_or_else(|| bad("not 0..16383"))?
                }
                "rx_intr_frames" => {
                    d.rx_intr.frames = value
                        .parse::<u16>()
                        .ok()
                        .filter(|n| (1..=IntrCoalesce::MAX_FRAMES).contains(n))
                        .ok_or_else(|| bad("not 1..16383"))?
                }
                _ => unreachable!("every key in PARAMS is handled"),
            }
        }
        if d.rx_intr.frames > 1 && d.rx_intr.usecs == 0 {
            return Err(err(
                "rx_intr_frames",
                "needs rx_intr_usecs above 0 (without a wait the first packet signals)",
            ));
        }
        Ok(d)
    }
}

/// Longest `model_poll_us` (an hour: "poll always" for any run that matters).
const MAX_POLL_US: u64 = 3_600_000_000;

fn valid_cable_name(name: &str) -> bool {
    (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A Linux interface name (IFNAMSIZ - 1 bytes at most) of the characters `ip` takes
/// without quoting.
fn valid_ifname(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        assert_eq!("".parse::<Devargs>().unwrap(), Devargs::default());
        assert_eq!(Devargs::default().wire, Wire::Pair);
    }

    #[test]
    fn every_key() {
        let d: Devargs = "wire=cable:a-1,mac=02:00:00:00:00:07,link=25G-CR,bmc=1,model_cpu=0,model_poll_us=1000000,model_nice=-20,fw_version=0.12.1.0,fw_fault=no_ownership,fw_timeout_ms=250,rx_intr_usecs=50,rx_intr_frames=16"
            .parse()
            .unwrap();
        assert_eq!(d.wire, Wire::Cable("a-1".into()));
        assert_eq!(
            "wire=tap:fbnic.tap-0".parse::<Devargs>().unwrap().wire,
            Wire::Tap("fbnic.tap-0".into())
        );
        assert_eq!(d.mac, Some(MacAddr([2, 0, 0, 0, 0, 7])));
        assert_eq!(d.link, Some(LinkSpeed::G25Cr));
        assert!(d.bmc);
        assert_eq!(d.model_cpu, Some(Some(0)));
        assert_eq!(d.model_poll_us, Some(1_000_000));
        assert_eq!(d.model_nice, Some(-20));
        assert_eq!(d.fw_version, Some(FwVersion::new(0, 12, 1, 0)));
        assert_eq!(d.fw_fault, FwFault::NoOwnership);
        let crash: Devargs = "fw_fault=crash:2500".parse().unwrap();
        assert_eq!(
            crash.fw_fault,
            FwFault::Crash(std::time::Duration::from_millis(2500))
        );
        assert_eq!(d.fw_timeout_ms, Some(250));
        assert_eq!(
            d.rx_intr,
            IntrCoalesce {
                usecs: 50,
                frames: 16
            }
        );
        assert_eq!(
            "rx_intr_usecs=16383".parse::<Devargs>().unwrap().rx_intr,
            IntrCoalesce {
                usecs: 16383,
                frames: 1
            }
        );
        assert_eq!(
            "wire=loop,model_cpu=none"
                .parse::<Devargs>()
                .unwrap()
                .model_cpu,
            Some(None)
        );
    }

    #[test]
    fn mistakes_name_the_key_and_reason() {
        let cases = [
            ("speed=100G", "speed", "unknown key"),
            ("wire=ring", "wire", "unknown wire"),
            ("wire=cable:", "wire", "cable names"),
            ("wire=cable:a b", "wire", "cable names"),
            ("wire=tap:", "wire", "interface names"),
            ("wire=tap:0123456789abcdef", "wire", "interface names"),
            ("wire=tap:a/b", "wire", "interface names"),
            ("mac=01:00:00:00:00:01", "mac", "not a unicast"),
            ("mac=00:00:00:00:00:00", "mac", "not a unicast"),
            ("mac=02:00:00:00:00", "mac", "bad value"),
            ("link=40G", "link", "expected one of"),
            ("bmc=yes", "bmc", "not 0 or 1"),
            ("model_cpu=-1", "model_cpu", "not a CPU"),
            ("model_poll_us=-5", "model_poll_us", "not 0..3600000000"),
            (
                "model_poll_us=3600000001",
                "model_poll_us",
                "not 0..3600000000",
            ),
            ("model_nice=20", "model_nice", "not -20..19"),
            ("model_nice=-21", "model_nice", "not -20..19"),
            ("model_nice=high", "model_nice", "not -20..19"),
            ("fw_version=1.2", "fw_version", "not a version"),
            ("fw_fault=flaky", "fw_fault", "unknown fault"),
            ("fw_fault=crash", "fw_fault", "unknown fault"),
            ("fw_fault=crash:0", "fw_fault", "crash:<ms>: not 1..3600000"),
            (
                "fw_fault=crash:-5",
                "fw_fault",
                "crash:<ms>: not 1..3600000",
            ),
            (
                "fw_fault=crash:3600001",
                "fw_fault",
                "crash:<ms>: not 1..3600000",
            ),
            ("fw_timeout_ms=0", "fw_timeout_ms", "not 1..600000"),
            ("rx_intr_usecs=16384", "rx_intr_usecs", "not 0..16383"),
            ("rx_intr_usecs=-1", "rx_intr_usecs", "not 0..16383"),
            ("rx_intr_frames=0", "rx_intr_frames", "not 1..16383"),
            ("rx_intr_frames=16384", "rx_intr_frames", "not 1..16383"),
            ("rx_intr_frames=8", "rx_intr_frames", "needs rx_intr_usecs"),
            (
                "rx_intr_frames=8,rx_intr_usecs=0",
                "rx_intr_frames",
                "needs rx_intr_usecs",
            ),
            ("bmc=1,bmc=0", "bmc", "given twice"),
            ("wire", "wire", "expected key=value"),
        ];
        for (input, key, why) in cases {
            let e = input.parse::<Devargs>().unwrap_err();
            assert_eq!(e.key, key, "{input}");
            assert!(e.to_string().contains(why), "{input}: {e}");
        }
    }

    #[test]
    fn param_string_lists_every_key() {
        let s = param_string();
        for (k, _) in PARAMS {
            assert!(s.contains(&format!("{k}=")), "{s}");
        }
    }
}
