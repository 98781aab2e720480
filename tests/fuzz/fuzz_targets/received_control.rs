//! Fuzz target `received_control`: see `checks/src/received.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::received::check(data);
});
