//! i386: how socket calls reach the kernel.
//!
//! Before Linux 4.3 the only way to a socket operation on i386 was `socketcall(2)`
//! (syscall 102): a sub-call number (`SYS_SOCKET` = 1 .. `SYS_SENDMMSG` = 20) and a
//! pointer to the arguments in memory. Linux 4.3 added direct syscalls
//! (`socket` = 359 .. `shutdown` = 373, plus `recvmmsg` = 337 and `sendmmsg` = 345).
//! Both matter:
//! - seccomp filters see only syscall registers. Through `socketcall` the arguments sit
//!   behind a pointer a filter cannot follow, so a policy that inspects, say, `sendmsg`'s
//!   flags needs the direct call;
//! - kernels older than 4.3 have only `socketcall`;
//! - sandboxes allow-list one or the other (some only `socketcall`, as written for old
//!   i386 libcs; some only the direct calls).
//!
//! So by default baremsg makes each socket call by the path in force (direct at first)
//! and, when that path refuses it, makes the same call by the other path. A refusal is
//! `ENOSYS` (a kernel without the call, or a filter) or `EPERM` (what filters answer
//! most often). The path in force, an atomic, switches only when the other path
//! succeeded: a call refused both ways (say `getsockopt` refused directly and
//! `socketcall` refused as a whole) fails with the other path's error (the first one's
//! if that was `ENOSYS`) and leaves the path alone. seccomp filters are per thread but
//! the path is per process, so this is what keeps a call refused in one thread from
//! making the allowed calls fail, in it or in any other thread: every call that one of
//! the two paths allows to the calling thread reaches the kernel. No lock, no
//! allocation; one extra syscall when the path in force is refused.
//! `--cfg baremsg_socketcall` or `--cfg baremsg_direct` (in `RUSTFLAGS`) forces one
//! path at build time.
//!

#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
use core::sync::atomic::{AtomicU8, Ordering};

use super::{nr, syscall2};
#[cfg(not(baremsg_socketcall))]
use super::{syscall0, syscall1, syscall3, syscall4, syscall5, syscall6};
use crate::sys::SocketPath;

/// `socketcall(2)` sub-call numbers (include/uapi/linux/net.h).
pub mod socketcall {
    #![allow(missing_docs)]
    pub const SYS_SOCKET: usize = 1;
    pub const SYS_BIND: usize = 2;
    pub const SYS_CONNECT: usize = 3;
    pub const SYS_LISTEN: usize = 4;
    pub const SYS_ACCEPT: usize = 5;
    pub const SYS_GETSOCKNAME: usize = 6;
    pub const SYS_GETPEERNAME: usize = 7;
    pub const SYS_SOCKETPAIR: usize = 8;
    pub const SYS_SEND: usize = 9;
    pub const SYS_RECV: usize = 10;
    pub const SYS_SENDTO: usize = 11;
    pub const SYS_RECVFROM: usize = 12;
    pub const SYS_SHUTDOWN: usize = 13;
    pub const SYS_SETSOCKOPT: usize = 14;
    pub const SYS_GETSOCKOPT: usize = 15;
    pub const SYS_SENDMSG: usize = 16;
    pub const SYS_RECVMSG: usize = 17;
    pub const SYS_ACCEPT4: usize = 18;
    pub const SYS_RECVMMSG: usize = 19;
    pub const SYS_SENDMMSG: usize = 20;
}

/// A socket operation: its direct syscall number (Linux 4.3+) and its `socketcall`
/// sub-call number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketCall {
    direct: usize,
    sub: usize,
}

impl SocketCall {
    const fn new(direct: usize, sub: usize) -> Self {
        Self { direct, sub }
    }
    /// `socket(2)`.
    pub const SOCKET: Self = Self::new(nr::SOCKET, socketcall::SYS_SOCKET);
    /// `bind(2)`.
    pub const BIND: Self = Self::new(nr::BIND, socketcall::SYS_BIND);
    /// `connect(2)`.
    pub const CONNECT: Self = Self::new(nr::CONNECT, socketcall::SYS_CONNECT);
    /// `listen(2)`.
    pub const LISTEN: Self = Self::new(nr::LISTEN, socketcall::SYS_LISTEN);
    /// `getsockname(2)`.
    pub const GETSOCKNAME: Self = Self::new(nr::GETSOCKNAME, socketcall::SYS_GETSOCKNAME);
    /// `getpeername(2)`.
    pub const GETPEERNAME: Self = Self::new(nr::GETPEERNAME, socketcall::SYS_GETPEERNAME);
    /// `socketpair(2)`.
    pub const SOCKETPAIR: Self = Self::new(nr::SOCKETPAIR, socketcall::SYS_SOCKETPAIR);
    /// `sendto(2)`.
    pub const SENDTO: Self = Self::new(nr::SENDTO, socketcall::SYS_SENDTO);
    /// `recvfrom(2)`.
    pub const RECVFROM: Self = Self::new(nr::RECVFROM, socketcall::SYS_RECVFROM);
    /// `shutdown(2)`.
    pub const SHUTDOWN: Self = Self::new(nr::SHUTDOWN, socketcall::SYS_SHUTDOWN);
    /// `setsockopt(2)`.
    pub const SETSOCKOPT: Self = Self::new(nr::SETSOCKOPT, socketcall::SYS_SETSOCKOPT);
    /// `getsockopt(2)`.
    pub const GETSOCKOPT: Self = Self::new(nr::GETSOCKOPT, socketcall::SYS_GETSOCKOPT);
    /// `sendmsg(2)`.
    pub const SENDMSG: Self = Self::new(nr::SENDMSG, socketcall::SYS_SENDMSG);
    /// `recvmsg(2)`.
    pub const RECVMSG: Self = Self::new(nr::RECVMSG, socketcall::SYS_RECVMSG);
    /// `accept4(2)`.
    pub const ACCEPT4: Self = Self::new(nr::ACCEPT4, socketcall::SYS_ACCEPT4);
    /// `recvmmsg(2)`.
    pub const RECVMMSG: Self = Self::new(nr::RECVMMSG, socketcall::SYS_RECVMMSG);
    /// `sendmmsg(2)`.
    pub const SENDMMSG: Self = Self::new(nr::SENDMMSG, socketcall::SYS_SENDMMSG);
}

#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
const ENOSYS: isize = -38;
#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
const EPERM: isize = -1;

/// Whether a socket call's answer is "not this way" (see the module docs).
#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
#[inline(always)]
const fn refused(ret: isize) -> bool {
    ret == ENOSYS || ret == EPERM
}

#[cfg(not(baremsg_socketcall))]
#[inline(always)]
unsafe fn direct<const N: usize>(call: SocketCall, args: &[usize; N]) -> isize {
    let a = |i: usize| if i < N { args[i] } else { 0 };
    // SAFETY: the caller vouches for the call and its arguments; `N` is a constant, so
    // the match folds to one stub.
    unsafe {
        match N {
            0 => syscall0(call.direct),
            1 => syscall1(call.direct, a(0)),
            2 => syscall2(call.direct, a(0), a(1)),
            3 => syscall3(call.direct, a(0), a(1), a(2)),
            4 => syscall4(call.direct, a(0), a(1), a(2), a(3)),
            5 => syscall5(call.direct, a(0), a(1), a(2), a(3), a(4)),
            _ => syscall6(call.direct, a(0), a(1), a(2), a(3), a(4), a(5)),
        }
    }
}

#[cfg(any(baremsg_socketcall, not(baremsg_direct)))]
#[inline(always)]
unsafe fn via_socketcall<const N: usize>(call: SocketCall, args: &[usize; N]) -> isize {
    // SAFETY: `args` is the array of `unsigned long` arguments socketcall copies in;
    // the kernel reads exactly as many as the sub-call takes, which is `N`.
    unsafe { syscall2(nr::SOCKETCALL, call.sub, args.as_ptr() as usize) }
}

#[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
static PATH: AtomicU8 = AtomicU8::new(SocketPath::Direct as u8);

/// Makes a socket call with `N` arguments (`N` <= 6), by the path in force (see the
/// module docs).
///
/// # Safety
/// As [`syscall0`], for the socket call named by `call`.
#[inline(always)]
pub unsafe fn socket_call<const N: usize>(call: SocketCall, args: [usize; N]) -> isize {
    #[cfg(baremsg_socketcall)]
    // SAFETY: forwarded from the caller.
    return unsafe { via_socketcall(call, &args) };

    #[cfg(all(baremsg_direct, not(baremsg_socketcall)))]
    // SAFETY: forwarded from the caller.
    return unsafe { direct(call, &args) };

    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    // SAFETY: forwarded from the caller: the arguments are valid for this call by either
    // path. A socket call that failed sent, received and created nothing, so making it
    // again by the other path repeats no effect.
    unsafe {
        let preferred = PATH.load(Ordering::Relaxed);
        let ret = if preferred == SocketPath::Direct as u8 {
            direct(call, &args)
        } else {
            via_socketcall(call, &args)
        };
        if !refused(ret) {
            return ret;
        }
        let (other, retried) = if preferred == SocketPath::Direct as u8 {
            (SocketPath::Socketcall, via_socketcall(call, &args))
        } else {
            (SocketPath::Direct, direct(call, &args))
        };
        if retried >= 0 {
            PATH.store(other as u8, Ordering::Relaxed);
        }
        if retried == ENOSYS {
            ret
        } else {
            retried
        }
    }
}

/// How socket calls reach the kernel now: the forced path, or the one in force (see the
/// module docs).
#[inline]
pub fn socket_path() -> SocketPath {
    #[cfg(baremsg_socketcall)]
    return SocketPath::Socketcall;
    #[cfg(all(baremsg_direct, not(baremsg_socketcall)))]
    return SocketPath::Direct;
    #[cfg(not(any(baremsg_socketcall, baremsg_direct)))]
    if PATH.load(Ordering::Relaxed) == SocketPath::Direct as u8 {
        SocketPath::Direct
    } else {
        SocketPath::Socketcall
    }
}
