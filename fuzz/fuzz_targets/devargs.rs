//! Fuzzes the devargs parser: any string gives a value or an error naming a key, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rte_net_fbnic::devargs::Devargs;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    match s.parse::<Devargs>() {
        Ok(_) => {}
        Err(e) => assert!(!e.to_string().is_empty()),
    }
});
