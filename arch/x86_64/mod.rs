//! x86_64: entering the kernel with the `syscall` instruction.
//!
//! Register convention (x86_64 Linux syscall ABI): the number goes in `rax`, the six
//! arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`, the result comes back in `rax`
//! (-4095..=-1 is an errno). The kernel clobbers `rcx` (return address) and `r11`
//! (saved rflags) and restores rflags before returning, so `preserves_flags` holds; it
//! does not touch the user stack, so `nostack` holds.
//!
//! Socket calls are ordinary syscalls here; there is no `socketcall` on x86_64.

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
    // instruction reads or the kernel clobbers.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, out("rcx") _, out("r11") _,
             options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0,
             out("rcx") _, out("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0, in("rsi") a1,
             out("rcx") _, out("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             out("rcx") _, out("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, out("rcx") _, out("r11") _, options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, out("rcx") _, out("r11") _,
             options(nostack, preserves_flags));
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
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a0, in("rsi") a1, in("rdx") a2,
             in("r10") a3, in("r8") a4, in("r9") a5, out("rcx") _, out("r11") _,
             options(nostack, preserves_flags));
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
    unsafe { asm!("syscall", in("rax") n, in("rdi") a0, options(noreturn, nostack)) }
}

#[path = "../direct.rs"]
mod direct;
pub use direct::{socket_call, socket_path, SocketCall};
