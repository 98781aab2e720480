//! Fuzz target `recv_batch`: see `checks/src/batch.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::batch::check(data);
});
