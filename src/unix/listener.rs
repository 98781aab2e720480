//! Listening Unix sockets.

use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr;

use super::socket::{bind_raw, kind_of, set_opt, sock_addr};
use super::{Seqpacket, Socket, SocketKind, Stream, UnixAddr};
use crate::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use crate::sys::{self, SockaddrUn};
use crate::Error;

/// A listening socket whose accepted connections are [`Socket<K>`]s. Close-on-exec.
pub struct Listener<K: SocketKind> {
    fd: OwnedFd,
    _kind: PhantomData<K>,
}

/// A listening `SOCK_STREAM` socket, accepting [`UnixStream`](super::UnixStream)s.
pub type UnixListener = Listener<Stream>;
/// A listening `SOCK_SEQPACKET` socket, accepting [`UnixSeqpacket`](super::UnixSeqpacket)s.
pub type UnixSeqpacketListener = Listener<Seqpacket>;

/// The backlog `bind` listens with (the kernel caps it at `net.core.somaxconn`).
const BACKLOG: i32 = 128;

impl<K: SocketKind> Listener<K> {
    /// A socket bound to `addr` and listening (`socket`, `bind`, `listen`).
    pub fn bind(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Socket::<K>::new_raw()?;
        let fd: OwnedFd = sock.into();
        bind_raw(fd.as_fd(), addr)?;
        // SAFETY: only integers cross.
        unsafe { sys::listen(fd.as_raw_fd(), BACKLOG) }?;
        Ok(Self {
            fd,
            _kind: PhantomData,
        })
    }

    /// Accepts one connection (`accept4(2)` with `SOCK_CLOEXEC`): the connected socket
    /// and the client's address (usually unnamed).
    pub fn accept(&self) -> Result<(Socket<K>, UnixAddr), Error> {
        let mut raw = SockaddrUn::new();
        let mut len = size_of::<SockaddrUn>() as u32;
        // SAFETY: `raw` is writable for `len` bytes; the new fd is wrapped at once.
        let fd = unsafe {
            sys::accept4(
                self.fd.as_raw_fd(),
                (&mut raw as *mut SockaddrUn).cast(),
                &mut len,
                sys::SOCK_CLOEXEC,
            )
        }?;
        // SAFETY: accept4 returned a new fd of this kind that nobody else owns.
        let sock = unsafe { Socket::from_raw_fd(fd) };
        Ok((sock, UnixAddr::from_raw(raw, len)))
    }

    /// Wraps `fd` if it is a listening `AF_UNIX` socket of this kind (checked with
    /// `SO_DOMAIN`, `SO_TYPE` and `SO_ACCEPTCONN`); gives it back otherwise.
    pub fn try_from_fd(fd: OwnedFd) -> Result<Self, OwnedFd> {
        let listening = || {
            let mut v = 0i32;
            let mut len = 4u32;
            // SAFETY: `v` is writable for 4 bytes.
            unsafe {
                sys::getsockopt(
                    fd.as_raw_fd(),
                    sys::SOL_SOCKET,
                    sys::SO_ACCEPTCONN,
                    ptr::addr_of_mut!(v).cast(),
                    &mut len,
                )
            }
            .map(|_| v != 0)
            .unwrap_or(false)
        };
        match kind_of(fd.as_fd()) {
            Ok((sys::AF_UNIX, ty)) if ty == K::TYPE && listening() => Ok(Self {
                fd,
                _kind: PhantomData,
            }),
            _ => Err(fd),
        }
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> Result<UnixAddr, Error> {
        sock_addr(self.fd.as_fd(), sys::getsockname)
    }

    /// Sets `SO_PASSCRED`: accepted sockets then carry `SCM_CREDENTIALS` with every
    /// message from the first one on.
    pub fn set_pass_cred(&self, on: bool) -> Result<(), Error> {
        set_opt(self.fd.as_fd(), sys::SO_PASSCRED, on as i32)
    }

    /// Sets or clears nonblocking mode: `accept` fails with `EAGAIN` when no client waits.
    pub fn set_nonblocking(&self, on: bool) -> Result<(), Error> {
        Ok(crate::fd::set_nonblocking(&self.fd, on)?)
    }
}

owned_fd_impls!(
    Listener,
    "Wraps `fd`, which must be a listening `AF_UNIX` socket of kind `K` (unchecked; see \
     [`Listener::try_from_fd`])."
);

#[cfg(feature = "std")]
mod std_interop {
    use super::*;

    impl From<std::os::unix::net::UnixListener> for UnixListener {
        fn from(l: std::os::unix::net::UnixListener) -> Self {
            Self {
                fd: l.into(),
                _kind: PhantomData,
            }
        }
    }

    impl From<UnixListener> for std::os::unix::net::UnixListener {
        fn from(l: UnixListener) -> Self {
            l.fd.into()
        }
    }
}
