//! Fuzz target `encode_roundtrip`: see `checks/src/encode.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::encode::check(data);
});
