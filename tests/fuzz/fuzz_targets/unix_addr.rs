//! Fuzz target `unix_addr`: see `checks/src/unix_addr.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::unix_addr::check(data);
});
