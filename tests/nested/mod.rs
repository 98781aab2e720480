//! Building the suite's nested packages (`examples/freestanding`, `examples/init`: no
//! std, no libc, their own `_start`) for the suite's own target, and reading the ELF
//! headers of what was built. Shared by `tests/freestanding.rs` and `tests/init.rs`.
//!
//! Each program is built by a nested cargo (the one running the suite, `$CARGO`, with
//! its `RUSTC` and `RUSTFLAGS`: `--cfg baremsg_socketcall` on i686, `+thumb-mode` on
//! armv7) into `freestanding/` beside the suite's `CARGO_TARGET_TMPDIR`, so every suite
//! checks its own target and toolchain: x86_64 with rustup's rustc and rust-lld, the
//! others with Debian's rustc and GNU ld, riscv64 with `core` built from source
//! (`-Zbuild-std=core`) where the toolchain has no riscv64 `core`. The crate using it
//! declares `mod target` (tests/target) too.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::target;

/// Where the nested builds go: `freestanding/` beside this suite's `tmp/`, so under the
/// suite's own target directory.
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("freestanding")
}

/// The target triple this suite was built for: the directory cargo put it under when
/// given `--target`, else the host's (a plain `cargo test`).
pub fn own_triple() -> String {
    let exe = std::env::current_exe().expect("current_exe");
    // <target dir>/[<triple>/]<profile>/deps/<test>-<hash>
    let above_profile = exe.ancestors().nth(3).and_then(Path::file_name);
    match above_profile.and_then(|n| n.to_str()) {
        Some(name) if name.contains("-linux-") => name.to_owned(),
        _ => if cfg!(target_arch = "x86_64") {
            "x86_64-unknown-linux-gnu"
        } else if cfg!(target_arch = "x86") {
            "i686-unknown-linux-gnu"
        } else if cfg!(target_arch = "aarch64") {
            "aarch64-unknown-linux-gnu"
        } else if cfg!(target_arch = "arm") {
            "armv7-unknown-linux-gnueabihf"
        } else {
            "riscv64gc-unknown-linux-gnu"
        }
        .to_owned(),
    }
}

/// Builds the package at `package` (a directory) in release mode for `triple` with
/// `cargo`, and returns the path of its binary `binary`. Panics with cargo's output if
/// the build fails.
pub fn build(mut cargo: Command, package: &str, binary: &str, triple: &str) -> PathBuf {
    let dir = target_dir();
    if !target::has_prebuilt_core(triple) {
        cargo.env("RUSTC_BOOTSTRAP", "1").arg("-Zbuild-std=core");
    }
    let out = cargo
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            triple,
            "--manifest-path",
        ])
        .arg(Path::new(package).join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&dir)
        .output()
        .expect("cannot start cargo");
    assert!(
        out.status.success(),
        "building {package} for {triple} failed ({}):\n{}\n(if Cargo.lock is stale: \
         cargo update --manifest-path {package}/Cargo.toml)",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join(triple).join("release").join(binary)
}

/// What the program headers say about how the file is loaded.
#[derive(Debug, PartialEq, Eq)]
pub struct Loading {
    /// `EI_CLASS`: 64 or 32.
    pub class: u32,
    /// `e_machine`.
    pub machine: u16,
    /// `e_type`: 2 (`ET_EXEC`) for an executable linked at a fixed address.
    pub elf_type: u16,
    /// Number of `PT_LOAD` headers.
    pub loads: usize,
    /// A `PT_INTERP` header: a program interpreter (ld.so) would be run first.
    pub interp: bool,
    /// A `PT_DYNAMIC` header: dynamic linking information.
    pub dynamic: bool,
}

pub const PT_LOAD: u32 = 1;
pub const PT_DYNAMIC: u32 = 2;
pub const PT_INTERP: u32 = 3;

/// Reads the ELF header and program headers of `file` (little-endian only, as both
/// targets are). Returns an error naming what is malformed.
pub fn loading(file: &[u8]) -> Result<Loading, String> {
    let bytes = |at: usize, n: usize| {
        file.get(at..at + n)
            .ok_or_else(|| format!("file too short: {n} bytes at {at}"))
    };
    let u16_at = |at| bytes(at, 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let u32_at = |at| bytes(at, 4).map(|b| u32::from_le_bytes(b.try_into().unwrap()));
    let u64_at = |at| bytes(at, 8).map(|b| u64::from_le_bytes(b.try_into().unwrap()));

    if bytes(0, 4)? != b"\x7fELF" {
        return Err("no ELF magic".into());
    }
    if bytes(5, 1)?[0] != 1 {
        return Err("not little-endian".into());
    }
    let class = match bytes(4, 1)?[0] {
        1 => 32,
        2 => 64,
        c => return Err(format!("unknown ELF class {c}")),
    };
    let elf_type = u16_at(16)?;
    let machine = u16_at(18)?;
    // e_phoff, e_phentsize, e_phnum; p_type is the first word of each header.
    let (phoff, phentsize, phnum) = if class == 64 {
        (u64_at(32)? as usize, u16_at(54)?, u16_at(56)?)
    } else {
        (u32_at(28)? as usize, u16_at(42)?, u16_at(44)?)
    };
    let (phentsize, phnum) = (usize::from(phentsize), usize::from(phnum));
    let mut l = Loading {
        class,
        machine,
        elf_type,
        loads: 0,
        interp: false,
        dynamic: false,
    };
    for i in 0..phnum {
        match u32_at(phoff + i * phentsize)? {
            PT_LOAD => l.loads += 1,
            PT_DYNAMIC => l.dynamic = true,
            PT_INTERP => l.interp = true,
            _ => {}
        }
    }
    Ok(l)
}

/// `EI_CLASS` and `e_machine` of the suite's own target.
pub const ELF: (u32, u16) = if cfg!(target_arch = "x86_64") {
    (64, 62) // EM_X86_64
} else if cfg!(target_arch = "x86") {
    (32, 3) // EM_386
} else if cfg!(target_arch = "aarch64") {
    (64, 183) // EM_AARCH64
} else if cfg!(target_arch = "arm") {
    (32, 40) // EM_ARM
} else {
    (64, 243) // EM_RISCV
};
