//! Socket syscalls. On x86 each goes directly or through `socketcall`, as
//! [`socket_path`](super::socket_path) tells.

use core::ffi::c_void;

use super::{check, check_int, check_unit, fd_arg, Mmsghdr, Msghdr, Timespec};
use crate::arch::{socket_call, SocketCall};
use crate::Errno;

/// `socket(2)`: creates a socket.
///
/// # Safety
/// None beyond owning the returned fd: the caller must close it once.
#[inline]
pub unsafe fn socket(domain: i32, ty: i32, protocol: i32) -> Result<i32, Errno> {
    // SAFETY: only integers cross.
    check_int(unsafe {
        socket_call(
            SocketCall::SOCKET,
            [domain as usize, ty as usize, protocol as usize],
        )
    })
}

/// `socketpair(2)`: creates a pair of connected sockets, stored in `fds`.
///
/// # Safety
/// The caller owns both new fds.
#[inline]
pub unsafe fn socketpair(
    domain: i32,
    ty: i32,
    protocol: i32,
    fds: &mut [i32; 2],
) -> Result<(), Errno> {
    // SAFETY: `fds` is valid for the two ints the kernel writes.
    check_unit(unsafe {
        socket_call(
            SocketCall::SOCKETPAIR,
            [
                domain as usize,
                ty as usize,
                protocol as usize,
                fds.as_mut_ptr() as usize,
            ],
        )
    })
}

/// `bind(2)`: gives socket `fd` the address at `addr` (`len` bytes).
///
/// # Safety
/// `fd` is an open socket; `addr` is readable for `len` bytes.
#[inline]
pub unsafe fn bind(fd: i32, addr: *const c_void, len: u32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe { socket_call(SocketCall::BIND, [fd_arg(fd), addr as usize, len as usize]) })
}

/// `connect(2)`: connects socket `fd` to the address at `addr` (`len` bytes).
///
/// # Safety
/// As [`bind`].
#[inline]
pub unsafe fn connect(fd: i32, addr: *const c_void, len: u32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        socket_call(
            SocketCall::CONNECT,
            [fd_arg(fd), addr as usize, len as usize],
        )
    })
}

/// `listen(2)`: marks socket `fd` as accepting connections.
///
/// # Safety
/// `fd` is an open socket.
#[inline]
pub unsafe fn listen(fd: i32, backlog: i32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { socket_call(SocketCall::LISTEN, [fd_arg(fd), backlog as usize]) })
}

/// `accept4(2)`: accepts a connection on listening socket `fd`. `addr`/`len` may be null;
/// otherwise `*len` is the buffer's size on entry and the address's on return.
///
/// # Safety
/// `fd` is an open socket; `addr` is writable for `*len` bytes. The caller owns the new fd.
#[inline]
pub unsafe fn accept4(fd: i32, addr: *mut c_void, len: *mut u32, flags: i32) -> Result<i32, Errno> {
    // SAFETY: the caller's contract.
    check_int(unsafe {
        socket_call(
            SocketCall::ACCEPT4,
            [fd_arg(fd), addr as usize, len as usize, flags as usize],
        )
    })
}

/// `shutdown(2)`: shuts down part of a full-duplex connection (`SHUT_RD`, `SHUT_WR`,
/// `SHUT_RDWR`).
///
/// # Safety
/// `fd` is an open socket.
#[inline]
pub unsafe fn shutdown(fd: i32, how: i32) -> Result<(), Errno> {
    // SAFETY: only integers cross.
    check_unit(unsafe { socket_call(SocketCall::SHUTDOWN, [fd_arg(fd), how as usize]) })
}

/// `getsockopt(2)`: reads option `name` at `level` into `val`; `*len` is the buffer's
/// size on entry and the value's on return.
///
/// # Safety
/// `fd` is an open socket; `val` is writable for `*len` bytes.
#[inline]
pub unsafe fn getsockopt(
    fd: i32,
    level: i32,
    name: i32,
    val: *mut c_void,
    len: *mut u32,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        socket_call(
            SocketCall::GETSOCKOPT,
            [
                fd_arg(fd),
                level as usize,
                name as usize,
                val as usize,
                len as usize,
            ],
        )
    })
}

/// `setsockopt(2)`: sets option `name` at `level` from `val` (`len` bytes).
///
/// # Safety
/// `fd` is an open socket; `val` is readable for `len` bytes.
#[inline]
pub unsafe fn setsockopt(
    fd: i32,
    level: i32,
    name: i32,
    val: *const c_void,
    len: u32,
) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        socket_call(
            SocketCall::SETSOCKOPT,
            [
                fd_arg(fd),
                level as usize,
                name as usize,
                val as usize,
                len as usize,
            ],
        )
    })
}

/// `getsockname(2)`: the address socket `fd` is bound to.
///
/// # Safety
/// `fd` is an open socket; `addr` is writable for `*len` bytes.
#[inline]
pub unsafe fn getsockname(fd: i32, addr: *mut c_void, len: *mut u32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        socket_call(
            SocketCall::GETSOCKNAME,
            [fd_arg(fd), addr as usize, len as usize],
        )
    })
}

/// `getpeername(2)`: the address of the peer socket `fd` is connected to.
///
/// # Safety
/// As [`getsockname`].
#[inline]
pub unsafe fn getpeername(fd: i32, addr: *mut c_void, len: *mut u32) -> Result<(), Errno> {
    // SAFETY: the caller's contract.
    check_unit(unsafe {
        socket_call(
            SocketCall::GETPEERNAME,
            [fd_arg(fd), addr as usize, len as usize],
        )
    })
}

/// `sendto(2)`: sends `len` bytes from `buf`, to `addr` if it is not null.
///
/// # Safety
/// `fd` is an open socket; `buf` is readable for `len` bytes, `addr` for `addrlen`.
#[inline]
pub unsafe fn sendto(
    fd: i32,
    buf: *const u8,
    len: usize,
    flags: i32,
    addr: *const c_void,
    addrlen: u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::SENDTO,
            [
                fd_arg(fd),
                buf as usize,
                len,
                flags as usize,
                addr as usize,
                addrlen as usize,
            ],
        )
    })
}

/// `recvfrom(2)`: receives up to `len` bytes into `buf`, and the sender's address into
/// `addr` if it is not null.
///
/// # Safety
/// `fd` is an open socket; `buf` is writable for `len` bytes, `addr` for `*addrlen`.
#[inline]
pub unsafe fn recvfrom(
    fd: i32,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut c_void,
    addrlen: *mut u32,
) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::RECVFROM,
            [
                fd_arg(fd),
                buf as usize,
                len,
                flags as usize,
                addr as usize,
                addrlen as usize,
            ],
        )
    })
}

/// `sendmsg(2)`: sends the message `msg` describes.
///
/// # Safety
/// `fd` is an open socket; every pointer in `*msg` is valid for its length; fds named in
/// its control data are open.
#[inline]
pub unsafe fn sendmsg(fd: i32, msg: *const Msghdr, flags: i32) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::SENDMSG,
            [fd_arg(fd), msg as usize, flags as usize],
        )
    })
}

/// `recvmsg(2)`: receives a message into the buffers `msg` describes, and updates its
/// `msg_namelen`, `msg_controllen` and `msg_flags`.
///
/// # Safety
/// `fd` is an open socket; every pointer in `*msg` is valid for writes of its length.
/// The caller owns every fd the kernel installs from `SCM_RIGHTS` (and `SCM_PIDFD`).
#[inline]
pub unsafe fn recvmsg(fd: i32, msg: *mut Msghdr, flags: i32) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::RECVMSG,
            [fd_arg(fd), msg as usize, flags as usize],
        )
    })
}

/// `sendmmsg(2)`: sends up to `vlen` messages; returns how many were sent.
///
/// # Safety
/// As [`sendmsg`], for each of the `vlen` entries at `msgs`.
#[inline]
pub unsafe fn sendmmsg(fd: i32, msgs: *mut Mmsghdr, vlen: u32, flags: i32) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::SENDMMSG,
            [fd_arg(fd), msgs as usize, vlen as usize, flags as usize],
        )
    })
}

/// `recvmmsg(2)` without a timeout: receives up to `vlen` messages; returns how many.
///
/// # Safety
/// As [`recvmsg`], for each of the `vlen` entries at `msgs`.
#[inline]
pub unsafe fn recvmmsg(fd: i32, msgs: *mut Mmsghdr, vlen: u32, flags: i32) -> Result<usize, Errno> {
    // SAFETY: the caller's contract; a null timeout is allowed.
    unsafe { recvmmsg_call(fd, msgs, vlen, flags, 0) }
}

/// The `recvmmsg` socket call (not `recvmmsg_time64`) with `timeout` as its fifth argument:
/// 0, or the address of the timespec of the target's `recvmmsg` (64-bit seconds on the
/// 64-bit targets, 32-bit on the others).
///
/// # Safety
/// As [`recvmmsg`]; `timeout` is 0 or points to such a timespec, writable.
#[inline(always)]
unsafe fn recvmmsg_call(
    fd: i32,
    msgs: *mut Mmsghdr,
    vlen: u32,
    flags: i32,
    timeout: usize,
) -> Result<usize, Errno> {
    // SAFETY: the caller's contract.
    check(unsafe {
        socket_call(
            SocketCall::RECVMMSG,
            [
                fd_arg(fd),
                msgs as usize,
                vlen as usize,
                flags as usize,
                timeout,
            ],
        )
    })
}

/// `recvmmsg(2)` with an optional timeout (`None`: none), as the kernel checks it: after
/// each message received, so the call still waits for the first one (unless
/// `MSG_WAITFORONE`/`MSG_DONTWAIT` or a nonblocking socket say otherwise). The kernel
/// writes the time left back into `*timeout`.
///
/// On the 32-bit targets a timeout goes through `recvmmsg_time64` (Linux 5.1) and, where
/// that is `ENOSYS`, through `recvmmsg` with a 32-bit timespec (its seconds capped at
/// `i32::MAX`, some 68 years). On i686 built with `--cfg baremsg_socketcall` the 32-bit
/// form is used at once, through `socketcall`, which has no `_time64` sub-call.
///
/// # Safety
/// As [`recvmsg`], for each of the `vlen` entries at `msgs`.
#[inline]
pub unsafe fn recvmmsg_timeout(
    fd: i32,
    msgs: *mut Mmsghdr,
    vlen: u32,
    flags: i32,
    timeout: Option<&mut Timespec>,
) -> Result<usize, Errno> {
    let Some(timeout) = timeout else {
        // SAFETY: the caller's contract.
        return unsafe { recvmmsg(fd, msgs, vlen, flags) };
    };
    #[cfg(target_pointer_width = "64")]
    // SAFETY: the caller's contract; `timeout` is the kernel's 64-bit timespec.
    return unsafe { recvmmsg_call(fd, msgs, vlen, flags, timeout as *mut Timespec as usize) };
    #[cfg(target_pointer_width = "32")]
    {
        #[cfg(not(all(target_arch = "x86", baremsg_socketcall)))]
        {
            // SAFETY: the caller's contract; `timeout` is the kernel's 64-bit timespec.
            let ret = unsafe {
                crate::arch::syscall5(
                    crate::arch::nr::RECVMMSG_TIME64,
                    fd_arg(fd),
                    msgs as usize,
                    vlen as usize,
                    flags as usize,
                    timeout as *mut Timespec as usize,
                )
            };
            match check(ret) {
                // A refusal (an old kernel; on x86 a filter that allows only the
                // socket calls answers EPERM) received nothing: try the old form.
                Err(Errno::ENOSYS) => {}
                #[cfg(target_arch = "x86")]
                Err(Errno::EPERM) => {}
                r => return r,
            }
        }
        let mut t32 = super::time::Timespec32::saturating(timeout);
        let t32_addr = &mut t32 as *mut super::time::Timespec32 as usize;
        // SAFETY: the caller's contract; `t32` is the 32-bit timespec the old call takes.
        let r = unsafe { recvmmsg_call(fd, msgs, vlen, flags, t32_addr) };
        *timeout = t32.widen();
        r
    }
}
