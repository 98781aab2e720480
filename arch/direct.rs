//! Socket calls on the architectures where every socket operation is a syscall of its
//! own (x86_64, aarch64, 32-bit ARM EABI, riscv64): a [`SocketCall`] is simply the
//! syscall's number, from the arch's `nr` table. Written once, included by each of them
//! (`#[path]`); only 32-bit x86 routes socket calls differently (`arch/x86`).

use super::{nr, syscall0, syscall1, syscall2, syscall3, syscall4, syscall5, syscall6};

/// A socket operation: here, the number of its syscall.
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
/// As `syscall0`, for the socket call named by `call`.
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

/// How socket calls reach the kernel: always directly here.
#[inline]
pub fn socket_path() -> crate::sys::SocketPath {
    crate::sys::SocketPath::Direct
}
