//! seccomp and classic BPF by hand, for the tests that make syscalls fail on purpose
//! (`faults.rs`, `socket_path.rs`): the numbers and layouts of linux/seccomp.h,
//! linux/filter.h, linux/bpf_common.h and linux/audit.h, and [`install`], which a
//! forked child can call (no allocation, raw syscalls only).
//!
//! Each test builds its own program from these pieces; the numbers are checked against
//! the `libc` crate once, here.

#![allow(dead_code)]

use baremsg::sys::{self, raw};

/// `__AUDIT_ARCH_64BIT` and `__AUDIT_ARCH_LE` (linux/audit.h).
const AUDIT_64BIT: u32 = 0x8000_0000;
const AUDIT_LE: u32 = 0x4000_0000;

#[cfg(target_arch = "x86_64")]
mod arch {
    /// `AUDIT_ARCH_X86_64`: `EM_X86_64`, 64-bit, little-endian.
    pub const AUDIT_ARCH: u32 = 62 | super::AUDIT_64BIT | super::AUDIT_LE;
}

#[cfg(target_arch = "x86")]
mod arch {
    /// `AUDIT_ARCH_I386`: `EM_386`, little-endian.
    pub const AUDIT_ARCH: u32 = 3 | super::AUDIT_LE;
}

#[cfg(target_arch = "aarch64")]
mod arch {
    /// `AUDIT_ARCH_AARCH64`: `EM_AARCH64`, 64-bit, little-endian.
    pub const AUDIT_ARCH: u32 = 183 | super::AUDIT_64BIT | super::AUDIT_LE;
}

#[cfg(target_arch = "arm")]
mod arch {
    /// `AUDIT_ARCH_ARM`: `EM_ARM`, little-endian.
    pub const AUDIT_ARCH: u32 = 40 | super::AUDIT_LE;
}

#[cfg(target_arch = "riscv64")]
mod arch {
    /// `AUDIT_ARCH_RISCV64`: `EM_RISCV`, 64-bit, little-endian.
    pub const AUDIT_ARCH: u32 = 243 | super::AUDIT_64BIT | super::AUDIT_LE;
}

/// `seccomp(2)`, which baremsg does not wrap: libc's number for the target.
pub const SYS_SECCOMP: usize = libc::SYS_seccomp as usize;

pub use arch::AUDIT_ARCH;

pub const SECCOMP_SET_MODE_FILTER: usize = 1;
/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`: the way in before `seccomp(2)`.
pub const PR_SET_SECCOMP: i32 = 22;
pub const SECCOMP_MODE_FILTER: usize = 2;
pub const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
pub const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

// Classic BPF opcodes: class | size-or-op | mode-or-source.
/// `BPF_LD | BPF_W | BPF_ABS` (0x00 | 0x00 | 0x20): load a 32-bit word of the input.
pub const BPF_LD_W_ABS: u16 = 0x20;
/// `BPF_JMP | BPF_JEQ | BPF_K` (0x05 | 0x10 | 0x00).
pub const BPF_JMP_JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JGT | BPF_K` (0x05 | 0x20 | 0x00).
pub const BPF_JMP_JGT_K: u16 = 0x25;
/// `BPF_JMP | BPF_JGE | BPF_K` (0x05 | 0x30 | 0x00).
pub const BPF_JMP_JGE_K: u16 = 0x35;
/// `BPF_RET | BPF_K`: return a constant.
pub const BPF_RET_K: u16 = 0x06;

/// Offsets in `struct seccomp_data { int nr; u32 arch; u64 ip; u64 args[6]; }`; an
/// argument's low 32 bits come first (little-endian), which is all of an `int` argument.
pub const OFF_NR: u32 = 0;
pub const OFF_ARCH: u32 = 4;
pub const fn off_arg_lo(i: u32) -> u32 {
    16 + 8 * i
}

/// `struct sock_filter`: one classic BPF instruction.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockFilter {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `struct sock_fprog`: a BPF program.
#[repr(C)]
pub struct SockFprog {
    pub len: u16,
    pub filter: *const SockFilter,
}

pub const fn insn(code: u16, jt: u8, jf: u8, k: u32) -> SockFilter {
    SockFilter { code, jt, jf, k }
}

/// How the filters built with a `Vec` begin: a syscall of another architecture (x32,
/// say) is allowed through, then the syscall number is loaded.
pub const PROLOGUE: [SockFilter; 4] = [
    insn(BPF_LD_W_ABS, 0, 0, OFF_ARCH),
    insn(BPF_JMP_JEQ_K, 1, 0, AUDIT_ARCH),
    insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW),
    insn(BPF_LD_W_ABS, 0, 0, OFF_NR),
];

/// A filter that makes each syscall `nr` of `rules` (`(nr, errno)`) fail with its
/// errno, and allows everything else.
pub fn refuse_each(rules: &[(u32, u32)]) -> Vec<SockFilter> {
    let mut prog = PROLOGUE.to_vec();
    for &(nr, errno) in rules {
        prog.push(insn(BPF_JMP_JEQ_K, 0, 1, nr));
        prog.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | errno));
    }
    prog.push(insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW));
    prog
}

/// What [`install`] failed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InstallError {
    /// `prctl(PR_SET_NO_NEW_PRIVS)`.
    NoNewPrivs,
    /// The program is too long, or the kernel refused it.
    Seccomp,
}

/// Installs `filter` in the calling thread: `PR_SET_NO_NEW_PRIVS`, then
/// `seccomp(SECCOMP_SET_MODE_FILTER)`, or `prctl(PR_SET_SECCOMP)` on a kernel without
/// `seccomp(2)`. Fork-safe.
pub fn install(filter: &[SockFilter]) -> Result<(), InstallError> {
    let len = u16::try_from(filter.len()).map_err(|_| InstallError::Seccomp)?;
    // SAFETY: integer arguments only.
    if unsafe { sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.is_err() {
        return Err(InstallError::NoNewPrivs);
    }
    let prog = SockFprog {
        len,
        filter: filter.as_ptr(),
    };
    let p = &prog as *const SockFprog as usize;
    // SAFETY: `prog` points to `len` valid instructions; the kernel copies them in.
    let mut ret = unsafe { raw::syscall3(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, p) };
    if ret == -(baremsg::Errno::ENOSYS.raw() as isize) {
        // SAFETY: as above.
        ret = unsafe {
            raw::syscall3(
                raw::nr::PRCTL,
                PR_SET_SECCOMP as usize,
                SECCOMP_MODE_FILTER,
                p,
            )
        };
    }
    if ret != 0 {
        return Err(InstallError::Seccomp);
    }
    Ok(())
}

/// What each way in gives for a filter that allows everything, as raw results
/// (`-errno` on failure): `(seccomp(SECCOMP_SET_MODE_FILTER), prctl(PR_SET_SECCOMP))`,
/// after `PR_SET_NO_NEW_PRIVS` (`Err` if that fails). Both are tried, whatever the
/// first gives: call it in a forked child, where an installed filter does no harm.
/// qemu-user 7.2 emulates neither: `-ENOSYS` and `-EINVAL`. Fork-safe.
pub fn both_ways_in() -> Result<(isize, isize), InstallError> {
    // SAFETY: integer arguments only.
    if unsafe { sys::prctl(sys::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) }.is_err() {
        return Err(InstallError::NoNewPrivs);
    }
    let allow = [insn(BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW)];
    let prog = SockFprog {
        len: 1,
        filter: allow.as_ptr(),
    };
    let p = &prog as *const SockFprog as usize;
    // SAFETY: `prog` points to one valid instruction; the kernel copies it in.
    let direct = unsafe { raw::syscall3(SYS_SECCOMP, SECCOMP_SET_MODE_FILTER, 0, p) };
    // SAFETY: as above.
    let old = unsafe {
        raw::syscall3(
            raw::nr::PRCTL,
            PR_SET_SECCOMP as usize,
            SECCOMP_MODE_FILTER,
            p,
        )
    };
    Ok((direct, old))
}

#[test]
fn hand_written_seccomp_and_bpf_numbers_and_layouts_match_libc() {
    use std::mem::{offset_of, size_of};
    assert_eq!(SYS_SECCOMP, libc::SYS_seccomp as usize);
    assert_eq!(
        SECCOMP_SET_MODE_FILTER as u32,
        libc::SECCOMP_SET_MODE_FILTER
    );
    assert_eq!(SECCOMP_MODE_FILTER as u32, libc::SECCOMP_MODE_FILTER);
    assert_eq!(PR_SET_SECCOMP, libc::PR_SET_SECCOMP);
    assert_eq!(SECCOMP_RET_ALLOW, libc::SECCOMP_RET_ALLOW);
    assert_eq!(SECCOMP_RET_ERRNO, libc::SECCOMP_RET_ERRNO);
    assert_eq!(
        BPF_LD_W_ABS as u32,
        libc::BPF_LD | libc::BPF_W | libc::BPF_ABS
    );
    assert_eq!(
        BPF_JMP_JEQ_K as u32,
        libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K
    );
    assert_eq!(
        BPF_JMP_JGT_K as u32,
        libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K
    );
    assert_eq!(
        BPF_JMP_JGE_K as u32,
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K
    );
    assert_eq!(BPF_RET_K as u32, libc::BPF_RET | libc::BPF_K);
    assert_eq!(size_of::<SockFilter>(), size_of::<libc::sock_filter>());
    assert_eq!(size_of::<SockFprog>(), size_of::<libc::sock_fprog>());
    assert_eq!(
        offset_of!(SockFprog, filter),
        offset_of!(libc::sock_fprog, filter)
    );
    assert_eq!(OFF_NR as usize, offset_of!(libc::seccomp_data, nr));
    assert_eq!(OFF_ARCH as usize, offset_of!(libc::seccomp_data, arch));
    assert_eq!(off_arg_lo(0) as usize, offset_of!(libc::seccomp_data, args));
    #[cfg(target_arch = "x86_64")]
    assert_eq!(AUDIT_ARCH & 0xffff, libc::EM_X86_64 as u32);
    #[cfg(target_arch = "x86")]
    assert_eq!(AUDIT_ARCH & 0xffff, libc::EM_386 as u32);
    #[cfg(target_arch = "aarch64")]
    assert_eq!(AUDIT_ARCH & 0xffff, libc::EM_AARCH64 as u32);
    #[cfg(target_arch = "arm")]
    assert_eq!(AUDIT_ARCH & 0xffff, libc::EM_ARM as u32);
    #[cfg(target_arch = "riscv64")]
    assert_eq!(AUDIT_ARCH & 0xffff, libc::EM_RISCV as u32);
    assert_eq!(AUDIT_64BIT | AUDIT_LE, 0xc000_0000);
}
