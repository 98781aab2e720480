//! Fuzz target `cmsg_parse`: see `checks/src/cmsg_parse.rs` for what it checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    baremsg_fuzz_checks::cmsg_parse::check(data);
});
