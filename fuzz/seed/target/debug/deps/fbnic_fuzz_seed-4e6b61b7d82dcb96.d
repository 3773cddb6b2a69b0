/work/main/fuzz/seed/target/debug/deps/fbnic_fuzz_seed-4e6b61b7d82dcb96.d: src/main.rs Cargo.toml

/work/main/fuzz/seed/target/debug/deps/libfbnic_fuzz_seed-4e6b61b7d82dcb96.rmeta: src/main.rs Cargo.toml

src/main.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__
# env-dep:CLIPPY_CONF_DIR
