//! Listening Unix sockets.

use core::marker::PhantomData;
use core::mem::size_of;

use super::socket::bind_raw;
use super::sockopt::{self, is_listening, kind_of};
use super::{Seqpacket, Socket, SocketKind, Stream, UnixAddr};
use crate::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use crate::sys::{self, SockaddrUn};
use crate::Error;

/// A listening socket whose accepted connections are [`Socket<K>`]s. Close-on-exec.
///
/// ```
/// use baremsg::unix::{UnixAddr, UnixSeqpacket, UnixSeqpacketListener};
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let addr = UnixAddr::from_abstract(format!("doc-listener-{}", std::process::id()).as_bytes())?;
/// let listener = UnixSeqpacketListener::bind(&addr)?;
/// listener.set_backlog(16)?;
/// let _client = UnixSeqpacket::connect(&addr)?;
/// let conn = listener.incoming().next().unwrap()?;
/// assert!(conn.peer_addr()?.is_unnamed());
/// assert_eq!(listener.local_addr()?, addr);
/// # Ok(())
/// # }
/// ```
pub struct Listener<K: SocketKind> {
    fd: OwnedFd,
    _kind: PhantomData<K>,
}

/// A listening `SOCK_STREAM` socket, accepting [`UnixStream`](super::UnixStream)s.
pub type UnixListener = Listener<Stream>;
/// A listening `SOCK_SEQPACKET` socket, accepting [`UnixSeqpacket`](super::UnixSeqpacket)s.
pub type UnixSeqpacketListener = Listener<Seqpacket>;

/// The backlog `bind` listens with, as std's (the kernel caps it at
/// `net.core.somaxconn`); [`Listener::set_backlog`] changes it.
pub const DEFAULT_BACKLOG: i32 = 128;

impl<K: SocketKind> Listener<K> {
    fn bind_raw(addr: &UnixAddr, flags: i32) -> Result<Self, Error> {
        let fd: OwnedFd = Socket::<K>::new_raw(flags)?.into();
        bind_raw(fd.as_fd(), addr)?;
        // SAFETY: only integers cross.
        unsafe { sys::listen(fd.as_raw_fd(), DEFAULT_BACKLOG) }?;
        Ok(Self {
            fd,
            _kind: PhantomData,
        })
    }

    /// A socket bound to `addr` and listening (`socket(2)`, `bind(2)`, `listen(2)` with a
    /// backlog of [`DEFAULT_BACKLOG`]).
    pub fn bind(addr: &UnixAddr) -> Result<Self, Error> {
        Self::bind_raw(addr, 0)
    }

    /// [`bind`](Self::bind), nonblocking from the start (`SOCK_NONBLOCK`):
    /// [`accept`](Self::accept) fails with `EAGAIN` when no client waits.
    pub fn bind_nonblocking(addr: &UnixAddr) -> Result<Self, Error> {
        Self::bind_raw(addr, sys::SOCK_NONBLOCK)
    }

    /// Sets how many connections may wait to be accepted (`listen(2)` again: Linux
    /// changes the backlog of a listening socket in place; the kernel caps it at
    /// `net.core.somaxconn`). Beyond it `connect` waits, or fails with `EAGAIN` when
    /// nonblocking.
    pub fn set_backlog(&self, backlog: i32) -> Result<(), Error> {
        // SAFETY: only integers cross.
        Ok(unsafe { sys::listen(self.fd.as_raw_fd(), backlog) }?)
    }

    fn accept_raw(&self, flags: i32) -> Result<(Socket<K>, UnixAddr), Error> {
        let mut raw = SockaddrUn::new();
        let mut len = size_of::<SockaddrUn>() as u32;
        // SAFETY: `raw` is writable for `len` bytes; the new fd is wrapped at once.
        let fd = unsafe {
            sys::accept4(
                self.fd.as_raw_fd(),
                (&mut raw as *mut SockaddrUn).cast(),
                &mut len,
                sys::SOCK_CLOEXEC | flags,
            )
        }?;
        // SAFETY: accept4 returned a new fd of this kind that nobody else owns.
        let sock = unsafe { Socket::from_raw_fd(fd) };
        Ok((sock, UnixAddr::from_raw(raw, len)))
    }

    /// Accepts one connection (`accept4(2)` with `SOCK_CLOEXEC`): the connected socket
    /// and the client's address (usually unnamed).
    pub fn accept(&self) -> Result<(Socket<K>, UnixAddr), Error> {
        self.accept_raw(0)
    }

    /// [`accept`](Self::accept), the accepted socket nonblocking from the start
    /// (`SOCK_NONBLOCK` in the same `accept4(2)`), whether or not the listener is.
    pub fn accept_nonblocking(&self) -> Result<(Socket<K>, UnixAddr), Error> {
        self.accept_raw(sys::SOCK_NONBLOCK)
    }

    /// An endless iterator over accepted connections, as std's
    /// `UnixListener::incoming`: each item is [`accept`](Self::accept)'s socket, or its
    /// error (the iterator goes on after one).
    pub fn incoming(&self) -> Incoming<'_, K> {
        Incoming { listener: self }
    }

    /// Wraps `fd` if it is a listening `AF_UNIX` socket of this kind (checked with
    /// `SO_DOMAIN`, `SO_TYPE` and `SO_ACCEPTCONN`); gives it back otherwise.
    pub fn try_from_fd(fd: OwnedFd) -> Result<Self, OwnedFd> {
        match kind_of(fd.as_fd()) {
            Ok((sys::AF_UNIX, ty)) if ty == K::TYPE && is_listening(fd.as_fd()) == Ok(true) => {
                Ok(Self {
                    fd,
                    _kind: PhantomData,
                })
            }
            _ => Err(fd),
        }
    }

    /// The address this listener is bound to (`getsockname(2)`).
    pub fn local_addr(&self) -> Result<UnixAddr, Error> {
        sockopt::local_addr(&self.fd)
    }

    /// Sets `SO_PASSCRED`: accepted sockets then carry `SCM_CREDENTIALS` with every
    /// message from the first one on.
    pub fn set_pass_cred(&self, on: bool) -> Result<(), Error> {
        sockopt::set_pass_cred(&self.fd, on)
    }
}

/// What [`Listener::incoming`] returns: [`Listener::accept`] again and again.
#[derive(Debug)]
pub struct Incoming<'l, K: SocketKind> {
    listener: &'l Listener<K>,
}

impl<K: SocketKind> Iterator for Incoming<'_, K> {
    type Item = Result<Socket<K>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        Some(self.listener.accept().map(|(s, _)| s))
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
