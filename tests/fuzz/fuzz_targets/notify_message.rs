//! Fuzz target `notify_message`: see `checks/src/notify.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::notify::check(data);
});
