//! Fuzzes the driver's TCP/UDP checksum verdict on received frames (`rxcsum`): for any
//! frame, the verdict worked out from the device's complete sum (META L2_CSUM) is the one
//! summing the segment gives, any device sum gives some verdict, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rte_net_fbnic::rxcsum::{self, L4Verdict};

fuzz_target!(|data: &[u8]| {
    // The first two bytes are a device sum to try as it comes; the rest is the frame.
    let [a, b, f @ ..] = data else {
        return;
    };
    let given = rxcsum::verdict(f, u16::from_be_bytes([*a, *b]));
    match rxcsum::layout(f) {
        None => assert_eq!(given, L4Verdict::Unknown),
        Some(l) => {
            assert!(l.l3 <= l.l4 && l.l4 < l.end && l.end <= f.len(), "{l:?}");
            assert_ne!(given, L4Verdict::Unknown);
            let from_device = rxcsum::verdict(f, rxcsum::l2_csum(f, l.l3));
            assert_eq!(from_device, rxcsum::verdict_by_summing(f));
        }
    }
});
