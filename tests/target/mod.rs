//! What the suite needs to know about the target it runs on, shared by the test files:
//! whether it runs under qemu-user (and how to start another program of the target
//! there), and the C compiler for the target's peer programs.
//!
//! Under qemu-user the suite is a guest program: it can start host programs (python3,
//! systemd's tools) but not other guest programs by `execve` (binfmt_misc is not set up
//! on the CI machine), so those go through [`command`]. The runners in
//! `.cargo/config.toml` set `BAREMSG_QEMU` to the emulator command. A test that meets a
//! known qemu-user defect asserts what qemu does and says so ([`qemu_note`]); the same
//! test run natively checks the kernel's behaviour in full.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::process::Command;
use std::sync::OnceLock;

/// The qemu-user command the suite runs under (`qemu-aarch64 -L /usr/aarch64-linux-gnu`,
/// split into words), or `None` on the real kernel.
pub fn qemu() -> Option<&'static [String]> {
    static QEMU: OnceLock<Option<Vec<String>>> = OnceLock::new();
    QEMU.get_or_init(|| {
        let v = std::env::var("BAREMSG_QEMU").ok()?;
        let words: Vec<String> = v.split_whitespace().map(str::to_owned).collect();
        (!words.is_empty()).then_some(words)
    })
    .as_deref()
}

/// Whether the suite runs under qemu-user.
pub fn under_qemu() -> bool {
    qemu().is_some()
}

/// Prints why a check is reduced or skipped under qemu-user (shown with `--nocapture`
/// and in the output of failing tests).
pub fn qemu_note(what: &str) {
    if let Some(q) = qemu() {
        eprintln!("note: under {}: {what}", q[0]);
    }
}

/// A command that runs `program`, a binary of the target: directly on the real kernel,
/// through the emulator under qemu-user.
pub fn command(program: impl AsRef<OsStr>) -> Command {
    match qemu() {
        Some(q) => {
            let mut c = Command::new(&q[0]);
            c.args(&q[1..]).arg(program);
            c
        }
        None => Command::new(program),
    }
}

/// The C compiler that builds programs for the target (`cc`, `cc -m32`, or the cross
/// compiler from `.ci/install-cross`), and the name of the target's arch.
pub fn c_compiler() -> (Command, &'static str) {
    let (cc, flags, arch): (&str, &[&str], &str) = if cfg!(target_arch = "x86") {
        ("cc", &["-m32"], "x86")
    } else if cfg!(target_arch = "aarch64") {
        ("aarch64-linux-gnu-gcc", &[], "aarch64")
    } else if cfg!(target_arch = "arm") {
        ("arm-linux-gnueabihf-gcc", &[], "arm")
    } else if cfg!(target_arch = "riscv64") {
        ("riscv64-linux-gnu-gcc", &[], "riscv64")
    } else {
        ("cc", &[], "x86_64")
    };
    let mut c = Command::new(cc);
    c.args(flags);
    (c, arch)
}
