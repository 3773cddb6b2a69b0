//! rte_flow: the generic flow API (`flow_ops_get`), on the action TCAM.
//!
//! What a rule may say, and how it maps (see [`crate::flow`] for what the device can match):
//! - attributes: ingress, group 0, any priority (lower first);
//! - pattern: `eth` (EtherType IPv4 or IPv6 at most), `ipv4` / `ipv6` (protocol TCP or UDP at
//!   most), `tcp` / `udp` (source and destination port under any bit mask), `void`, `end`,
//!   in that order, each layer optional;
//! - actions: one of `queue`, `rss` (over any configured queues, with the port's key and
//!   hash types: the device's second indirection table, so all RSS rules share one queue
//!   set) or `drop`, plus `void`, `end`.
//!
//! Everything else is refused with the item or action it concerns and a reason. Rules are
//! kept across stop/start (RTE_ETH_DEV_CAPA_FLOW_RULE_KEEP). Isolated mode
//! (`rte_flow_isolate`) leaves the RSS rules out, so only the flow rules deliver. A handle is the rule's id, never
//! dereferenced, so a stale or foreign handle is refused, not followed.

use core::ffi::{c_int, c_void, CStr};
use core::ptr::{addr_of, null};
use std::panic::{catch_unwind, AssertUnwindSafe};

use dpdk_sys as sys;

use super::{adapter, Adapter};
use crate::error::{errno, Error};
use crate::flow::{FlowAction, FlowId, FlowIp, FlowL4, FlowRule, PortMatch, QueueSet};
use crate::rpc::RssConfig;

/// Pattern items read before giving up on a missing END.
const MAX_ITEMS: usize = 32;
/// Actions read before giving up on a missing END.
const MAX_ACTIONS: usize = 32;

/// Why a rule is refused: errno, what it concerns, and a message (rte_flow_error keeps the
/// pointer, so it must live for the program).
struct Refusal {
    code: c_int,
    ty: sys::rte_flow_error_type,
    cause: *const c_void,
    msg: &'static CStr,
}

impl Refusal {
    fn new(
        code: c_int,
        ty: sys::rte_flow_error_type,
        cause: *const c_void,
        msg: &'static CStr,
    ) -> Self {
        Self {
            code,
            ty,
            cause,
            msg,
        }
    }

    /// `flow` is not a rule of this port.
    fn no_such_rule(flow: *const sys::rte_flow) -> Self {
        Self::new(
            errno::ENOENT,
            sys::RTE_FLOW_ERROR_TYPE_HANDLE,
            flow.cast(),
            c"no such flow rule on this port",
        )
    }

    fn item(item: *const sys::rte_flow_item, msg: &'static CStr) -> Self {
        Self::new(
            errno::ENOTSUP,
            sys::RTE_FLOW_ERROR_TYPE_ITEM,
            item.cast(),
            msg,
        )
    }

    fn mask(item: *const sys::rte_flow_item, msg: &'static CStr) -> Self {
        Self::new(
            errno::ENOTSUP,
            sys::RTE_FLOW_ERROR_TYPE_ITEM_MASK,
            item.cast(),
            msg,
        )
    }

    fn action(a: *const sys::rte_flow_action, code: c_int, msg: &'static CStr) -> Self {
        Self::new(code, sys::RTE_FLOW_ERROR_TYPE_ACTION, a.cast(), msg)
    }

    /// From a driver error (the port's own checks): a fixed message per kind, the details
    /// in the log.
    fn port(e: &Error, what: &str, name: &str) -> Self {
        ::log::warn!("{name}: {what}: {e}");
        let code = -e.to_errno();
        let msg = match code {
            errno::ENOSPC => c"no room for the rule in the action TCAM (entries 2-49)",
            errno::EINVAL => c"rule refused by the port (details in the driver log)",
            _ => c"the port could not apply the rule (details in the driver log)",
        };
        Self::new(code, sys::RTE_FLOW_ERROR_TYPE_UNSPECIFIED, null(), msg)
    }

    /// Fills `error` (if given) and returns the negative errno.
    fn report(self, error: *mut sys::rte_flow_error) -> c_int {
        // SAFETY: rte_flow_error_set accepts a null error; the message is static.
        unsafe { sys::rte_flow_error_set(error, self.code, self.ty, self.cause, self.msg.as_ptr()) }
    }
}

/// The byte range (offset, length) of a field of `$t` (no value is read).
macro_rules! field {
    ($t:ty, $($field:tt)+) => {{
        let u = core::mem::MaybeUninit::<$t>::uninit();
        let base = u.as_ptr();
        // SAFETY: address arithmetic inside a local (uninitialised) `$t`; nothing is read.
        let f = unsafe { addr_of!((*base).$($field)+) };
        (f as usize - base as usize, size_of_pointee(f))
    }};
}

fn size_of_pointee<U>(_: *const U) -> usize {
    core::mem::size_of::<U>()
}

/// An rte_flow item type the device can match only in part.
trait ItemSpec: Sized + 'static {
    /// rte_flow's default mask for a spec given without one, if the device can match it;
    /// else the reason it cannot.
    fn default_mask() -> Result<&'static Self, &'static CStr>;
    /// The byte ranges (offset, length) of the fields the device can match.
    fn matchable() -> [(usize, usize); 2];
    /// The reason when the mask covers anything else.
    const OTHERS: &'static CStr;
}

impl ItemSpec for sys::rte_flow_item_eth {
    fn default_mask() -> Result<&'static Self, &'static CStr> {
        Err(c"matching MAC addresses is not supported: give a mask (EtherType only)")
    }
    fn matchable() -> [(usize, usize); 2] {
        let t = field!(sys::rte_flow_item_eth, __bindgen_anon_1.hdr.ether_type);
        [t, t]
    }
    const OTHERS: &'static CStr =
        c"only the EtherType can be matched (not addresses or VLAN presence)";
}

impl ItemSpec for sys::rte_flow_item_ipv4 {
    fn default_mask() -> Result<&'static Self, &'static CStr> {
        Err(NO_IP_ADDRESSES)
    }
    fn matchable() -> [(usize, usize); 2] {
        let p = field!(sys::rte_flow_item_ipv4, hdr.next_proto_id);
        [p, p]
    }
    const OTHERS: &'static CStr = c"only the IPv4 protocol can be matched";
}

impl ItemSpec for sys::rte_flow_item_ipv6 {
    fn default_mask() -> Result<&'static Self, &'static CStr> {
        Err(NO_IP_ADDRESSES)
    }
    fn matchable() -> [(usize, usize); 2] {
        let p = field!(sys::rte_flow_item_ipv6, hdr.proto);
        [p, p]
    }
    const OTHERS: &'static CStr = c"only the IPv6 next header can be matched";
}

impl ItemSpec for sys::rte_flow_item_tcp {
    fn default_mask() -> Result<&'static Self, &'static CStr> {
        Ok(&TCP_PORTS)
    }
    fn matchable() -> [(usize, usize); 2] {
        [
            field!(sys::rte_flow_item_tcp, hdr.src_port),
            field!(sys::rte_flow_item_tcp, hdr.dst_port),
        ]
    }
    const OTHERS: &'static CStr = c"only TCP ports can be matched (not flags or sequence numbers)";
}

impl ItemSpec for sys::rte_flow_item_udp {
    fn default_mask() -> Result<&'static Self, &'static CStr> {
        Ok(&UDP_PORTS)
    }
    fn matchable() -> [(usize, usize); 2] {
        [
            field!(sys::rte_flow_item_udp, hdr.src_port),
            field!(sys::rte_flow_item_udp, hdr.dst_port),
        ]
    }
    const OTHERS: &'static CStr = c"only UDP ports can be matched";
}

const NO_IP_ADDRESSES: &CStr =
    c"matching IP addresses is not supported: give a mask (protocol only)";

/// rte_flow's default masks for TCP and UDP: both ports whole.
static TCP_PORTS: sys::rte_flow_item_tcp = sys::rte_flow_item_tcp {
    hdr: sys::rte_tcp_hdr {
        src_port: 0xffff,
        dst_port: 0xffff,
        ..ZERO_TCP
    },
};
static UDP_PORTS: sys::rte_flow_item_udp = sys::rte_flow_item_udp {
    hdr: sys::rte_udp_hdr {
        src_port: 0xffff,
        dst_port: 0xffff,
        dgram_len: 0,
        dgram_cksum: 0,
    },
};
// SAFETY: an all-zero TCP header is a valid value (plain integers).
const ZERO_TCP: sys::rte_tcp_hdr = unsafe { core::mem::zeroed() };

/// An item's spec and mask, once checked: no `last` (ranges), a mask (given, or rte_flow's
/// default) that covers only what the device can match. None: no spec, the item matches
/// anything of its kind.
///
/// # Safety
/// `item` points to a readable item whose spec/last/mask, if not null, point to a `T`.
unsafe fn read_item<'a, T: ItemSpec>(
    item: *const sys::rte_flow_item,
) -> Result<Option<(&'a T, &'a T)>, Refusal> {
    // SAFETY: the caller's promise.
    let it = unsafe { &*item };
    if !it.last.is_null() {
        return Err(Refusal::new(
            errno::ENOTSUP,
            sys::RTE_FLOW_ERROR_TYPE_ITEM_LAST,
            item.cast(),
            c"ranges ('last') are not supported",
        ));
    }
    // SAFETY: the caller's promise: spec and mask, if given, point to readable `T`s.
    let (spec, mask) = unsafe { (it.spec.cast::<T>().as_ref(), it.mask.cast::<T>().as_ref()) };
    let Some(spec) = spec else {
        return Ok(None);
    };
    let mask = match mask {
        Some(m) => m,
        None => T::default_mask().map_err(|why| Refusal::mask(item, why))?,
    };
    // The mask's bytes, read in place (the application wrote all of them; u8 has no invalid
    // values).
    // SAFETY: `mask` is a readable `T`.
    let bytes = unsafe {
        core::slice::from_raw_parts((mask as *const T).cast::<u8>(), core::mem::size_of::<T>())
    };
    let ok = T::matchable();
    let only_matchable = bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b == 0 || ok.iter().any(|&(o, n)| (o..o + n).contains(&i)));
    if !only_matchable {
        return Err(Refusal::mask(item, T::OTHERS));
    }
    Ok(Some((spec, mask)))
}

/// What the pattern asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pattern {
    ip: FlowIp,
    l4: FlowL4,
    sport: PortMatch,
    dport: PortMatch,
}

const ETHER_TYPE_IPV4: u16 = 0x0800;
const ETHER_TYPE_IPV6: u16 = 0x86dd;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// The L4 protocol an IP item's (spec, mask) next-header match names.
fn proto_match(item: *const sys::rte_flow_item, sm: Option<(u8, u8)>) -> Result<FlowL4, Refusal> {
    match sm.map_or((0, 0), |(s, m)| (m, s)) {
        (0, _) => Ok(FlowL4::Any),
        (0xff, IPPROTO_TCP) => Ok(FlowL4::Tcp),
        (0xff, IPPROTO_UDP) => Ok(FlowL4::Udp),
        (0xff, _) => Err(Refusal::item(
            item,
            c"only TCP (6) and UDP (17) can be matched as the protocol",
        )),
        _ => Err(Refusal::mask(
            item,
            c"the protocol can only be matched whole",
        )),
    }
}

/// A port from a spec and mask (network order in the item).
fn port_match(spec: u16, mask: u16) -> PortMatch {
    let mask = u16::from_be(mask);
    PortMatch {
        value: u16::from_be(spec) & mask,
        mask,
    }
}

/// Reads the pattern.
///
/// # Safety
/// `items` points to an END-terminated item array as rte_flow documents it.
unsafe fn parse_pattern(items: *const sys::rte_flow_item) -> Result<Pattern, Refusal> {
    let mut p = Pattern {
        ip: FlowIp::Any,
        l4: FlowL4::Any,
        sport: PortMatch::ANY,
        dport: PortMatch::ANY,
    };
    if items.is_null() {
        return Err(Refusal::new(
            errno::EINVAL,
            sys::RTE_FLOW_ERROR_TYPE_ITEM_NUM,
            null(),
            c"no pattern",
        ));
    }
    // Layers seen so far: 0 none, 1 L2, 2 L3, 3 L4; each item must go deeper.
    let mut layer = 0;
    for i in 0..MAX_ITEMS {
        // SAFETY: the caller's promise: items up to END are readable.
        let item = unsafe { items.add(i) };
        // SAFETY: as above.
        let ty = unsafe { (*item).type_ };
        let this = match ty {
            sys::RTE_FLOW_ITEM_TYPE_END => return Ok(p),
            sys::RTE_FLOW_ITEM_TYPE_VOID => continue,
            sys::RTE_FLOW_ITEM_TYPE_ETH => 1,
            sys::RTE_FLOW_ITEM_TYPE_IPV4 | sys::RTE_FLOW_ITEM_TYPE_IPV6 => 2,
            sys::RTE_FLOW_ITEM_TYPE_TCP | sys::RTE_FLOW_ITEM_TYPE_UDP => 3,
            _ => {
                return Err(Refusal::item(
                    item,
                    c"item not supported (eth, ipv4, ipv6, tcp, udp, void, end)",
                ))
            }
        };
        if this <= layer {
            return Err(Refusal::new(
                errno::EINVAL,
                sys::RTE_FLOW_ERROR_TYPE_ITEM,
                item.cast(),
                c"items must go from L2 to L4, each layer once",
            ));
        }
        layer = this;
        let contradiction = |msg| {
            Err(Refusal::new(
                errno::EINVAL,
                sys::RTE_FLOW_ERROR_TYPE_ITEM,
                item.cast(),
                msg,
            ))
        };
        match ty {
            sys::RTE_FLOW_ITEM_TYPE_ETH => {
                // SAFETY: an ETH item's spec and mask are rte_flow_item_eth.
                let Some((s, m)) = (unsafe { read_item::<sys::rte_flow_item_eth>(item) })? else {
                    continue;
                };
                // SAFETY: the header view of the union is its bytes (plain integers).
                let (ty_spec, ty_mask) = unsafe {
                    (
                        u16::from_be(s.__bindgen_anon_1.hdr.ether_type),
                        u16::from_be(m.__bindgen_anon_1.hdr.ether_type),
                    )
                };
                p.ip = match (ty_mask, ty_spec) {
                    (0, _) => FlowIp::Any,
                    (0xffff, ETHER_TYPE_IPV4) => FlowIp::V4,
                    (0xffff, ETHER_TYPE_IPV6) => FlowIp::V6,
                    (0xffff, _) => {
                        return Err(Refusal::item(
                            item,
                            c"only the IPv4 and IPv6 EtherTypes can be matched",
                        ))
                    }
                    _ => {
                        return Err(Refusal::mask(
                            item,
                            c"the EtherType can only be matched whole",
                        ))
                    }
                };
            }
            sys::RTE_FLOW_ITEM_TYPE_IPV4 | sys::RTE_FLOW_ITEM_TYPE_IPV6 => {
                let v6 = ty == sys::RTE_FLOW_ITEM_TYPE_IPV6;
                let want = if v6 { FlowIp::V6 } else { FlowIp::V4 };
                if p.ip != FlowIp::Any && p.ip != want {
                    return contradiction(c"the IP item contradicts the EtherType");
                }
                p.ip = want;
                // The protocol, if named, is the rule's L4 protocol.
                p.l4 = if v6 {
                    // SAFETY: an IPV6 item's spec and mask are rte_flow_item_ipv6.
                    let sm = unsafe { read_item::<sys::rte_flow_item_ipv6>(item) }?;
                    proto_match(item, sm.map(|(s, m)| (s.hdr.proto, m.hdr.proto)))?
                } else {
                    // SAFETY: an IPV4 item's spec and mask are rte_flow_item_ipv4.
                    let sm = unsafe { read_item::<sys::rte_flow_item_ipv4>(item) }?;
                    proto_match(
                        item,
                        sm.map(|(s, m)| (s.hdr.next_proto_id, m.hdr.next_proto_id)),
                    )?
                };
            }
            _ => {
                let want = if ty == sys::RTE_FLOW_ITEM_TYPE_UDP {
                    FlowL4::Udp
                } else {
                    FlowL4::Tcp
                };
                if p.l4 != FlowL4::Any && p.l4 != want {
                    return contradiction(c"the L4 item contradicts the IP protocol");
                }
                p.l4 = want;
                // (source spec, source mask, destination spec, destination mask)
                let ports = if want == FlowL4::Udp {
                    // SAFETY: a UDP item's spec and mask are rte_flow_item_udp.
                    unsafe { read_item::<sys::rte_flow_item_udp>(item) }?.map(|(s, m)| {
                        [
                            s.hdr.src_port,
                            m.hdr.src_port,
                            s.hdr.dst_port,
                            m.hdr.dst_port,
                        ]
                    })
                } else {
                    // SAFETY: a TCP item's spec and mask are rte_flow_item_tcp.
                    unsafe { read_item::<sys::rte_flow_item_tcp>(item) }?.map(|(s, m)| {
                        [
                            s.hdr.src_port,
                            m.hdr.src_port,
                            s.hdr.dst_port,
                            m.hdr.dst_port,
                        ]
                    })
                };
                if let Some([ss, sm, ds, dm]) = ports {
                    p.sport = port_match(ss, sm);
                    p.dport = port_match(ds, dm);
                }
            }
        }
    }
    Err(Refusal::new(
        errno::EINVAL,
        sys::RTE_FLOW_ERROR_TYPE_ITEM_NUM,
        items.cast(),
        c"no END item among the first 32",
    ))
}

/// Reads the actions: exactly one of QUEUE, RSS or DROP (RSS with the port's key and hash
/// types, `rss`).
///
/// # Safety
/// `actions` points to an END-terminated action array as rte_flow documents it.
unsafe fn parse_actions(
    actions: *const sys::rte_flow_action,
    nb_rx_queues: u16,
    rss: &RssConfig,
) -> Result<FlowAction, Refusal> {
    if actions.is_null() {
        return Err(Refusal::new(
            errno::EINVAL,
            sys::RTE_FLOW_ERROR_TYPE_ACTION_NUM,
            null(),
            c"no actions",
        ));
    }
    let mut fate = None;
    for i in 0..MAX_ACTIONS {
        // SAFETY: the caller's promise: actions up to END are readable.
        let a = unsafe { actions.add(i) };
        // SAFETY: as above.
        let (ty, conf) = unsafe { ((*a).type_, (*a).conf) };
        let this = match ty {
            sys::RTE_FLOW_ACTION_TYPE_END => {
                return fate.ok_or_else(|| {
                    Refusal::new(
                        errno::EINVAL,
                        sys::RTE_FLOW_ERROR_TYPE_ACTION_NUM,
                        actions.cast(),
                        c"a QUEUE, RSS or DROP action is needed",
                    )
                })
            }
            sys::RTE_FLOW_ACTION_TYPE_VOID => continue,
            sys::RTE_FLOW_ACTION_TYPE_DROP => FlowAction::Drop,
            sys::RTE_FLOW_ACTION_TYPE_QUEUE => {
                // SAFETY: a QUEUE action's conf is an rte_flow_action_queue (or null).
                let Some(q) = (unsafe { conf.cast::<sys::rte_flow_action_queue>().as_ref() })
                else {
                    return Err(Refusal::new(
                        errno::EINVAL,
                        sys::RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        a.cast(),
                        c"QUEUE without a configuration",
                    ));
                };
                if q.index >= nb_rx_queues {
                    return Err(Refusal::new(
                        errno::EINVAL,
                        sys::RTE_FLOW_ERROR_TYPE_ACTION_CONF,
                        a.cast(),
                        c"queue index beyond the configured Rx queues",
                    ));
                }
                FlowAction::Queue(q.index)
            }
            sys::RTE_FLOW_ACTION_TYPE_RSS => {
                // SAFETY: an RSS action's conf is an rte_flow_action_rss (or null).
                let r = unsafe { conf.cast::<sys::rte_flow_action_rss>().as_ref() };
                // SAFETY: the caller's promise covers the action's configuration.
                FlowAction::Rss(unsafe { parse_rss(a, r, nb_rx_queues, rss) }?)
            }
            _ => {
                return Err(Refusal::action(
                    a,
                    errno::ENOTSUP,
                    c"action not supported (queue, rss, drop, void, end)",
                ))
            }
        };
        if fate.is_some() {
            return Err(Refusal::action(
                a,
                errno::EINVAL,
                c"only one QUEUE, RSS or DROP action per rule",
            ));
        }
        fate = Some(this);
    }
    Err(Refusal::new(
        errno::EINVAL,
        sys::RTE_FLOW_ERROR_TYPE_ACTION_NUM,
        actions.cast(),
        c"no END action among the first 32",
    ))
}

/// Reads an RSS action's configuration: the Toeplitz hash over the outer headers with the
/// port's key and hash types (the device has one key, and the driver reports hashes by the
/// port's types), spreading over at least one configured queue, each named once.
///
/// # Safety
/// `r`, if given, is the action's configuration, its `key` and `queue` arrays readable for
/// `key_len` bytes and `queue_num` entries.
unsafe fn parse_rss(
    a: *const sys::rte_flow_action,
    r: Option<&sys::rte_flow_action_rss>,
    nb_rx_queues: u16,
    rss: &RssConfig,
) -> Result<QueueSet, Refusal> {
    let bad = |code, msg| {
        Err(Refusal::new(
            code,
            sys::RTE_FLOW_ERROR_TYPE_ACTION_CONF,
            a.cast(),
            msg,
        ))
    };
    let Some(r) = r else {
        return bad(errno::EINVAL, c"RSS without a configuration");
    };
    if r.func != sys::RTE_ETH_HASH_FUNCTION_DEFAULT && r.func != sys::RTE_ETH_HASH_FUNCTION_TOEPLITZ
    {
        return bad(errno::ENOTSUP, c"RSS: the device hashes with Toeplitz only");
    }
    if r.level > 1 {
        return bad(
            errno::ENOTSUP,
            c"RSS: the device hashes the outer headers only",
        );
    }
    // What the port cannot hash is left out, as at configure; what is left must be the port's.
    let types = r.types & super::ops::RSS_OFFLOADS;
    if r.types != 0 && (types == 0 || super::ops::hash_from_hf(types) != rss.hash) {
        return bad(
            errno::ENOTSUP,
            c"RSS: the port's hash types only (0, or those of rss_hf)",
        );
    }
    if r.key_len != 0 {
        let same = r.key_len as usize == rss.key.len() && !r.key.is_null() && {
            // SAFETY: the caller's promise: `key` holds `key_len` bytes.
            let key = unsafe { core::slice::from_raw_parts(r.key, rss.key.len()) };
            key == rss.key
        };
        if !same {
            return bad(
                errno::ENOTSUP,
                c"RSS: the port's key only (key_len 0; change it with rss_hash_update)",
            );
        }
    }
    if r.queue_num == 0 || r.queue.is_null() || r.queue_num > 128 {
        return bad(errno::EINVAL, c"RSS: 1 to 128 queues");
    }
    // SAFETY: the caller's promise: `queue` holds `queue_num` entries.
    let queues = unsafe { core::slice::from_raw_parts(r.queue, r.queue_num as usize) };
    if queues.iter().any(|&q| q >= nb_rx_queues) {
        return bad(
            errno::EINVAL,
            c"queue index beyond the configured Rx queues",
        );
    }
    QueueSet::new(queues).or_else(|_| bad(errno::EINVAL, c"RSS: each queue once"))
}

/// Reads a whole rule.
///
/// # Safety
/// The pointers are what rte_flow_validate/create pass: an attribute structure and
/// END-terminated item and action arrays.
unsafe fn parse_rule(
    a: &Adapter,
    attr: *const sys::rte_flow_attr,
    items: *const sys::rte_flow_item,
    actions: *const sys::rte_flow_action,
) -> Result<FlowRule, Refusal> {
    // SAFETY: the caller's promise.
    let Some(at) = (unsafe { attr.as_ref() }) else {
        return Err(Refusal::new(
            errno::EINVAL,
            sys::RTE_FLOW_ERROR_TYPE_ATTR,
            null(),
            c"no attributes",
        ));
    };
    let refuse = |ty, msg| Err(Refusal::new(errno::ENOTSUP, ty, attr.cast(), msg));
    if at.group != 0 {
        return refuse(sys::RTE_FLOW_ERROR_TYPE_ATTR_GROUP, c"only group 0");
    }
    if at.egress() != 0 {
        return refuse(
            sys::RTE_FLOW_ERROR_TYPE_ATTR_EGRESS,
            c"egress rules are not supported",
        );
    }
    if at.transfer() != 0 {
        return refuse(
            sys::RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER,
            c"transfer rules are not supported",
        );
    }
    if at.ingress() == 0 {
        return Err(Refusal::new(
            errno::EINVAL,
            sys::RTE_FLOW_ERROR_TYPE_ATTR_INGRESS,
            attr.cast(),
            c"rules must be ingress",
        ));
    }
    // SAFETY: the caller's promise.
    let p = unsafe { parse_pattern(items) }?;
    // SAFETY: the caller's promise.
    let action = unsafe { parse_actions(actions, a.data().nb_rx_queues, &a.port.rss()) }?;
    Ok(FlowRule {
        priority: at.priority,
        ip: p.ip,
        l4: p.l4,
        sport: p.sport,
        dport: p.dport,
        action,
    })
}

/// Runs a flow callback: finds the port, catches panics, reports refusals in `error`.
fn flow_guard(
    dev: *mut sys::rte_eth_dev,
    error: *mut sys::rte_flow_error,
    f: impl FnOnce(&Adapter) -> Result<c_int, Refusal>,
) -> c_int {
    // SAFETY: ethdev passes a port of this driver.
    let Some(a) = (unsafe { adapter(dev) }) else {
        return Refusal::new(
            errno::ENODEV,
            sys::RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
            null(),
            c"not a net_fbnic port",
        )
        .report(error);
    };
    match catch_unwind(AssertUnwindSafe(|| f(a))) {
        Ok(Ok(v)) => v,
        Ok(Err(r)) => r.report(error),
        Err(_) => {
            ::log::error!("{}: flow: internal error (panic caught)", a.name);
            Refusal::new(
                errno::EIO,
                sys::RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                null(),
                c"internal error in the driver",
            )
            .report(error)
        }
    }
}

unsafe extern "C" fn flow_validate(
    dev: *mut sys::rte_eth_dev,
    attr: *const sys::rte_flow_attr,
    items: *const sys::rte_flow_item,
    actions: *const sys::rte_flow_action,
    error: *mut sys::rte_flow_error,
) -> c_int {
    flow_guard(dev, error, |a| {
        // SAFETY: rte_flow_validate passes the application's rule as documented.
        let rule = unsafe { parse_rule(a, attr, items, actions) }?;
        a.port
            .flow_validate(rule)
            .map_err(|e| Refusal::port(&e, "flow validate", &a.name))?;
        Ok(0)
    })
}

unsafe extern "C" fn flow_create(
    dev: *mut sys::rte_eth_dev,
    attr: *const sys::rte_flow_attr,
    items: *const sys::rte_flow_item,
    actions: *const sys::rte_flow_action,
    error: *mut sys::rte_flow_error,
) -> *mut sys::rte_flow {
    let mut handle: *mut sys::rte_flow = core::ptr::null_mut();
    flow_guard(dev, error, |a| {
        // SAFETY: rte_flow_create passes the application's rule as documented.
        let rule = unsafe { parse_rule(a, attr, items, actions) }?;
        let id = a
            .port
            .flow_create(rule)
            .map_err(|e| Refusal::port(&e, "flow create", &a.name))?;
        handle = id_to_handle(id);
        Ok(0)
    });
    handle
}

unsafe extern "C" fn flow_destroy(
    dev: *mut sys::rte_eth_dev,
    flow: *mut sys::rte_flow,
    error: *mut sys::rte_flow_error,
) -> c_int {
    flow_guard(dev, error, |a| {
        let id = flow as usize as FlowId;
        a.port
            .flow_destroy(id)
            .map_err(|_| Refusal::no_such_rule(flow))?;
        Ok(0)
    })
}

unsafe extern "C" fn flow_flush(
    dev: *mut sys::rte_eth_dev,
    error: *mut sys::rte_flow_error,
) -> c_int {
    flow_guard(dev, error, |a| {
        a.port.flow_flush();
        Ok(0)
    })
}

/// `rte_flow_isolate`: in isolated mode only the flow rules deliver to the host (the RSS
/// rules leave the action TCAM), at once on a started port. Allowed at any time, in and
/// out; the MAC address filter, promiscuous and multicast settings still apply in front
/// of the rules.
unsafe extern "C" fn flow_isolate(
    dev: *mut sys::rte_eth_dev,
    set: c_int,
    error: *mut sys::rte_flow_error,
) -> c_int {
    flow_guard(dev, error, |a| {
        a.port
            .set_isolated(set != 0)
            .map_err(|e| Refusal::port(&e, "flow isolate", &a.name))?;
        ::log::info!(
            "{}: isolated mode {}",
            a.name,
            if set != 0 { "on" } else { "off" }
        );
        Ok(0)
    })
}

/// `rte_flow_dev_dump` (testpmd's `flow dump`): every rule (`flow` null) or one, in match
/// order, with the action TCAM entries each takes ([`crate::dump::flow_rules`]).
unsafe extern "C" fn flow_dev_dump(
    dev: *mut sys::rte_eth_dev,
    flow: *mut sys::rte_flow,
    file: *mut sys::FILE,
    error: *mut sys::rte_flow_error,
) -> c_int {
    flow_guard(dev, error, |a| {
        let only = (!flow.is_null()).then_some(flow as usize as FlowId);
        let text = crate::dump::flow_rules(&a.port, &a.name, only)
            .map_err(|_| Refusal::no_such_rule(flow))?;
        if super::ops::write_dump(file, &text) != 0 {
            return Err(Refusal::new(
                errno::EIO,
                sys::RTE_FLOW_ERROR_TYPE_UNSPECIFIED,
                null(),
                c"the output stream took less than the dump",
            ));
        }
        Ok(0)
    })
}

/// A rule's handle: its id as an address (never dereferenced; ids start at 1).
fn id_to_handle(id: FlowId) -> *mut sys::rte_flow {
    id as usize as *mut sys::rte_flow
}

/// The rte_flow callbacks.
static FLOW_OPS: sys::rte_flow_ops = {
    // SAFETY: an all-None rte_flow_ops is valid; the callbacks used are set below.
    let mut o: sys::rte_flow_ops = unsafe { core::mem::zeroed() };
    o.validate = Some(flow_validate);
    o.create = Some(flow_create);
    o.destroy = Some(flow_destroy);
    o.flush = Some(flow_flush);
    o.isolate = Some(flow_isolate);
    o.dev_dump = Some(flow_dev_dump);
    o
};

/// `flow_ops_get`.
pub(super) unsafe extern "C" fn flow_ops_get(
    _dev: *mut sys::rte_eth_dev,
    ops: *mut *const sys::rte_flow_ops,
) -> c_int {
    // SAFETY: ethdev passes a place for the pointer (rte_flow_ops_get).
    match unsafe { ops.as_mut() } {
        Some(o) => {
            *o = &FLOW_OPS;
            0
        }
        None => -errno::EINVAL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An all-zero item structure (plain integers).
    fn zero<T>() -> T {
        // SAFETY: the rte_flow item structures are plain integers and arrays of them.
        unsafe { core::mem::zeroed() }
    }

    fn item<T>(
        ty: sys::rte_flow_item_type,
        spec: Option<&T>,
        mask: Option<&T>,
    ) -> sys::rte_flow_item {
        let p = |x: Option<&T>| x.map_or(null(), |r| (r as *const T).cast::<c_void>());
        sys::rte_flow_item {
            type_: ty,
            spec: p(spec),
            last: null(),
            mask: p(mask),
        }
    }

    fn bare(ty: sys::rte_flow_item_type) -> sys::rte_flow_item {
        item::<u8>(ty, None, None)
    }

    fn parse(items: &[sys::rte_flow_item]) -> Result<Pattern, (c_int, &'static CStr)> {
        // SAFETY: the arrays below end with END (or test the bound without reading past it).
        unsafe { parse_pattern(items.as_ptr()) }.map_err(|r| (r.code, r.msg))
    }

    fn ipv4_proto(proto: u8) -> (sys::rte_flow_item_ipv4, sys::rte_flow_item_ipv4) {
        let (mut s, mut m): (sys::rte_flow_item_ipv4, sys::rte_flow_item_ipv4) = (zero(), zero());
        s.hdr.next_proto_id = proto;
        m.hdr.next_proto_id = 0xff;
        (s, m)
    }

    #[test]
    fn rss_actions_take_the_ports_key_and_types_and_distinct_queues() {
        let rss = RssConfig::spread(4, crate::rpc::RssHash::ALL);
        let parse = |r: &sys::rte_flow_action_rss| {
            // SAFETY: `r` and the arrays it points to live for the call.
            unsafe { parse_rss(null(), Some(r), 4, &rss) }.map_err(|e| (e.code, e.msg))
        };
        let queues = [3u16, 1];
        let mut r: sys::rte_flow_action_rss = zero();
        r.queue = queues.as_ptr();
        r.queue_num = 2;
        assert_eq!(parse(&r).unwrap().iter().collect::<Vec<_>>(), [1, 3]);
        // The port's key, given explicitly: fine; another one: refused.
        let mut key = rss.key;
        r.key = key.as_ptr();
        r.key_len = key.len() as u32;
        assert!(parse(&r).is_ok());
        key[0] ^= 1;
        r.key = key.as_ptr();
        assert_eq!(parse(&r).unwrap_err().0, errno::ENOTSUP);
        r.key_len = 0;
        // The port's types (all it can hash, plus what it cannot, left out): fine; fewer:
        // refused.
        r.types = super::super::ops::RSS_OFFLOADS | sys::RTE_ETH_RSS_IPV6_EX;
        assert!(parse(&r).is_ok());
        r.types = sys::RTE_ETH_RSS_NONFRAG_IPV4_TCP;
        assert_eq!(parse(&r).unwrap_err().0, errno::ENOTSUP);
        r.types = 0;
        // Queues: beyond the port's, twice, none.
        let bad = [1u16, 4];
        r.queue = bad.as_ptr();
        assert_eq!(parse(&r).unwrap_err().0, errno::EINVAL);
        let twice = [2u16, 2];
        r.queue = twice.as_ptr();
        assert_eq!(
            parse(&r).unwrap_err(),
            (errno::EINVAL, c"RSS: each queue once")
        );
        r.queue_num = 0;
        assert_eq!(parse(&r).unwrap_err().0, errno::EINVAL);
        // SAFETY: no configuration at all is refused before anything is read.
        let none = unsafe { parse_rss(null(), None, 4, &rss) };
        assert!(none.is_err());
    }

    #[test]
    fn the_ip_protocol_is_the_rules_l4_protocol() {
        let (s, m) = ipv4_proto(IPPROTO_UDP);
        let p = parse(&[
            bare(sys::RTE_FLOW_ITEM_TYPE_ETH),
            item(sys::RTE_FLOW_ITEM_TYPE_IPV4, Some(&s), Some(&m)),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap();
        assert_eq!((p.ip, p.l4), (FlowIp::V4, FlowL4::Udp));

        let (mut s6, mut m6): (sys::rte_flow_item_ipv6, sys::rte_flow_item_ipv6) = (zero(), zero());
        s6.hdr.proto = IPPROTO_TCP;
        m6.hdr.proto = 0xff;
        let (mut st, mut mt): (sys::rte_flow_item_tcp, sys::rte_flow_item_tcp) = (zero(), zero());
        st.hdr.dst_port = 80u16.to_be();
        mt.hdr.dst_port = 0xffff;
        let p = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_IPV6, Some(&s6), Some(&m6)),
            item(sys::RTE_FLOW_ITEM_TYPE_TCP, Some(&st), Some(&mt)),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap();
        assert_eq!(
            p,
            Pattern {
                ip: FlowIp::V6,
                l4: FlowL4::Tcp,
                sport: PortMatch::ANY,
                dport: PortMatch::exact(80),
            }
        );

        // UDP after "protocol TCP" contradicts it.
        let (s, m) = ipv4_proto(IPPROTO_TCP);
        let e = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_IPV4, Some(&s), Some(&m)),
            bare(sys::RTE_FLOW_ITEM_TYPE_UDP),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap_err();
        assert_eq!(
            e,
            (errno::EINVAL, c"the L4 item contradicts the IP protocol")
        );
    }

    #[test]
    fn masks_defaults_and_ranges() {
        // A UDP spec without a mask: rte_flow's default, both ports whole.
        let mut su: sys::rte_flow_item_udp = zero();
        su.hdr.src_port = 1234u16.to_be();
        su.hdr.dst_port = 4789u16.to_be();
        let p = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_UDP, Some(&su), None),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap();
        assert_eq!(
            (p.sport, p.dport),
            (PortMatch::exact(1234), PortMatch::exact(4789))
        );
        assert_eq!((p.ip, p.l4), (FlowIp::Any, FlowL4::Udp));

        // A partial port mask keeps only its bits.
        let mut mu: sys::rte_flow_item_udp = zero();
        mu.hdr.dst_port = 0xff00u16.to_be();
        let p = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_UDP, Some(&su), Some(&mu)),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap();
        let want = PortMatch {
            value: 4789 & 0xff00,
            mask: 0xff00,
        };
        assert_eq!((p.sport, p.dport), (PortMatch::ANY, want));

        // An ETH or IP spec without a mask would match addresses.
        let se: sys::rte_flow_item_eth = zero();
        let e = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_ETH, Some(&se), None),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap_err();
        assert_eq!(e.0, errno::ENOTSUP);
        assert!(e.1.to_str().unwrap().contains("MAC addresses"));

        // TCP flags are not matchable; a range ('last') is not supported.
        let (st, mut mt): (sys::rte_flow_item_tcp, sys::rte_flow_item_tcp) = (zero(), zero());
        mt.hdr.tcp_flags = 0x02;
        let e = parse(&[
            item(sys::RTE_FLOW_ITEM_TYPE_TCP, Some(&st), Some(&mt)),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap_err();
        assert_eq!(e.0, errno::ENOTSUP);
        let mut ranged = item(sys::RTE_FLOW_ITEM_TYPE_UDP, Some(&su), None);
        ranged.last = (&su as *const sys::rte_flow_item_udp).cast();
        let e = parse(&[ranged, bare(sys::RTE_FLOW_ITEM_TYPE_END)]).unwrap_err();
        assert_eq!(e, (errno::ENOTSUP, c"ranges ('last') are not supported"));
    }

    #[test]
    fn order_and_end() {
        let e = parse(&[
            bare(sys::RTE_FLOW_ITEM_TYPE_UDP),
            bare(sys::RTE_FLOW_ITEM_TYPE_IPV4),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap_err();
        assert_eq!(e.0, errno::EINVAL);
        // VOIDs are skipped; an empty pattern matches everything.
        let p = parse(&[
            bare(sys::RTE_FLOW_ITEM_TYPE_VOID),
            bare(sys::RTE_FLOW_ITEM_TYPE_END),
        ])
        .unwrap();
        assert_eq!((p.ip, p.l4), (FlowIp::Any, FlowL4::Any));
        // No END within the bound: refused without reading further.
        let voids = [bare(sys::RTE_FLOW_ITEM_TYPE_VOID); MAX_ITEMS];
        let e = parse(&voids).unwrap_err();
        assert_eq!(e, (errno::EINVAL, c"no END item among the first 32"));
    }
}
