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

/// A socket operation. On x86_64 it is simply the syscall's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketCall(usize);

impl SocketCall {
    /// `socket(2)`.
    pub const SOCKET: Self = Self(nr::SOCKET);
    /// `bind(2)`.
    pub const BIND: Self = Self(nr::BIND);
    /// `connect(2)`.
    pub const CONNECT: Self = Self(nr::CONNECT);
    /// `listen(2)`.
    pub const LISTEN: Self = Self(nr::LISTEN);
    /// `getsockname(2)`.
    pub const GETSOCKNAME: Self = Self(nr::GETSOCKNAME);
    /// `getpeername(2)`.
    pub const GETPEERNAME: Self = Self(nr::GETPEERNAME);
    /// `socketpair(2)`.
    pub const SOCKETPAIR: Self = Self(nr::SOCKETPAIR);
    /// `sendto(2)`.
    pub const SENDTO: Self = Self(nr::SENDTO);
    /// `recvfrom(2)`.
    pub const RECVFROM: Self = Self(nr::RECVFROM);
    /// `shutdown(2)`.
    pub const SHUTDOWN: Self = Self(nr::SHUTDOWN);
    /// `setsockopt(2)`.
    pub const SETSOCKOPT: Self = Self(nr::SETSOCKOPT);
    /// `getsockopt(2)`.
    pub const GETSOCKOPT: Self = Self(nr::GETSOCKOPT);
    /// `sendmsg(2)`.
    pub const SENDMSG: Self = Self(nr::SENDMSG);
    /// `recvmsg(2)`.
    pub const RECVMSG: Self = Self(nr::RECVMSG);
    /// `accept4(2)`.
    pub const ACCEPT4: Self = Self(nr::ACCEPT4);
    /// `recvmmsg(2)`.
    pub const RECVMMSG: Self = Self(nr::RECVMMSG);
    /// `sendmmsg(2)`.
    pub const SENDMMSG: Self = Self(nr::SENDMMSG);
}

/// Makes a socket call with `N` arguments (`N` <= 6).
///
/// # Safety
/// As [`syscall0`], for the socket call named by `call`.
#[inline(always)]
pub unsafe fn socket_call<const N: usize>(call: SocketCall, args: [usize; N]) -> isize {
    let a = |i: usize| if i < N { args[i] } else { 0 };
    // SAFETY: the caller vouches for the call and its arguments. `N` is a constant, so
    // this match folds to a single stub.
    unsafe {
        match N {
            0 => syscall0(call.0),
            1 => syscall1(call.0, a(0)),
            2 => syscall2(call.0, a(0), a(1)),
            3 => syscall3(call.0, a(0), a(1), a(2)),
            4 => syscall4(call.0, a(0), a(1), a(2), a(3)),
            5 => syscall5(call.0, a(0), a(1), a(2), a(3), a(4)),
            _ => syscall6(call.0, a(0), a(1), a(2), a(3), a(4), a(5)),
        }
    }
}

/// How socket calls reach the kernel: always directly on x86_64.
#[inline]
pub fn socket_path() -> crate::sys::SocketPath {
    crate::sys::SocketPath::Direct
}
