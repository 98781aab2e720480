//! Socket options and state of any Unix socket fd (`getsockopt(2)`, `setsockopt(2)`,
//! `shutdown(2)`, `getsockname(2)`, `getpeername(2)`): credentials, pidfds, timeouts,
//! the pending error. The [`Socket`](super::Socket) and [`Listener`](super::Listener)
//! methods of the same names are one-line calls of these.

use core::ffi::c_void;
use core::mem::size_of;
use core::time::Duration;

use super::{Shutdown, UnixAddr};
use crate::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use crate::sys::{self, SockaddrUn, Timeval, Ucred};
use crate::{Errno, Error};

/// `getsockopt(fd, SOL_SOCKET, name)` into a `T` that starts as `val`.
pub(crate) fn get<T: Copy>(fd: BorrowedFd<'_>, name: i32, mut val: T) -> Result<T, Errno> {
    let mut len = size_of::<T>() as u32;
    // SAFETY: `val` is writable for `len` bytes.
    unsafe {
        sys::getsockopt(
            fd.as_raw_fd(),
            sys::SOL_SOCKET,
            name,
            (&mut val as *mut T).cast(),
            &mut len,
        )
    }?;
    Ok(val)
}

/// `setsockopt(fd, SOL_SOCKET, name, val)`.
pub(crate) fn set<T: Copy>(fd: BorrowedFd<'_>, name: i32, val: T) -> Result<(), Error> {
    // SAFETY: `val` is readable for its size.
    unsafe {
        sys::setsockopt(
            fd.as_raw_fd(),
            sys::SOL_SOCKET,
            name,
            (&val as *const T).cast(),
            size_of::<T>() as u32,
        )
    }?;
    Ok(())
}

/// `SO_TYPE`: `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
pub(crate) fn socket_type(fd: BorrowedFd<'_>) -> Result<i32, Errno> {
    get(fd, sys::SO_TYPE, 0i32)
}

/// `SO_DOMAIN` and `SO_TYPE` of a socket.
pub(crate) fn kind_of(fd: BorrowedFd<'_>) -> Result<(i32, i32), Error> {
    Ok((get(fd, sys::SO_DOMAIN, 0i32)?, socket_type(fd)?))
}

/// Whether the socket listens (`SO_ACCEPTCONN`).
pub(crate) fn is_listening(fd: BorrowedFd<'_>) -> Result<bool, Errno> {
    Ok(get(fd, sys::SO_ACCEPTCONN, 0i32)? != 0)
}

/// The credentials of the peer process of the socket `fd` as of `connect` or
/// `socketpair` (`SO_PEERCRED`, see unix(7)).
pub fn peer_cred(fd: impl AsFd) -> Result<Ucred, Error> {
    Ok(get(fd.as_fd(), sys::SO_PEERCRED, Ucred::default())?)
}

/// An fd referring to the peer process of the socket `fd` (`SO_PEERPIDFD`, Linux 6.5+,
/// see unix(7)), close-on-exec.
pub fn peer_pidfd(fd: impl AsFd) -> Result<OwnedFd, Error> {
    let pidfd = get(fd.as_fd(), sys::SO_PEERPIDFD, -1i32)?;
    if pidfd < 0 {
        return Err(Error::Os(Errno::ENODATA));
    }
    // SAFETY: the kernel installed a new fd for us.
    Ok(unsafe { OwnedFd::from_raw_fd(pidfd) })
}

/// Asks for `SCM_CREDENTIALS` with every message received on `fd` (`SO_PASSCRED`, see
/// unix(7)). On a listener, set it before `accept` so the accepted sockets have it from
/// the start.
pub fn set_pass_cred(fd: impl AsFd, on: bool) -> Result<(), Error> {
    set(fd.as_fd(), sys::SO_PASSCRED, on as i32)
}

/// Whether `SO_PASSCRED` is set on `fd`.
pub fn pass_cred(fd: impl AsFd) -> Result<bool, Error> {
    Ok(get(fd.as_fd(), sys::SO_PASSCRED, 0i32)? != 0)
}

/// Asks for `SCM_PIDFD` with every message received on `fd` (`SO_PASSPIDFD`, Linux
/// 6.5+, see unix(7)).
pub fn set_pass_pidfd(fd: impl AsFd, on: bool) -> Result<(), Error> {
    set(fd.as_fd(), sys::SO_PASSPIDFD, on as i32)
}

/// Sets the receive timeout of `fd` (`SO_RCVTIMEO`, see socket(7)); `None` waits
/// forever. A zero duration is `EINVAL`, as in std. A receive that times out fails with
/// `EAGAIN`.
pub fn set_read_timeout(fd: impl AsFd, t: Option<Duration>) -> Result<(), Error> {
    set(fd.as_fd(), sys::SO_RCVTIMEO, timeval(t)?)
}

/// Sets the send timeout of `fd` (`SO_SNDTIMEO`); as [`set_read_timeout`].
pub fn set_write_timeout(fd: impl AsFd, t: Option<Duration>) -> Result<(), Error> {
    set(fd.as_fd(), sys::SO_SNDTIMEO, timeval(t)?)
}

/// The receive timeout of `fd` (`SO_RCVTIMEO`), `None` for none.
pub fn read_timeout(fd: impl AsFd) -> Result<Option<Duration>, Error> {
    Ok(duration(get(
        fd.as_fd(),
        sys::SO_RCVTIMEO,
        Timeval::default(),
    )?))
}

/// The send timeout of `fd` (`SO_SNDTIMEO`), `None` for none.
pub fn write_timeout(fd: impl AsFd) -> Result<Option<Duration>, Error> {
    Ok(duration(get(
        fd.as_fd(),
        sys::SO_SNDTIMEO,
        Timeval::default(),
    )?))
}

/// The pending error of the socket `fd`, cleared by reading it (`SO_ERROR`, see
/// socket(7)).
pub fn take_error(fd: impl AsFd) -> Result<Option<Errno>, Error> {
    let e = get(fd.as_fd(), sys::SO_ERROR, 0i32)?;
    Ok((e != 0).then(|| Errno::from_raw(e)))
}

/// Shuts down one or both halves of the connection of `fd` (`shutdown(2)`).
pub fn shutdown(fd: impl AsFd, how: Shutdown) -> Result<(), Error> {
    let how = match how {
        Shutdown::Read => sys::SHUT_RD,
        Shutdown::Write => sys::SHUT_WR,
        Shutdown::Both => sys::SHUT_RDWR,
    };
    // SAFETY: only integers cross.
    Ok(unsafe { sys::shutdown(fd.as_fd().as_raw_fd(), how) }?)
}

/// The address the socket `fd` is bound to (`getsockname(2)`).
pub fn local_addr(fd: impl AsFd) -> Result<UnixAddr, Error> {
    sock_addr(fd.as_fd(), sys::getsockname)
}

/// The address of the peer of the socket `fd` (`getpeername(2)`).
pub fn peer_addr(fd: impl AsFd) -> Result<UnixAddr, Error> {
    sock_addr(fd.as_fd(), sys::getpeername)
}

fn sock_addr(
    fd: BorrowedFd<'_>,
    call: unsafe fn(i32, *mut c_void, *mut u32) -> Result<(), Errno>,
) -> Result<UnixAddr, Error> {
    let mut raw = SockaddrUn::new();
    let mut len = size_of::<SockaddrUn>() as u32;
    // SAFETY: `raw` is writable for `len` bytes.
    unsafe {
        call(
            fd.as_raw_fd(),
            (&mut raw as *mut SockaddrUn).cast(),
            &mut len,
        )
    }?;
    Ok(UnixAddr::from_raw(raw, len))
}

fn timeval(d: Option<Duration>) -> Result<Timeval, Error> {
    match d {
        None => Ok(Timeval::default()),
        Some(d) if d.is_zero() => Err(Error::Os(Errno::EINVAL)),
        Some(d) => {
            let max = sys::KernelLong::MAX;
            let sec = sys::KernelLong::try_from(d.as_secs()).unwrap_or(max);
            let mut usec = d.subsec_micros() as sys::KernelLong;
            if sec == 0 && usec == 0 {
                usec = 1; // under a microsecond: the shortest timeout, not "none"
            }
            Ok(Timeval {
                tv_sec: sec,
                tv_usec: usec,
            })
        }
    }
}

fn duration(tv: Timeval) -> Option<Duration> {
    if tv.tv_sec == 0 && tv.tv_usec == 0 {
        return None;
    }
    Some(
        Duration::from_secs(tv.tv_sec.max(0) as u64)
            + Duration::from_micros(tv.tv_usec.max(0) as u64),
    )
}
