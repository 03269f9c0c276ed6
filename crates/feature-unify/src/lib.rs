//! No code: this crate only aligns dependency features between the test build and the binary
//! build (see its Cargo.toml), so `cargo build` after `cargo test` reuses every artifact.
