//! 32-bit ARM, EABI: entering the kernel with `svc 0`, in ARM and in Thumb code.
//!
//! Register convention (ARM EABI Linux syscall ABI): the number goes in `r7`, the six
//! arguments in `r0`..`r5`, the result comes back in `r0` (-4095..=-1 is an errno). The
//! kernel preserves every other register and the flags (`preserves_flags`) and does not
//! touch the user stack (`nostack`).
//!
//! In Thumb code `r7` is the frame pointer, and `asm!` refuses it as an operand (in ARM
//! code, the default of `armv7-unknown-linux-gnueabihf`, it is an ordinary register; `r6`
//! and `r11` are refused in both). Whether code is built as Thumb
//! (`-C target-feature=+thumb-mode`, or a `thumbv7*` target) cannot be seen from `cfg`
//! (the feature is unstable), so the crate's `build.rs` reads it from the target name,
//! the target features and the flags, and says `--cfg baremsg_thumb`. Thumb code's stubs
//! save `r7` in a spare register, load the number into it, and restore it after the
//! `svc` (two `mov`s per syscall); ARM code's pass the number in `r7` as an operand
//! ([`svc!`]). Should the detection ever miss Thumb code, the build fails (`asm!`
//! refuses `r7`); it cannot miscompile.
//!
//! Socket calls are ordinary syscalls here: ARM's `socketcall` exists only for the old
//! ABI (OABI), which no current toolchain builds for.

use core::arch::asm;

pub mod nr;

/// The kernel's `__kernel_size_t`: the width of `iov_len`, `msg_iovlen`,
/// `msg_controllen` and `cmsg_len`.
pub type KernelSize = u32;

/// The kernel's `long` (`__kernel_long_t`): the width of `timeval` fields.
pub type KernelLong = i32;

/// `asm!("svc 0", ...)` with syscall number `$n` in `r7` and the other operands as given.
/// In Thumb code `r7` is saved in a spare register and restored after the call (`mov`
/// leaves the flags alone): Thumb keeps its frame pointer there, see the module docs.
#[cfg(baremsg_thumb)]
macro_rules! svc {
    ($n:expr, $($operands:tt)*) => {
        asm!("mov {saved}, r7", "mov r7, {n}", "svc 0", "mov r7, {saved}",
             n = in(reg) $n, saved = out(reg) _, $($operands)*,
             options(nostack, preserves_flags))
    };
}
#[cfg(not(baremsg_thumb))]
macro_rules! svc {
    ($n:expr, $($operands:tt)*) => {
        asm!("svc 0", in("r7") $n, $($operands)*, options(nostack, preserves_flags))
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
    unsafe { svc!(n, lateout("r0") ret) };
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
    unsafe { svc!(n, inlateout("r0") a0 => ret) };
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
    unsafe { svc!(n, inlateout("r0") a0 => ret, in("r1") a1) };
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
    unsafe { svc!(n, inlateout("r0") a0 => ret, in("r1") a1, in("r2") a2) };
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
    unsafe { svc!(n, inlateout("r0") a0 => ret, in("r1") a1, in("r2") a2, in("r3") a3) };
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
        svc!(n, inlateout("r0") a0 => ret, in("r1") a1, in("r2") a2, in("r3") a3, in("r4") a4)
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
        svc!(n, inlateout("r0") a0 => ret, in("r1") a1, in("r2") a2, in("r3") a3, in("r4") a4,
             in("r5") a5)
    };
    ret
}

/// Issues a syscall that does not return (`exit`, `exit_group`).
///
/// # Safety
/// `n` must be a syscall that never returns to the caller.
#[inline(always)]
pub unsafe fn syscall1_noreturn(n: usize, a0: usize) -> ! {
    // SAFETY: the caller vouches that the syscall does not return, so nothing needs
    // `r7` (Thumb's frame pointer) restored.
    unsafe { asm!("mov r7, {n}", "svc 0", n = in(reg) n, in("r0") a0, options(noreturn, nostack)) }
}

#[path = "../direct.rs"]
mod direct;
pub use direct::{socket_call, socket_path, SocketCall};
