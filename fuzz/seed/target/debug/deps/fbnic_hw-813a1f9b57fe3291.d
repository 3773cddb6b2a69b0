/work/main/fuzz/seed/target/debug/deps/fbnic_hw-813a1f9b57fe3291.d: /work/main/hw/src/lib.rs /work/main/hw/src/bits.rs /work/main/hw/src/csum.rs /work/main/hw/src/desc.rs /work/main/hw/src/link.rs /work/main/hw/src/mac.rs /work/main/hw/src/msg.rs /work/main/hw/src/regs.rs /work/main/hw/src/tlv.rs /work/main/hw/src/toeplitz.rs /work/main/hw/src/version.rs

/work/main/fuzz/seed/target/debug/deps/libfbnic_hw-813a1f9b57fe3291.rmeta: /work/main/hw/src/lib.rs /work/main/hw/src/bits.rs /work/main/hw/src/csum.rs /work/main/hw/src/desc.rs /work/main/hw/src/link.rs /work/main/hw/src/mac.rs /work/main/hw/src/msg.rs /work/main/hw/src/regs.rs /work/main/hw/src/tlv.rs /work/main/hw/src/toeplitz.rs /work/main/hw/src/version.rs

/work/main/hw/src/lib.rs:
/work/main/hw/src/bits.rs:
/work/main/hw/src/csum.rs:
/work/main/hw/src/desc.rs:
/work/main/hw/src/link.rs:
/work/main/hw/src/mac.rs:
/work/main/hw/src/msg.rs:
/work/main/hw/src/regs.rs:
/work/main/hw/src/tlv.rs:
/work/main/hw/src/toeplitz.rs:
/work/main/hw/src/version.rs:
