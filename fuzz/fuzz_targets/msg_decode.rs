//! Fuzzes the message schemas: `Msg::decode` must never panic, and any message it accepts
//! must encode and decode back to the same value.
#![no_main]

use fbnic_hw::msg::Msg;
use fbnic_hw::tlv::RawMsg;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Msg::decode(data) else {
        return;
    };
    let raw = RawMsg::parse(data).expect("Msg::decode accepted what RawMsg::parse rejects");
    assert_eq!(msg.id(), raw.id());
    assert_eq!(Msg::from_raw(&raw).as_ref(), Ok(&msg));
    assert_eq!(msg.validate(), Ok(()));
    let bytes = msg
        .encode()
        .unwrap_or_else(|e| panic!("decoded {msg:?} does not re-encode: {e}"));
    let again =
        Msg::decode(&bytes).unwrap_or_else(|e| panic!("re-encoded {msg:?} does not decode: {e}"));
    assert_eq!(msg, again, "encode/decode round trip changed the message");
    // Encoding is deterministic.
    assert_eq!(again.encode().as_deref(), Ok(&bytes[..]));
});
