//! riscv64: entering the kernel with `ecall`.
//!
//! Register convention (RISC-V Linux syscall ABI): the number goes in `a7`, the six
//! arguments in `a0`..`a5`, the result comes back in `a0` (-4095..=-1 is an errno). The
//! kernel preserves every other general-purpose and floating-point register and does
//! not touch the user stack (`nostack`). RISC-V has no flags register, but the kernel
//! does not preserve the vector registers across a syscall: `v0`..`v31` (and the vector
//! state, `vl`, `vtype`) may come back with any content ("Vector Register State Across
//! System Calls" in the kernel's Documentation/arch/riscv/vector.rst). So every stub
//! names `v0`..`v31` clobbered ([`ecall!`]) and none claims `preserves_flags`, which in
//! Rust's `asm!` also covers the vector state on RISC-V.
//!
//! Socket calls are ordinary syscalls here; there is no `socketcall` on riscv64.

use core::arch::asm;

pub mod nr;

/// The kernel's `__kernel_size_t`: the width of `iov_len`, `msg_iovlen`,
/// `msg_controllen` and `cmsg_len`.
pub type KernelSize = u64;

/// The kernel's `long` (`__kernel_long_t`): the width of `timeval` fields.
pub type KernelLong = i64;

/// `asm!("ecall", operands...)` with the vector registers clobbered, as every syscall
/// leaves them (see the module docs).
macro_rules! ecall {
    ($($operands:tt)*) => {
        asm!("ecall", $($operands)*,
             lateout("v0") _, lateout("v1") _, lateout("v2") _, lateout("v3") _,
             lateout("v4") _, lateout("v5") _, lateout("v6") _, lateout("v7") _,
             lateout("v8") _, lateout("v9") _, lateout("v10") _, lateout("v11") _,
             lateout("v12") _, lateout("v13") _, lateout("v14") _, lateout("v15") _,
             lateout("v16") _, lateout("v17") _, lateout("v18") _, lateout("v19") _,
             lateout("v20") _, lateout("v21") _, lateout("v22") _, lateout("v23") _,
             lateout("v24") _, lateout("v25") _, lateout("v26") _, lateout("v27") _,
             lateout("v28") _, lateout("v29") _, lateout("v30") _, lateout("v31") _,
             options(nostack))
    };
}

/// Issues syscall `n` with no arguments.
///
/// # Safety
/// The syscall must be sound to make with these arguments (see its man page).
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the syscall; the operands name every register the
    // instruction reads or the kernel writes.
    unsafe { ecall!(in("a7") n, lateout("a0") ret) };
    ret
}

/// Issues syscall `n` with one argument.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall1(n: usize, a0: usize) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe { ecall!(in("a7") n, inlateout("a0") a0 => ret) };
    ret
}

/// Issues syscall `n` with two arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall2(n: usize, a0: usize, a1: usize) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe { ecall!(in("a7") n, inlateout("a0") a0 => ret, in("a1") a1) };
    ret
}

/// Issues syscall `n` with three arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall3(n: usize, a0: usize, a1: usize, a2: usize) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe { ecall!(in("a7") n, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2) };
    ret
}

/// Issues syscall `n` with four arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall4(n: usize, a0: usize, a1: usize, a2: usize, a3: usize) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe { ecall!(in("a7") n, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2, in("a3") a3) };
    ret
}

/// Issues syscall `n` with five arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
pub unsafe fn syscall5(n: usize, a0: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        ecall!(in("a7") n, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2, in("a3") a3,
               in("a4") a4)
    };
    ret
}

/// Issues syscall `n` with six arguments.
///
/// # Safety
/// As [`syscall0`].
#[inline(always)]
#[allow(clippy::too_many_arguments)]
pub unsafe fn syscall6(
    n: usize,
    a0: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
) -> isize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        ecall!(in("a7") n, inlateout("a0") a0 => ret, in("a1") a1, in("a2") a2, in("a3") a3,
               in("a4") a4, in("a5") a5)
    };
    ret
}

/// Issues a syscall that does not return (`exit`, `exit_group`).
///
/// # Safety
/// `n` must be a syscall that never returns to the caller.
#[inline(always)]
pub unsafe fn syscall1_noreturn(n: usize, a0: usize) -> ! {
    // SAFETY: the caller vouches that the syscall does not return.
    unsafe { asm!("ecall", in("a7") n, in("a0") a0, options(noreturn, nostack)) }
}

#[path = "../direct.rs"]
mod direct;
pub use direct::{socket_call, socket_path, SocketCall};
