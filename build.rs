//! Tells the 32-bit ARM syscall stubs whether they are built as Thumb code, where `r7`
//! is the frame pointer and `asm!` refuses it as an operand (see `arch/arm/mod.rs`).
//! `cfg(target_feature = "thumb-mode")` is unstable, so this looks where a build says
//! it: a `thumb*` target, or `thumb-mode` in the target features or in the flags. Sets
//! `--cfg baremsg_thumb` (which a build may also pass itself). On any other target it
//! does nothing.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_ENCODED_RUSTFLAGS");
    if env::var("CARGO_CFG_TARGET_ARCH").as_deref() != Ok("arm") {
        return;
    }
    let target = env::var("TARGET").unwrap_or_default();
    let features = env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    let thumb = match last_thumb_mode_sign(&flags) {
        Some(sign) => sign == '+',
        None => target.starts_with("thumb") || features.split(',').any(|f| f == "thumb-mode"),
    };
    if thumb {
        println!("cargo:rustc-cfg=baremsg_thumb");
    }
}

/// The sign of the last `+thumb-mode` or `-thumb-mode` in the flags, if any: the last
/// `-C target-feature` that names it wins, as in rustc.
fn last_thumb_mode_sign(flags: &str) -> Option<char> {
    let at = flags.rfind("thumb-mode")?;
    flags[..at]
        .chars()
        .next_back()
        .filter(|c| *c == '+' || *c == '-')
}
