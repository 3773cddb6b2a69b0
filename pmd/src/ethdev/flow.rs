//! rte_flow: the generic flow API (`flow_ops_get`), on the action TCAM.
//!
//! What a rule may say, and how it maps (see [`crate::flow`] for what the device can match):
//! - attributes: ingress, group 0, any priority (lower first);
//! - pattern: `eth` (EtherType IPv4 or IPv6 at most), `ipv4` / `ipv6` (protocol TCP or UDP at
//!   most), `tcp` / `udp` (source and destination port under any bit mask), `void`, `end`,
//!   in that order, each layer optional;
//! - actions: one of `queue` or `drop`, plus `void`, `end`.
//!
//! Everything else is refused with the item or action it concerns and a reason. Rules are
//! kept across stop/start (RTE_ETH_DEV_CAPA_FLOW_RULE_KEEP). A handle is the rule's id, never
//! dereferenced, so a stale or foreign handle is refused, not followed.

use core::ffi::{c_int, c_void, CStr};
use core::ptr::{addr_of, null};
use std::panic::{catch_unwind, AssertUnwindSafe};

use dpdk_sys as sys;

use super::{adapter, Adapter};
use crate::error::{errno, Error};
use crate::flow::{FlowAction, FlowId, FlowIp, FlowL4, FlowRule, PortMatch};

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

/// Whether the application's `T` at `p`, outside the byte ranges `allowed` (offset, length),
/// is all zero. Reads the bytes in place (the memory is the application's, fully written).
///
/// # Safety
/// `p` points to a readable `T`.
unsafe fn zero_except<T>(p: *const T, allowed: &[(usize, usize)]) -> bool {
    // SAFETY: the caller's promise; u8 has no invalid values.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), core::mem::size_of::<T>()) };
    bytes
        .iter()
        .enumerate()
        .all(|(i, &b)| b == 0 || allowed.iter().any(|&(o, n)| (o..o + n).contains(&i)))
}

/// Offset of a field inside the `T` at `p` (no read).
macro_rules! offset {
    ($p:expr, $($field:tt)+) => {{
        let p = $p;
        // SAFETY: address arithmetic only: the field's address inside the object at `p`.
        (unsafe { addr_of!((*p).$($field)+) }) as usize - p as usize
    }};
}

/// One layer's spec and mask, with the checks every item shares: no `last` (ranges), a
/// mask only with a spec. None: the item matches anything of its kind.
///
/// # Safety
/// `item` points to a readable item whose spec/last/mask, if not null, point to a `T`.
unsafe fn spec_mask<T>(
    item: *const sys::rte_flow_item,
    default_mask: Option<&'static T>,
    no_default: &'static CStr,
) -> Result<Option<(*const T, *const T)>, Refusal> {
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
    if it.spec.is_null() {
        return Ok(None);
    }
    let mask = if it.mask.is_null() {
        match default_mask {
            Some(m) => m as *const T,
            None => return Err(Refusal::mask(item, no_default)),
        }
    } else {
        it.mask.cast::<T>()
    };
    Ok(Some((it.spec.cast::<T>(), mask)))
}

/// What the pattern asks for.
#[derive(Clone, Copy)]
struct Pattern {
    ip: FlowIp,
    /// The protocol an IP item named (its next header), if any.
    ip_proto: FlowL4,
    l4: FlowL4,
    sport: PortMatch,
    dport: PortMatch,
}

const ETHER_TYPE_IPV4: u16 = 0x0800;
const ETHER_TYPE_IPV6: u16 = 0x86dd;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_UDP: u8 = 17;

/// The L4 protocol an IP item's next-header match names.
fn proto_match(item: *const sys::rte_flow_item, spec: u8, mask: u8) -> Result<FlowL4, Refusal> {
    match (mask, spec) {
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
        ip_proto: FlowL4::Any,
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
        match ty {
            sys::RTE_FLOW_ITEM_TYPE_ETH => {
                // SAFETY: an ETH item's spec and mask are rte_flow_item_eth.
                let Some((spec, mask)) = (unsafe {
                    spec_mask::<sys::rte_flow_item_eth>(
                        item,
                        None,
                        c"matching MAC addresses is not supported: give a mask (EtherType only)",
                    )
                })?
                else {
                    continue;
                };
                let ty_at = offset!(mask, __bindgen_anon_1.hdr.ether_type);
                // SAFETY: both point to rte_flow_item_eth (spec_mask's promise); reading the
                // header view of the union is reading its bytes.
                let (ty_spec, ty_mask) = unsafe {
                    (
                        u16::from_be((*spec).__bindgen_anon_1.hdr.ether_type),
                        u16::from_be((*mask).__bindgen_anon_1.hdr.ether_type),
                    )
                };
                // SAFETY: mask points to a readable rte_flow_item_eth.
                if !unsafe { zero_except(mask, &[(ty_at, 2)]) } {
                    return Err(Refusal::mask(
                        item,
                        c"only the EtherType can be matched (not addresses or VLAN presence)",
                    ));
                }
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
                    return Err(Refusal::new(
                        errno::EINVAL,
                        sys::RTE_FLOW_ERROR_TYPE_ITEM,
                        item.cast(),
                        c"the IP item contradicts the EtherType",
                    ));
                }
                p.ip = want;
                let no_default =
                    c"matching IP addresses is not supported: give a mask (protocol only)";
                p.ip_proto = if v6 {
                    // SAFETY: an IPV6 item's spec and mask are rte_flow_item_ipv6.
                    match unsafe { spec_mask::<sys::rte_flow_item_ipv6>(item, None, no_default) }? {
                        None => FlowL4::Any,
                        Some((spec, mask)) => {
                            let at = offset!(mask, hdr.proto);
                            // SAFETY: mask points to a readable rte_flow_item_ipv6.
                            if !unsafe { zero_except(mask, &[(at, 1)]) } {
                                return Err(Refusal::mask(
                                    item,
                                    c"only the IPv6 next header can be matched",
                                ));
                            }
                            // SAFETY: both are readable rte_flow_item_ipv6.
                            let (s, m) = unsafe { ((*spec).hdr.proto, (*mask).hdr.proto) };
                            proto_match(item, s, m)?
                        }
                    }
                } else {
                    // SAFETY: an IPV4 item's spec and mask are rte_flow_item_ipv4.
                    match unsafe { spec_mask::<sys::rte_flow_item_ipv4>(item, None, no_default) }? {
                        None => FlowL4::Any,
                        Some((spec, mask)) => {
                            let at = offset!(mask, hdr.next_proto_id);
                            // SAFETY: mask points to a readable rte_flow_item_ipv4.
                            if !unsafe { zero_except(mask, &[(at, 1)]) } {
                                return Err(Refusal::mask(
                                    item,
                                    c"only the IPv4 protocol can be matched",
                                ));
                            }
                            // SAFETY: both are readable rte_flow_item_ipv4.
                            let (s, m) =
                                unsafe { ((*spec).hdr.next_proto_id, (*mask).hdr.next_proto_id) };
                            proto_match(item, s, m)?
                        }
                    }
                };
            }
            _ => {
                let udp = ty == sys::RTE_FLOW_ITEM_TYPE_UDP;
                let want = if udp { FlowL4::Udp } else { FlowL4::Tcp };
                if p.ip_proto != FlowL4::Any && p.ip_proto != want {
                    return Err(Refusal::new(
                        errno::EINVAL,
                        sys::RTE_FLOW_ERROR_TYPE_ITEM,
                        item.cast(),
                        c"the L4 item contradicts the IP protocol",
                    ));
                }
                p.l4 = want;
                let ports = if udp {
                    // SAFETY: a UDP item's spec and mask are rte_flow_item_udp.
                    match unsafe { spec_mask(item, Some(&UDP_PORTS), c"") }? {
                        None => None,
                        Some((spec, mask)) => {
                            let (s, d) = (offset!(mask, hdr.src_port), offset!(mask, hdr.dst_port));
                            // SAFETY: mask points to a readable rte_flow_item_udp.
                            if !unsafe { zero_except(mask, &[(s, 2), (d, 2)]) } {
                                return Err(Refusal::mask(item, c"only UDP ports can be matched"));
                            }
                            // SAFETY: both are readable rte_flow_item_udp.
                            Some(unsafe {
                                (
                                    port_match((*spec).hdr.src_port, (*mask).hdr.src_port),
                                    port_match((*spec).hdr.dst_port, (*mask).hdr.dst_port),
                                )
                            })
                        }
                    }
                } else {
                    // SAFETY: a TCP item's spec and mask are rte_flow_item_tcp.
                    match unsafe { spec_mask(item, Some(&TCP_PORTS), c"") }? {
                        None => None,
                        Some((spec, mask)) => {
                            let (s, d) = (offset!(mask, hdr.src_port), offset!(mask, hdr.dst_port));
                            // SAFETY: mask points to a readable rte_flow_item_tcp.
                            if !unsafe { zero_except(mask, &[(s, 2), (d, 2)]) } {
                                return Err(Refusal::mask(
                                    item,
                                    c"only TCP ports can be matched (not flags or sequence numbers)",
                                ));
                            }
                            // SAFETY: both are readable rte_flow_item_tcp.
                            Some(unsafe {
                                (
                                    port_match((*spec).hdr.src_port, (*mask).hdr.src_port),
                                    port_match((*spec).hdr.dst_port, (*mask).hdr.dst_port),
                                )
                            })
                        }
                    }
                };
                if let Some((s, d)) = ports {
                    p.sport = s;
                    p.dport = d;
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

/// Reads the actions: exactly one of QUEUE or DROP.
///
/// # Safety
/// `actions` points to an END-terminated action array as rte_flow documents it.
unsafe fn parse_actions(
    actions: *const sys::rte_flow_action,
    nb_rx_queues: u16,
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
                        c"a QUEUE or DROP action is needed",
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
            _ => {
                return Err(Refusal::action(
                    a,
                    errno::ENOTSUP,
                    c"action not supported (queue, drop, void, end)",
                ))
            }
        };
        if fate.is_some() {
            return Err(Refusal::action(
                a,
                errno::EINVAL,
                c"only one QUEUE or DROP action per rule",
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
    let action = unsafe { parse_actions(actions, a.data().nb_rx_queues) }?;
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
        a.port.flow_destroy(id).map_err(|_| {
            Refusal::new(
                errno::ENOENT,
                sys::RTE_FLOW_ERROR_TYPE_HANDLE,
                flow as *const c_void,
                c"no such flow rule on this port",
            )
        })?;
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
