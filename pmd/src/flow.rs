//! Flow rules (rte_flow): what the driver keeps of the rules an application created, and
//! the checks every rule passes before it reaches the device.
//!
//! The device can match what its action TCAM sees of a frame (spec 7.2): whether it is IPv4
//! or IPv6, TCP or UDP, and its L4 source and destination ports, each port under a bit mask.
//! It cannot match addresses. A rule sends what it matches to one Rx queue, spreads it over
//! a set of queues (the device's second RSS indirection table, so every such rule spreads
//! over the same set), or drops it; the rules sit in action TCAM entries 2-49, before the
//! RSS rules, so a frame no rule matches is spread by RSS as before. [`crate::rpc`] turns
//! rules into TCAM entries.

use crate::error::{Error, Result};

/// The IP version a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowIp {
    /// Any frame, IP or not (unless the rule names an L4 protocol: then any IP version).
    Any,
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// The L4 protocol a rule matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowL4 {
    /// Any (or none).
    Any,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// A port match: the bits set in `mask` must equal those of `value` (mask 0: any port).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PortMatch {
    /// The port, host order.
    pub value: u16,
    /// Bits that take part in the match.
    pub mask: u16,
}

impl PortMatch {
    /// Any port.
    pub const ANY: Self = Self { value: 0, mask: 0 };

    /// Exactly `port`.
    pub const fn exact(port: u16) -> Self {
        Self {
            value: port,
            mask: 0xffff,
        }
    }

    /// Whether `port` matches.
    pub fn matches(self, port: u16) -> bool {
        (port ^ self.value) & self.mask == 0
    }
}

/// A set of Rx queues (bit q for queue q; the device has 128).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueSet(u128);

impl QueueSet {
    /// The set of `queues`: at least one, each below 128, none twice.
    pub fn new(queues: &[u16]) -> Result<Self> {
        let mut set = 0u128;
        for &q in queues {
            if q >= 128 {
                return Err(Error::invalid(format!("queue {q}: the device has 128")));
            }
            if set & 1 << q != 0 {
                return Err(Error::invalid(format!("queue {q} named twice")));
            }
            set |= 1 << q;
        }
        if set == 0 {
            return Err(Error::invalid("no queue to spread over"));
        }
        Ok(Self(set))
    }

    /// The queues, ascending.
    pub fn iter(self) -> impl Iterator<Item = u16> {
        (0..128u16).filter(move |&q| self.0 & 1 << q != 0)
    }

    /// The highest queue.
    pub fn max(self) -> Option<u16> {
        (self.0 != 0).then(|| 127 - self.0.leading_zeros() as u16)
    }
}

/// What happens to a matching frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowAction {
    /// Deliver it to this Rx queue.
    Queue(u16),
    /// Spread it over these queues by its RSS hash (the port's key and hash types).
    Rss(QueueSet),
    /// Drop it (counted as `rpc_action_drops`).
    Drop,
}

impl FlowAction {
    /// The highest queue the action delivers to.
    pub fn max_queue(self) -> Option<u16> {
        match self {
            Self::Queue(q) => Some(q),
            Self::Rss(set) => set.max(),
            Self::Drop => None,
        }
    }
}

/// One rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowRule {
    /// Lower values are matched first; equal values in creation order.
    pub priority: u32,
    /// IP version.
    pub ip: FlowIp,
    /// L4 protocol.
    pub l4: FlowL4,
    /// L4 source port (needs `l4` TCP or UDP unless it matches any port).
    pub sport: PortMatch,
    /// L4 destination port (as `sport`).
    pub dport: PortMatch,
    /// What happens to a matching frame.
    pub action: FlowAction,
}

impl FlowRule {
    /// A rule matching every frame, delivering it to `action`.
    pub fn any(action: FlowAction) -> Self {
        Self {
            priority: 0,
            ip: FlowIp::Any,
            l4: FlowL4::Any,
            sport: PortMatch::ANY,
            dport: PortMatch::ANY,
            action,
        }
    }

    /// Checks what does not depend on the other rules: ports need TCP or UDP, the queue must
    /// exist (`nb_rx_queues` configured).
    pub fn check(&self, nb_rx_queues: u16) -> Result<()> {
        let ports = self.sport.mask != 0 || self.dport.mask != 0;
        if ports && self.l4 == FlowL4::Any {
            return Err(Error::invalid("a port match needs TCP or UDP"));
        }
        if let Some(q) = self.action.max_queue() {
            if q >= nb_rx_queues {
                return Err(Error::invalid(format!(
                    "queue {q} does not exist ({nb_rx_queues} Rx queues configured)"
                )));
            }
        }
        Ok(())
    }
}

/// A rule's handle: unique for the port's lifetime, never 0.
impl std::fmt::Display for PortMatch {
    /// `any`, the port, or `value/mask` in hex.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.mask {
            0 => write!(f, "any"),
            0xffff => write!(f, "{}", self.value),
            m => write!(f, "{:#06x}/{m:#06x}", self.value),
        }
    }
}

impl std::fmt::Display for FlowRule {
    /// As `priority 1: ipv4 udp src any dst 53 -> queue 1`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ip = match self.ip {
            FlowIp::Any => "any-ip",
            FlowIp::V4 => "ipv4",
            FlowIp::V6 => "ipv6",
        };
        write!(f, "priority {}: {ip}", self.priority)?;
        match self.l4 {
            FlowL4::Any => {}
            FlowL4::Tcp => write!(f, " tcp src {} dst {}", self.sport, self.dport)?,
            FlowL4::Udp => write!(f, " udp src {} dst {}", self.sport, self.dport)?,
        }
        match self.action {
            FlowAction::Queue(q) => write!(f, " -> queue {q}"),
            FlowAction::Rss(set) => {
                write!(f, " -> rss queues")?;
                set.iter().try_for_each(|q| write!(f, " {q}"))
            }
            FlowAction::Drop => write!(f, " -> drop"),
        }
    }
}

pub type FlowId = u64;

/// The rules of one port, in match order.
#[derive(Clone, Debug, Default)]
pub struct FlowTable {
    /// (id, rule), ordered by (priority, id).
    rules: Vec<(FlowId, FlowRule)>,
    last_id: FlowId,
}

impl FlowTable {
    /// The rules in match order.
    pub fn rules(&self) -> impl Iterator<Item = &FlowRule> {
        self.rules.iter().map(|(_, r)| r)
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// The rules with their ids, in match order.
    pub fn with_ids(&self) -> impl Iterator<Item = (FlowId, &FlowRule)> {
        self.rules.iter().map(|(id, r)| (*id, r))
    }

    /// No rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The table with `rule` added (a copy: the caller checks it fits the device before it
    /// keeps it).
    pub fn with(&self, rule: FlowRule) -> (FlowTable, FlowId) {
        let mut t = self.clone();
        t.last_id += 1;
        let id = t.last_id;
        let at = t
            .rules
            .partition_point(|(_, r)| r.priority <= rule.priority);
        t.rules.insert(at, (id, rule));
        (t, id)
    }

    /// Removes rule `id`.
    pub fn remove(&mut self, id: FlowId) -> Result<()> {
        match self.rules.iter().position(|(i, _)| *i == id) {
            Some(at) => {
                self.rules.remove(at);
                Ok(())
            }
            None => Err(Error::invalid(format!("no flow rule {id}"))),
        }
    }

    /// Removes every rule.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The highest queue a rule sends to.
    pub fn max_queue(&self) -> Option<u16> {
        self.rules().filter_map(|r| r.action.max_queue()).max()
    }

    /// The queue sets the RSS rules spread over (each once, in match order).
    pub fn rss_sets(&self) -> Vec<QueueSet> {
        let mut sets = Vec::new();
        for r in self.rules() {
            if let FlowAction::Rss(set) = r.action {
                if !sets.contains(&set) {
                    sets.push(set);
                }
            }
        }
        sets
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_dport(port: u16, q: u16, priority: u32) -> FlowRule {
        FlowRule {
            priority,
            ip: FlowIp::V4,
            l4: FlowL4::Udp,
            dport: PortMatch::exact(port),
            ..FlowRule::any(FlowAction::Queue(q))
        }
    }

    #[test]
    fn rules_display_as_the_dump_shows_them() {
        assert_eq!(
            udp_dport(53, 1, 2).to_string(),
            "priority 2: ipv4 udp src any dst 53 -> queue 1"
        );
        let r = FlowRule {
            ip: FlowIp::V6,
            l4: FlowL4::Tcp,
            sport: PortMatch {
                value: 0x1000,
                mask: 0xff00,
            },
            ..FlowRule::any(FlowAction::Drop)
        };
        assert_eq!(
            r.to_string(),
            "priority 0: ipv6 tcp src 0x1000/0xff00 dst any -> drop"
        );
        assert_eq!(
            FlowRule::any(FlowAction::Drop).to_string(),
            "priority 0: any-ip -> drop"
        );
    }

    #[test]
    fn queue_sets_are_checked_and_spread_rules_display() {
        let set = QueueSet::new(&[3, 1, 127]).unwrap();
        assert_eq!(set.iter().collect::<Vec<_>>(), [1, 3, 127]);
        assert_eq!(set.max(), Some(127));
        assert!(QueueSet::new(&[]).is_err());
        assert!(QueueSet::new(&[2, 2]).is_err());
        assert!(QueueSet::new(&[128]).is_err());
        let r = FlowRule::any(FlowAction::Rss(QueueSet::new(&[2, 3]).unwrap()));
        assert_eq!(r.to_string(), "priority 0: any-ip -> rss queues 2 3");
        assert!(r.check(4).is_ok());
        let e = r.check(3).unwrap_err();
        assert!(e.to_string().contains("queue 3 does not exist"), "{e}");
    }

    #[test]
    fn port_match_masks() {
        assert!(PortMatch::ANY.matches(1234));
        assert!(PortMatch::exact(4789).matches(4789));
        assert!(!PortMatch::exact(4789).matches(4790));
        let range = PortMatch {
            value: 0x1000,
            mask: 0xff00,
        };
        assert!(range.matches(0x10ab) && !range.matches(0x11ab));
    }

    #[test]
    fn rules_are_checked() {
        assert!(udp_dport(53, 3, 0).check(4).is_ok());
        let e = udp_dport(53, 4, 0).check(4).unwrap_err();
        assert!(
            e.to_string()
                .contains("queue 4 does not exist (4 Rx queues"),
            "{e}"
        );
        let r = FlowRule {
            l4: FlowL4::Any,
            ..udp_dport(53, 0, 0)
        };
        let e = r.check(4).unwrap_err();
        assert!(e.to_string().contains("needs TCP or UDP"), "{e}");
        assert!(FlowRule::any(FlowAction::Drop).check(0).is_ok());
    }

    #[test]
    fn match_order_is_priority_then_creation() {
        let t = FlowTable::default();
        let (t, a) = t.with(udp_dport(1, 0, 5));
        let (t, b) = t.with(udp_dport(2, 1, 1));
        let (t, c) = t.with(udp_dport(3, 2, 5));
        let (mut t, d) = t.with(udp_dport(4, 3, 0));
        assert_eq!(
            t.rules().map(|r| r.dport.value).collect::<Vec<_>>(),
            [4, 2, 1, 3]
        );
        assert_eq!([a, b, c, d], [1, 2, 3, 4]);
        assert_eq!(t.max_queue(), Some(3));
        t.remove(d).unwrap();
        assert!(t.remove(d).is_err(), "removed twice");
        assert_eq!(t.max_queue(), Some(2));
        // Ids are never reused.
        let (t2, e) = t.with(FlowRule::any(FlowAction::Drop));
        assert_eq!(e, 5);
        assert_eq!(t2.len(), 4);
        assert_eq!(t.len(), 3, "a copy");
        t = t2;
        assert_eq!(t.max_queue(), Some(2));
        t.clear();
        assert!(t.is_empty() && t.max_queue().is_none());
    }
}
