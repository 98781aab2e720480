//! Unix sockets: stream, datagram and seqpacket sockets, listeners, addresses, and
//! messages carrying fds and credentials.
//!
//! [`UnixStream`], [`UnixDatagram`] and [`UnixSeqpacket`] are one generic type,
//! [`Socket`], over the socket kind, so everything they share is written once;
//! [`UnixListener`] and [`UnixSeqpacketListener`] likewise share [`Listener`].
//!
//! Defaults that keep fds safe:
//! - every socket, accepted connection and received fd is close-on-exec: sockets are
//!   made with `SOCK_CLOEXEC`, receives pass `MSG_CMSG_CLOEXEC` (the `_with_flags`
//!   variants take the flags as given);
//! - sends pass `MSG_NOSIGNAL`: a closed peer is `EPIPE`, not a `SIGPIPE`;
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
/// `_kind`: [`Socket`] and [`Listener`]. `$from_raw_doc` documents `from_raw_fd`.
macro_rules! owned_fd_impls {
    ($ty:ident, $from_raw_doc:literal) => {
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
mod listener;
mod socket;

pub use addr::{AddrKind, UnixAddr};
pub use listener::{Listener, UnixListener, UnixSeqpacketListener};
pub use socket::{
    Datagram, RecvFds, RecvMsg, Seqpacket, Shutdown, Socket, SocketKind, Stream, UnixDatagram,
    UnixSeqpacket, UnixStream,
};
