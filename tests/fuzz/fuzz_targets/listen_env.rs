//! Fuzz target `listen_env`: see `checks/src/activation.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::activation::check(data);
});
