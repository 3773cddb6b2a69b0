/work/main/fuzz/seed/target/release/deps/fbnic_fuzz_seed-c02005e6660fc334.d: src/main.rs

/work/main/fuzz/seed/target/release/deps/fbnic_fuzz_seed-c02005e6660fc334: src/main.rs

src/main.rs:
