//! Unix sockets: stream, datagram and seqpacket sockets, listeners, addresses, and
//! messages carrying fds and credentials.
//!
//! [`UnixStream`], [`UnixDatagram`] and [`UnixSeqpacket`] are one generic type,
//! [`Socket`], over the socket kind, so everything they share is written once;
//! [`UnixListener`] and [`UnixSeqpacketListener`] likewise share [`Listener`].
//!
//! ```
//! use baremsg::fd::{self, AsFd};
//! use baremsg::unix::UnixStream;
//!
//! # fn main() -> Result<(), baremsg::Error> {
//! let (a, b) = UnixStream::pair()?;
//! let (r, w) = fd::pipe()?;
//! a.send_fds(b"x", &[r.as_fd()])?; // SCM_RIGHTS; `r` stays ours
//! let mut slots = [None];
//! let got = b.recv_fds(&mut [0u8; 1], &mut slots)?;
//! assert_eq!((got.bytes, got.fds), (1, 1));
//! let passed = slots[0].take().unwrap(); // owned, close-on-exec
//! fd::write_all(&w, b"through the passed fd")?;
//! let mut buf = [0u8; 32];
//! assert_eq!(fd::read(&passed, &mut buf)?, 21);
//! # Ok(())
//! # }
//! ```
//!
//! # On any socket fd
//! Every send and receive, and the socket options, are also free functions over any
//! [`AsFd`](crate::fd::AsFd): [`send_fds`], [`recv_fds`], [`send_msg`], [`recv_msg`],
//! [`recv_msg_from`], [`send`], [`recv`], [`send_to`], [`recv_from`], the batches
//! [`send_mmsg`] and [`recv_mmsg`], the `_with_flags` forms, [`set_pass_cred`], [`peer_cred`], [`set_pass_pidfd`], [`peer_pidfd`], the
//! timeouts. They work on sockets baremsg did not make (std's, tokio's, one inherited
//! from a service manager) with the same guarantees, and the [`Socket`] methods are
//! one-line calls of them.
//!
//! ## Kind-specific rules on an fd of unknown kind
//! Two rules depend on the socket's kind, which a bare fd does not tell:
//! - control data with an empty payload is refused on a stream socket
//!   ([`Error::ControlWithoutPayload`](crate::Error::ControlWithoutPayload)): the kernel
//!   would send nothing and the control data would vanish. For a bare fd the kind is
//!   asked of the kernel (`SO_TYPE`) in that case only, when control data goes with an
//!   empty payload: sends that carry a payload, the hot path, cost no extra syscall;
//! - [`recv_msg`] with no control buffer and at most one buffer is `recvfrom(2)` on a
//!   [`Socket`], with `MSG_TRUNC` on datagram and seqpacket sockets to learn of
//!   truncation (on a stream `MSG_TRUNC` would discard data instead). For a bare fd it
//!   is `recvmsg(2)`, whose `msg_flags` report truncation on every kind, and also report
//!   control data dropped for want of a buffer (`MSG_CTRUNC`): no `SO_TYPE`, no guess.
//!
//! With the `std` feature baremsg's fd types are std's, so std's sockets go in as they
//! are:
//!
//! ```
//! # #[cfg(feature = "std")]
//! # fn main() -> std::io::Result<()> {
//! use std::os::unix::net::UnixStream;
//!
//! let (a, b) = UnixStream::pair()?;
//! let file = std::fs::File::open("/dev/null")?;
//! baremsg::unix::send_fds(&a, b"f", &[std::os::fd::AsFd::as_fd(&file)])?;
//! let mut slots = [None];
//! baremsg::unix::recv_fds(&b, &mut [0u8; 1], &mut slots)?;
//! let received = std::fs::File::from(slots[0].take().unwrap()); // no conversion
//! # drop(received);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "std"))]
//! # fn main() {}
//! ```
//!
//! # Nonblocking sockets and the readiness loop
//! [`Socket::pair_nonblocking`], [`Socket::connect_nonblocking`],
//! [`Listener::bind_nonblocking`], [`Listener::accept_nonblocking`],
//! [`UnixDatagram::bind_nonblocking`] and [`UnixDatagram::unbound_nonblocking`] make the
//! socket nonblocking in the same syscall (`SOCK_NONBLOCK`). A call that would wait
//! fails with `Error::Os(Errno::EAGAIN)`, a plain value to match (no allocation; with
//! `std` it converts into an `io::Error` of kind `WouldBlock`, which is what tokio's
//! `try_io` and `async_io` look for). Wait until the socket is readable, and try again:
//!
//! ```
//! use baremsg::unix::UnixStream;
//! use baremsg::{Errno, Error};
//!
//! # fn wait_readable(_: &UnixStream) {} // poll(2), epoll, or an async runtime
//! # fn main() -> Result<(), Error> {
//! let (a, b) = UnixStream::pair_nonblocking()?;
//! let mut buf = [0u8; 16];
//! assert_eq!(b.recv(&mut buf), Err(Error::Os(Errno::EAGAIN))); // nothing yet
//! a.send(b"ready")?;
//! let n = loop {
//!     match b.recv(&mut buf) {
//!         Err(Error::Os(Errno::EAGAIN)) => wait_readable(&b),
//!         other => break other?,
//!     }
//! };
//! assert_eq!(&buf[..n], b"ready");
//! # Ok(())
//! # }
//! ```
//!
//! Defaults that keep fds safe:
//! - every socket, accepted connection and received fd is close-on-exec: sockets are
//!   made with `SOCK_CLOEXEC`, receives pass `MSG_CMSG_CLOEXEC` (the `_with_flags`
//!   variants take the flags as given);
//! - the sends pass `MSG_NOSIGNAL`: a closed peer is `EPIPE`, not a `SIGPIPE`
//!   (`send_msg_with_flags` passes only the flags it is given);
//! - every received fd is owned: see [`ReceivedControl`](crate::cmsg::ReceivedControl);
//!   on `MSG_CTRUNC` the fds that did arrive are still handed over and the truncation is
//!   reported;
//! - more than 253 fds in one send is refused before the syscall
//!   ([`Error::TooManyFds`](crate::Error::TooManyFds)), and so is control data with an
//!   empty payload on a stream socket
//!   ([`Error::ControlWithoutPayload`](crate::Error::ControlWithoutPayload)).
//!
//! `EINTR` is reported, never retried: a signal handler that wants a blocking receive to
//! stop (an init system's SIGCHLD or SIGTERM) gets its way, and the caller loops if it
//! wants to.
//!
//! Nothing is paid for that is not asked for:
//! - when no control data travels, `send_msg`/`recv_msg` and `send`/`recv` use
//!   `sendto`/`recvfrom`, which skip the kernel's copy of `msghdr` and the iovec array; on
//!   datagram and seqpacket sockets `recv_msg` still reports a truncated payload
//!   (`MSG_TRUNC`);
//! - `recv_msg` does not ask for the sender's address (the kernel then writes none, and
//!   no `sockaddr_un` is built); `recv_msg_from` and `recv_from` do, as `send_msg_to` and
//!   `send_to` give one;
//! - control data is walked once: reading the credentials or taking the fds also
//!   learns whether anything is left to close, so dropping the control data after that
//!   does not walk it again.

/// The fd traits of `$ty<K>`, a type holding an `OwnedFd` in `fd` and its kind in
/// `_kind`: [`Socket`] and [`Listener`], and the methods they share over their fd.
/// `$from_raw_doc` documents `from_raw_fd`.
macro_rules! owned_fd_impls {
    ($ty:ident, $from_raw_doc:literal) => {
        impl<K: SocketKind> $ty<K> {
            /// Sets or clears nonblocking mode (`O_NONBLOCK`): calls that would wait
            /// (`recv`, `send`, `accept`) fail with `EAGAIN`.
            pub fn set_nonblocking(&self, on: bool) -> Result<(), crate::Error> {
                Ok(crate::fd::set_nonblocking(&self.fd, on)?)
            }

            /// The pending socket error, cleared by reading it (`SO_ERROR`).
            pub fn take_error(&self) -> Result<Option<crate::Errno>, crate::Error> {
                sockopt::take_error(&self.fd)
            }

            /// Another fd for the same socket, close-on-exec (`F_DUPFD_CLOEXEC`).
            pub fn try_clone(&self) -> Result<Self, crate::Error> {
                Ok(Self {
                    fd: crate::fd::try_clone(&self.fd)?,
                    _kind: core::marker::PhantomData,
                })
            }
        }

        impl<K: SocketKind> crate::fd::AsFd for $ty<K> {
            fn as_fd(&self) -> crate::fd::BorrowedFd<'_> {
                crate::fd::AsFd::as_fd(&self.fd)
            }
        }

        impl<K: SocketKind> crate::fd::AsRawFd for $ty<K> {
            fn as_raw_fd(&self) -> crate::fd::RawFd {
                crate::fd::AsRawFd::as_raw_fd(&self.fd)
            }
        }

        impl<K: SocketKind> crate::fd::FromRawFd for $ty<K> {
            #[doc = $from_raw_doc]
            unsafe fn from_raw_fd(fd: crate::fd::RawFd) -> Self {
                // SAFETY: forwarded from the caller.
                let fd = unsafe { <crate::fd::OwnedFd as crate::fd::FromRawFd>::from_raw_fd(fd) };
                Self {
                    fd,
                    _kind: core::marker::PhantomData,
                }
            }
        }

        impl<K: SocketKind> crate::fd::IntoRawFd for $ty<K> {
            fn into_raw_fd(self) -> crate::fd::RawFd {
                crate::fd::IntoRawFd::into_raw_fd(self.fd)
            }
        }

        impl<K: SocketKind> From<$ty<K>> for crate::fd::OwnedFd {
            fn from(s: $ty<K>) -> crate::fd::OwnedFd {
                s.fd
            }
        }

        impl<K: SocketKind> core::fmt::Debug for $ty<K> {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("kind", &K::NAME)
                    .field("fd", &crate::fd::AsRawFd::as_raw_fd(&self.fd))
                    .finish()
            }
        }
    };
}

mod addr;
mod batch;
mod listener;
mod msg;
mod socket;
pub(crate) mod sockopt;

pub use addr::{AddrKind, UnixAddr};
pub use batch::{
    recv_mmsg, recv_mmsg_with_flags, send_mmsg, send_mmsg_with_flags, BatchMsg, RecvBatch,
    RecvEntry, SendEntry, MMSG_MAX,
};
pub use listener::{Incoming, Listener, UnixListener, UnixSeqpacketListener, DEFAULT_BACKLOG};
pub use msg::{
    recv, recv_fds, recv_from, recv_msg, recv_msg_from, recv_msg_with_flags, send, send_fds,
    send_msg, send_msg_to, send_msg_with_flags, send_to, RecvFds, RecvMsg,
};
pub use socket::{
    ConnectionKind, Datagram, Seqpacket, Shutdown, Socket, SocketKind, Stream, UnixDatagram,
    UnixSeqpacket, UnixStream,
};
pub use sockopt::{
    local_addr, pass_cred, peer_addr, peer_cred, peer_pidfd, read_timeout, set_pass_cred,
    set_pass_pidfd, set_read_timeout, set_write_timeout, shutdown, take_error, write_timeout,
};
