//! Fuzzes the structural TLV decoder: `RawMsg::parse`, then every accessor on every
//! attribute, recursing into nested attributes and arrays. Nothing may panic, and the
//! decoder's views must agree with each other.
#![no_main]

use fbnic_hw::tlv::{AttrSet, RawAttr, RawMsg, ATTR_MAX_ID, MSG_MAX_LEN};
use libfuzzer_sys::fuzz_target;

/// Deeper than any useful message; bounds the recursion whatever the input.
const MAX_DEPTH: usize = 128;

fn walk_set(set: &AttrSet<'_>, depth: usize) {
    let mut seen = 0u32;
    let mut count = 0;
    for a in set {
        let id = a.id();
        assert!(id <= ATTR_MAX_ID, "iteration yields only ids in range");
        assert_eq!(seen & (1 << id), 0, "a set holds each id once");
        seen |= 1 << id;
        count += 1;
        assert_eq!(set.get(id), Some(a), "get agrees with iteration");
        walk_attr(&a, depth);
    }
    assert_eq!(count, set.len());
    assert_eq!(seen, set.present_mask());
    for id in 0..=ATTR_MAX_ID + 1 {
        assert_eq!(set.get(id).is_some(), set.contains(id));
    }
    // With every id known nothing is unknown; with none known, only CANNOT_IGNORE fails.
    let all: Vec<u16> = (0..=ATTR_MAX_ID).collect();
    assert_eq!(set.check_known(&all), Ok(()));
    let any_required = set.iter().any(|a| a.cannot_ignore());
    assert_eq!(set.check_known(&[]).is_err(), any_required);
}

fn walk_attr(a: &RawAttr<'_>, depth: usize) {
    let n = a.value_len();
    let _ = a.header();
    assert_eq!(a.as_bytes().map(<[u8]>::len), Ok(n));
    assert_eq!(a.as_bytes_max(16).is_ok(), n <= 16);
    assert_eq!(a.as_u32().is_ok(), n == 4);
    assert_eq!(a.as_i32().is_ok(), n == 4);
    assert_eq!(a.as_u64().is_ok(), n == 8);
    assert_eq!(a.as_i64().is_ok(), n == 8);
    assert_eq!(a.as_flag().is_ok(), n == 0);
    assert_eq!(a.as_mac().is_ok(), n == 6);
    if let Ok(s) = a.as_str() {
        assert_eq!(s.len() + 1, n);
        assert!(!s.contains('\0'));
    }
    let _ = a.as_str_max(32);
    if depth >= MAX_DEPTH {
        return;
    }
    // Recurse through one view only, so the walk stays linear in the input size.
    match a.nested() {
        Ok(set) => walk_set(&set, depth + 1),
        Err(_) => {
            // The id of the first inner header, if any: the entry id an array would have.
            let entry = a
                .as_bytes()
                .ok()
                .and_then(|v| v.get(..2))
                .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) & 0xfff);
            if let Ok(arr) = a.array(entry) {
                assert_eq!(arr.iter().count(), arr.len());
                for e in arr {
                    assert_eq!(e.id(), entry);
                    walk_attr(&e, depth + 1);
                }
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = RawMsg::parse(data) {
        assert!(data.len() <= MSG_MAX_LEN);
        assert_eq!(msg.msg_len(), data.len());
        assert!(msg.header().is_msg());
        let _ = msg.id();
        assert_eq!(msg.attrs().count(), msg.attr_set().len());
        for id in 0..=ATTR_MAX_ID {
            assert_eq!(msg.get(id), msg.attr_set().get(id));
        }
        walk_set(&msg.attr_set(), 0);
    }
});
