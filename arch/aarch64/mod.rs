//! aarch64: entering the kernel with `svc 0`.
//!
//! Register convention (arm64 Linux syscall ABI): the number goes in `x8`, the six
//! arguments in `x0`..`x5`, the result comes back in `x0` (-4095..=-1 is an errno). The
//! kernel preserves every other general-purpose register, the flags (NZCV) and the
//! FP/SIMD registers `v0`..`v31`, so `preserves_flags` holds; it does not touch the user
//! stack, so `nostack` holds. (With SVE, a syscall may zero the parts of `z0`..`z31`
//! above their 128-bit `v` halves and the predicate registers; Rust code does not keep
//! values there across an `asm!` block.)
//!
//! Socket calls are ordinary syscalls here; there is no `socketcall` on aarch64.

use core::arch::asm;

pub mod nr;

/// The kernel's `__kernel_size_t`: the width of `iov_len`, `msg_iovlen`,
/// `msg_controllen` and `cmsg_len`.
pub type KernelSize = u64;

/// The kernel's `long` (`__kernel_long_t`): the width of `timeval` fields.
pub type KernelLong = i64;

/// Issues syscall `n` with no arguments.
///
/// # Safety
/// The syscall must be sound to make with these arguments (see its man page).
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let ret;
    // SAFETY: the caller vouches for the syscall; the operands name every register the
    // instruction reads or the kernel writes.
    unsafe {
        asm!("svc 0", in("x8") n, lateout("x0") ret, options(nostack, preserves_flags));
    }
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
    unsafe {
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, options(nostack, preserves_flags));
    }
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
    unsafe {
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, in("x1") a1,
             options(nostack, preserves_flags));
    }
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
    unsafe {
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             options(nostack, preserves_flags));
    }
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
    unsafe {
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, options(nostack, preserves_flags));
    }
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
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, in("x4") a4, options(nostack, preserves_flags));
    }
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
        asm!("svc 0", in("x8") n, inlateout("x0") a0 => ret, in("x1") a1, in("x2") a2,
             in("x3") a3, in("x4") a4, in("x5") a5, options(nostack, preserves_flags));
    }
    ret
}

/// Issues a syscall that does not return (`exit`, `exit_group`).
///
/// # Safety
/// `n` must be a syscall that never returns to the caller.
#[inline(always)]
pub unsafe fn syscall1_noreturn(n: usize, a0: usize) -> ! {
    // SAFETY: the caller vouches that the syscall does not return.
    unsafe { asm!("svc 0", in("x8") n, in("x0") a0, options(noreturn, nostack)) }
}

#[path = "../direct.rs"]
mod direct;
pub use direct::{socket_call, socket_path, SocketCall};
