//! Connected Unix sockets of the three kinds, written once over the kind.

use core::marker::PhantomData;
use core::time::Duration;

use super::sockopt::{self, kind_of};
use super::{batch, msg, RecvBatch, RecvEntry, RecvFds, RecvMsg, SendEntry, UnixAddr};
use crate::cmsg::Cmsgs;
use crate::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use crate::io::{IoSlice, IoSliceMut};
use crate::sys::{self, SockaddrUn, Ucred};
use crate::Error;

mod sealed {
    pub trait Sealed {}
}

/// The kind of a Unix socket: [`Stream`], [`Datagram`] or [`Seqpacket`].
pub trait SocketKind: sealed::Sealed {
    /// `SOCK_STREAM`, `SOCK_DGRAM` or `SOCK_SEQPACKET`.
    const TYPE: i32;
    /// The kind's name, for messages.
    const NAME: &'static str;
}

/// `SOCK_STREAM`: a byte stream; message boundaries are not kept.
#[derive(Debug)]
pub enum Stream {}
/// `SOCK_DGRAM`: datagrams, each read whole or truncated.
#[derive(Debug)]
pub enum Datagram {}
/// `SOCK_SEQPACKET`: connected, ordered, message boundaries kept.
#[derive(Debug)]
pub enum Seqpacket {}

impl sealed::Sealed for Stream {}
impl sealed::Sealed for Datagram {}
impl sealed::Sealed for Seqpacket {}
impl SocketKind for Stream {
    const TYPE: i32 = sys::SOCK_STREAM;
    const NAME: &'static str = "stream";
}
impl SocketKind for Datagram {
    const TYPE: i32 = sys::SOCK_DGRAM;
    const NAME: &'static str = "datagram";
}
impl SocketKind for Seqpacket {
    const TYPE: i32 = sys::SOCK_SEQPACKET;
    const NAME: &'static str = "seqpacket";
}

/// A Unix socket of kind `K`, close-on-exec. Closed when dropped.
///
/// ```
/// use baremsg::unix::{Socket, Stream};
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let (a, b) = Socket::<Stream>::pair()?; // a UnixStream pair
/// a.send(b"ping")?;
/// let mut buf = [0u8; 4];
/// assert_eq!(b.recv(&mut buf)?, 4);
/// assert_eq!(b.peer_cred()?.pid, baremsg::sys::getpid());
/// # Ok(())
/// # }
/// ```
pub struct Socket<K: SocketKind> {
    fd: OwnedFd,
    _kind: PhantomData<K>,
}

/// A connected `SOCK_STREAM` Unix socket.
///
/// ```
/// use baremsg::unix::{UnixAddr, UnixListener, UnixStream};
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let addr = UnixAddr::from_abstract(format!("doc-stream-{}", std::process::id()).as_bytes())?;
/// let listener = UnixListener::bind(&addr)?;
/// let client = UnixStream::connect(&addr)?;
/// let (server, _) = listener.accept()?;
/// client.send(b"hello")?;
/// let mut buf = [0u8; 8];
/// assert_eq!(server.recv(&mut buf)?, 5);
/// // Control data needs a payload byte on a stream, or it would vanish: refused.
/// let (r, _w) = baremsg::fd::pipe()?;
/// use baremsg::fd::AsFd;
/// assert_eq!(client.send_fds(b"", &[r.as_fd()]), Err(baremsg::Error::ControlWithoutPayload));
/// # Ok(())
/// # }
/// ```
pub type UnixStream = Socket<Stream>;
/// A `SOCK_DGRAM` Unix socket, bound, connected, or neither.
///
/// ```
/// use baremsg::unix::{UnixAddr, UnixDatagram};
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let addr = UnixAddr::from_abstract(format!("doc-dgram-{}", std::process::id()).as_bytes())?;
/// let server = UnixDatagram::bind(&addr)?;
/// let client = UnixDatagram::unbound()?;
/// client.send_to(b"to an address", &addr)?;
/// client.connect(&addr)?; // as std's: this socket, from now on
/// client.send(b"connected")?;
/// let mut buf = [0u8; 16];
/// assert_eq!(server.recv_from(&mut buf)?.0, 13);
/// assert_eq!(server.recv(&mut buf)?, 9);
/// # Ok(())
/// # }
/// ```
pub type UnixDatagram = Socket<Datagram>;
/// A connected `SOCK_SEQPACKET` Unix socket.
///
/// ```
/// use baremsg::io::IoSliceMut;
/// use baremsg::unix::UnixSeqpacket;
///
/// # fn main() -> Result<(), baremsg::Error> {
/// let (a, b) = UnixSeqpacket::pair()?;
/// a.send(b"one message")?;
/// let mut small = [0u8; 3];
/// let got = b.recv_msg(&mut [IoSliceMut::new(&mut small)], &mut [])?;
/// assert!(got.is_truncated()); // boundaries are kept: the rest is dropped, and said so
/// # Ok(())
/// # }
/// ```
pub type UnixSeqpacket = Socket<Seqpacket>;

/// Which half of a connection [`Socket::shutdown`] closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shutdown {
    /// No more receiving.
    Read,
    /// No more sending: the peer reads end-of-file.
    Write,
    /// Both.
    Both,
}

/// The connection-oriented kinds, [`Stream`] and [`Seqpacket`]: sockets that
/// [`connect`](Socket::connect) makes connected, and [`Listener`](super::Listener)s
/// accept.
pub trait ConnectionKind: SocketKind {}
impl ConnectionKind for Stream {}
impl ConnectionKind for Seqpacket {}

impl<K: SocketKind> Socket<K> {
    /// A new, unconnected socket of this kind (`socket(2)`, close-on-exec, and
    /// `SOCK_NONBLOCK` in `flags` if asked).
    pub(crate) fn new_raw(flags: i32) -> Result<Self, Error> {
        // SAFETY: the new fd is wrapped at once.
        let fd = unsafe { sys::socket(sys::AF_UNIX, K::TYPE | sys::SOCK_CLOEXEC | flags, 0) }?;
        // SAFETY: socket returned a new fd nobody else owns.
        Ok(unsafe { Self::from_raw_fd(fd) })
    }

    fn pair_raw(flags: i32) -> Result<(Self, Self), Error> {
        let mut fds = [-1; 2];
        // SAFETY: both new fds are wrapped at once.
        unsafe {
            sys::socketpair(
                sys::AF_UNIX,
                K::TYPE | sys::SOCK_CLOEXEC | flags,
                0,
                &mut fds,
            )?;
            Ok((Self::from_raw_fd(fds[0]), Self::from_raw_fd(fds[1])))
        }
    }

    /// A pair of connected sockets (`socketpair(2)`, close-on-exec).
    pub fn pair() -> Result<(Self, Self), Error> {
        Self::pair_raw(0)
    }

    /// [`pair`](Self::pair), both ends nonblocking from the start (`SOCK_NONBLOCK` in the
    /// same syscall): calls that would wait fail with `EAGAIN`; see
    /// [the readiness loop](super#nonblocking-sockets-and-the-readiness-loop).
    pub fn pair_nonblocking() -> Result<(Self, Self), Error> {
        Self::pair_raw(sys::SOCK_NONBLOCK)
    }

    /// Wraps `fd` if it is an `AF_UNIX` socket of this kind (checked with `SO_DOMAIN`
    /// and `SO_TYPE`); gives it back otherwise.
    pub fn try_from_fd(fd: OwnedFd) -> Result<Self, OwnedFd> {
        match kind_of(fd.as_fd()) {
            Ok((sys::AF_UNIX, ty)) if ty == K::TYPE => Ok(Self {
                fd,
                _kind: PhantomData,
            }),
            _ => Err(fd),
        }
    }

    /// Sends `buf` (`send(2)`, as `sendto` with `MSG_NOSIGNAL`); returns the bytes sent.
    /// See [`unix::send`](super::send).
    #[inline]
    pub fn send(&self, buf: &[u8]) -> Result<usize, Error> {
        msg::send(&self.fd, buf)
    }

    /// Receives into `buf` (`recv(2)`, as `recvfrom`); returns the bytes received (0:
    /// end of stream). A datagram longer than `buf` is cut short silently: use
    /// [`recv_msg`](Self::recv_msg) to learn of it.
    #[inline]
    pub fn recv(&self, buf: &mut [u8]) -> Result<usize, Error> {
        msg::recv(&self.fd, buf)
    }

    /// Sends the buffers `bufs` with the control messages `control` (`sendmsg(2)`, with
    /// `MSG_NOSIGNAL`); returns the payload bytes sent.
    ///
    /// Refused before the syscall: control data with an empty payload on a stream
    /// socket ([`Error::ControlWithoutPayload`]), more than 1024 buffers.
    #[inline]
    pub fn send_msg(&self, bufs: &[IoSlice<'_>], control: &Cmsgs<'_, '_>) -> Result<usize, Error> {
        self.send_msg_with_flags(bufs, control, None, sys::MSG_NOSIGNAL)
    }

    /// [`send_msg`](Self::send_msg) with an optional destination address and the flags
    /// exactly as given (`MSG_NOSIGNAL` is not added: without it a closed peer raises
    /// `SIGPIPE`).
    #[inline]
    pub fn send_msg_with_flags(
        &self,
        bufs: &[IoSlice<'_>],
        control: &Cmsgs<'_, '_>,
        to: Option<&UnixAddr>,
        flags: i32,
    ) -> Result<usize, Error> {
        msg::send_msg_kind(self.fd.as_fd(), Some(K::TYPE), bufs, control, to, flags)
    }

    /// Receives into the buffers `bufs`, and control data into `control` (an aligned
    /// buffer such as a [`CmsgBuf`](crate::cmsg::CmsgBuf); may be empty), with
    /// `MSG_CMSG_CLOEXEC` (`recvmsg(2)`). The sender's address is not asked for: see
    /// [`recv_msg_from`](Self::recv_msg_from).
    ///
    /// Every fd that arrives is owned by the returned [`RecvMsg`]'s `control`. On a
    /// datagram or seqpacket socket a payload longer than the buffers is reported by
    /// [`RecvMsg::is_truncated`]; control data cut short, by
    /// [`RecvMsg::is_control_truncated`].
    ///
    /// With an empty `control` and at most one buffer this is `recvfrom(2)`, the cheaper
    /// call: the kernel then discards any fds or credentials the peer sent (closing the
    /// fds: nothing leaks) without saying so, as it does for `recv(2)`. Pass a control
    /// buffer, even a small one, wherever a peer may send control data and its loss must
    /// be reported.
    #[inline]
    pub fn recv_msg<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
    ) -> Result<RecvMsg<'c>, Error> {
        self.recv_msg_with_flags(bufs, control, None, sys::MSG_CMSG_CLOEXEC)
    }

    /// [`recv_msg`](Self::recv_msg), also returning the sender's address (`msg_name`):
    /// on a datagram socket, where the datagram came from; on a connected socket, the
    /// peer's address ([`UnixAddr::is_unnamed`] when the peer never bound one, as at
    /// either end of a socketpair).
    #[inline]
    pub fn recv_msg_from<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
    ) -> Result<(RecvMsg<'c>, UnixAddr), Error> {
        msg::recv_msg_from_kind(self.fd.as_fd(), Some(K::TYPE), bufs, control)
    }

    /// [`recv_msg`](Self::recv_msg) with the flags exactly as given (without
    /// `MSG_CMSG_CLOEXEC`, received fds are inherited across `execve`), writing the
    /// sender's address into `from` when one is given.
    ///
    /// With `MSG_TRUNC` in `flags`, [`RecvMsg::bytes`] is the datagram's real length, as
    /// the kernel reports it, even where that exceeds the buffers.
    #[inline(always)]
    pub fn recv_msg_with_flags<'c>(
        &self,
        bufs: &mut [IoSliceMut<'_>],
        control: &'c mut [u8],
        from: Option<&mut UnixAddr>,
        flags: i32,
    ) -> Result<RecvMsg<'c>, Error> {
        msg::recv_msg_kind(self.fd.as_fd(), Some(K::TYPE), bufs, control, from, flags)
    }

    /// Sends `buf` with the fds `fds` in one `SCM_RIGHTS` message. More than 253 fds
    /// is [`Error::TooManyFds`]; on a stream socket `buf` must not be empty.
    #[inline]
    pub fn send_fds(&self, buf: &[u8], fds: &[BorrowedFd<'_>]) -> Result<usize, Error> {
        msg::send_fds_kind(self.fd.as_fd(), Some(K::TYPE), buf, fds)
    }

    /// Receives into `buf`, and up to `fds.len()` fds (at most 253) into the empty slots
    /// of `fds`, in order. Fds received beyond the slots are closed, and
    /// `control_truncated` says so; credentials or a pidfd that arrive too (with
    /// `SO_PASSCRED`/`SO_PASSPIDFD`) are dropped.
    pub fn recv_fds(&self, buf: &mut [u8], fds: &mut [Option<OwnedFd>]) -> Result<RecvFds, Error> {
        msg::recv_fds_in(self.fd.as_fd(), buf, fds)
    }

    /// Sends a batch of messages in one call; returns how many went. See
    /// [`send_mmsg`](super::send_mmsg).
    #[inline]
    pub fn send_mmsg(&self, msgs: &[SendEntry<'_>]) -> Result<usize, Error> {
        batch::send_mmsg_kind(self.fd.as_fd(), Some(K::TYPE), msgs, sys::MSG_NOSIGNAL)
    }

    /// Receives a batch of messages in one call, each into its own entry. See
    /// [`recv_mmsg`](super::recv_mmsg).
    #[inline]
    pub fn recv_mmsg<'e, 'a>(
        &self,
        entries: &'e mut [RecvEntry<'a>],
        timeout: Option<Duration>,
    ) -> Result<RecvBatch<'e, 'a>, Error> {
        super::recv_mmsg(&self.fd, entries, timeout)
    }

    /// The credentials of the peer process as of `connect` or `socketpair`
    /// (`SO_PEERCRED`).
    pub fn peer_cred(&self) -> Result<Ucred, Error> {
        sockopt::peer_cred(&self.fd)
    }

    /// An fd referring to the peer process (`SO_PEERPIDFD`, Linux 6.5+), close-on-exec.
    pub fn peer_pidfd(&self) -> Result<OwnedFd, Error> {
        sockopt::peer_pidfd(&self.fd)
    }

    /// Asks for `SCM_CREDENTIALS` with every message received (`SO_PASSCRED`). On a
    /// listener, set it before `accept` so the accepted sockets have it from the start.
    pub fn set_pass_cred(&self, on: bool) -> Result<(), Error> {
        sockopt::set_pass_cred(&self.fd, on)
    }

    /// Whether `SO_PASSCRED` is set.
    pub fn pass_cred(&self) -> Result<bool, Error> {
        sockopt::pass_cred(&self.fd)
    }

    /// Asks for `SCM_PIDFD` with every message received (`SO_PASSPIDFD`, Linux 6.5+).
    pub fn set_pass_pidfd(&self, on: bool) -> Result<(), Error> {
        sockopt::set_pass_pidfd(&self.fd, on)
    }

    /// Sets the receive timeout (`SO_RCVTIMEO`); `None` waits forever. A zero duration is
    /// `EINVAL`, as in std. A receive that times out fails with `EAGAIN`.
    pub fn set_read_timeout(&self, t: Option<Duration>) -> Result<(), Error> {
        sockopt::set_read_timeout(&self.fd, t)
    }

    /// Sets the send timeout (`SO_SNDTIMEO`); as [`set_read_timeout`](Self::set_read_timeout).
    pub fn set_write_timeout(&self, t: Option<Duration>) -> Result<(), Error> {
        sockopt::set_write_timeout(&self.fd, t)
    }

    /// The receive timeout, `None` for none.
    pub fn read_timeout(&self) -> Result<Option<Duration>, Error> {
        sockopt::read_timeout(&self.fd)
    }

    /// The send timeout, `None` for none.
    pub fn write_timeout(&self) -> Result<Option<Duration>, Error> {
        sockopt::write_timeout(&self.fd)
    }

    /// Shuts down one or both halves of the connection (`shutdown(2)`).
    pub fn shutdown(&self, how: Shutdown) -> Result<(), Error> {
        sockopt::shutdown(&self.fd, how)
    }

    /// The address this socket is bound to (`getsockname(2)`).
    pub fn local_addr(&self) -> Result<UnixAddr, Error> {
        sockopt::local_addr(&self.fd)
    }

    /// The address of the peer (`getpeername(2)`).
    pub fn peer_addr(&self) -> Result<UnixAddr, Error> {
        sockopt::peer_addr(&self.fd)
    }
}

impl<K: ConnectionKind> Socket<K> {
    /// A new socket connected to `addr` (`socket(2)`, `connect(2)`).
    pub fn connect(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw(0)?;
        connect_raw(sock.fd.as_fd(), addr)?;
        Ok(sock)
    }

    /// [`connect`](Self::connect), the socket nonblocking from the start
    /// (`SOCK_NONBLOCK`). A Unix socket connects at once or not at all: when the
    /// listener's backlog is full this fails with `EAGAIN` instead of waiting.
    pub fn connect_nonblocking(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw(sys::SOCK_NONBLOCK)?;
        connect_raw(sock.fd.as_fd(), addr)?;
        Ok(sock)
    }
}

impl UnixDatagram {
    /// A datagram socket bound to `addr` (`socket(2)`, `bind(2)`).
    pub fn bind(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw(0)?;
        bind_raw(sock.fd.as_fd(), addr)?;
        Ok(sock)
    }

    /// [`bind`](Self::bind), nonblocking from the start (`SOCK_NONBLOCK`).
    pub fn bind_nonblocking(addr: &UnixAddr) -> Result<Self, Error> {
        let sock = Self::new_raw(sys::SOCK_NONBLOCK)?;
        bind_raw(sock.fd.as_fd(), addr)?;
        Ok(sock)
    }

    /// A datagram socket bound to no address (`socket(2)`): it can send with
    /// [`send_to`](Self::send_to), and receive once connected.
    pub fn unbound() -> Result<Self, Error> {
        Self::new_raw(0)
    }

    /// [`unbound`](Self::unbound), nonblocking from the start (`SOCK_NONBLOCK`).
    pub fn unbound_nonblocking() -> Result<Self, Error> {
        Self::new_raw(sys::SOCK_NONBLOCK)
    }

    /// Connects this socket to `addr` (`connect(2)`), as std's `UnixDatagram::connect`:
    /// sends without an address go there, and only datagrams from there are received.
    /// Connecting again changes the peer.
    pub fn connect(&self, addr: &UnixAddr) -> Result<(), Error> {
        connect_raw(self.fd.as_fd(), addr)
    }

    /// Sends `buf` to `addr` (`sendto(2)`, `MSG_NOSIGNAL`).
    pub fn send_to(&self, buf: &[u8], addr: &UnixAddr) -> Result<usize, Error> {
        self.send_msg_to(&[IoSlice::new(buf)], &Cmsgs::empty(), addr)
    }

    /// [`send_msg`](Self::send_msg) to `addr`.
    pub fn send_msg_to(
        &self,
        bufs: &[IoSlice<'_>],
        control: &Cmsgs<'_, '_>,
        addr: &UnixAddr,
    ) -> Result<usize, Error> {
        self.send_msg_with_flags(bufs, control, Some(addr), sys::MSG_NOSIGNAL)
    }

    /// Receives one datagram into `buf`; returns its length (cut to `buf`'s) and the
    /// sender's address.
    pub fn recv_from(&self, buf: &mut [u8]) -> Result<(usize, UnixAddr), Error> {
        let (got, from) = self.recv_msg_from(&mut [IoSliceMut::new(buf)], &mut [])?;
        Ok((got.bytes, from))
    }
}

/// `connect(2)` of any socket fd to `addr`.
pub(crate) fn connect_raw(fd: BorrowedFd<'_>, addr: &UnixAddr) -> Result<(), Error> {
    let (raw, len) = addr.as_raw();
    // SAFETY: `raw` is readable for `len` bytes.
    unsafe { sys::connect(fd.as_raw_fd(), (raw as *const SockaddrUn).cast(), len) }?;
    Ok(())
}

/// `bind(2)` of any socket fd to `addr`.
pub(crate) fn bind_raw(fd: BorrowedFd<'_>, addr: &UnixAddr) -> Result<(), Error> {
    let (raw, len) = addr.as_raw();
    // SAFETY: `raw` is readable for `len` bytes.
    unsafe { sys::bind(fd.as_raw_fd(), (raw as *const SockaddrUn).cast(), len) }?;
    Ok(())
}

owned_fd_impls!(
    Socket,
    "Wraps `fd`, which must be an `AF_UNIX` socket of kind `K` (unchecked; see \
     [`Socket::try_from_fd`] for a checked conversion)."
);

#[cfg(feature = "std")]
mod std_interop {
    use super::*;
    use std::os::unix::net as stdnet;

    macro_rules! convert {
        ($ours:ty, $std:ty) => {
            impl From<$std> for $ours {
                fn from(s: $std) -> Self {
                    Self {
                        fd: s.into(),
                        _kind: PhantomData,
                    }
                }
            }
            impl From<$ours> for $std {
                fn from(s: $ours) -> Self {
                    s.fd.into()
                }
            }
        };
    }
    convert!(UnixStream, stdnet::UnixStream);
    convert!(UnixDatagram, stdnet::UnixDatagram);

    impl<K: SocketKind> std::io::Read for Socket<K> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            Ok(self.recv(buf)?)
        }
    }

    impl<K: SocketKind> std::io::Write for Socket<K> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(self.send(buf)?)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// As std's `Read for &UnixStream`: a shared socket reads too.
    impl<K: SocketKind> std::io::Read for &Socket<K> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            Ok(self.recv(buf)?)
        }
    }

    /// As std's `Write for &UnixStream`.
    impl<K: SocketKind> std::io::Write for &Socket<K> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            Ok(self.send(buf)?)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
