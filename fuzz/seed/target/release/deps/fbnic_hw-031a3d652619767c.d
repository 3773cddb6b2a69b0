/work/main/fuzz/seed/target/release/deps/fbnic_hw-031a3d652619767c.d: /work/main/hw/src/lib.rs /work/main/hw/src/bits.rs /work/main/hw/src/csum.rs /work/main/hw/src/desc.rs /work/main/hw/src/link.rs /work/main/hw/src/mac.rs /work/main/hw/src/msg.rs /work/main/hw/src/regs.rs /work/main/hw/src/tlv.rs /work/main/hw/src/toeplitz.rs /work/main/hw/src/version.rs

/work/main/fuzz/seed/target/release/deps/libfbnic_hw-031a3d652619767c.rlib: /work/main/hw/src/lib.rs /work/main/hw/src/bits.rs /work/main/hw/src/csum.rs /work/main/hw/src/desc.rs /work/main/hw/src/link.rs /work/main/hw/src/mac.rs /work/main/hw/src/msg.rs /work/main/hw/src/regs.rs /work/main/hw/src/tlv.rs /work/main/hw/src/toeplitz.rs /work/main/hw/src/version.rs

/work/main/fuzz/seed/target/release/deps/libfbnic_hw-031a3d652619767c.rmeta: /work/main/hw/src/lib.rs /work/main/hw/src/bits.rs /work/main/hw/src/csum.rs /work/main/hw/src/desc.rs /work/main/hw/src/link.rs /work/main/hw/src/mac.rs /work/main/hw/src/msg.rs /work/main/hw/src/regs.rs /work/main/hw/src/tlv.rs /work/main/hw/src/toeplitz.rs /work/main/hw/src/version.rs

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
